"""A broken collector never hurts requests: drops are counted, shutdown is bounded."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from prometheus_client import CollectorRegistry

from tests._faults_support import BlackHole, collector
from toolkit import semconv
from toolkit.middleware import ToolkitASGIMiddleware
from toolkit.tracing._export import BoundedBatchSpanProcessor
from toolkit.tracing._provider import build_tracer_provider

REQUESTS = 20
WAIT = 20.0  # an upper bound for the background export to give up; never a speed claim
SHUTDOWN_BOUND = 10.0  # generous: the SDK alone may wait 30 s, or forever on a hung export


async def app(scope: dict[str, object], receive: object, send: object) -> None:
    """200 "ok" to anything (lifespan aside)."""
    await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]


def dropped(registry: CollectorRegistry, reason: str) -> float | None:
    return registry.get_sample_value(
        semconv.TELEMETRY_SPANS_DROPPED, {semconv.LABEL_REASON: reason}
    )


def wait_until_dropped(registry: CollectorRegistry, reason: str, count: float) -> float | None:
    deadline = time.monotonic() + WAIT
    while (dropped(registry, reason) or 0.0) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return dropped(registry, reason)


def otlp_provider(
    monkeypatch: pytest.MonkeyPatch, endpoint: str, registry: CollectorRegistry, timeout: str
) -> TracerProvider:
    """build_tracer_provider as instrument() calls it, exporting to ``endpoint``."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", timeout)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "20")
    return build_tracer_provider("orders", registry=registry)


async def serve(provider: TracerProvider, registry: CollectorRegistry) -> list[int]:
    """REQUESTS requests through the middleware; their status codes."""
    wrapped = ToolkitASGIMiddleware(app, tracer_provider=provider, registry=registry)
    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return [(await client.get(f"/items/{i}")).status_code for i in range(REQUESTS)]


@pytest.mark.parametrize("kind", ["down", "black_hole", "errors"])
async def test_requests_succeed_and_drops_are_counted(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """With the collector down, a black hole or answering 500, every request succeeds and
    every span that could not be exported is counted as export_failed."""
    registry = CollectorRegistry()
    with collector(kind) as endpoint:
        provider = otlp_provider(monkeypatch, endpoint, registry, timeout="1")
        assert await serve(provider, registry) == [200] * REQUESTS
        assert wait_until_dropped(registry, "export_failed", REQUESTS) == float(REQUESTS)
        assert dropped(registry, "queue_full") == 0.0
        provider.shutdown()


async def test_export_is_off_the_request_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """While the exporter is stuck on a black hole (30 s timeout), requests still complete:
    they only queue their spans."""
    registry = CollectorRegistry()
    hole = BlackHole()
    try:
        provider = otlp_provider(monkeypatch, f"http://127.0.0.1:{hole.port}", registry, "30")
        assert await serve(provider, registry) == [200] * REQUESTS
        assert hole.accepted.acquire(timeout=WAIT)  # the export is now hanging
        assert await serve(provider, registry) == [200] * REQUESTS
        provider.shutdown()
    finally:
        hole.close()


@pytest.mark.parametrize("kind", ["down", "black_hole", "errors"])
async def test_shutdown_is_bounded(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """provider.shutdown() returns within a bound even with an exporter timeout of 60 s."""
    registry = CollectorRegistry()
    with collector(kind) as endpoint:
        provider = otlp_provider(monkeypatch, endpoint, registry, timeout="60")
        await serve(provider, registry)
        started = time.monotonic()
        provider.shutdown()
        assert time.monotonic() - started < SHUTDOWN_BOUND


class BlockingExporter(SpanExporter):
    """Blocks in export until released; records what it was given."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.entered.set()
        self.release.wait()
        self.exported += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.release.set()


def test_queue_full_drops_are_counted() -> None:
    """With the exporter busy and a queue of 4, ten more spans drop exactly six."""
    registry = CollectorRegistry()
    exporter = BlockingExporter()
    processor = BoundedBatchSpanProcessor(
        exporter,
        registry=registry,
        max_queue_size=4,
        max_export_batch_size=1,
        schedule_delay_millis=10,
    )
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    tracer.start_span("first").end()
    assert exporter.entered.wait(WAIT)  # the worker holds "first"; the queue is empty
    for i in range(10):
        tracer.start_span(f"span {i}").end()
    assert dropped(registry, "queue_full") == 6.0
    exporter.release.set()
    provider.shutdown()
    assert exporter.exported == 5
    assert dropped(registry, "export_failed") == 0.0


class RaisingExporter(SpanExporter):
    """An exporter with a bug."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        raise RuntimeError("exporter bug")

    def shutdown(self) -> None:
        pass


def test_raising_exporter_counts_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    """An exporter that raises: its spans count as export_failed, one log line in all."""
    registry = CollectorRegistry()
    provider = TracerProvider()
    provider.add_span_processor(
        BoundedBatchSpanProcessor(
            RaisingExporter(), registry=registry, max_export_batch_size=1, schedule_delay_millis=10
        )
    )
    tracer = provider.get_tracer("test")
    for i in range(3):
        tracer.start_span(f"span {i}").end()
    assert wait_until_dropped(registry, "export_failed", 3) == 3.0
    provider.shutdown()
    messages = [r.message for r in caplog.records if r.name == "toolkit.tracing"]
    assert messages == ["span export raised; spans dropped and counted (logged once)"]
