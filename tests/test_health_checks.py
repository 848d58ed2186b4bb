"""toolkit.health.url_check against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from _processes import free_port

from toolkit.health import CheckResult, url_check


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = int(self.path.strip("/"))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A server answering GET /<status> with that status."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, CheckResult("pass", 200, "status")),
        (503, CheckResult("fail", 503, "status", "GET {url}/503: 503")),
    ],
)
def test_status_decides(server: str, status: int, expected: CheckResult) -> None:
    """2xx-3xx pass, anything else fails; the observed value is the status code."""
    result = url_check(f"{server}/{status}")()
    output = expected.output.format(url=server) if expected.output else None
    assert result == CheckResult(expected.status, status, "status", output)


def test_custom_healthy(server: str) -> None:
    """``healthy`` decides which statuses pass."""
    assert url_check(f"{server}/404", healthy=lambda s: s == 404)().status == "pass"


def test_refused_connection_fails() -> None:
    """A closed port is a failed check naming the error, not an exception."""
    port = free_port()  # nothing listens there
    result = url_check(f"http://127.0.0.1:{port}/livez", timeout=0.5)()
    assert result.status == "fail"
    assert result.output is not None
    assert result.output.startswith(f"GET http://127.0.0.1:{port}/livez: ConnectError: ")
