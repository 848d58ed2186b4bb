"""The middleware's counters, created once per registry."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

from toolkit import semconv
from toolkit.metrics._registry import PerRegistry


@dataclass(frozen=True)
class IdempotencyMetrics:
    """Counters of replays, 422 conflicts, 409 in-progress rejections and store errors."""

    replays: Counter
    conflicts: Counter
    in_progress: Counter
    store_errors: Counter


def _build_idempotency_metrics(registry: CollectorRegistry) -> IdempotencyMetrics:
    return IdempotencyMetrics(
        replays=Counter(
            semconv.IDEMPOTENCY_REPLAYS,
            "Requests answered with a stored response (Idempotent-Replayed: true).",
            registry=registry,
        ),
        conflicts=Counter(
            semconv.IDEMPOTENCY_CONFLICTS,
            "Requests rejected with 422: key reused for a different request.",
            registry=registry,
        ),
        in_progress=Counter(
            semconv.IDEMPOTENCY_IN_PROGRESS,
            "Requests rejected with 409: the first request with the key still runs.",
            registry=registry,
        ),
        store_errors=Counter(
            semconv.IDEMPOTENCY_STORE_ERRORS,
            "Idempotency store failures by operation and what the middleware did.",
            semconv.IDEMPOTENCY_STORE_ERRORS_LABELS,
            registry=registry,
        ),
    )


idempotency_metrics = PerRegistry(_build_idempotency_metrics)
"""The idempotency counters of a registry (default: prometheus-client's), made once."""
