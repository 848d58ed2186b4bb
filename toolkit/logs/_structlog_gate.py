"""The structlog gate: one log line without structlog's per-call machinery.

A structlog call assembles an event dict, walks the processor chain through generic
processors (level, logger name, exception rendering) and hands the result to the
wrapped logger: about half the cost of an access-log line. ``write_event_line`` makes
the same line directly — same processors where they are toolkit's, inline equivalents
of structlog's trivial ones — an inlined copy of structlog's processing, so it runs only
behind ``STRUCTLOG_GATE`` (tested release range, and a self-check at first use that
renders a sample event both ways and compares the bytes), and only while the structlog
configuration is exactly the one ``configure_logging`` installed (same processor list,
unchanged; same wrapper class; same logger factory). Otherwise it declines, and the
caller logs through structlog: any other configuration is followed, never second-guessed.
"""

from __future__ import annotations

import contextvars
import io
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import structlog
from structlog.contextvars import merge_contextvars

from toolkit._gate import FastPathGate, declare
from toolkit.logs._processors import (
    Processor,
    add_correlation_id,
    add_timestamp,
    add_trace_context,
    shared_processors,
)
from toolkit.logs._render import json_renderer
from toolkit.logs._sink import LineSink, SinkLogger
from toolkit.semconv import (
    LOG_CORRELATION_ID,
    LOG_EVENT,
    LOG_LEVEL,
    LOG_LOGGER,
    LOG_SERVICE,
    LOG_SPAN_ID,
    LOG_TRACE_ID,
)

if TYPE_CHECKING:
    from opentelemetry.trace import SpanContext

LineRenderer: TypeAlias = Callable[[Any, str, dict[str, Any]], str]
"""A final processor that renders the event dict as one line (toolkit's JSON renderers)."""

_INFO = "info"
# The method names whose level add_log_level writes as it is.
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
# Keys that make structlog's generic processors do more than the inline equivalents:
# ``exc_info`` (rendered by ExceptionRenderer) and ``_record`` (add_logger_name reads it).
_EXC_INFO = "exc_info"
_RECORD = "_record"


@dataclass(frozen=True)
class InstalledChain:
    """What ``configure_logging`` handed to ``structlog.configure``, to recognise it."""

    processors: list[Processor]  # the very list object structlog keeps
    snapshot: list[Processor]  # its contents, to notice an in-place change
    wrapper_class: Any
    logger_factory: Any
    sink: LineSink
    service: str
    renderer: LineRenderer
    min_level: int


_installed: list[InstalledChain] = []  # at most one; a list so tests can reset it


def install_chain(chain: InstalledChain) -> None:
    """Record the chain ``configure_logging`` just installed (replacing any previous one).

    The gate decides now (its self-check runs once), not in the first request.
    """
    _installed[:] = [chain]
    STRUCTLOG_GATE.active()


def active_chain() -> InstalledChain | None:
    """The chain ``configure_logging`` installed, if it is still structlog's configuration."""
    if not _installed:
        return None
    chain = _installed[0]
    config = structlog.get_config()
    processors = config["processors"]
    if (
        processors is chain.processors
        and config["wrapper_class"] is chain.wrapper_class
        and config["logger_factory"] is chain.logger_factory
        and processors == chain.snapshot
    ):
        return chain
    return None


def write_event_line(
    logger_name: str,
    event: str,
    fields: Mapping[str, Any],
    *,
    correlation_id: str | None = None,
    span_context: SpanContext | None = None,
    level: str = _INFO,
) -> bool:
    """Write ``structlog.get_logger(logger_name).<level>(event, **fields)``'s line directly.

    ``level`` is ``debug``, ``info``, ``warning``, ``error`` or ``critical``. Returns
    ``False``, having written nothing, when toolkit's chain is not the active structlog
    configuration (or the event needs structlog's exception or record handling): the
    caller must then log through structlog. Returns ``True`` when the line was written —
    or dropped, as the configured level drops ``level``.

    A caller that knows the current correlation ID or span context (the middleware, for
    its own request) passes them: the line is the same, without looking them up again.
    """
    chain = active_chain()
    if chain is None or not STRUCTLOG_GATE.active():
        return False
    number = _LEVELS.get(level)
    if number is None:
        return False
    if chain.min_level > number:
        return True
    try:
        line = _event_line(chain, logger_name, event, fields, correlation_id, span_context, level)
    except Exception as exc:
        STRUCTLOG_GATE.disable(exc)
        return False
    if line is None:
        return False
    chain.sink.write_line(line)
    return True


