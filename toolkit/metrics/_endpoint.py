"""The ``/metrics`` endpoint: a small ASGI/WSGI app serving a registry, token-protected.

The middlewares answer their ``metrics_path`` with a :class:`MetricsEndpoint`, as they
answer the health paths with ``toolkit.health.HealthEndpoints``; the separate metrics
port (``start_metrics_server``) renders through the same functions.
"""

from __future__ import annotations

import hmac
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder

from toolkit.metrics.multiprocess import multiprocess_directory, scrape_registry

DEFAULT_METRICS_PATH = "/metrics"
ENV_METRICS_TOKEN = "TOOLKIT_METRICS_TOKEN"
ENV_METRICS_PORT = "TOOLKIT_METRICS_PORT"

_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_TEXT = "text/plain; charset=utf-8"


def resolve_metrics_token(token: str | None, environ: Mapping[str, str]) -> str | None:
    """The bearer token ``/metrics`` requires: ``token``, else ``TOOLKIT_METRICS_TOKEN``."""
    return token or environ.get(ENV_METRICS_TOKEN) or None


# The token ``toolkit.instrument(metrics_token=...)`` was given, per registry: the metrics
# port (start_metrics_server) serves the same registry and so requires the same token.
_instrument_tokens: weakref.WeakKeyDictionary[CollectorRegistry, str] = weakref.WeakKeyDictionary()
_instrument_tokens_lock = threading.Lock()


def record_metrics_token(registry: CollectorRegistry | None, token: str) -> None:
    """Remember ``token`` as what protects ``registry``'s metrics wherever they are served.

    ``toolkit.instrument`` calls it with its ``metrics_token`` keyword; the last token
    recorded for a registry wins.
    """
    with _instrument_tokens_lock:
        _instrument_tokens[REGISTRY if registry is None else registry] = token


def recorded_metrics_token(registry: CollectorRegistry | None) -> str | None:
    """The token :func:`record_metrics_token` recorded for ``registry``, if any."""
    with _instrument_tokens_lock:
        return _instrument_tokens.get(REGISTRY if registry is None else registry)


def resolve_metrics_port(port: int | None, environ: Mapping[str, str]) -> int | None:
    """The separate metrics port: ``port``, else ``TOOLKIT_METRICS_PORT``, else None."""
    if port is not None:
        return port
    raw = environ.get(ENV_METRICS_PORT, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 <= int(raw) <= 65535:
        raise ValueError(f"{ENV_METRICS_PORT} must be a port number, got {raw!r}")
    return int(raw)


def render_metrics(registry: CollectorRegistry | None, accept: str | None) -> tuple[bytes, str]:
    """Return ``(body, content_type)``: OpenMetrics if ``accept`` asks for it, else text.

    In multi-process mode (``PROMETHEUS_MULTIPROC_DIR`` set) the body is the sum over
    every worker's files (dead workers compacted first), not ``registry``.
    """
    encoder, content_type = choose_encoder(accept or "")
    directory = multiprocess_directory()
    if directory is not None:
        return encoder(scrape_registry(directory)), content_type
    return encoder(REGISTRY if registry is None else registry), content_type


UNAUTHORIZED_BODY = b"Unauthorized"
# RFC 6750: the challenge a client without (or with a wrong) bearer token gets.
WWW_AUTHENTICATE = 'Bearer realm="metrics"'


def is_authorized(token: str | None, authorization: str | None) -> bool:
    """Whether ``authorization`` (the header) carries ``token``; always true without one.

    The comparison takes the same time wherever the first wrong byte is.
    """
    if token is None:
        return True
    if authorization is None:
        return False
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(credentials.strip().encode(), token.encode())


class MetricsEndpoint:
    """Answers ``GET``/``HEAD`` of the metrics path: 200 with the exposition, 401 without
    the token (when one is set), 405 for other methods."""

    __slots__ = ("registry", "token")

    def __init__(self, registry: CollectorRegistry | None, token: str | None) -> None:
        """Serve ``registry`` (default: prometheus-client's); require ``token`` if given."""
        self.registry = registry
        self.token = token

    def respond(
        self, method: str, accept: str | None, authorization: str | None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """``(status, headers, body)`` of the answer (the body is empty for ``HEAD``)."""
        if method not in ("GET", "HEAD"):
            return 405, [("Allow", "GET, HEAD"), ("Content-Length", "0")], b""
        if not is_authorized(self.token, authorization):
            headers = [
                ("WWW-Authenticate", WWW_AUTHENTICATE),
                ("Content-Type", _TEXT),
                ("Content-Length", str(len(UNAUTHORIZED_BODY))),
            ]
            return 401, headers, b"" if method == "HEAD" else UNAUTHORIZED_BODY
        body, content_type = render_metrics(self.registry, accept)
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        return 200, headers, b"" if method == "HEAD" else body

    async def serve_asgi(self, scope: Mapping[str, Any], send: _Send) -> None:
        """Answer an ASGI HTTP request for the metrics path."""
        accept = authorization = None
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"authorization":
                authorization = value.decode("latin-1")
        status, headers, body = self.respond(scope["method"], accept, authorization)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (name.lower().encode("latin-1"), value.encode("latin-1"))
                    for name, value in headers
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def serve_wsgi(
        self, environ: Mapping[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Answer a WSGI request for the metrics path."""
        status, headers, body = self.respond(
            environ.get("REQUEST_METHOD", "GET"),
            environ.get("HTTP_ACCEPT"),
            environ.get("HTTP_AUTHORIZATION"),
        )
        start_response(f"{status} {_REASONS[status]}", headers)
        return [body]


_REASONS = {200: "OK", 401: "Unauthorized", 405: "Method Not Allowed"}
