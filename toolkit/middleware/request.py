"""The telemetry of one request, shared by the ASGI and WSGI middlewares.

``RequestTelemetry`` is created per request (never stored on the middleware) and used
as a context manager: entering it sets the correlation ID, starts the server span and
counts the request as active; leaving it — however the code in between ended — records
the duration, the span's final name and status, and the access-log line while the
request's span and correlation ID are still current, then restores the context.

Just over 300 lines and kept whole: starting and finishing a request must be read
together to see that every start has its end.
"""

from __future__ import annotations

import asyncio
from time import perf_counter
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from toolkit import semconv
from toolkit._http import error_type_of
from toolkit.context import correlation_id_var
from toolkit.middleware.telemetry import Telemetry
from toolkit.tracing._sdk_gate import SERVER_SPAN_GATE, ServerSpan, replay

if TYPE_CHECKING:
    from contextvars import Token
    from types import TracebackType

# A server span's parent comes from the request only, never from whatever context the
# server thread happens to carry (e.g. left behind by a WSGI server that never closed a body).
_ROOT_CONTEXT = otel_context.Context()
_WEBSOCKET = "WEBSOCKET"
_HEAD = "HEAD"
_NO_ERROR = ""
_KNOWN_METHODS = semconv.KNOWN_METHODS


