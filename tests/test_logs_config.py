"""toolkit.logs.configure_logging: structlog and stdlib records as identical JSON lines."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider

from toolkit.context import correlation_id_var
from toolkit.logs import JSONLinesHandler, configure_logging, parse_level

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
NO_REQUEST = {"correlation_id": None, "trace_id": None, "span_id": None}


@pytest.fixture(autouse=True)
def restore_logging(restored_logging: None) -> None:
    """Every test here leaves structlog and the root logger as it found them."""


@pytest.fixture
def stream() -> io.StringIO:
    """A stream configured as the log sink for service ``orders``."""
    out = io.StringIO()
    configure_logging(service="orders", stream=out)
    return out


def read(stream: io.StringIO) -> list[dict[str, Any]]:
    """Parse every line; check and drop the timestamp, which varies."""
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    for line in lines:
        assert TIMESTAMP.fullmatch(line.pop("timestamp"))
    return lines


@pytest.fixture
def in_request() -> Iterator[None]:
    """Run inside a request whose correlation ID is ``req-1``."""
    token = correlation_id_var.set("req-1")
    try:
        yield
    finally:
        correlation_id_var.reset(token)


def log_both(message: str, **fields: Any) -> None:
    """Log the same event through a structlog logger and a stdlib logger."""
    structlog.get_logger("app.orders").info(message, **fields)
    logging.getLogger("some.library").info(message, extra=fields)


def test_lines_outside_a_request(stream: io.StringIO) -> None:
    """Both loggers give the same fields; the request fields are null outside one."""
    log_both("created", order=7)
    assert read(stream) == [
        {
            "event": "created",
            "order": 7,
            "level": "info",
            "logger": "app.orders",
            "service": "orders",
            **NO_REQUEST,
        },
        {
            "event": "created",
            "order": 7,
            "level": "info",
            "logger": "some.library",
            "service": "orders",
            **NO_REQUEST,
        },
    ]


@pytest.mark.usefixtures("in_request")
def test_lines_inside_a_request_and_a_span(stream: io.StringIO) -> None:
    """Inside a request and an SDK span both loggers carry its correlation, trace and span IDs."""
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("GET /orders") as span:
        log_both("listed")
    context = span.get_span_context()
    ids = {
        "correlation_id": "req-1",
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
    }
    common = {"event": "listed", "level": "info", "service": "orders", **ids}
    assert read(stream) == [
        {**common, "logger": "app.orders"},
        {**common, "logger": "some.library"},
    ]


def test_correlation_id_ends_with_the_request(stream: io.StringIO) -> None:
    """Once the request's token is reset, lines are back to a null correlation ID."""
    token = correlation_id_var.set("req-2")
    structlog.get_logger("a").info("in")
    correlation_id_var.reset(token)
    structlog.get_logger("a").info("out")
    assert [(line["event"], line["correlation_id"]) for line in read(stream)] == [
        ("in", "req-2"),
        ("out", None),
    ]


def test_contextvars_and_bound_fields_reach_both_loggers(stream: io.StringIO) -> None:
    """structlog contextvars appear on stdlib lines too; bound fields on structlog lines."""
    structlog.contextvars.bind_contextvars(tenant="acme")
    structlog.get_logger("a").bind(user=3).warning("w")
    logging.getLogger("b").warning("w %s", "formatted")
    assert read(stream) == [
        {"tenant": "acme", "user": 3, "event": "w", "level": "warning", "logger": "a"}
        | {"service": "orders", **NO_REQUEST},
        {"event": "w formatted", "tenant": "acme", "level": "warning", "logger": "b"}
        | {"service": "orders", **NO_REQUEST},
    ]


def test_unnamed_structlog_logger_is_named_after_its_module(stream: io.StringIO) -> None:
    """``structlog.get_logger()`` without a name logs as the calling module."""
    structlog.get_logger().info("x")
    assert read(stream)[0]["logger"] == __name__


def test_a_line_cannot_claim_another_service(stream: io.StringIO) -> None:
    """A ``service`` field passed by the caller is replaced by the configured one."""
    structlog.get_logger("a").info("x", service="billing")
    assert read(stream)[0]["service"] == "orders"


@pytest.mark.parametrize("via", ["structlog", "stdlib"])
def test_exception_is_a_structured_field(stream: io.StringIO, via: str) -> None:
    """An exception is rendered as a list of dicts under ``exception``, on one line."""
    try:
        raise ValueError("bad\ninput")
    except ValueError:
        if via == "structlog":
            structlog.get_logger("a").exception("failed")
        else:
            logging.getLogger("a").exception("failed")
    (line,) = read(stream)
    (entry,) = line.pop("exception")
    assert line == {
        "event": "failed",
        "level": "error",
        "logger": "a",
        "service": "orders",
        **NO_REQUEST,
    }
    assert (entry["exc_type"], entry["exc_value"], entry["is_cause"]) == (
        "ValueError",
        "bad\ninput",
        False,
    )
    assert [frame["name"] for frame in entry["frames"]] == ["test_exception_is_a_structured_field"]


