"""OpenTelemetry metrics for the OTLP tests: an in-memory provider and its points by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from toolkit import semconv


@dataclass
class OTel:
    """An SDK meter provider whose metrics are read in memory (nothing is pushed)."""

    reader: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)
    provider: MeterProvider = field(init=False)

    def __post_init__(self) -> None:
        self.provider = MeterProvider(metric_readers=[self.reader], shutdown_on_exit=False)

    def metric(self, name: str, data: Any = None) -> Any:
        """The metric ``name`` of a new collection, or of ``data`` (a collection made
        before: exemplars are handed out once), ``None`` if it has no data."""
        data = self.reader.get_metrics_data() if data is None else data
        found = [
            metric
            for resource in (data.resource_metrics if data is not None else [])
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
        ]
        assert len(found) <= 1, found
        return found[0] if found else None

    def points(self, name: str, data: Any = None) -> dict[frozenset[tuple[str, Any]], Any]:
        """The data points of metric ``name``, by attribute set (empty if none)."""
        metric = self.metric(name, data)
        if metric is None:
            return {}
        return {
            frozenset((point.attributes or {}).items()): point for point in metric.data.data_points
        }

    def counts(self, name: str) -> dict[frozenset[tuple[str, Any]], int]:
        """A histogram's number of observations per attribute set."""
        return {key: point.count for key, point in self.points(name).items()}


def attrs(**values: Any) -> frozenset[tuple[str, Any]]:
    """An attribute set from short keywords: ``method``, ``scheme``, ``route``,
    ``status``, ``error``, ``address``, ``port``."""
    return frozenset((_NAMES.get(key, key), value) for key, value in values.items())


_NAMES = {
    "method": semconv.SPAN_ATTR_HTTP_METHOD,
    "scheme": semconv.SPAN_ATTR_URL_SCHEME,
    "route": semconv.SPAN_ATTR_HTTP_ROUTE,
    "status": semconv.SPAN_ATTR_HTTP_STATUS_CODE,
    "error": semconv.SPAN_ATTR_ERROR_TYPE,
    "address": semconv.SPAN_ATTR_SERVER_ADDRESS,
    "port": semconv.SPAN_ATTR_SERVER_PORT,
}
