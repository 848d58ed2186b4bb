"""Middleware that makes an ASGI or WSGI app observable in one line.

``app = toolkit.instrument(app, service="orders")`` — or the middleware classes
directly. Frameworks are never imported here.
"""

from __future__ import annotations

from toolkit.middleware.asgi import ToolkitASGIMiddleware
from toolkit.middleware.config import Options, Settings, resolve_settings
from toolkit.middleware.correlation import is_valid_correlation_id, new_correlation_id
from toolkit.middleware.instrument import instrument, is_asgi_app
from toolkit.middleware.metrics import ServerMetrics, server_metrics
from toolkit.middleware.metrics_server import MetricsServer, start_metrics_server
from toolkit.middleware.multiprocess import enable_multiprocess
from toolkit.middleware.routes import ROUTE_KEY
from toolkit.middleware.tracing import build_tracer_provider
from toolkit.middleware.wsgi import ToolkitWSGIMiddleware

__all__ = [
    "ROUTE_KEY",
    "MetricsServer",
    "Options",
    "ServerMetrics",
    "Settings",
    "ToolkitASGIMiddleware",
    "ToolkitWSGIMiddleware",
    "build_tracer_provider",
    "enable_multiprocess",
    "instrument",
    "is_asgi_app",
    "is_valid_correlation_id",
    "new_correlation_id",
    "resolve_settings",
    "server_metrics",
    "start_metrics_server",
]
