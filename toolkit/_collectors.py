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

    In multi-process mode (``PROMETHEUS_MULTIPROC_DIR`` set) the process joins it before
    the first bundle is built, so every collector writes to the shared files whatever the
    import order was.
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
                _join_multiprocess_mode()
                found = self._built[target] = self._build(target)
            return found


def _join_multiprocess_mode() -> None:
    # Imported here: the middleware package imports this module.
    from toolkit.middleware.multiprocess import enable_multiprocess, multiprocess_directory

    directory = multiprocess_directory()
    if directory is not None:
        # No server hook under ``uvicorn --workers``: fold in dead predecessors at start.
        enable_multiprocess(directory, compact_dead=True)