INJECTIONS = [
    'foo\n{"level":"critical"}',
    'foo\r\n{"level": "critical", "service": "x"}',
    '"}, "level": "critical',
    "\r",
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_request_values_cannot_inject_lines_or_fields(stream: io.StringIO, value: str) -> None:
    """A hostile value stays one field of one line, through both loggers."""
    structlog.get_logger("a").info(value, path=value)
    logging.getLogger("b").info("path %s", value, extra={"path": value})
    assert read(stream) == [
        {"event": value, "path": value, "level": "info", "logger": "a"}
        | {"service": "orders", **NO_REQUEST},
        {"event": f"path {value}", "path": value, "level": "info", "logger": "b"}
        | {"service": "orders", **NO_REQUEST},
    ]
    assert stream.getvalue().count("\n") == 2


def test_configuring_twice_does_not_duplicate_lines() -> None:
    """A second call replaces the first: one toolkit handler, one line per event."""
    first, second = io.StringIO(), io.StringIO()
    early = structlog.get_logger("early")  # fetched before the reconfiguration
    configure_logging(service="orders", stream=first)
    configure_logging(service="orders", stream=second)
    log_both("once")
    early.info("follows")
    root = logging.getLogger()
    assert sum(isinstance(h, JSONLinesHandler) for h in root.handlers) == 1
    assert first.getvalue() == ""
    assert [line["event"] for line in read(second)] == ["once", "once", "follows"]


def test_handlers_toolkit_did_not_add_are_kept(stream: io.StringIO) -> None:
    """A handler the app installed stays on the root logger across reconfiguration."""
    own = logging.NullHandler()
    root = logging.getLogger()
    root.addHandler(own)
    configure_logging(service="orders", stream=stream)
    assert own in root.handlers


def test_default_stream_is_stdout_at_call_time(capsys: pytest.CaptureFixture[str]) -> None:
    """Without ``stream`` lines go to ``sys.stdout`` as it is when configure_logging runs."""
    configure_logging(service="orders")
    structlog.get_logger("a").info("hello")
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["event"] == "hello"


@pytest.mark.parametrize("level", ["WARNING", "warning", logging.WARNING])
def test_level_filters_both_loggers(level: int | str) -> None:
    """Below the level nothing is written, from structlog or stdlib; names and ints work."""
    out = io.StringIO()
    configure_logging(service="orders", stream=out, level=level)
    log_both("quiet")
    structlog.get_logger("a").warning("loud")
    logging.getLogger("b").warning("loud")
    assert [(line["logger"], line["event"]) for line in read(out)] == [
        ("a", "loud"),
        ("b", "loud"),
    ]
    assert logging.getLogger().level == logging.WARNING


@pytest.mark.parametrize(
    ("level", "expected"),
    [("debug", 10), (" Info ", 20), ("WARN", 30), ("critical", 50), (0, 0), (25, 25)],
)
def test_parse_level(level: int | str, expected: int) -> None:
    """Level names in any case and non-negative ints are accepted."""
    assert parse_level(level) == expected


@pytest.mark.parametrize("level", ["verbose", "", -1, True])
def test_invalid_level_raises_value_error_naming_it(level: Any) -> None:
    """A bad level is rejected before anything is configured, and the message names it."""
    message = (
        f"invalid log level {level!r}: use one of CRITICAL, DEBUG, ERROR, FATAL, INFO, "
        "NOTSET, WARN, WARNING or an int >= 0"
    )
    handlers = logging.getLogger().handlers[:]
    with pytest.raises(ValueError) as caught:
        configure_logging(service="orders", stream=io.StringIO(), level=level)
    assert str(caught.value) == message
    assert logging.getLogger().handlers == handlers


@pytest.mark.parametrize("service", ["", "  "])
def test_empty_service_raises_value_error(service: str) -> None:
    """A line must name its service: an empty name is refused before anything changes."""
    with pytest.raises(ValueError) as caught:
        configure_logging(service=service, stream=io.StringIO())
    assert str(caught.value) == f"service must be a non-empty name, got {service!r}"
    assert not structlog.is_configured()


class BrokenStream(io.StringIO):
    """A sink whose every write fails, like a closed pipe."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_failing_stream_never_raises_into_the_caller(capsys: pytest.CaptureFixture[str]) -> None:
    """Writes that fail are swallowed, reported once on stderr and passed to the hook."""
    errors: list[Exception] = []
    broken = BrokenStream()
    configure_logging(service="orders", stream=broken, on_write_error=errors.append)
    log_both("lost")
    log_both("lost again")
    assert [type(e) for e in errors] == [BrokenPipeError] * 4
    assert capsys.readouterr().err == (
        f"toolkit.logs: cannot write log lines to {broken!r}: "
        "BrokenPipeError(32, 'Broken pipe'); further failures are counted, not reported\n"
    )
    (handler,) = [h for h in logging.getLogger().handlers if isinstance(h, JSONLinesHandler)]
    assert handler.sink.failures == 4
