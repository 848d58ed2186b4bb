"""Span export that stays off the request path, counts what it drops, and shuts down in time.

``BoundedBatchSpanProcessor`` is the SDK's ``BatchSpanProcessor`` (a bounded queue, a
worker thread that exports) plus two guarantees the SDK leaves out:

- every span that never reaches the collector is counted in
  ``toolkit_telemetry_spans_dropped_total{reason}``: ``queue_full`` when the queue
  was full as it ended (the collector is slower than the app), ``export_failed`` when
  the exporter failed or raised (collector down, answering errors, timing out);
- ``shutdown()`` returns within ``shutdown_timeout`` seconds even when the collector
  is a black hole (the SDK waits 30 s for its worker, and its export timeout setting
  is not used).

Request threads only append to the queue: a slow or dead collector costs them nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from prometheus_client import CollectorRegistry, Counter

from toolkit import semconv
from toolkit.metrics._registry import PerRegistry
from toolkit.tracing._sdk_gate import batch_queue_full, shutdown_batch_processor

_log = logging.getLogger("toolkit.tracing")

DEFAULT_SHUTDOWN_TIMEOUT = 5.0
QUEUE_FULL, EXPORT_FAILED = semconv.SPAN_DROP_REASONS


class ExportMetrics:
    """``toolkit_telemetry_spans_dropped_total{reason}`` of one registry.

    Use :func:`export_metrics`: prometheus-client refuses a name twice in one registry.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the counter, with both reasons at 0 so that rates start at 0."""
        self.dropped = Counter(
            semconv.TELEMETRY_SPANS_DROPPED,
            "Finished spans that never reached the collector.",
            (semconv.LABEL_REASON,),
            registry=registry,
        )
        self.children = {
            reason: self.dropped.labels(reason) for reason in semconv.SPAN_DROP_REASONS
        }

    def count(self, reason: str, spans: int) -> None:
        """Count ``spans`` dropped for ``reason``. Never raises."""
        with contextlib.suppress(Exception):  # the last line of defence
            self.children[reason].inc(spans)


export_metrics = PerRegistry(ExportMetrics)
"""The span-export counters of a registry (default: prometheus-client's), made once."""


class CountingSpanExporter(SpanExporter):
    """Wraps an exporter: a failed or raising export counts its spans as ``export_failed``."""

    def __init__(self, exporter: SpanExporter, metrics: ExportMetrics) -> None:
        """Wrap ``exporter``; count into ``metrics``."""
        self.exporter = exporter
        self.metrics = metrics
        self._reported = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Export ``spans``; never raises."""
        try:
            result = self.exporter.export(spans)
        except Exception as exc:
            self.metrics.count(EXPORT_FAILED, len(spans))
            if not self._reported:
                self._reported = True
                _log.error(
                    "span export raised; spans dropped and counted (logged once)", exc_info=exc
                )
            return SpanExportResult.FAILURE
        if result is not SpanExportResult.SUCCESS:
            self.metrics.count(EXPORT_FAILED, len(spans))
        return result

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        return self.exporter.force_flush(timeout_millis)


class BoundedBatchSpanProcessor(BatchSpanProcessor):
    """A ``BatchSpanProcessor`` that counts dropped spans and shuts down in bounded time.

    ``registry`` receives ``toolkit_telemetry_spans_dropped_total``; ``shutdown_timeout``
    (seconds) bounds ``shutdown()``: spans still queued then are lost (not counted: the
    process is going away). Other keyword arguments (``max_queue_size``,
    ``schedule_delay_millis``, ``max_export_batch_size``) go to the SDK, whose
    ``OTEL_BSP_*`` variables still apply.
    """

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        registry: CollectorRegistry | None = None,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
        **options: Any,
    ) -> None:
        """Wrap ``exporter`` in a counting exporter and start the SDK's worker."""
        self.metrics = export_metrics(registry)
        self.shutdown_timeout = shutdown_timeout
        super().__init__(CountingSpanExporter(exporter, self.metrics), **options)

    def on_end(self, span: ReadableSpan) -> None:
        """Queue ``span`` (what the request thread pays); count it if the queue was full."""
        # The SDK drops the oldest span when its deque is full and only logs it.
        full = batch_queue_full(self)
        super().on_end(span)
        if full and span.context is not None and span.context.trace_flags.sampled:
            self.metrics.count(QUEUE_FULL, 1)

    def shutdown(self) -> None:
        """Stop the worker, export what it can within ``shutdown_timeout``, then return."""
        shutdown_batch_processor(self, self.shutdown_timeout)
