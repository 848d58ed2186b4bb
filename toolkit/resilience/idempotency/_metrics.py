"""The middleware's counters, created once per registry."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter

from toolkit import semconv


@dataclass(frozen=True)
class IdempotencyMetrics:
    """Counters of replays, 422 conflicts, 409 in-progress rejections and store errors."""

    replays: Counter
    conflicts: Counter
    in_progress: Counter
    store_errors: Counter


_lock = threading.Lock()
_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, IdempotencyMetrics] = (
    weakref.WeakKeyDictionary()
)


def idempotency_metrics(registry: CollectorRegistry | None = None) -> IdempotencyMetrics:
    """Return the counters registered in ``registry`` (default: the global one)."""
    registry = REGISTRY if registry is None else registry
    with _lock:
        metrics = _by_registry.get(registry)
        if metrics is None:
            metrics = IdempotencyMetrics(
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
            _by_registry[registry] = metrics
        return metrics
