"""toolkit.logs.write_event_line: the same bytes as structlog's chain, or it declines."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from toolkit.context import correlation_id_var
from toolkit.logs import _processors, configure_logging, write_event_line

FIELDS: dict[str, Any] = {
    "method": "GET",
    "route": "/items/{item_id}",
    "path": "/items/42",
    "status": 200,
    "duration_ms": 1.25,
    "bytes": 2,
}


@pytest.fixture(autouse=True)
def restore_logging(monkeypatch: pytest.MonkeyPatch, restored_logging: None) -> None:
    """Fix the clock (both paths stamp the same time); restore structlog and logging."""
    monkeypatch.setattr(_processors, "_now", lambda: 1_800_000_000.123456)


@pytest.fixture
def in_request() -> Iterator[None]:
    """Inside a request: correlation ID ``req-1`` and a recording span made current."""
    span = TracerProvider().get_tracer("test").start_span("GET")
    cid_token = correlation_id_var.set("req-1")
    ctx_token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield
    finally:
        otel_context.detach(ctx_token)
        correlation_id_var.reset(cid_token)
        span.end()


def both_lines(stream: io.StringIO, fields: dict[str, Any]) -> tuple[str, str]:
    """The line structlog writes, then the line write_event_line writes."""
    structlog.get_logger("toolkit.access").info("request", **fields)
    assert write_event_line("toolkit.access", "request", fields) is True
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    return lines[0], lines[1]


@pytest.mark.parametrize("use_orjson", [None, False])
@pytest.mark.parametrize(
    "fields",
    [
        FIELDS,
        {**FIELDS, "path": "/caf\u00e9\r\n\x7f", "route": None},
        {"bytes": 2**70, "duration_ms": float("nan")},
        {},
    ],
    ids=["access", "escapes", "odd-numbers", "empty"],
)
def test_same_bytes_as_structlog_in_a_request(
    in_request: None,
    monkeypatch: pytest.MonkeyPatch,
    fields: dict[str, Any],
    use_orjson: bool | None,
) -> None:
    """Inside a request, with either encoder, the direct line equals structlog's, byte for byte."""
    if use_orjson is False:
        from toolkit.logs import _config, _render

        monkeypatch.setattr(_config, "json_renderer", lambda: _render.render_json)
    stream = io.StringIO()
    configure_logging(service="orders", stream=stream)
    slow, fast = both_lines(stream, fields)
    assert fast == slow
    assert '"correlation_id":"req-1"' in fast
    assert '"timestamp":"2027-01-15T08:00:00.123456Z"' in fast


def test_same_bytes_with_bound_contextvars() -> None:
    """Outside a request, bound contextvars (even toolkit's own keys) keep structlog's order."""
    stream = io.StringIO()
    configure_logging(service="orders", stream=stream)
    structlog.contextvars.bind_contextvars(user="ann", correlation_id="job-7", level="x")
    slow, fast = both_lines(stream, FIELDS)
    assert fast == slow
    assert fast.startswith('{"method":"GET",')
    assert '"correlation_id":"job-7"' in fast
    assert '"trace_id":null' in fast


def test_declines_when_structlog_is_reconfigured() -> None:
    """Another structlog configuration: nothing written, the caller must use structlog."""
    stream = io.StringIO()
    configure_logging(service="orders", stream=stream)
    structlog.configure(processors=[structlog.processors.JSONRenderer()])
    assert write_event_line("toolkit.access", "request", FIELDS) is False
    assert stream.getvalue() == ""


def test_declines_when_the_chain_is_changed_in_place() -> None:
    """A processor appended to the configured list is noticed: the direct path declines."""
    stream = io.StringIO()
    configure_logging(service="orders", stream=stream)
    structlog.get_config()["processors"].insert(0, structlog.processors.add_log_level)
    assert write_event_line("toolkit.access", "request", FIELDS) is False
    assert stream.getvalue() == ""


def test_declines_before_configure_logging() -> None:
    """Without toolkit's configuration (defaults), the direct path declines."""
    from toolkit.logs import _structlog_gate as _fast

    saved = _fast._installed[:]
    _fast._installed.clear()
    try:
        assert write_event_line("toolkit.access", "request", FIELDS) is False
    finally:
        _fast._installed[:] = saved


def test_declines_for_a_bound_exc_info() -> None:
    """An ``exc_info`` bound in the contextvars needs structlog's exception rendering."""
    stream = io.StringIO()
    configure_logging(service="orders", stream=stream)
    structlog.contextvars.bind_contextvars(exc_info=True)
    assert write_event_line("toolkit.access", "request", FIELDS) is False
    assert stream.getvalue() == ""


def test_info_below_the_configured_level_is_dropped() -> None:
    """level=WARNING: structlog drops info, so the direct path writes nothing (and says done)."""
    stream = io.StringIO()
    configure_logging(service="orders", stream=stream, level="WARNING")
    assert write_event_line("toolkit.access", "request", FIELDS) is True
    structlog.get_logger("toolkit.access").info("request", **FIELDS)
    assert stream.getvalue() == ""


def test_known_request_values_give_the_same_line(in_request: None) -> None:
    """The middleware passes its request's correlation ID and span context instead of
    having them looked up: the line is byte for byte the one structlog writes."""
    stream = io.StringIO()
    configure_logging(service="orders", stream=stream)
    current = trace.get_current_span().get_span_context()
    structlog.get_logger("toolkit.access").info("request", **FIELDS)
    assert write_event_line(
        "toolkit.access", "request", FIELDS, correlation_id="req-1", span_context=current
    )
    slow, fast = stream.getvalue().splitlines()
    assert fast == slow
    assert f'"trace_id":"{current.trace_id:032x}","span_id":"{current.span_id:016x}"' in fast


def test_an_invalid_span_context_is_looked_up(in_request: None) -> None:
    """A span context that is not valid (no recording tracer) is not written: the current
    span's IDs are looked up, as structlog's chain does."""
    stream = io.StringIO()
    configure_logging(service="orders", stream=stream)
    current = trace.get_current_span().get_span_context()
    assert write_event_line(
        "toolkit.access", "request", FIELDS, span_context=trace.INVALID_SPAN_CONTEXT
    )
    assert f'"trace_id":"{current.trace_id:032x}"' in stream.getvalue()
