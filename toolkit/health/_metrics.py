"""The health-check gauge, created once per registry."""

from __future__ import annotations

import threading
import weakref

from prometheus_client import REGISTRY, CollectorRegistry, Gauge

from toolkit import semconv


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


_lock = threading.Lock()
_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, HealthMetrics] = (
    weakref.WeakKeyDictionary()
)


def health_metrics(registry: CollectorRegistry | None = None) -> HealthMetrics:
    """Return the health collectors of ``registry`` (default: prometheus-client's), made once."""
    target = REGISTRY if registry is None else registry
    with _lock:
        found = _by_registry.get(target)
        if found is None:
            found = _by_registry[target] = HealthMetrics(target)
        return found
