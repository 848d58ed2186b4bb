"""start_metrics_server: /metrics on its own port, started and stopped explicitly."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter

import toolkit
from tests._processes import free_port
from toolkit.metrics._http_server import start_metrics_server
from toolkit.middleware import ToolkitWSGIMiddleware
from toolkit.middleware.config import resolve_settings

TOKEN = "instrument-t0k"


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    Counter("jobs", "Jobs done.", registry=registry).inc(3)
    return registry


def test_serves_the_registry_until_stopped() -> None:
    """GET /metrics on the metrics port returns the registry; after stop the port is closed."""
    server = start_metrics_server(0, host="127.0.0.1", registry=_registry())
    assert server is not None
    url = f"http://127.0.0.1:{server.port}"
    try:
        response = httpx.get(url + "/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert "jobs_total 3.0" in response.text.splitlines()
        assert httpx.get(url + "/other").status_code == 404
        assert httpx.head(url + "/metrics").content == b""
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/metrics")


def test_openmetrics_on_request() -> None:
    """The Accept header is honoured as on the app's port."""
    with start_metrics_server(0, host="127.0.0.1", registry=_registry()) as server:
        assert server is not None
        response = httpx.get(
            f"http://127.0.0.1:{server.port}/metrics",
            headers={"accept": "application/openmetrics-text"},
        )
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


def test_token_protects_the_metrics_port() -> None:
    """With a token: 401 and a Bearer challenge without it, 200 with it."""
    with start_metrics_server(0, host="127.0.0.1", registry=_registry(), token="t0k") as server:
        assert server is not None
        url = f"http://127.0.0.1:{server.port}/metrics"
        refused = httpx.get(url)
        allowed = httpx.get(url, headers={"authorization": "Bearer t0k"})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert allowed.status_code == 200


def test_port_host_and_token_from_the_environment() -> None:
    """TOOLKIT_METRICS_PORT/HOST/TOKEN are used when no keyword is given."""
    port = free_port()
    env = {
        "TOOLKIT_METRICS_PORT": str(port),
        "TOOLKIT_METRICS_HOST": "127.0.0.1",
        "TOOLKIT_METRICS_TOKEN": "abc",
    }
    with start_metrics_server(registry=_registry(), environ=env) as server:
        assert server is not None
        assert (server.host, server.port) == ("127.0.0.1", port)
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 401


def test_no_port_configured() -> None:
    """Without a port: ValueError, or None when not required (the gunicorn hook)."""
    with pytest.raises(ValueError, match="TOOLKIT_METRICS_PORT"):
        start_metrics_server(environ={})
    assert start_metrics_server(required=False, environ={}) is None
    with pytest.raises(ValueError, match="port number"):
        start_metrics_server(environ={"TOOLKIT_METRICS_PORT": "nine"})


def test_metrics_port_moves_metrics_off_the_app_port() -> None:
    """metrics_port set: the app's /metrics is the app's own path again (not served)."""
    assert resolve_settings({"metrics_port": 9464}, {}).metrics_path is None
    assert resolve_settings({}, {"TOOLKIT_METRICS_PORT": "9464"}).metrics_port == 9464
    explicit = resolve_settings({"metrics_port": 9464, "metrics_path": "/metrics"}, {})
    assert explicit.metrics_path == "/metrics"

    def app(environ: dict[str, str], start_response: object) -> list[bytes]:
        start_response("404 Not Found", [])  # type: ignore[operator]
        return [b"app"]

    wrapped = ToolkitWSGIMiddleware(
        app, registry=CollectorRegistry(), metrics_port=9464, tracing=False, access_log=False
    )
    from middleware_fixtures import call_wsgi

    response = call_wsgi(wrapped, "/metrics")
    assert (response.status_code, response.content) == (404, b"app")


def test_several_servers_share_one_port() -> None:
    """SO_REUSEPORT: every worker of ``uvicorn --workers`` can start its server on one port."""
    port = free_port()
    first = start_metrics_server(port, host="127.0.0.1", registry=_registry())
    second = start_metrics_server(port, host="127.0.0.1", registry=_registry())
    assert first is not None and second is not None
    try:
        assert (first.port, second.port) == (port, port)
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 200
    finally:
        first.stop()
        second.stop()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access lines on stderr."""


@contextmanager
def _serving(app: Any) -> Iterator[str]:
    """Serve the WSGI ``app`` on a free port of 127.0.0.1 (a real socket); yield its URL."""
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


@pytest.mark.parametrize("separate_port", [False, True], ids=["app-port", "metrics-port"])
def test_instrument_token_protects_both_ports(
    separate_port: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """instrument(metrics_token=...) is the one token of /metrics, wherever it is served.

    On the app's port and on start_metrics_server's port (given no token of its own and
    no TOOLKIT_METRICS_TOKEN): 401 without, 200 with ``Authorization: Bearer <token>``.
    """
    monkeypatch.delenv("TOOLKIT_METRICS_TOKEN", raising=False)
    registry = _registry()
    app = toolkit.instrument(
        _hello,
        service="orders",
        registry=registry,
        metrics_token=TOKEN,
        tracing=False,
        access_log=False,
        configure_logging=False,
    )
    with ExitStack() as stack:
        if separate_port:
            server = start_metrics_server(0, host="127.0.0.1", registry=registry)
            assert server is not None
            stack.callback(server.stop)
            url = f"http://127.0.0.1:{server.port}/metrics"
        else:
            url = stack.enter_context(_serving(app)) + "/metrics"
        refused = httpx.get(url)
        wrong = httpx.get(url, headers={"Authorization": "Bearer nope"})
        allowed = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert (refused.status_code, wrong.status_code, allowed.status_code) == (401, 401, 200)
    assert refused.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert "jobs_total 3.0" in allowed.text.splitlines()


def test_explicit_token_then_instrument_token_then_environment() -> None:
    """start_metrics_server's token: token= > instrument's metrics_token > the variable."""
    env = {"TOOLKIT_METRICS_TOKEN": "from-env"}
    recorded = _registry()
    toolkit.instrument(
        _hello,
        registry=recorded,
        metrics_token="from-instrument",
        tracing=False,
        configure_logging=False,
    )

    def status(registry: CollectorRegistry, token: str | None, bearer: str) -> int:
        with start_metrics_server(
            0, host="127.0.0.1", registry=registry, token=token, environ=env
        ) as server:
            assert server is not None
            url = f"http://127.0.0.1:{server.port}/metrics"
            return httpx.get(url, headers={"Authorization": f"Bearer {bearer}"}).status_code

    assert status(recorded, "explicit", "explicit") == 200
    assert status(recorded, "explicit", "from-instrument") == 401
    assert status(recorded, None, "from-instrument") == 200
    assert status(recorded, None, "from-env") == 401
    # Another registry: nothing recorded for it, so the environment's token applies.
    assert status(_registry(), None, "from-env") == 200
