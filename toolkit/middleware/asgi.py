"""Pure ASGI middleware: correlation ID, server span, RED metrics, access log, /metrics."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from opentelemetry.instrumentation.utils import is_http_instrumentation_enabled

from toolkit import semconv
from toolkit._http import parse_content_length, relative_path, server_address, strip_root
from toolkit.context import correlation_id_var
from toolkit.health import HealthEndpoints
from toolkit.logs import configured_by_toolkit, mark_logged
from toolkit.metrics import MetricsEndpoint
from toolkit.middleware import _fastapi_gate as fastapi_gate
from toolkit.middleware.config import resolve_settings
from toolkit.middleware.hooks import call_hook
from toolkit.middleware.otlp import request_type
from toolkit.middleware.request import RequestTelemetry
from toolkit.middleware.routes import UNROUTED, Resolved, RouteResolver
from toolkit.middleware.telemetry import Telemetry

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from toolkit.middleware.config import Options

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_log = logging.getLogger("toolkit.middleware")
_INTERNAL_ERROR = b"Internal Server Error"
_TELEMETRY_SCOPES = frozenset({"http", "websocket"})
# Where server.address and server.port come from (toolkit._http).
_HOST_HEADERS = ("host", "forwarded", "x-forwarded-host")
# The scope key by which FastAPI marks a request whose telemetry is already handled.
_FASTAPI_TELEMETRY = "fastapi.telemetry"


class ToolkitASGIMiddleware:
    """Make an ASGI app observable: ``app = ToolkitASGIMiddleware(app, service="orders")``.

    HTTP requests get a correlation ID, a server span, RED metrics and an access-log
    line; websockets get a correlation ID and a span; other scopes (lifespan) pass
    through untouched. Options: see :class:`toolkit.middleware.config.Options`.
    """

    def __init__(self, app: ASGIApp, **options: Unpack[Options]) -> None:
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
        self._header = telemetry.correlation_header.lower().encode("latin-1")
        self._primary = telemetry.correlation_inputs[0]
        self._routes = RouteResolver(telemetry.settings.routes)
        fastapi_gate.decide_at_start()  # its self-check now, not in the first request
        self._request_type = request_type(telemetry)
        # Header name (bytes, lower case as ASGI delivers it) -> carrier key.
        self._wanted: dict[bytes, str] = {
            name.encode("latin-1"): name
            for name in (*telemetry.correlation_inputs, *telemetry.trace_fields)
        }
        self._wanted_more = self._wanted | {
            name.encode("latin-1"): name
            for name in ("content-length", "user-agent", *_HOST_HEADERS)
        }

    def add_middleware(self, middleware_class: Any, *args: Any, **kwargs: Any) -> None:
        """Add a middleware to the wrapped app (Starlette, FastAPI), inside this one.

        ``app = toolkit.instrument(app)`` returns this middleware, so a later
        ``app.add_middleware(...)`` lands here: the added middleware runs inside toolkit's,
        and what it answers by itself (an idempotent replay, a 409) still gets a
        correlation ID, a span, metrics and an access line.
        """
        add = getattr(self.app, "add_middleware", None)
        if add is None:
            message = (
                f"the app toolkit wraps ({type(self.app).__name__}) has no add_middleware: "
                "wrap it yourself before instrumenting, app = Middleware(app, ...)"
            )
            raise AttributeError(message)
        add(middleware_class, *args, **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one connection scope."""
        scope_type = scope["type"]
        if scope_type in _TELEMETRY_SCOPES:
            # toolkit owns this request's telemetry: FastAPI's native instrumentation
            # would start a second server span parented on the headers, not on ours.
            scope[_FASTAPI_TELEMETRY] = None
        if scope_type == "http":
            # Since Starlette 0.33 (and uvicorn's --root-path) the path includes the
            # root path: /metrics, health and exclusions are paths of the app itself.
            path = relative_path(scope)
            if path == self._metrics_path:
                await self._metrics.serve_asgi(scope, send)
            elif path in self._health_paths:
                await self._health.serve_asgi(scope, send)
            elif self.telemetry.is_excluded(path) or not is_http_instrumentation_enabled():
                await self._correlation_only(scope, receive, send)
            else:
                await self._http(scope, receive, send)
        elif scope_type == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _own_id(self, scope: Scope, carrier: dict[str, str], correlation_id: str) -> None:
        # The app reads the ID that is logged, not a rejected value (10 KB, CR/LF...).
        incoming = carrier.get(self._primary)
        if incoming == correlation_id:
            return
        name = self._header
        value = (name, correlation_id.encode("latin-1"))
        if incoming is None:  # the common case: no header to replace
            scope["headers"] = [*scope["headers"], value]
        else:
            scope["headers"] = [*(h for h in scope["headers"] if h[0] != name), value]

    def _carrier(self, scope: Scope, wanted: dict[bytes, str]) -> dict[str, str]:
        carrier: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = wanted.get(name)
            if key is not None and key not in carrier:
                carrier[key] = value.decode("latin-1")
        return carrier

    def _attributes(
        self, scope: Scope, scheme: str, path: str, carrier: dict[str, str]
    ) -> dict[str, Any]:
        if self.telemetry.tracer is None:
            return {}
        attributes: dict[str, Any] = {
            semconv.SPAN_ATTR_URL_SCHEME: scheme,
            semconv.SPAN_ATTR_URL_PATH: path,
        }
        query = scope.get("query_string")
        if query:
            attributes[semconv.SPAN_ATTR_URL_QUERY] = query.decode("latin-1")
        client = scope.get("client")
        if client:
            attributes[semconv.SPAN_ATTR_CLIENT_ADDRESS] = client[0]
        server = server_address(
            scheme,
            forwarded=carrier.get("forwarded"),
            forwarded_host_header=carrier.get("x-forwarded-host"),
            host=carrier.get("host"),
        ) or scope.get("server")  # the listening socket: the request named no host
        if server:
            attributes[semconv.SPAN_ATTR_SERVER_ADDRESS] = server[0]
            if server[1] is not None:
                attributes[semconv.SPAN_ATTR_SERVER_PORT] = server[1]
        version = scope.get("http_version")
        if version:
            attributes[semconv.SPAN_ATTR_NETWORK_PROTOCOL_VERSION] = version
        return attributes

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        telemetry = self.telemetry
        carrier = self._carrier(scope, self._wanted_more)
        scheme = scope.get("scheme", "http")
        path = scope["path"]
        root_path = scope.get("root_path", "")
        attributes = self._attributes(scope, scheme, path, carrier)
        user_agent = carrier.get("user-agent")
        if user_agent is not None and attributes:
            # Given at start_span: one more set_attribute afterwards costs a lock and a
            # second pass through the SDK's attribute cleaning.
            attributes[semconv.SPAN_ATTR_USER_AGENT] = user_agent
        with self._request_type(
            telemetry,
            method=scope["method"],
            scheme=scheme,
            path=path,
            carrier=carrier,
            attributes=attributes,
        ) as request:
            self._own_id(scope, carrier, request.correlation_id)
            try:
                await self._observe(request, scope, receive, send, carrier, root_path)
            except BaseException as exc:
                if isinstance(exc, Exception) and configured_by_toolkit():
                    # Logged here, inside the request, with its IDs; the server's copy,
                    # logged after the request without them, is dropped by the filter
                    # toolkit's logging setup puts on it.
                    _log.error("unhandled exception in ASGI app", exc_info=exc)
                    mark_logged(exc)
                self._complete(request, scope, root_path, exc)
                raise
            self._complete(request, scope, root_path, None)

    def _complete(
        self,
        request: RequestTelemetry,
        scope: Scope,
        root_path: str,
        error: BaseException | None,
    ) -> None:
        """The response is complete (or the app is done): hook, route, record. Once."""
        if request.recorded:
            return
        if self._response_hook is not None and request.span is not None:
            call_hook(
                self.telemetry, self._response_hook, request.span, scope, request.status or 500
            )
        request.route, request.route_label = self._route(scope, root_path, request.path)
        request.record(error)

    async def _observe(
        self,
        request: RequestTelemetry,
        scope: Scope,
        receive: Receive,
        send: Send,
        carrier: dict[str, str],
        root_path: str,
    ) -> None:
        if self._request_hook is not None and request.span is not None:
            call_hook(self.telemetry, self._request_hook, request.span, scope)
        request.request_size = parse_content_length(carrier.get("content-length"))
        header = (self._header, request.correlation_id.encode("latin-1"))
        started = False
        finishing = False  # the last chunk is on its way: a disconnect now changes nothing

        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect" and not finishing:
                request.client_left()
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal started, finishing
            kind = message["type"]
            if kind == "http.response.body":
                last = not message.get("more_body", False)
                if last and not request.client_gone:
                    finishing = True
                await send(message)
                if request.client_gone:
                    return  # the server drops what the app sends after a disconnect
                # Counted once sent: a chunk the client never got is not in the bytes.
                request.response_bytes += len(message.get("body", b""))
                if last:
                    request.mark_end()
                    # The span ends with the response, as the access line and the
                    # histogram do, not with work the app does after it (a background
                    # task). A 5xx waits for the app: Starlette's error middleware sends
                    # it, then re-raises the exception the request is recorded with.
                    if request.status < 500:
                        self._complete(request, scope, root_path, None)
                return
            if kind == "http.response.start":
                started = True
                request.status = int(message["status"])  # an HTTPStatus is an int too
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        except Exception:
            if not started:
                request.status = 500
                if await _send_500(send, header):
                    request.response_bytes = len(_INTERNAL_ERROR)
            raise

    def _route(self, scope: Scope, root_path: str, path: str) -> Resolved:
        # The template the framework matched (or one the app declared), and the label; a
        # lookup that fails is counted, never raised.
        try:
            return self._routes.asgi(scope, root_path, strip_root(path, root_path))
        except Exception as exc:
            self.telemetry.report_error("route", exc)
            return UNROUTED

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        telemetry = self.telemetry
        carrier = self._carrier(scope, self._wanted_more)
        scheme = scope.get("scheme", "ws")
        path = scope["path"]
        root_path = scope.get("root_path", "")
        with RequestTelemetry(
            telemetry,
            method="GET",
            scheme=scheme,
            path=path,
            carrier=carrier,
            attributes=self._attributes(scope, scheme, path, carrier),
            websocket=True,
        ) as request:
            self._own_id(scope, carrier, request.correlation_id)
            header = (self._header, request.correlation_id.encode("latin-1"))

            async def send_wrapper(message: Message) -> None:
                if message["type"] == "websocket.accept":
                    message["headers"] = [*message.get("headers", ()), header]
                await send(message)

            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                request.route, request.route_label = self._route(scope, root_path, path)

    async def _correlation_only(self, scope: Scope, receive: Receive, send: Send) -> None:
        telemetry = self.telemetry
        carrier = self._carrier(scope, self._wanted)
        cid = telemetry.correlation_id_from(carrier)
        self._own_id(scope, carrier, cid)
        header = (self._header, cid.encode("latin-1"))

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = correlation_id_var.set(cid)
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            correlation_id_var.reset(token)


async def _send_500(send: Send, header: tuple[bytes, bytes]) -> bool:
    """Send a plain 500; ``False`` if the connection is gone."""
    try:
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(_INTERNAL_ERROR)).encode("latin-1")),
                    header,
                ],
            }
        )
        await send({"type": "http.response.body", "body": _INTERNAL_ERROR})
    except Exception:
        # The connection is gone; the original exception is what matters.
        return False
    return True
