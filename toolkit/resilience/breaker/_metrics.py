"""Breaker metrics in the resilience4j tradition, created once per registry."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge

from toolkit import semconv


@dataclass(frozen=True)
class BreakerMetrics:
    """State one-hot gauge, calls by kind, failure and slow-call rate gauges."""

    state: Gauge
    calls: Counter
    failure_rate: Gauge
    slow_call_rate: Gauge


_lock = threading.Lock()
_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, BreakerMetrics] = (
    weakref.WeakKeyDictionary()
)


def breaker_metrics(registry: CollectorRegistry | None = None) -> BreakerMetrics:
    """Return the breaker metrics registered in ``registry`` (default: the global one)."""
    registry = REGISTRY if registry is None else registry
    with _lock:
        metrics = _by_registry.get(registry)
        if metrics is None:
            metrics = BreakerMetrics(
                state=Gauge(
                    semconv.CIRCUITBREAKER_STATE,
                    "Circuit breaker state: 1 for the current state, 0 for the others.",
                    semconv.CIRCUITBREAKER_STATE_LABELS,
                    registry=registry,
                ),
                calls=Counter(
                    semconv.CIRCUITBREAKER_CALLS,
                    "Calls through a circuit breaker by kind: successful, failed, ignored, "
                    "not_permitted.",
                    semconv.CIRCUITBREAKER_CALLS_LABELS,
                    registry=registry,
                ),
                failure_rate=Gauge(
                    semconv.CIRCUITBREAKER_FAILURE_RATE,
                    "Failure rate of the sliding window in percent; -1 below minimum_calls.",
                    semconv.CIRCUITBREAKER_RATE_LABELS,
                    registry=registry,
                ),
                slow_call_rate=Gauge(
                    semconv.CIRCUITBREAKER_SLOW_CALL_RATE,
                    "Slow-call rate of the sliding window in percent; -1 below minimum_calls.",
                    semconv.CIRCUITBREAKER_RATE_LABELS,
                    registry=registry,
                ),
            )
            _by_registry[registry] = metrics
        return metrics
