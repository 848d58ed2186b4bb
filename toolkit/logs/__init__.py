"""Structured logs: JSON lines from structlog and stdlib ``logging``, with toolkit's fields.

Call ``configure_logging(service=...)`` once at startup. The processors are public so
an app can assemble its own structlog chain from them.
"""

from __future__ import annotations

from toolkit.logs._config import configure_logging, configured_by_toolkit, parse_level
from toolkit.logs._processors import (
    Processor,
    ServiceNameAdder,
    add_correlation_id,
    add_record_extras,
    add_timestamp,
    add_trace_context,
    render_exception_as_dict,
    shared_processors,
)
from toolkit.logs._render import json_renderer, render_json
from toolkit.logs._servers import (
    UVICORN_LOG_CONFIG,
    AlreadyLoggedFilter,
    JSONFormatter,
    mark_logged,
)
from toolkit.logs._sink import (
    JSONLinesHandler,
    LineSink,
    SinkLogger,
    SinkLoggerFactory,
    WriteErrorHook,
)
from toolkit.logs._structlog_gate import write_event_line

__all__ = [
    "UVICORN_LOG_CONFIG",
    "AlreadyLoggedFilter",
    "JSONFormatter",
    "JSONLinesHandler",
    "LineSink",
    "Processor",
    "ServiceNameAdder",
    "SinkLogger",
    "SinkLoggerFactory",
    "WriteErrorHook",
    "add_correlation_id",
    "add_record_extras",
    "add_timestamp",
    "add_trace_context",
    "configure_logging",
    "configured_by_toolkit",
    "json_renderer",
    "mark_logged",
    "parse_level",
    "render_exception_as_dict",
    "render_json",
    "shared_processors",
    "write_event_line",
]
