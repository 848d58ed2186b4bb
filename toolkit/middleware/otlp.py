"""The request telemetry of a middleware whose HTTP metrics (also) go over OTLP.

A middleware picks its request class once, when it is built (:func:`request_type`):
with ``metrics_exporter="prometheus"`` — the default — it is the plain
:class:`~toolkit.middleware.request.RequestTelemetry`, so the option costs a request
nothing while it is off.
"""

from __future__ import annotations

from toolkit.middleware.request import RequestTelemetry
from toolkit.middleware.telemetry import Telemetry


class OTLPRequestTelemetry(RequestTelemetry):
    """A request whose metrics go into OpenTelemetry instruments (and prometheus-client
    too with ``metrics_exporter="both"``): the same measurements, the conventions' names."""

    __slots__ = ()

    def _record_metrics(self, route: str, status: int, error_type: str, duration: float) -> None:
        core = self.core
        active = self._active
        if core.prometheus_metrics:
            # Observes prometheus-client's series, then brings both active counts down.
            super()._record_metrics(route, status, error_type, duration)
            active = None
        otlp = core.otlp_metrics
        assert otlp is not None  # this class is only used with OTLP metrics
        try:
            method = self.method_label
            attributes = otlp.attributes(method, self.scheme, route, status, error_type)
            span = self.span
            # An exemplar per bucket and series at most once a second, as for Prometheus
            # (its own schedule: these keys have five items, Prometheus' four).
            exemplar = (
                span is not None
                and span.get_span_context().trace_flags.sampled
                and core.exemplar_due(
                    (method, self.scheme, route, str(status), error_type),
                    duration,
                    self._start + duration,
                )
            )
            otlp.record(attributes, duration, self.response_bytes, self.request_size, exemplar)
        except Exception as exc:
            core.report_error("metrics", exc)
        finally:
            if active is not None:
                try:
                    active(-1)
                except Exception as exc:
                    core.report_error("metrics", exc)


def request_type(telemetry: Telemetry) -> type[RequestTelemetry]:
    """The class of a middleware's HTTP requests: OTLP recording only where it is on."""
    return RequestTelemetry if telemetry.otlp_metrics is None else OTLPRequestTelemetry
