"""The health-check gauge, created once per registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from toolkit import semconv
from toolkit.metrics._registry import PerRegistry


class HealthMetrics:
    """``toolkit_health_check_status{check}`` of one registry: use :func:`health_metrics`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the gauge in ``registry``."""
        # In multiprocess mode: the worst (minimum) over live workers.
        self.status = Gauge(
            semconv.HEALTH_CHECK_STATUS,
            "Last readiness check result: 1 passed (or warned), 0 failed.",
            (semconv.LABEL_CHECK,),
            registry=registry,
            multiprocess_mode="livemin",
        )


health_metrics = PerRegistry(HealthMetrics)
"""The health collectors of a registry (default: prometheus-client's), made once."""
