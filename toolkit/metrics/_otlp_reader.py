"""The metric reader of the meter provider toolkit builds: periodic push, bounded shutdown.

Imported by ``build_meter_provider`` only: the SDK's metrics package costs tens of
milliseconds to import, which an app that keeps Prometheus should never pay.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics.export import MetricExporter, PeriodicExportingMetricReader

from toolkit.metrics._otlp import DEFAULT_SHUTDOWN_TIMEOUT


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
