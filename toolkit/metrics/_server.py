"""RED metrics collectors, created once per registry and shared by every middleware on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from toolkit import semconv
from toolkit.metrics._registry import PerRegistry

_LabelValues = tuple[str, ...]
_Increment = Callable[[float], None]


class ServerMetrics:
    """The HTTP server collectors of one registry, with a cache of labelled children.

    prometheus-client refuses to register a name twice in one registry, so two
    middlewares (or two apps) on one registry must share these objects: use
    :func:`server_metrics`, never the constructor directly.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the collectors in ``registry``."""
        self.duration = Histogram(
            semconv.HTTP_SERVER_REQUEST_DURATION,
            "Duration of HTTP server requests.",
            semconv.SERVER_DURATION_LABELS,
            buckets=semconv.DURATION_BUCKETS,
            registry=registry,
        )
        self.active = Gauge(
            semconv.HTTP_SERVER_ACTIVE_REQUESTS,
            "Number of active HTTP server requests.",
            semconv.SERVER_ACTIVE_LABELS,
            registry=registry,
            # Multi-process mode: the sum over live workers; a dead worker's file is dropped.
            multiprocess_mode="livesum",
        )
        self.request_size = Histogram(
            semconv.HTTP_SERVER_REQUEST_BODY_SIZE,
            "Size of HTTP server request bodies.",
            semconv.SERVER_BODY_SIZE_LABELS,
            buckets=semconv.BODY_SIZE_BUCKETS,
            registry=registry,
        )
        self.response_size = Histogram(
            semconv.HTTP_SERVER_RESPONSE_BODY_SIZE,
            "Size of HTTP server response bodies.",
            semconv.SERVER_BODY_SIZE_LABELS,
            buckets=semconv.BODY_SIZE_BUCKETS,
            registry=registry,
        )
        self.telemetry_errors = Counter(
            semconv.TELEMETRY_ERRORS,
            "Telemetry failures swallowed so that the request could go on.",
            (semconv.LABEL_COMPONENT,),
            registry=registry,
        )
        # Label values are bounded (known methods, route templates, status codes), so
        # these caches are too. Lookups skip prometheus-client's lock and validation;
        # observations go through the children's public methods.
        self._children: dict[tuple[int, _LabelValues], Any] = {}
        self._observers: dict[_LabelValues, tuple[Any, Any]] = {}
        self._gauges: dict[_LabelValues, _Increment] = {}

    def child(self, metric: Histogram | Gauge | Counter, values: _LabelValues) -> Any:
        """Return ``metric.labels(*values)``, cached."""
        key = (id(metric), values)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*values)
        return found

    def observers(self, values: _LabelValues) -> tuple[Any, Any]:
        """Return the (duration, response size) series of one label set: one cached
        lookup per request instead of two. (Request size is observed only when known, so
        its children are made on demand, never as empty series.)"""
        found = self._observers.get(values)
        if found is None:
            found = self._observers[values] = (
                self.duration.labels(*values),
                self.response_size.labels(*values),
            )
        return found

    def active_increment(self, values: _LabelValues) -> _Increment:
        """Return the increment of the active-requests series ``values`` (``-1`` to end)."""
        found = self._gauges.get(values)
        if found is None:
            found = self._gauges[values] = self.active.labels(*values).inc
        return found


server_metrics = PerRegistry(ServerMetrics)
"""The RED collectors of a registry (default: prometheus-client's), made once."""


def server_families() -> list[Any]:
    """The HTTP server metric families, empty: names, types and help texts only.

    A multi-process scrape sums the workers' files, which hold only series that were
    written: before the first request (or the first request with a body) a family would
    be missing. Built on a throwaway registry: no labelled child, so no file is written.
    """
    registry = CollectorRegistry(auto_describe=False)
    ServerMetrics(registry)
    return list(registry.collect())
