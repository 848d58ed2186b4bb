"""requests adapter: outbound calls through a breaker against a real local HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from _processes import free_port
from prometheus_client import CollectorRegistry

from toolkit.resilience.breaker import CallNotPermitted, CircuitBreaker, State
from toolkit.resilience.breaker.requests_adapter import BreakerAdapter


class StatusHandler(BaseHTTPRequestHandler):
    """Answers /<status> with that status."""

    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(int(self.path.strip("/")))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), StatusHandler)
    StatusHandler.hits = 0
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def session_with(breaker: CircuitBreaker) -> requests.Session:
    session = requests.Session()
    adapter = BreakerAdapter(breaker)
    session.mount("http://", adapter)
    return session


def breaker() -> CircuitBreaker:
    return CircuitBreaker("billing", minimum_calls=2, window_size=2, registry=CollectorRegistry())


def test_server_errors_open_the_breaker(server: str) -> None:
    """503s are returned, counted as failures, and open the breaker; then nothing is sent."""
    b = breaker()
    session = session_with(b)
    assert [session.get(f"{server}/503").status_code for _ in range(2)] == [503, 503]
    assert b.state is State.OPEN
    with pytest.raises(CallNotPermitted):
        session.get(f"{server}/200")
    assert StatusHandler.hits == 2


def test_success_and_client_errors_keep_it_closed(server: str) -> None:
    """2xx and 4xx are successes."""
    b = breaker()
    session = session_with(b)
    assert [session.get(f"{server}/{s}").status_code for s in (200, 404, 200)] == [200, 404, 200]
    assert b.state is State.CLOSED


def test_connection_errors_are_failures() -> None:
    """A refused connection raises ConnectionError and counts as a failure."""
    b = breaker()
    session = session_with(b)
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            session.get(f"http://127.0.0.1:{free_port()}/")
    assert b.state is State.OPEN