def _event_line(
    chain: InstalledChain,
    logger_name: str,
    event: str,
    fields: Mapping[str, Any],
    correlation_id: str | None,
    span_context: SpanContext | None,
    level: str = _INFO,
) -> str | None:
    # The same steps, in the same order, as structlog's _process_event and the chain of
    # shared_processors() + renderer, so keys come out in the same order.
    event_dict: dict[str, Any] = dict(fields)
    event_dict[LOG_EVENT] = event
    merge_contextvars(None, level, event_dict)
    if _EXC_INFO in event_dict or _RECORD in event_dict:
        return None
    event_dict[LOG_LEVEL] = level  # add_log_level
    event_dict[LOG_LOGGER] = logger_name  # add_logger_name (no stdlib record)
    add_timestamp(None, level, event_dict)
    event_dict[LOG_SERVICE] = chain.service  # ServiceNameAdder
    if correlation_id is None:
        add_correlation_id(None, level, event_dict)
    else:
        event_dict[LOG_CORRELATION_ID] = correlation_id
    if span_context is None or not span_context.is_valid:
        add_trace_context(None, level, event_dict)
    else:
        event_dict[LOG_TRACE_ID] = f"{span_context.trace_id:032x}"
        event_dict[LOG_SPAN_ID] = f"{span_context.span_id:016x}"
    # ExceptionRenderer: no exc_info, nothing to do.
    return chain.renderer(None, level, event_dict)


TESTED_RELEASES = ("24.3", "26.2")
"""``structlog`` releases CI tested the inlined chain on: ``>=24.3, <26.2``."""

_TIMESTAMP = re.compile(r'"timestamp":"[^"]*"')
_SAMPLE_FIELDS: dict[str, Any] = {
    "http.method": "GET",
    "status": 200,
    "duration_ms": 1.5,
    "path": '/caf\u00e9?q="x"\n',
    "flag": True,
    "nothing": None,
}


def _check_line() -> None:
    """Render a sample event through structlog and through the inlined chain."""
    stream = io.StringIO()
    sink = LineSink(stream)
    processors: list[Processor] = [*shared_processors("toolkit-self-check"), json_renderer()]
    wrapper_class = structlog.make_filtering_bound_logger(logging.INFO)
    chain = InstalledChain(
        processors=processors,
        snapshot=list(processors),
        wrapper_class=wrapper_class,
        logger_factory=None,
        sink=sink,
        service="toolkit-self-check",
        renderer=cast(LineRenderer, processors[-1]),
        min_level=logging.INFO,
    )

    def both() -> tuple[str, str | None]:
        structlog.contextvars.bind_contextvars(tenant="acme")
        logger = structlog.wrap_logger(
            SinkLogger(sink, "toolkit.access"),
            processors=processors,
            wrapper_class=wrapper_class,
            context_class=dict,
        )
        logger.info("request", **_SAMPLE_FIELDS)
        fast = _event_line(chain, "toolkit.access", "request", _SAMPLE_FIELDS, None, None)
        return stream.getvalue(), fast

    # A context of its own: the sample's bound field never reaches the caller's lines.
    written, fast = contextvars.Context().run(both)
    expected = _TIMESTAMP.sub('"timestamp":""', written.rstrip("\n"))
    got = None if fast is None else _TIMESTAMP.sub('"timestamp":""', fast)
    if got != expected:
        raise RuntimeError(f"structlog wrote {expected!r}, the inlined chain {got!r}")


STRUCTLOG_GATE = declare(
    FastPathGate(
        "structlog access line",
        distribution="structlog",
        tested=TESTED_RELEASES,
        self_check=_check_line,
    )
)
"""Whether access lines may be written by the inlined chain."""
