"""Bundles of Prometheus collectors, created once per registry.

prometheus-client refuses to register a metric name twice in one registry, and every
part of toolkit (middleware, outbound calls, health checks, breakers, idempotency) may be
set up more than once on the same registry. Each part declares its bundle once with
:class:`PerRegistry`; calling it returns the bundle of a registry, built on first use.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry

T = TypeVar("T")


class PerRegistry(Generic[T]):
    """``build(registry)`` called at most once per registry; ``None`` is prometheus-client's.

    In multi-process mode (``PROMETHEUS_MULTIPROC_DIR`` set) the collectors are built with
    multi-process values, whatever the import order was. Building a bundle touches no
    file: registering the worker and compacting dead ones are explicit steps
    (``enable_multiprocess``, or a middleware being built).
    """

    def __init__(self, build: Callable[[CollectorRegistry], T]) -> None:
        """Remember how to build a bundle; nothing is registered yet."""
        self._build = build
        self._lock = threading.Lock()
        self._built: weakref.WeakKeyDictionary[CollectorRegistry, T] = weakref.WeakKeyDictionary()

    def __call__(self, registry: CollectorRegistry | None = None) -> T:
        """Return the bundle of ``registry``, building and registering it the first time."""
        target = REGISTRY if registry is None else registry
        with self._lock:
            found = self._built.get(target)
            if found is None:
                _use_multiprocess_values()
                found = self._built[target] = self._build(target)
            return found


def _use_multiprocess_values() -> None:
    # Imported here: the gate imports prometheus-client's multiprocess module.
    from toolkit.metrics._prometheus_gate import switch_to_multiprocess_values
    from toolkit.metrics.multiprocess import multiprocess_directory

    if multiprocess_directory() is not None:
        switch_to_multiprocess_values()
