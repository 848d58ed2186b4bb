"""The processors that put toolkit's fields on every log line.

Each is a plain structlog processor ``(logger, method_name, event_dict) -> event_dict``;
``shared_processors(service)`` strings them into the chain ``configure_logging`` uses for
structlog loggers and stdlib records alike.
"""

from __future__ import annotations

import logging
import time
from typing import TypeAlias

import structlog
from opentelemetry import trace
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, WrappedLogger

from toolkit.context import correlation_id_var
from toolkit.semconv import (
    LOG_CORRELATION_ID,
    LOG_SERVICE,
    LOG_SPAN_ID,
    LOG_TIMESTAMP,
    LOG_TRACE_ID,
)

Processor: TypeAlias = structlog.typing.Processor
"""A structlog processor: ``(logger, method_name, event_dict) -> event_dict``."""

_get_current_span = trace.get_current_span
_get_correlation_id = correlation_id_var.get


# (second, "YYYY-MM-DDTHH:MM:SS.") of the last line: strftime runs once a second, not per
# line. One tuple, replaced whole, so a reader never sees a half-updated cache.
_last_second: tuple[int, str] = (-1, "")
_now = time.time


def add_timestamp(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Add ``timestamp``: now, ISO 8601 in UTC with microseconds (``...T14:05:09.123456Z``).

    Same output as ``TimeStamper(fmt="iso", utc=True)``, at a third of the cost.
    """
    global _last_second
    now = _now()
    second = int(now)
    cached = _last_second
    if cached[0] != second:
        cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)))
        _last_second = cached
    # 1_000_000 + micros, minus its leading "1": six zero-padded digits, no format spec.
    micros = str(int((now - second) * 1_000_000) + 1_000_000)[1:]
    event_dict[LOG_TIMESTAMP] = cached[1] + micros + "Z"
    return event_dict


def add_correlation_id(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Add ``correlation_id``: the current request's ID, or ``None`` outside a request.

    Inside a request the ContextVar wins over a bound value of the same name (a stale
    bound ID must not mislabel a line); outside one, a value bound by the app (a worker
    handling a message, say) is kept.
    """
    correlation_id = _get_correlation_id()
    if correlation_id is not None:
        event_dict[LOG_CORRELATION_ID] = correlation_id
    elif LOG_CORRELATION_ID not in event_dict:
        event_dict[LOG_CORRELATION_ID] = None
    return event_dict


def add_trace_context(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Add ``trace_id`` (32 hex digits) and ``span_id`` (16) of the current span, or ``None``.

    The IDs are only formatted when the current span context is valid; without one, any
    bound values are kept, as ``add_correlation_id`` does.
    """
    context = _get_current_span().get_span_context()
    if context.is_valid:
        event_dict[LOG_TRACE_ID] = f"{context.trace_id:032x}"
        event_dict[LOG_SPAN_ID] = f"{context.span_id:016x}"
    else:
        event_dict.setdefault(LOG_TRACE_ID, None)
        event_dict.setdefault(LOG_SPAN_ID, None)
    return event_dict


class ServiceNameAdder:
    """Add ``service``: the name the service was configured with, on every line.

    It overwrites any value of the same key: a log line cannot claim another service.
    """

    __slots__ = ("service",)

    def __init__(self, service: str) -> None:
        self.service = service

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        event_dict[LOG_SERVICE] = self.service
        return event_dict

    def __repr__(self) -> str:
        return f"ServiceNameAdder({self.service!r})"


# Attributes every LogRecord has, plus the two that Formatter.format() adds to a record
# (another handler may have formatted it first): none of them is an ``extra`` field.
# ``color_message`` is uvicorn's copy of the message with terminal colour codes: noise in
# a JSON line.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "color_message"}
)


def add_record_extras(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Add a stdlib record's ``extra={...}`` fields (for ``ProcessorFormatter``'s pre-chain).

    Unlike structlog's ``ExtraAdder`` it skips ``message`` and ``asctime``, which appear on
    a record once any other handler's formatter has seen it, and uvicorn's
    ``color_message`` (the message again, with terminal colour codes).
    """
    record: logging.LogRecord | None = event_dict.get("_record")
    if record is not None:
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES:
                event_dict[key] = value
    return event_dict


def render_exception_as_dict() -> Processor:
    """Return a processor that turns ``exc_info`` into a structured ``exception`` field.

    The field is a list of dicts (one per exception in the chain: type, value, frames),
    structlog's ``dict_tracebacks`` shape, but without local variables: they may hold
    secrets and make lines huge.
    """
    transformer = ExceptionDictTransformer(show_locals=False, use_rich=False)
    return structlog.processors.ExceptionRenderer(transformer)


def shared_processors(service: str) -> list[Processor]:
    """Return toolkit's standard processor chain, without the final renderer.

    In order: structlog contextvars, ``level``, ``logger``, ``timestamp`` (ISO 8601,
    UTC), ``service``, ``correlation_id``, ``trace_id`` / ``span_id`` and the structured
    ``exception``. Append a renderer (``json_renderer()``) to use it.
    """
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        add_timestamp,
        ServiceNameAdder(service),
        add_correlation_id,
        add_trace_context,
        render_exception_as_dict(),
    ]
