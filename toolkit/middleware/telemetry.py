"""What a middleware precomputes once from its settings, shared by all its requests.

``Telemetry`` is built once per middleware and is read-only afterwards (the exemplar
schedule aside, which only ever moves forward): tracer and span starter, collectors,
header names, correlation strategies, and the error reporting every part uses.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_left
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from opentelemetry import propagate, trace

from toolkit import semconv
from toolkit._http import is_header_safe
from toolkit._version import __version__
from toolkit.logs import configured_by_toolkit, write_event_line
from toolkit.logs._structlog_gate import STRUCTLOG_GATE
from toolkit.metrics._otlp import (
    OTLP,
    PROMETHEUS,
    Increment,
    OTLPServerMetrics,
    PairedIncrements,
)
from toolkit.metrics._server import ServerMetrics, server_metrics
from toolkit.metrics.multiprocess import join_multiprocess_mode
from toolkit.middleware.config import Settings
from toolkit.middleware.correlation import is_valid_correlation_id, new_correlation_id
from toolkit.tracing._sdk_gate import SERVER_SPAN_GATE, ServerSpanStarter, server_span_starter

if TYPE_CHECKING:
    from opentelemetry.propagators.textmap import TextMapPropagator

_log = logging.getLogger("toolkit.middleware")

ACCESS_LOGGER = "toolkit.access"
LOG_SINK_COMPONENT = "log_sink"
FAST_PATH_COMPONENT = "tracing_fast_path"
ACCESS_LOG_FAST_PATH_COMPONENT = "access_log_fast_path"
_TRACE_FIELDS = ("traceparent", "tracestate", "baggage")
EXEMPLAR_INTERVAL = 1.0
"""Seconds a duration bucket keeps its exemplar before a newer sampled request replaces it."""


class AccessLogger:
    """The ``toolkit.access`` structlog logger, assembled once per structlog configuration.

    structlog's lazy proxy assembles a new bound logger on every call unless loggers are
    cached; this keeps the assembled one until ``structlog.configure`` changes the
    processors, wrapper class or logger factory, so reconfiguration is still followed.
    """

    __slots__ = ("_count_error", "_key", "_logger")

    def __init__(self, count_error: Callable[[str], None]) -> None:
        """Start with nothing assembled; ``count_error(component)`` counts a fast path
        that failed (the line is then written through structlog)."""
        self._count_error = count_error
        self._key: tuple[int, int, int] = (0, 0, 0)
        self._logger: Any = None

    def get(self) -> Any:
        """Return the bound logger for the current structlog configuration."""
        config = structlog.get_config()
        key = (
            id(config["processors"]),
            id(config["wrapper_class"]),
            id(config["logger_factory"]),
        )
        if key != self._key or self._logger is None:
            self._logger = structlog.stdlib.get_logger(ACCESS_LOGGER).bind()
            self._key = key
        return self._logger

    def log(
        self,
        fields: dict[str, Any],
        correlation_id: str | None = None,
        span_context: trace.SpanContext | None = None,
        level: str = "info",
    ) -> None:
        """Log the access line: ``<level>(ACCESS_LOG_EVENT, **fields)`` on this logger.

        Under toolkit's own logging configuration the line is written directly, the
        same bytes without structlog's per-call machinery (the request's correlation ID
        and span context, current as the line is written, passed rather than looked up);
        otherwise through structlog — the app's own configuration — with the correlation
        and trace IDs among the fields, so its lines carry them too.
        """
        fast = STRUCTLOG_GATE.is_open()  # never runs the self-check on a request
        if write_event_line(
            ACCESS_LOGGER,
            semconv.ACCESS_LOG_EVENT,
            fields,
            correlation_id=correlation_id,
            span_context=span_context,
            level=level,
        ):
            return
        if fast and not STRUCTLOG_GATE.active():  # it raised just now: counted once
            self._count_error(ACCESS_LOG_FAST_PATH_COMPONENT)
        if configured_by_toolkit():  # toolkit's own processors add the IDs, in their place
            getattr(self.get(), level)(semconv.ACCESS_LOG_EVENT, **fields)
            return
        fields[semconv.LOG_CORRELATION_ID] = correlation_id
        valid = span_context is not None and span_context.is_valid
        fields[semconv.LOG_TRACE_ID] = (
            f"{span_context.trace_id:032x}" if valid and span_context else None
        )
        fields[semconv.LOG_SPAN_ID] = (
            f"{span_context.span_id:016x}" if valid and span_context else None
        )
        getattr(self.get(), level)(semconv.ACCESS_LOG_EVENT, **fields)


class Telemetry:
    """What a middleware precomputes from its settings: tracer, collectors, header names."""

    def __init__(self, settings: Settings) -> None:
        """Resolve providers and precompute header names; registers the collectors once."""
        self.settings = settings
        self.service = settings.service
        self.tracer: trace.Tracer | None = None
        self.span_starter: ServerSpanStarter | None = None
        if settings.tracing:
            provider = settings.tracer_provider or trace.get_tracer_provider()
            self.tracer = provider.get_tracer("toolkit.middleware", __version__)
            # The SDK's own tracer: spans started without its per-attribute cleaning, if
            # the gate allows it (tested SDK release, self-check passed).
            self.span_starter = server_span_starter(self.tracer)
        self.propagator: TextMapPropagator | None = settings.propagator
        fields = (settings.propagator or propagate.get_global_textmap()).fields
        self.trace_fields: frozenset[str] = frozenset({*_TRACE_FIELDS, *fields})
        self.metrics: ServerMetrics | None = None
        if settings.metrics or settings.metrics_path:
            join_multiprocess_mode()
            self.metrics = server_metrics(settings.registry)
        self.record_metrics = settings.metrics
        # Where the requests' metrics go: prometheus-client, OpenTelemetry instruments
        # (pushed over OTLP) or both; decided here, so that a backend that is off costs a
        # request nothing (the middleware picks its request class from otlp_metrics).
        exporter = settings.metrics_exporter
        self.prometheus_metrics = settings.metrics and exporter != OTLP
        self.otlp_metrics: OTLPServerMetrics | None = None
        self.active_increment: Callable[[tuple[str, ...]], Increment] | None = None
        if settings.metrics and self.metrics is not None:
            if exporter == PROMETHEUS:
                self.active_increment = self.metrics.active_increment
            else:
                otlp = self.otlp_metrics = OTLPServerMetrics(settings.meter_provider)
                self.active_increment = (
                    otlp.active_increment
                    if exporter == OTLP
                    else PairedIncrements(self.metrics.active_increment, otlp.active_increment)
                )
        # prometheus-client keeps one exemplar per bucket and validates every one it is
        # offered (~3 µs a request): offer each bucket of each series one per
        # EXEMPLAR_INTERVAL, as the Prometheus Java client's sampler does. Label values
        # are bounded, so is this; racing threads at worst offer one more.
        self._exemplar_due: dict[tuple[str, ...], list[float]] = {}
        self._duration_bounds = tuple(semconv.DURATION_BUCKETS)
        self.access_logger: AccessLogger | None = None
        if settings.access_log:
            self.access_logger = AccessLogger(self.count_error)
        self.access_error_level = settings.access_log_error_level
        primary = settings.correlation_header.lower()
        aliases = [a.lower() for a in semconv.CORRELATION_HEADER_ALIASES if a.lower() != primary]
        # Lower-case header names, in order of preference.
        self.correlation_inputs: tuple[str, ...] = (primary, *aliases)
        self.correlation_header = settings.correlation_header
        self.validate = settings.correlation_validator
        self.generate = settings.correlation_generator
        # The defaults only let header-safe values through: no need to check again.
        self._checked_validator = self.validate is is_valid_correlation_id
        self._checked_generator = self.generate is new_correlation_id
        self.metrics_path = settings.metrics_path
        self.excluded_paths = settings.excluded_paths
        self.excluded_urls = settings.excluded_urls
        self._reported: set[str] = set()
        self._report_lock = threading.Lock()

    def exemplar_due(self, labels: tuple[str, ...], duration: float, now: float) -> bool:
        """Whether the bucket ``duration`` falls in (series ``labels``) takes a new exemplar."""
        due = self._exemplar_due.get(labels)
        if due is None:
            due = self._exemplar_due[labels] = [0.0] * (len(self._duration_bounds) + 1)
        bucket = bisect_left(self._duration_bounds, duration)  # prometheus: first bound >= it
        if now < due[bucket]:
            return False
        due[bucket] = now + EXEMPLAR_INTERVAL
        return True

    def is_excluded(self, path: str) -> bool:
        """Whether ``path`` gets no span, metrics or access log (correlation ID only)."""
        if path in self.excluded_paths:
            return True
        return self.excluded_urls is not None and self.excluded_urls.search(path) is not None

    def count_error(self, component: str) -> None:
        """Count a swallowed telemetry failure without logging it (for the log sink)."""
        try:
            if self.metrics is not None:
                self.metrics.child(self.metrics.telemetry_errors, (component,)).inc()
        except Exception:  # pragma: no cover - the last line of defence
            pass

    def report_error(self, component: str, exc: BaseException) -> None:
        """Count a swallowed telemetry failure; log the first one of each component."""
        self.count_error(component)
        try:
            with self._report_lock:
                first = component not in self._reported
                self._reported.add(component)
            if first:
                _log.error(
                    "toolkit telemetry failed in %s; the request goes on (logged once)",
                    component,
                    exc_info=exc,
                )
        except Exception:  # pragma: no cover - the last line of defence
            pass

    def fast_path_failed(self, exc: BaseException) -> None:
        """The server span's fast path raised: public API from now on, counted once."""
        self.count_error(FAST_PATH_COMPONENT)
        SERVER_SPAN_GATE.disable(exc)

    def correlation_id_from(self, carrier: dict[str, str]) -> str:
        """Return the request's valid incoming correlation ID, or a new one."""
        for name in self.correlation_inputs:
            value = carrier.get(name)
            if value is not None:
                try:
                    if self.validate(value) and (self._checked_validator or is_header_safe(value)):
                        return value
                except Exception as exc:
                    self.report_error("correlation", exc)
                    if is_valid_correlation_id(value):
                        return value
                break
        try:
            generated = self.generate()
            if self._checked_generator or is_header_safe(generated):
                return generated
            raise ValueError(f"correlation generator returned an unsafe value: {generated!r}")
        except Exception as exc:
            self.report_error("correlation", exc)
            return new_correlation_id()
