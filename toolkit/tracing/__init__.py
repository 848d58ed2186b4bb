"""Tracing: the tracer provider toolkit builds, span export, and the server span's gate.

``build_tracer_provider(service)`` gives an SDK provider exporting where the ``OTEL_*``
variables say, through a :class:`BoundedBatchSpanProcessor` that counts dropped spans
and shuts down in bounded time; :class:`TracingConfigError` when those variables ask for
what cannot be had.
"""

from __future__ import annotations

from toolkit.tracing._export import (
    BoundedBatchSpanProcessor,
    CountingSpanExporter,
    ExportMetrics,
    export_metrics,
)
from toolkit.tracing._provider import TracingConfigError, build_tracer_provider

__all__ = [
    "BoundedBatchSpanProcessor",
    "CountingSpanExporter",
    "ExportMetrics",
    "TracingConfigError",
    "build_tracer_provider",
    "export_metrics",
]
