"""Metrics: the HTTP server collectors, the ``/metrics`` endpoint, multi-process mode.

``server_metrics(registry)`` gives the RED collectors of a registry (made once);
``MetricsEndpoint`` serves a registry on the app's port, ``start_metrics_server`` on a
port of its own; ``enable_multiprocess`` and ``toolkit.gunicorn`` make several worker
processes add up. ``metrics_exporter="otlp"`` (or ``"both"``) records the same HTTP
metrics into OpenTelemetry instruments instead (or as well), pushed over OTLP by the
provider ``build_meter_provider`` builds.
"""

from __future__ import annotations

from toolkit.metrics._endpoint import (
    DEFAULT_METRICS_PATH,
    MetricsEndpoint,
    is_authorized,
    render_metrics,
)
from toolkit.metrics._http_server import MetricsServer, start_metrics_server
from toolkit.metrics._otlp import (
    METRICS_EXPORTERS,
    MetricsExporter,
    OTLPServerMetrics,
    build_meter_provider,
    resolve_metrics_exporter,
)
from toolkit.metrics._registry import PerRegistry
from toolkit.metrics._server import ServerMetrics, server_metrics
from toolkit.metrics.multiprocess import enable_multiprocess, join_multiprocess_mode

__all__ = [
    "DEFAULT_METRICS_PATH",
    "METRICS_EXPORTERS",
    "MetricsEndpoint",
    "MetricsExporter",
    "MetricsServer",
    "OTLPServerMetrics",
    "PerRegistry",
    "ServerMetrics",
    "build_meter_provider",
    "enable_multiprocess",
    "is_authorized",
    "join_multiprocess_mode",
    "render_metrics",
    "resolve_metrics_exporter",
    "server_metrics",
    "start_metrics_server",
]
