"""WSGI middleware: correlation ID, server span, RED metrics, access log, /metrics.

Over 300 lines and kept whole: the response iterable's wrappers belong to the
middleware's request flow (the request ends when the server closes the body).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from contextvars import Context, copy_context
from types import TracebackType
from typing import TYPE_CHECKING, Any

from opentelemetry.instrumentation.utils import is_http_instrumentation_enabled

from toolkit import semconv
from toolkit._http import parse_content_length, server_address
from toolkit.context import correlation_id_var
from toolkit.health import HealthEndpoints
from toolkit.metrics import MetricsEndpoint
from toolkit.middleware.config import resolve_settings
from toolkit.middleware.flask import FLASK_REQUEST_KEY
from toolkit.middleware.hooks import call_hook
from toolkit.middleware.otlp import request_type
from toolkit.middleware.request import RequestTelemetry
from toolkit.middleware.routes import UNROUTED, RouteResolver
from toolkit.middleware.telemetry import Telemetry

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from toolkit.middleware.config import Options

Environ = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

_log = logging.getLogger("toolkit.middleware")
_INTERNAL_ERROR = b"Internal Server Error"


def _listening_socket(environ: Environ) -> tuple[str, int | None] | None:
    name = environ.get("SERVER_NAME")
    if not name:
        return None
    port = environ.get("SERVER_PORT")
    return (name, int(port) if port and port.isascii() and port.isdigit() else None)


def _environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


class ToolkitWSGIMiddleware:
    """Make a WSGI app observable: ``app.wsgi_app = ToolkitWSGIMiddleware(app.wsgi_app)``.

    Same telemetry as the ASGI middleware. The duration ends when the server closes the
    response iterable. An exception before the response started becomes a 500 carrying
    the correlation ID (logged with its traceback, as a server would: re-raising would
    let the server answer without the header); one raised while the body is iterated is
    recorded and re-raised. Options: see :class:`toolkit.middleware.config.Options`.
    """

    def __init__(self, app: WSGIApp, **options: Unpack[Options]) -> None:
        """Resolve options (keyword > environment > default) and precompute everything."""
        self.app = app
        self.telemetry = telemetry = Telemetry(resolve_settings(options))
        self._metrics_path = telemetry.metrics_path
        self._metrics = MetricsEndpoint(
            telemetry.settings.registry, telemetry.settings.metrics_token
        )
        self._health = HealthEndpoints.from_options(options)
        self._health_paths = self._health.paths
        self._request_hook = telemetry.settings.request_hook
        self._response_hook = telemetry.settings.response_hook
        # environ key -> carrier key (lower-case header name).
        self._wanted: tuple[tuple[str, str], ...] = tuple(
            (_environ_key(name), name)
            for name in (*telemetry.correlation_inputs, *telemetry.trace_fields)
        )
        self._header = telemetry.correlation_header
        self._primary = telemetry.correlation_inputs[0]
        self._routes = RouteResolver(telemetry.settings.routes)
        self._primary_key = _environ_key(self._primary)
        self._tracing = telemetry.tracer is not None
        self._request_type = request_type(telemetry)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Handle one request."""
        path = environ.get("PATH_INFO") or "/"
        if path == self._metrics_path:
            return self._metrics.serve_wsgi(environ, start_response)
        if path in self._health_paths:
            return self._health.serve_wsgi(environ, start_response)
        telemetry = self.telemetry
        carrier: dict[str, str] = {}
        for key, name in self._wanted:
            value = environ.get(key)
            if value is not None:
                carrier[name] = value
        if telemetry.is_excluded(path) or not is_http_instrumentation_enabled():
            return self._correlation_only(environ, start_response, carrier)
        # The request runs in a copy of the server thread's context, and so does the
        # iteration of its body: what the app binds (structlog contextvars, its own
        # ContextVars) cannot leak into the thread's next request, even if a server
        # never closes a body.
        context = copy_context()
        return context.run(self._observe, environ, start_response, carrier, path, context)

    def _own_id(self, environ: Environ, carrier: dict[str, str], correlation_id: str) -> None:
        # The app reads the ID that is logged, not a rejected value (10 KB, CR/LF...).
        if carrier.get(self._primary) != correlation_id:
            environ[self._primary_key] = correlation_id

    def _observe(
        self,
        environ: Environ,
        start_response: StartResponse,
        carrier: dict[str, str],
        path: str,
        context: Context,
    ) -> Iterable[bytes]:
        telemetry = self.telemetry
        scheme = environ.get("wsgi.url_scheme", "http")
        request = self._request_type(
            telemetry,
            method=environ.get("REQUEST_METHOD", "GET"),
            scheme=scheme,
            path=path,
            carrier=carrier,
            attributes=self._attributes(environ, scheme, path) if self._tracing else {},
        )
        self._own_id(environ, carrier, request.correlation_id)
        request.request_size = parse_content_length(environ.get("CONTENT_LENGTH"))
        if self._request_hook is not None and request.span is not None:
            call_hook(telemetry, self._request_hook, request.span, environ)
        header = (self._header, request.correlation_id)
        written = False

        def wrapped_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
        ) -> Callable[[bytes], object]:
            request.status = int(status[:3])
            write = start_response(status, [*headers, header], exc_info)

            def counting_write(data: bytes) -> object:
                nonlocal written
                written = True
                request.response_bytes += len(data)
                return write(data)

            return counting_write

        try:
            result = self.app(environ, wrapped_start_response)
        except Exception as exc:
            if written:
                # write() already sent the headers: no 500 can replace them (the server's
                # start_response would re-raise); record the request and let it see the error.
                self._finish(request, environ, exc)
                raise
            # Not started as far as the server is concerned: no body byte went out.
            _log.exception("unhandled exception in WSGI app, answered 500")
            request.status = 500
            start_response(
                "500 Internal Server Error",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(_INTERNAL_ERROR))),
                    header,
                ],
                sys.exc_info(),
            )
            request.response_bytes = len(_INTERNAL_ERROR)
            self._finish(request, environ, exc)
            return [_INTERNAL_ERROR]
        except BaseException as exc:
            # Not an error of the app's (gevent's Timeout, GreenletExit, SystemExit): the
            # request is recorded and the context restored, then it goes on up.
            self._finish(request, environ, exc)
            raise
        if type(result) is list:
            # Fully built in memory: nothing left to time, no close() to wait for.
            request.response_bytes += sum(map(len, result))
            self._finish(request, environ, None)
            return result
        return _ObservedBody(self, request, environ, result, context)

    def _attributes(self, environ: Environ, scheme: str, path: str) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            semconv.SPAN_ATTR_URL_SCHEME: scheme,
            semconv.SPAN_ATTR_URL_PATH: path,
        }
        query = environ.get("QUERY_STRING")
        if query:
            attributes[semconv.SPAN_ATTR_URL_QUERY] = query
        client = environ.get("REMOTE_ADDR")
        if client:
            attributes[semconv.SPAN_ATTR_CLIENT_ADDRESS] = client
        server = server_address(
            scheme,
            forwarded=environ.get("HTTP_FORWARDED"),
            forwarded_host_header=environ.get("HTTP_X_FORWARDED_HOST"),
            host=environ.get("HTTP_HOST"),
        ) or _listening_socket(environ)  # the request named no host
        if server is not None:
            attributes[semconv.SPAN_ATTR_SERVER_ADDRESS] = server[0]
            if server[1] is not None:
                attributes[semconv.SPAN_ATTR_SERVER_PORT] = server[1]
        protocol = environ.get("SERVER_PROTOCOL", "")
        if protocol.startswith("HTTP/"):
            attributes[semconv.SPAN_ATTR_NETWORK_PROTOCOL_VERSION] = protocol[5:]
        user_agent = environ.get("HTTP_USER_AGENT")
        if user_agent:
            attributes[semconv.SPAN_ATTR_USER_AGENT] = user_agent
        return attributes

    def _finish(
        self, request: RequestTelemetry, environ: Environ, error: BaseException | None
    ) -> None:
        try:
            route, label = self._routes.wsgi(environ, request.path)
        except Exception as exc:
            self.telemetry.report_error("route", exc)
            route, label = UNROUTED
        # The Flask request refers to the environ: kept there, the pair would be a
        # reference cycle left for the garbage collector after every request.
        environ.pop(FLASK_REQUEST_KEY, None)
        if self._response_hook is not None and request.span is not None:
            call_hook(
                self.telemetry, self._response_hook, request.span, environ, request.status or 500
            )
        request.route = route
        request.route_label = label
        request.close(error)

    def _correlation_only(
        self, environ: Environ, start_response: StartResponse, carrier: dict[str, str]
    ) -> Iterable[bytes]:
        cid = self.telemetry.correlation_id_from(carrier)
        self._own_id(environ, carrier, cid)
        header = (self._header, cid)

        def wrapped_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
        ) -> Callable[[bytes], object]:
            return start_response(status, [*headers, header], exc_info)

        # As for observed requests: the app and the iteration of its body run in a copy
        # of the thread's context, which holds the correlation ID until the body is closed.
        context = copy_context()
        context.run(correlation_id_var.set, cid)
        result = context.run(self.app, environ, wrapped_start_response)
        if type(result) is list:
            return result
        return _ContextBody(result, context)


