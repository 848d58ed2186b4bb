"""``/metrics`` on its own port: a small threaded HTTP server, started and stopped explicitly."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry

from toolkit.metrics._endpoint import (
    DEFAULT_METRICS_PATH,
    MetricsEndpoint,
    recorded_metrics_token,
    resolve_metrics_port,
    resolve_metrics_token,
)

ENV_METRICS_HOST = "TOOLKIT_METRICS_HOST"
DEFAULT_METRICS_HOST = "0.0.0.0"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Several workers of one service may serve the same port (each renders the sum
    # over all workers in multi-process mode); the kernel spreads the scrapes.
    allow_reuse_port = True

    def __init__(self, address: tuple[str, int], settings: dict[str, Any]) -> None:
        self.settings = settings
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        if hasattr(socket, "SO_REUSEPORT"):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, *, send_body: bool) -> None:
        settings = self.server.settings
        if self.path.split("?", 1)[0] != settings["path"]:
            self._reply(404, b"Not Found", "text/plain; charset=utf-8", send_body)
            return
        endpoint: MetricsEndpoint = settings["endpoint"]
        status, headers, body = endpoint.respond(
            "GET", self.headers.get("Accept"), self.headers.get("Authorization")
        )
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _reply(
        self,
        status: int,
        body: bytes,
        content_type: str,
        send_body: bool,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not access-logged."""


class MetricsServer:
    """A running metrics server: its address, and :meth:`stop`."""

    def __init__(self, server: _Server) -> None:
        """Serve ``server`` from a daemon thread."""
        self._server = server
        self.host: str = server.server_address[0]  # type: ignore[assignment]
        self.port: int = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, name="toolkit-metrics-server", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket (waits for the serving thread)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> MetricsServer:
        """Use as a context manager: stopped on exit."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the server."""
        self.stop()


def start_metrics_server(
    port: int | None = None,
    *,
    host: str | None = None,
    registry: CollectorRegistry | None = None,
    token: str | None = None,
    path: str = DEFAULT_METRICS_PATH,
    required: bool = True,
    environ: Mapping[str, str] | None = None,
) -> MetricsServer | None:
    """Serve ``registry``'s metrics (the workers' sum in multi-process mode) on ``port``.

    ``port`` falls back to ``TOOLKIT_METRICS_PORT`` (``0``: a free port), ``host`` to
    ``TOOLKIT_METRICS_HOST`` then ``0.0.0.0``. ``token`` falls back to the
    ``metrics_token`` given to ``toolkit.instrument`` for the same registry, then to
    ``TOOLKIT_METRICS_TOKEN``: with a token, a scrape without
    ``Authorization: Bearer <token>`` gets a 401; without one, anyone who reaches the
    port reads the metrics. Without any port: ``ValueError``, or None when ``required``
    is false.
    """
    env = os.environ if environ is None else environ
    resolved_port = resolve_metrics_port(port, env)
    if resolved_port is None:
        if required:
            raise ValueError("no metrics port: pass port= or set TOOLKIT_METRICS_PORT")
        return None
    address = (host or env.get(ENV_METRICS_HOST) or DEFAULT_METRICS_HOST, resolved_port)
    endpoint = MetricsEndpoint(
        registry, resolve_metrics_token(token or recorded_metrics_token(registry), env)
    )
    settings = {"path": path, "endpoint": endpoint}
    return MetricsServer(_Server(address, settings))
