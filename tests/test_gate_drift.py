"""Dependency drift simulated without changing versions: every request is still exported,
observed or written correctly, through the public API when a fast path can no longer be
trusted."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import structlog
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from prometheus_client import Histogram, values
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from tests.middleware_apps import ok_asgi_app, ok_wsgi_app
from tests.middleware_fixtures import Harness, call, make_harness
from toolkit import semconv
from toolkit._gate import GATES
from toolkit.logs import _structlog_gate, configure_logging
from toolkit.metrics import _prometheus_gate, multiprocess
from toolkit.middleware import ToolkitASGIMiddleware, ToolkitWSGIMiddleware
from toolkit.tracing import _sdk_gate

REQUESTS = 3


@pytest.fixture(autouse=True)
def fresh_gates(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every gate decides afresh in each test, and again after it."""
    monkeypatch.delenv("TOOLKIT_FAST_PATHS", raising=False)
    for gate in GATES:
        gate.force(None)
    yield
    for gate in GATES:
        gate.force(None)


@pytest.fixture
def harness() -> Iterator[Harness]:
    """Fresh registry, in-memory spans, toolkit's logging into a buffer."""
    yield from make_harness()


def middleware(harness: Harness, asgi: bool, **extra: Any) -> Any:
    """toolkit's middleware around a trivial 200 app, wired to ``harness``."""
    if asgi:
        return ToolkitASGIMiddleware(ok_asgi_app, **harness.options(**extra))
    return ToolkitWSGIMiddleware(ok_wsgi_app, **harness.options(**extra))


class DriftReadingExporter(SpanExporter):
    """An exporter of tomorrow's SDK: it reads a property a newer ``Span.__init__`` sets."""

    def __init__(self) -> None:
        self.read: list[tuple[str, str]] = []

    def export(self, spans: Sequence[sdk_trace.ReadableSpan]) -> SpanExportResult:
        for span in spans:
            self.read.append((span.name, span.drift))  # type: ignore[attr-defined]
        return SpanExportResult.SUCCESS


@pytest.fixture
def sdk_span_with_a_new_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Span.__init__`` sets one more field, and ``ReadableSpan`` exposes it."""
    original = sdk_trace.Span.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._drift = "set by __init__"

    def drift(self: Any) -> str:
        return self._drift  # type: ignore[no-any-return]

    monkeypatch.setattr(sdk_trace.Span, "__init__", init)
    monkeypatch.setattr(sdk_trace.ReadableSpan, "drift", property(drift), raising=False)

    # The SDK hands processors a ReadableSpan copy: it carries the field over, as a
    # release adding one would.
    original_readable = sdk_trace.Span._readable_span

    def readable(self: Any) -> Any:
        copy = original_readable(self)
        copy._drift = self._drift
        return copy

    monkeypatch.setattr(sdk_trace.Span, "_readable_span", readable)


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
@pytest.mark.usefixtures("sdk_span_with_a_new_field")
async def test_a_new_span_field_closes_the_span_gate(harness: Harness, asgi: bool) -> None:
    """The self-check sees the field toolkit's span lacks; every span goes through the
    SDK's start_span and the exporter reads the new property on each of them."""
    exporter = DriftReadingExporter()
    harness.provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = middleware(harness, asgi)
    for _ in range(REQUESTS):
        response = await call(app, asgi, "/items/1")
        assert response.status_code == 200
    assert exporter.read == [("GET", "set by __init__")] * REQUESTS
    status = _sdk_gate.SERVER_SPAN_GATE.status()
    assert status.active is False
    assert status.reason == (
        "self-check failed: RuntimeError: instance fields differ from an SDK span's: "
        "missing ['_drift'], extra []"
    )
    assert app.telemetry.span_starter is None


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_without_drift_the_fast_path_exports_the_same(harness: Harness, asgi: bool) -> None:
    """The control: on an SDK release inside the tested range the gate opens and the spans
    are toolkit's own."""
    app = middleware(harness, asgi)
    status = _sdk_gate.SERVER_SPAN_GATE.status()
    if "outside the tested range" in status.reason:
        pytest.skip(f"fast path not used here: {status.reason}")
    # Inside the tested range the self-check must pass: a failure here is a toolkit bug
    # (the fast path silently off on a release CI claims to test).
    assert status.active, status.reason
    for _ in range(REQUESTS):
        await call(app, asgi, "/items/1")
    assert [type(span).__name__ for span in harness.spans()] == ["ServerSpan"] * REQUESTS