class _ObservedBody:
    """The app's response iterable, counted; the request finishes when it is closed."""

    __slots__ = (
        "_context",
        "_environ",
        "_error",
        "_finished",
        "_middleware",
        "_request",
        "_result",
    )

    def __init__(
        self,
        middleware: ToolkitWSGIMiddleware,
        request: RequestTelemetry,
        environ: Environ,
        result: Iterable[bytes],
        context: Context,
    ) -> None:
        self._context = context
        self._middleware = middleware
        self._request = request
        self._environ = environ
        self._result = result
        self._error: BaseException | None = None
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        request = self._request
        run = self._context.run
        try:
            iterator = run(iter, self._result)
            while True:
                try:
                    chunk = run(next, iterator)
                except StopIteration:
                    break
                request.response_bytes += len(chunk)
                yield chunk
        except Exception as exc:
            self._error = exc
            raise
        request.mark_end()

    def close(self) -> None:
        """Close the app's iterable, then record the request (once)."""
        self._context.run(self._close)

    def _close(self) -> None:
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            if not self._finished:
                self._finished = True
                self._middleware._finish(self._request, self._environ, self._error)


class _ContextBody:
    """An excluded path's response iterable, iterated and closed in the request's context."""

    __slots__ = ("_context", "_result")

    def __init__(self, result: Iterable[bytes], context: Context) -> None:
        self._result = result
        self._context = context

    def __iter__(self) -> Iterator[bytes]:
        run = self._context.run
        iterator = run(iter, self._result)
        while True:
            try:
                chunk = run(next, iterator)
            except StopIteration:
                return
            yield chunk

    def close(self) -> None:
        """Close the app's iterable in the request's context."""
        close = getattr(self._result, "close", None)
        if close is not None:
            self._context.run(close)
