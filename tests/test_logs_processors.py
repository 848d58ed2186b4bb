"""toolkit.logs._processors: each processor on its own, with plain event dicts."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from toolkit.context import correlation_id_var
from toolkit.logs import (
    ServiceNameAdder,
    _processors,
    add_correlation_id,
    add_record_extras,
    add_timestamp,
    add_trace_context,
    render_exception_as_dict,
    shared_processors,
)


@pytest.fixture
def correlation_id() -> Iterator[str]:
    """Run the test inside a request whose correlation ID is ``req-1``."""
    token = correlation_id_var.set("req-1")
    try:
        yield "req-1"
    finally:
        correlation_id_var.reset(token)


def test_correlation_id_is_none_outside_a_request() -> None:
    """Outside a request the field is present and null."""
    assert add_correlation_id(None, "info", {"event": "x"}) == {
        "event": "x",
        "correlation_id": None,
    }


def test_correlation_id_comes_from_the_context_var(correlation_id: str) -> None:
    """Inside a request the field is the ContextVar's value."""
    assert add_correlation_id(None, "info", {"event": "x"}) == {
        "event": "x",
        "correlation_id": "req-1",
    }


def test_context_var_wins_over_a_bound_correlation_id(correlation_id: str) -> None:
    """A stale bound value cannot mislabel a line inside a request."""
    event = {"event": "x", "correlation_id": "stale"}
    assert add_correlation_id(None, "info", event)["correlation_id"] == "req-1"


def test_bound_correlation_id_is_kept_outside_a_request() -> None:
    """Outside a request, an ID the app bound itself (a queue worker) is kept."""
    event = {"event": "x", "correlation_id": "job-7"}
    assert add_correlation_id(None, "info", event)["correlation_id"] == "job-7"


def test_trace_context_is_none_without_a_span() -> None:
    """Without a valid current span both IDs are present and null."""
    assert add_trace_context(None, "info", {"event": "x"}) == {
        "event": "x",
        "trace_id": None,
        "span_id": None,
    }


def test_trace_context_formats_ids_as_lowercase_hex() -> None:
    """trace_id is 32 and span_id 16 lowercase hex digits, zero-padded."""
    context = SpanContext(trace_id=0xABC, span_id=0x1F, is_remote=False, trace_flags=TraceFlags(1))
    with trace.use_span(NonRecordingSpan(context)):
        event = add_trace_context(None, "info", {"event": "x"})
    assert event == {
        "event": "x",
        "trace_id": "00000000000000000000000000000abc",
        "span_id": "000000000000001f",
    }


def test_trace_context_of_an_sdk_span() -> None:
    """Inside a span of an SDK TracerProvider the IDs are that span's."""
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        event = add_trace_context(None, "info", {})
    context = span.get_span_context()
    assert event == {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}


def test_service_name_adder_overwrites_a_claimed_service() -> None:
    """``service`` is always the configured name, whatever the call passed."""
    adder = ServiceNameAdder("orders")
    assert adder(None, "info", {"event": "x", "service": "evil"}) == {
        "event": "x",
        "service": "orders",
    }
    assert repr(adder) == "ServiceNameAdder('orders')"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (1_700_000_000.5, "2023-11-14T22:13:20.500000Z"),
        (1_700_000_001.25, "2023-11-14T22:13:21.250000Z"),
        (0.0, "1970-01-01T00:00:00.000000Z"),
        (1_700_000_000.999999, "2023-11-14T22:13:20.999999Z"),
    ],
)
def test_timestamp_is_iso_8601_utc_with_microseconds(
    monkeypatch: pytest.MonkeyPatch, now: float, expected: str
) -> None:
    """The timestamp is UTC, microsecond precision, with a ``Z`` suffix."""
    monkeypatch.setattr(_processors, "_now", lambda: now)
    assert add_timestamp(None, "info", {}) == {"timestamp": expected}


def test_timestamp_has_structlog_timestamper_shape() -> None:
    """Same shape as structlog's ``TimeStamper(fmt="iso", utc=True)``: drop-in output."""
    stamp = add_timestamp(None, "info", {})["timestamp"]
    theirs = structlog.processors.TimeStamper(fmt="iso", utc=True)(None, "info", {})
    assert len(stamp) == len(theirs["timestamp"]) == 27
    assert stamp[:10] == theirs["timestamp"][:10]
    assert stamp[-1] == theirs["timestamp"][-1] == "Z"


def test_exception_is_rendered_as_a_dict_without_locals() -> None:
    """exc_info becomes a structured ``exception`` list; local variables are left out."""
    secret = "hunter2"
    try:
        raise KeyError(secret)
    except KeyError as exc:
        event = render_exception_as_dict()(None, "error", {"event": "x", "exc_info": exc})
    (entry,) = event["exception"]
    frames = entry.pop("frames")
    # Newer structlog releases add exc_notes, is_group and exceptions (empty here).
    newer = {"exc_notes": [], "is_group": False, "exceptions": []}
    assert {key: value for key, value in entry.items() if key not in newer} == {
        "exc_type": "KeyError",
        "exc_value": "'hunter2'",
        "syntax_error": None,
        "is_cause": False,
    }
    assert {key: entry[key] for key in newer if key in entry} in ({}, newer)
    assert [(f["name"], sorted(f)) for f in frames] == [
        ("test_exception_is_rendered_as_a_dict_without_locals", ["filename", "lineno", "name"])
    ]
    assert "exc_info" not in event


def test_shared_processors_order() -> None:
    """The standard chain, in the order that yields toolkit's fields."""
    chain: list[Any] = shared_processors("orders")
    assert [getattr(p, "__name__", type(p).__name__) for p in chain] == [
        "merge_contextvars",
        "add_log_level",
        "add_logger_name",
        "add_timestamp",
        "ServiceNameAdder",
        "add_correlation_id",
        "add_trace_context",
        "ExceptionRenderer",
    ]
    assert chain[4].service == "orders"


def test_record_extras_skip_what_another_formatter_added() -> None:
    """``extra`` fields are added; ``message``/``asctime`` from an earlier formatter are not."""
    record = logging.LogRecord("lib", logging.INFO, "f.py", 1, "hi %s", ("x",), None)
    record.__dict__.update(user=3, path="/a")
    logging.Formatter("%(asctime)s %(message)s").format(record)
    event = add_record_extras(None, "info", {"event": "hi x", "_record": record})
    assert event == {"event": "hi x", "_record": record, "user": 3, "path": "/a"}


def test_record_extras_ignore_structlog_events() -> None:
    """Without a stdlib record the event dict is left as it is."""
    assert add_record_extras(None, "info", {"event": "x"}) == {"event": "x"}
