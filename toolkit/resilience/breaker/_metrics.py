"""Breaker metrics in the resilience4j tradition, created once per registry."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from toolkit import semconv
from toolkit.metrics._registry import PerRegistry


@dataclass(frozen=True)
class BreakerMetrics:
    """State one-hot gauge, calls by kind, failure and slow-call rate gauges."""

    state: Gauge
    calls: Counter
    failure_rate: Gauge
    slow_call_rate: Gauge


def _build_breaker_metrics(registry: CollectorRegistry) -> BreakerMetrics:
    return BreakerMetrics(
        state=Gauge(
            semconv.CIRCUITBREAKER_STATE,
            "Circuit breaker state: 1 for the current state, 0 for the others.",
            semconv.CIRCUITBREAKER_STATE_LABELS,
            registry=registry,
        ),
        calls=Counter(
            semconv.CIRCUITBREAKER_CALLS,
            "Calls through a circuit breaker by kind: successful, failed, ignored, not_permitted.",
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


breaker_metrics = PerRegistry(_build_breaker_metrics)
"""The breaker metrics of a registry (default: prometheus-client's), made once."""
