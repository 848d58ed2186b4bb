"""The reader and exporter of the meter provider toolkit builds: periodic push, failed
pushes counted, bounded shutdown.

Imported by ``build_meter_provider`` only: the SDK's metrics package costs tens of
milliseconds to import, which an app that keeps Prometheus should never pay.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from prometheus_client import CollectorRegistry

from toolkit.metrics._otlp import DEFAULT_SHUTDOWN_TIMEOUT

_log = logging.getLogger("toolkit.metrics")

METRICS_EXPORT_COMPONENT = "metrics_export"
"""The ``component`` of ``toolkit_telemetry_errors_total`` that counts failed pushes."""


class CountingMetricExporter(OTLPMetricExporter):
    """The SDK's OTLP/HTTP metric exporter, whose failed pushes are counted.

    A push that fails (the collector down, refusing, timing out) or raises counts one in
    ``toolkit_telemetry_errors_total{component="metrics_export"}`` of ``registry``
    (default: prometheus-client's), which toolkit's own families stay in: served on
    ``/metrics`` with ``metrics_exporter="both"``, or with ``metrics_path`` or
    ``metrics_port`` beside ``"otlp"``. The SDK logs each failure itself; a push that
    raises is logged once here. Other keyword arguments go to the SDK's exporter.
    """

    def __init__(self, *, registry: CollectorRegistry | None = None, **options: Any) -> None:
        """The SDK's exporter with ``options``; failures counted into ``registry``."""
        self.registry = registry
        self._reported = False
        super().__init__(**options)

    def export(self, metrics_data: MetricsData, *args: Any, **kwargs: Any) -> MetricExportResult:
        """Push ``metrics_data``; never raises."""
        try:
            result = super().export(metrics_data, *args, **kwargs)
        except Exception as exc:
            self._count()
            if not self._reported:
                self._reported = True
                _log.error("metrics push raised; counted (logged once)", exc_info=exc)
            return MetricExportResult.FAILURE
        if result is not MetricExportResult.SUCCESS:
            self._count()
        return result

    def _count(self) -> None:
        from toolkit.metrics._server import server_metrics

        with contextlib.suppress(Exception):  # the last line of defence
            metrics = server_metrics(self.registry)
            metrics.child(metrics.telemetry_errors, (METRICS_EXPORT_COMPONENT,)).inc()


class BoundedMetricReader(PeriodicExportingMetricReader):
    """A ``PeriodicExportingMetricReader`` whose ``shutdown()`` returns in bounded time.

    The SDK gives a provider's shutdown (at exit too) 30 s; this caps it at
    ``shutdown_timeout`` seconds: the last collection is pushed if the collector answers
    in time, otherwise it is lost (the process is going away). Other keyword arguments
    (``export_interval_millis``, ``export_timeout_millis``) go to the SDK.
    """

    def __init__(
        self,
        exporter: MetricExporter,
        *,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
        **options: Any,
    ) -> None:
        """Start the SDK's push thread for ``exporter``."""
        self.shutdown_timeout = shutdown_timeout
        super().__init__(exporter, **options)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Push the last collection and stop, within ``shutdown_timeout`` at most."""
        bound = min(timeout_millis, self.shutdown_timeout * 1000.0)
        super().shutdown(timeout_millis=bound, **kwargs)
