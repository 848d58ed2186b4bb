"""Middleware that makes an ASGI or WSGI app observable in one line.

``app = toolkit.instrument(app, service="orders")`` — or the middleware classes
directly. Frameworks are never imported here.
"""

from __future__ import annotations

# Re-exported where the docs have always shown them; their home is toolkit.metrics and
# toolkit.tracing.
from toolkit.metrics import (
    MetricsServer,
    ServerMetrics,
    enable_multiprocess,
    server_metrics,
    start_metrics_server,
)
from toolkit.middleware.asgi import ToolkitASGIMiddleware
from toolkit.middleware.config import Options, Settings, resolve_settings
from toolkit.middleware.correlation import is_valid_correlation_id, new_correlation_id
from toolkit.middleware.hooks import request_header
from toolkit.middleware.instrument import instrument, is_asgi_app
from toolkit.middleware.routes import ROUTE_KEY
from toolkit.middleware.wsgi import ToolkitWSGIMiddleware
from toolkit.tracing import BoundedBatchSpanProcessor, build_tracer_provider

__all__ = [
    "ROUTE_KEY",
    "BoundedBatchSpanProcessor",
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
    "request_header",
    "resolve_settings",
    "server_metrics",
    "start_metrics_server",
]
