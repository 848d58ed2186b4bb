"""Metrics: the HTTP server collectors, the ``/metrics`` endpoint, multi-process mode.

``server_metrics(registry)`` gives the RED collectors of a registry (made once);
``MetricsEndpoint`` serves a registry on the app's port, ``start_metrics_server`` on a
port of its own; ``enable_multiprocess`` and ``toolkit.gunicorn`` make several worker
processes add up.
"""

from __future__ import annotations

from toolkit.metrics._endpoint import (
    DEFAULT_METRICS_PATH,
    MetricsEndpoint,
    is_authorized,
    render_metrics,
)
from toolkit.metrics._http_server import MetricsServer, start_metrics_server
from toolkit.metrics._registry import PerRegistry
from toolkit.metrics._server import ServerMetrics, server_metrics
from toolkit.metrics.multiprocess import enable_multiprocess, join_multiprocess_mode

__all__ = [
    "DEFAULT_METRICS_PATH",
    "MetricsEndpoint",
    "MetricsServer",
    "PerRegistry",
    "ServerMetrics",
    "enable_multiprocess",
    "is_authorized",
    "join_multiprocess_mode",
    "render_metrics",
    "server_metrics",
    "start_metrics_server",
]
