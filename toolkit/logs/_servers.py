"""Server loggers brought into toolkit's logs: no traceback twice, JSON from the start.

An ASGI server logs the traceback of an exception that leaves the app ("Exception in
ASGI application") after the request is over: without its correlation or trace IDs.
The middleware logs it itself, inside the request, and marks the exception with
:func:`mark_logged`; :class:`AlreadyLoggedFilter` on the servers' error loggers then
drops their copy. ``UVICORN_LOG_CONFIG`` is a logging configuration for
``uvicorn --log-config`` that writes uvicorn's own lines as toolkit's JSON lines.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

import structlog

from toolkit.logs._processors import add_record_extras, shared_processors
from toolkit.logs._render import json_renderer

_LOGGED = "__toolkit_logged__"
SERVER_ERROR_LOGGERS = ("uvicorn.error", "hypercorn.error", "daphne.server")
"""Loggers on which servers report exceptions that left the app."""

UVICORN_LOG_CONFIG = str(Path(__file__).with_name("uvicorn-log-config.json"))
"""Path of the JSON logging configuration for ``uvicorn --log-config``."""


def mark_logged(exc: BaseException) -> None:
    """Note that ``exc`` was logged with its request's IDs (servers' copies are dropped)."""
    with contextlib.suppress(AttributeError, TypeError):  # an exception without __dict__
        setattr(exc, _LOGGED, True)


class AlreadyLoggedFilter(logging.Filter):
    """Drops a record whose exception toolkit already logged inside its request."""

    def filter(self, record: logging.LogRecord) -> bool:
        """``False`` for a record carrying an exception marked by :func:`mark_logged`."""
        exc_info = record.exc_info
        return not (exc_info and getattr(exc_info[1], _LOGGED, False))


def install_server_filters() -> None:
    """Put one :class:`AlreadyLoggedFilter` on each server error logger (idempotent)."""
    for name in SERVER_ERROR_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, AlreadyLoggedFilter) for f in logger.filters):
            logger.addFilter(AlreadyLoggedFilter())


class JSONFormatter(structlog.stdlib.ProcessorFormatter):
    """A ``logging.Formatter`` writing toolkit's JSON line for any stdlib record.

    For logging configurations that cannot call Python (``uvicorn --log-config``): the
    service is ``service``, else ``OTEL_SERVICE_NAME``, else ``unknown_service``.
    """

    def __init__(self, service: str | None = None, **kwargs: Any) -> None:
        """Build toolkit's chain for ``service``; other arguments go to the formatter."""
        name = service or os.environ.get("OTEL_SERVICE_NAME") or "unknown_service"
        super().__init__(
            foreign_pre_chain=[add_record_extras, *shared_processors(name)],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                json_renderer(),
            ],
            **kwargs,
        )