class RequestTelemetry:
    """The telemetry of one request or websocket: created per request, never shared."""

    __slots__ = (
        "_active",
        "_cid_token",
        "_ctx_token",
        "_start",
        "client_gone",
        "core",
        "correlation_id",
        "end",
        "method",
        "method_label",
        "path",
        "recorded",
        "request_size",
        "response_bytes",
        "route",
        "route_label",
        "scheme",
        "span",
        "status",
        "websocket",
    )

    def __init__(
        self,
        core: Telemetry,
        *,
        method: str,
        scheme: str,
        path: str,
        carrier: dict[str, str],
        attributes: dict[str, Any],
        websocket: bool = False,
    ) -> None:
        """Set the correlation ID, start the span (made current), count the request."""
        self._start = perf_counter()
        self.core = core
        self.method = method
        self.method_label = method if method in _KNOWN_METHODS else semconv.OTHER_METHOD
        self.scheme = scheme
        self.path = path
        self.websocket = websocket
        self.status = 0
        self.response_bytes = 0
        self.request_size: int | None = None
        self.end = 0.0
        self.route: str | None = None
        self.route_label: str | None = None
        self.recorded = False
        self.client_gone = False
        cid = self.correlation_id = core.correlation_id_from(carrier)
        self._cid_token: Token[str | None] | None = correlation_id_var.set(cid)
        self.span: trace.Span | None = None
        self._ctx_token: object = None
        if core.tracer is not None:
            self._start_span(carrier, attributes)
        self._active: Any = None
        if core.record_metrics and not websocket:
            try:
                active_increment = core.active_increment
                assert active_increment is not None  # record_metrics implies one
                active = active_increment((self.method_label, scheme))
                active(1)
                self._active = active
            except Exception as exc:
                core.report_error("metrics", exc)

    def _start_span(self, carrier: dict[str, str], attributes: dict[str, Any]) -> None:
        core = self.core
        try:
            parent = _ROOT_CONTEXT
            for field in core.trace_fields:
                if field in carrier:
                    propagator = core.propagator
                    parent = (
                        propagate.extract(carrier)
                        if propagator is None
                        else propagator.extract(carrier)
                    )
                    break
            attributes[semconv.SPAN_ATTR_CORRELATION_ID] = self.correlation_id
            method = self.method_label
            attributes[semconv.SPAN_ATTR_HTTP_METHOD] = method  # a websocket's is GET
            if self.websocket:
                name = _WEBSOCKET
            else:
                if method == semconv.OTHER_METHOD:
                    attributes[semconv.SPAN_ATTR_HTTP_METHOD_ORIGINAL] = self.method
                    name = semconv.SPAN_NAME_OTHER_METHOD
                else:
                    name = method
            span = None
            starter = core.span_starter
            if starter is not None and SERVER_SPAN_GATE.active():
                try:
                    span = starter.start(name, parent, attributes)
                except Exception as exc:
                    core.fast_path_failed(exc)
            if span is None:
                assert core.tracer is not None
                span = core.tracer.start_span(
                    name, context=parent, kind=SpanKind.SERVER, attributes=attributes
                )
            self.span = span
            self._ctx_token = otel_context.attach(trace.set_span_in_context(span, parent))
        except Exception as exc:
            core.report_error("tracing", exc)

    def __enter__(self) -> RequestTelemetry:
        """The request is under way (its ID set, span started, counted as active)."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Record the request (unless done already) and restore the context."""
        self.close(exc)

    def close(self, exc: BaseException | None = None) -> None:
        """Record the request with :attr:`route` unless :meth:`record` ran already, then
        restore the correlation ID and the OpenTelemetry context. Never raises."""
        if not self.recorded:
            self.record(exc)
        self._restore()

    def mark_end(self) -> None:
        """The last body chunk went out (or the client left): the duration ends here."""
        if not self.end:
            self.end = perf_counter()

    def client_left(self) -> None:
        """The client disconnected: later chunks never reach it (the server drops them)."""
        self.client_gone = True
        self.mark_end()

    def record(self, exc: BaseException | None = None) -> None:
        """Record metrics, the span (ended here) and the access line, once. Never raises.

        Called when the response is complete — the span then ends with the response, not
        with the work an app does after it — or, at the latest, when the request closes.
        The context stays as it is until :meth:`close`.
        """
        if self.recorded:
            return
        self.recorded = True
        route = self.route
        core = self.core
        end = self.end or perf_counter()
        duration = end - self._start
        status = self.status
        # The client left (or the server cancelled the app) before any response: nothing
        # was answered, so no 5xx is invented for it.
        aborted = status == 0 and (self.client_gone or isinstance(exc, asyncio.CancelledError))
        if status == 0 and not self.websocket:
            # No response started: the middleware (exception) or the server (an app that
            # returned without responding) answers 500.
            status = semconv.STATUS_CLIENT_CLOSED if aborted else 500
        if aborted:
            error_type = semconv.ERROR_CLIENT_ABORTED
        elif exc is not None:
            error_type = error_type_of(exc)
        elif status >= 500:
            error_type = str(status)
        elif self.client_gone:
            error_type = semconv.ERROR_CLIENT_ABORTED
        else:
            error_type = _NO_ERROR
        label_route = self.route_label or route or semconv.UNMATCHED_ROUTE
        if self.method == _HEAD:
            # The server sends no body with a HEAD response (RFC 9110, 9.3.2), whatever
            # the app handed it (Starlette and Flask build the GET body).
            self.response_bytes = 0
        if core.record_metrics and not self.websocket:
            self._record_metrics(label_route, status, error_type, duration)
        span = self.span
        if span is not None:
            self._end_span(span, route, status, error_type, exc)
        if core.access_logger is not None and not self.websocket:
            try:
                core.access_logger.log(
                    {
                        semconv.LOG_METHOD: self.method,
                        semconv.LOG_ROUTE: label_route,
                        semconv.LOG_PATH: self.path,
                        semconv.LOG_STATUS: status,
                        semconv.LOG_DURATION_MS: round(duration * 1000.0, 3),
                        semconv.LOG_RESPONSE_BYTES: self.response_bytes,
                    },
                    self.correlation_id,
                    None if span is None else span.get_span_context(),
                    core.access_error_level if status >= 500 else "info",
                )
            except Exception as log_exc:
                core.report_error("access_log", log_exc)
        if span is not None:
            self._close_span(span)

    def _close_span(self, span: trace.Span) -> None:
        core = self.core
        try:
            span.end()
            return
        except Exception as end_exc:
            if type(span) is not ServerSpan or span.end_time is not None:
                # Raised by a span processor (or the SDK's self-metrics) once the span had
                # ended: as the SDK's own span would; the processors already have it.
                core.report_error("tracing", end_exc)
                return
            core.fast_path_failed(end_exc)
        try:  # the fast path failed: the span is recorded through the public API
            assert core.tracer is not None
            replay(span, core.tracer)
        except Exception as replay_exc:
            core.report_error("tracing", replay_exc)

    def _record_metrics(self, route: str, status: int, error_type: str, duration: float) -> None:
        metrics = self.core.metrics
        assert metrics is not None
        try:
            method = self.method_label
            labels = (method, route, str(status), error_type)
            durations, response_sizes = metrics.observers(labels)
            span = self.span
            context = span.get_span_context() if span is not None else None
            if (
                context is not None
                and context.trace_flags.sampled
                and self.core.exemplar_due(labels, duration, self._start + duration)
            ):
                # Served in OpenMetrics only; multi-process values drop it (no storage).
                exemplar = {semconv.EXEMPLAR_TRACE_ID: format(context.trace_id, "032x")}
                durations.observe(duration, exemplar)
            else:
                durations.observe(duration)
            response_sizes.observe(self.response_bytes)
            if self.request_size is not None:
                metrics.child(metrics.request_size, labels).observe(self.request_size)
        except Exception as exc:
            self.core.report_error("metrics", exc)
        finally:
            # The gauge comes back down whatever the observations did.
            if self._active is not None:
                try:
                    self._active(-1)
                except Exception as exc:
                    self.core.report_error("metrics", exc)

    def _end_span(
        self,
        span: trace.Span,
        route: str | None,
        status: int,
        error_type: str,
        exc: BaseException | None,
    ) -> None:
        try:
            if not span.is_recording():
                return
            prefix = (
                _WEBSOCKET
                if self.websocket
                else (
                    semconv.SPAN_NAME_OTHER_METHOD
                    if self.method_label == semconv.OTHER_METHOD
                    else self.method
                )
            )
            final: dict[str, Any] = {}
            name = None
            if route is not None:
                name = f"{prefix} {route}"
                final[semconv.SPAN_ATTR_HTTP_ROUTE] = route
            if self.status:  # only a status that was sent
                final[semconv.SPAN_ATTR_HTTP_STATUS_CODE] = status
            if exc is not None:
                span.record_exception(exc)
            if error_type:
                final[semconv.SPAN_ATTR_ERROR_TYPE] = error_type
            if type(span) is ServerSpan:
                try:
                    span.record_outcome(name, final, bool(error_type))
                    return
                except Exception as exc:
                    self.core.fast_path_failed(exc)
            if name is not None:
                span.update_name(name)
            if error_type:
                span.set_status(Status(StatusCode.ERROR))
            span.set_attributes(final)
        except Exception as span_exc:
            self.core.report_error("tracing", span_exc)

    def _restore(self) -> None:
        if self._ctx_token is not None:
            try:
                otel_context.detach(self._ctx_token)  # type: ignore[arg-type]
            except Exception as exc:
                self.core.report_error("tracing", exc)
            self._ctx_token = None
        if self._cid_token is not None:
            try:  # noqa: SIM105 - contextlib.suppress costs more on the hot path
                correlation_id_var.reset(self._cid_token)
            except ValueError:
                # Reset from another context (a WSGI server closing the body elsewhere):
                # the value dies with that context anyway.
                pass
            self._cid_token = None
