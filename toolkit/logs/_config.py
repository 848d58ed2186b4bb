"""``configure_logging``: structlog and stdlib ``logging`` to one stream of JSON lines."""

from __future__ import annotations

import logging
import sys
from typing import IO, cast

import structlog

from toolkit.logs._processors import Processor, add_record_extras, shared_processors
from toolkit.logs._render import json_renderer
from toolkit.logs._servers import install_server_filters
from toolkit.logs._sink import JSONLinesHandler, LineSink, SinkLoggerFactory, WriteErrorHook
from toolkit.logs._structlog_gate import (
    InstalledChain,
    LineRenderer,
    active_chain,
    install_chain,
)

_LEVEL_NAMES = {
    "CRITICAL": logging.CRITICAL,
    "FATAL": logging.FATAL,
    "ERROR": logging.ERROR,
    "WARNING": logging.WARNING,
    "WARN": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "NOTSET": logging.NOTSET,
}


def parse_level(level: int | str) -> int:
    """Return ``level`` as a stdlib level number: a name (any case), or an int >= 0.

    Raises ``ValueError`` naming the value when it is neither.
    """
    if isinstance(level, int) and not isinstance(level, bool) and level >= 0:
        return level
    if isinstance(level, str):
        number = _LEVEL_NAMES.get(level.strip().upper())
        if number is not None:
            return number
    names = ", ".join(sorted(_LEVEL_NAMES))
    raise ValueError(f"invalid log level {level!r}: use one of {names} or an int >= 0")


def configure_logging(
    *,
    service: str,
    stream: IO[str] | None = None,
    level: int | str = "INFO",
    on_write_error: WriteErrorHook | None = None,
) -> None:
    """Send structlog and stdlib ``logging`` to ``stream`` as JSON lines, one per event.

    Every line carries ``timestamp``, ``level``, ``logger``, ``event``, ``service``,
    ``correlation_id``, ``trace_id`` and ``span_id`` (``null`` when there is none), the
    structlog contextvars and bound fields. ``stream`` defaults to ``sys.stdout`` as it
    is at call time; ``level`` applies to structlog loggers and the root logger.

    Calling it again replaces the previous configuration: the root logger keeps exactly
    one toolkit handler, and handlers toolkit did not install are left alone. A failing
    ``stream`` never raises into the caller: see ``LineSink``; ``on_write_error`` is called
    with each write error (e.g. to count it). An empty ``service`` or an unknown
    ``level`` raises ``ValueError`` before anything is changed.
    """
    if not isinstance(service, str) or not service.strip():
        raise ValueError(f"service must be a non-empty name, got {service!r}")
    number = parse_level(level)
    sink = LineSink(sys.stdout if stream is None else stream, on_error=on_write_error)
    chain = shared_processors(service)
    renderer = json_renderer()
    processors = [*chain, renderer]
    wrapper_class = structlog.make_filtering_bound_logger(number)
    logger_factory = SinkLoggerFactory(sink)

    structlog.configure(
        processors=processors,
        wrapper_class=wrapper_class,
        logger_factory=logger_factory,
        context_class=dict,
        # Not cached: a logger fetched at import time follows a later reconfiguration.
        cache_logger_on_first_use=False,
    )
    # Lets write_event_line recognise this configuration (and skip structlog's machinery).
    install_chain(
        InstalledChain(
            processors=processors,
            snapshot=list(processors),
            wrapper_class=wrapper_class,
            logger_factory=logger_factory,
            sink=sink,
            service=service,
            renderer=cast(LineRenderer, renderer),
            min_level=number,
        )
    )

    handler = JSONLinesHandler(sink)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[add_record_extras, *chain],
            processors=_final_processors(renderer),
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, JSONLinesHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(number)
    install_server_filters()


def configured_by_toolkit() -> bool:
    """Whether the active structlog configuration is the one ``configure_logging`` made."""
    return active_chain() is not None


def _final_processors(renderer: Processor) -> list[Processor]:
    return [structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]