def errors(harness: Harness, component: str) -> float | None:
    """``toolkit_telemetry_errors_total{component=...}`` of the harness's registry."""
    return harness.sample(semconv.TELEMETRY_ERRORS, {semconv.LABEL_COMPONENT: component})


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_a_fast_start_that_raises_heals(
    harness: Harness, asgi: bool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The request whose fast start raised still gets its span, through the public API;
    the process stays on it, with one warning and one count."""
    _sdk_gate.SERVER_SPAN_GATE.force(True)
    app = middleware(harness, asgi)
    assert app.telemetry.span_starter is not None
    _sdk_gate.SERVER_SPAN_GATE.force(None)
    _sdk_gate.SERVER_SPAN_GATE.force(True)

    def broken(*args: Any) -> Any:
        raise AttributeError("'Tracer' object has no attribute '_span_limits'")

    monkeypatch.setattr(_sdk_gate.ServerSpanStarter, "start", broken)
    with caplog.at_level(logging.WARNING, logger="toolkit.gate"):
        for _ in range(REQUESTS):
            response = await call(app, asgi, "/items/1")
            assert response.status_code == 200
    spans = harness.spans()
    assert [(span.name, type(span).__name__) for span in spans] == [
        ("GET", "ReadableSpan")
    ] * REQUESTS
    assert [r.getMessage() for r in caplog.records if r.name == "toolkit.gate"] == [
        "toolkit opentelemetry-sdk server span: the fast path raised AttributeError: "
        "'Tracer' object has no attribute '_span_limits'; this process uses the public API "
        "from now on (the request is recorded through it)"
    ]
    assert errors(harness, "tracing_fast_path") == 1.0
    assert _sdk_gate.SERVER_SPAN_GATE.active() is False


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_a_fast_end_that_raises_is_replayed(
    harness: Harness, asgi: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A span whose fast end raised before reaching the processors is handed to them as a
    public ``ReadableSpan``: same IDs (log lines and child spans still point at it), name,
    parent, attributes and status; the next requests use the public API."""
    _sdk_gate.SERVER_SPAN_GATE.force(True)
    app = middleware(harness, asgi)

    def broken(self: Any, end_time: int | None = None) -> None:
        raise TypeError("on_end() got an unexpected keyword argument")

    monkeypatch.setattr(_sdk_gate.ServerSpan, "end", broken)
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    first = await call(app, asgi, "/items/1", headers={"traceparent": traceparent})
    second = await call(app, asgi, "/items/2")
    assert (first.status_code, second.status_code) == (200, 200)
    spans = harness.spans()
    assert len(spans) == 2
    replayed = spans[0]
    assert type(replayed).__name__ == "ReadableSpan"
    assert replayed.name == "GET"
    assert replayed.parent is not None
    assert (replayed.parent.trace_id, replayed.parent.span_id) == (
        0x0AF7651916CD43DD8448EB211C80319C,
        0xB7AD6B7169203331,
    )
    assert replayed.attributes is not None
    assert replayed.attributes[semconv.SPAN_ATTR_URL_PATH] == "/items/1"
    assert replayed.attributes[semconv.SPAN_ATTR_HTTP_STATUS_CODE] == 200
    assert replayed.attributes[semconv.SPAN_ATTR_CORRELATION_ID] == first.headers["x-request-id"]
    (line, _) = harness.access_logs()
    assert line["trace_id"] == f"{replayed.context.trace_id:032x}"
    assert line["span_id"] == f"{replayed.context.span_id:016x}"
    assert type(spans[1]).__name__ == "ReadableSpan"
    assert errors(harness, "tracing_fast_path") == 1.0


class RaisingProcessor(sdk_trace.SpanProcessor):
    """A user's span processor with a bug in ``on_end``."""

    def on_end(self, span: sdk_trace.ReadableSpan) -> None:
        raise ValueError("processor bug")


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_a_raising_span_processor_is_not_a_fast_path_failure(
    harness: Harness, asgi: bool
) -> None:
    """A processor that raises once the span ended is the processor's failure, as with the
    SDK's own span: counted as ``tracing``, the span exported once, the fast path kept."""
    _sdk_gate.SERVER_SPAN_GATE.force(True)
    harness.provider.add_span_processor(RaisingProcessor())
    app = middleware(harness, asgi)
    for _ in range(REQUESTS):
        assert (await call(app, asgi, "/items/1")).status_code == 200
    assert [type(span).__name__ for span in harness.spans()] == ["ServerSpan"] * REQUESTS
    assert errors(harness, "tracing") == float(REQUESTS)
    assert errors(harness, "tracing_fast_path") is None
    assert _sdk_gate.SERVER_SPAN_GATE.active() is True


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_histograms_are_observed_through_the_public_api(
    harness: Harness, asgi: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrapped ``Histogram.observe`` (as a release that changes its internals would
    have) sees every observation: toolkit reaches no histogram field directly."""
    observed: list[float] = []
    original = Histogram.observe

    def observe(self: Histogram, amount: float, exemplar: Any = None) -> None:
        observed.append(amount)
        original(self, amount, exemplar)

    monkeypatch.setattr(Histogram, "observe", observe)
    app = middleware(harness, asgi)
    for _ in range(REQUESTS):
        await call(app, asgi, "/items/1")
    # One duration and one response size per request.
    assert len(observed) == 2 * REQUESTS
    assert harness.duration_count("GET", semconv.UNROUTED_ROUTE, 200) == float(REQUESTS)


def write_worker_file(directory: Path, pid: int, value: float) -> None:
    """A counter file as a (dead) worker process leaves it."""
    key = mmap_key("jobs_total", "jobs_total", ["queue"], ["default"], "Jobs.")
    worker = MmapedDict(str(directory / f"counter_{pid}.db"))
    try:
        worker.write_value(key, value, 0.0)
    finally:
        worker.close()


def test_a_library_without_the_multiprocess_value_closes_the_archive_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prometheus-client without the names the archive needs: no compaction, and the
    scrape, through the library's public collector, still sums every worker."""
    monkeypatch.delattr(values, "MultiProcessValue")
    for pid, value in ((999_991, 2.0), (999_992, 3.0)):  # no such processes: dead
        write_worker_file(tmp_path, pid, value)
    registry = multiprocess.scrape_registry(tmp_path)
    assert registry.get_sample_value("jobs_total", {"queue": "default"}) == 5.0
    assert sorted(p.name for p in tmp_path.glob("*.db")) == [
        "counter_999991.db",
        "counter_999992.db",
    ]
    status = _prometheus_gate.MULTIPROCESS_GATE.status()
    assert status.active is False
    assert status.reason == (
        "self-check failed: RuntimeError: prometheus_client.values has no "
        "MultiProcessValue/ValueClass"
    )


def test_a_compaction_that_raises_heals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A compaction failing mid-way (after the dead worker's file went pending): that
    scrape and the next ones read every value through the public collector."""
    assert _prometheus_gate.MULTIPROCESS_GATE.active() is True
    write_worker_file(tmp_path, 999_993, 4.0)

    def broken(path: Path, merged: dict[str, float]) -> None:
        raise OSError("format changed")

    monkeypatch.setattr(multiprocess, "write_values", broken)
    with caplog.at_level(logging.WARNING, logger="toolkit.gate"):
        first = multiprocess.scrape_registry(tmp_path)
        assert first.get_sample_value("jobs_total", {"queue": "default"}) == 4.0
        again = multiprocess.scrape_registry(tmp_path)
        assert again.get_sample_value("jobs_total", {"queue": "default"}) == 4.0
    assert [p.name for p in tmp_path.glob("*.db*")] == ["counter_999993.db"]
    assert _prometheus_gate.MULTIPROCESS_GATE.active() is False
    assert len([r for r in caplog.records if r.name == "toolkit.gate"]) == 1


_TIMESTAMP = re.compile(r'"timestamp":"[^"]*"')


def test_a_structlog_processor_that_changed_closes_the_line_gate(
    monkeypatch: pytest.MonkeyPatch, restored_logging: None
) -> None:
    """structlog's ``add_log_level`` adds a field in tomorrow's release: the inlined chain
    would leave it out, so the self-check fails and access lines go through structlog,
    new field included."""
    original = structlog.processors.add_log_level

    def add_log_level(logger: Any, method_name: str, event_dict: Any) -> Any:
        event_dict = original(logger, method_name, event_dict)
        event_dict["level_number"] = 20
        return event_dict

    monkeypatch.setattr(structlog.processors, "add_log_level", add_log_level)
    stream = io.StringIO()
    configure_logging(service="orders", stream=stream)
    gate = _structlog_gate.STRUCTLOG_GATE
    assert gate.active() is False
    assert gate.status().reason.startswith("self-check failed: RuntimeError: structlog wrote")
    assert _structlog_gate.write_event_line("toolkit.access", "request", {"status": 200}) is False


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_access_lines_through_structlog_when_the_gate_is_closed(
    harness: Harness, asgi: bool
) -> None:
    """The public path writes the same access line (minus the clock) as the fast one."""
    app = middleware(harness, asgi)
    _structlog_gate.STRUCTLOG_GATE.force(True)
    await call(app, asgi, "/items/1", headers={"x-request-id": "req-1"})
    _structlog_gate.STRUCTLOG_GATE.force(False)
    await call(app, asgi, "/items/1", headers={"x-request-id": "req-1"})
    lines = [json.loads(line) for line in harness.stream.getvalue().splitlines()]
    access = [line for line in lines if line.get("logger") == "toolkit.access"]
    assert len(access) == 2
    for line in access:
        line.pop("timestamp")
        line.pop("duration_ms")
        line.pop("trace_id")
        line.pop("span_id")
    assert access[0] == access[1]
    assert list(access[0]) == list(access[1])  # same key order: same bytes


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_fast_paths_off_by_environment(
    harness: Harness, asgi: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TOOLKIT_FAST_PATHS=off: SDK spans, structlog lines, nothing lost."""
    monkeypatch.setenv("TOOLKIT_FAST_PATHS", "off")
    for gate in GATES:  # the harness configured logging before: decide again
        gate.force(None)
    app = middleware(harness, asgi)
    for _ in range(REQUESTS):
        await call(app, asgi, "/items/1")
    assert [type(span).__name__ for span in harness.spans()] == ["ReadableSpan"] * REQUESTS
    assert len(harness.access_logs()) == REQUESTS
    assert harness.duration_count("GET", semconv.UNROUTED_ROUTE, 200) == float(REQUESTS)
    assert all(not gate.active() for gate in GATES if gate.speed_only)


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_an_inlined_line_that_raises_heals(
    harness: Harness, asgi: bool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The inlined access line raises (a structlog change the self-check missed): that
    request's line and every later one go through structlog; one warning, one count."""
    app = middleware(harness, asgi)
    assert _structlog_gate.STRUCTLOG_GATE.active() is True

    def broken(*args: Any) -> str:
        raise KeyError("_record")

    monkeypatch.setattr(_structlog_gate, "_event_line", broken)
    with caplog.at_level(logging.WARNING, logger="toolkit.gate"):
        for _ in range(REQUESTS):
            await call(app, asgi, "/items/1")
    assert len(harness.access_logs()) == REQUESTS
    assert errors(harness, "access_log_fast_path") == 1.0
    warnings = [r.getMessage() for r in caplog.records if "structlog access line" in r.getMessage()]
    assert warnings == [
        "toolkit structlog access line: the fast path raised KeyError: '_record'; this "
        "process uses the public API from now on (the request is recorded through it)"
    ]
    assert _structlog_gate.STRUCTLOG_GATE.active() is False


@pytest.mark.parametrize(
    "gate",
    [gate for gate in GATES],
    ids=[gate.name for gate in GATES],
)
def test_every_gate_opens_inside_its_tested_range(gate: Any) -> None:
    """On the releases CI tests, every self-check passes: a gate closed there is a fast
    path silently lost (the self-check itself would be wrong)."""
    status = gate.status()
    if "outside the tested range" in status.reason:
        pytest.skip(status.reason)
    assert status.active, status.reason
