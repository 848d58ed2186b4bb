"""Where rendered lines go: one stream, one lock, and a write that never raises.

structlog loggers write through ``SinkLogger`` (no stdlib ``LogRecord`` on that path,
which is what keeps a structlog call cheap); stdlib records go through
``JSONLinesHandler``. Both share one ``LineSink``, so lines from either never interleave
and a failing stream is handled in one place.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import weakref
from collections.abc import Callable
from typing import IO, Any

WriteErrorHook = Callable[[Exception], object]
"""Called with the exception each time a line cannot be written (e.g. to count it)."""

# A lock held by another thread when the process forks (gunicorn --preload forks workers
# from a master that may be logging) stays held forever in the child: give every live
# sink a new lock there, as the stdlib does for its handlers. The hook is registered
# once, when the first sink is made, never at import time.
_live_sinks: weakref.WeakSet[LineSink] = weakref.WeakSet()
_fork_hook: list[bool] = []


def _renew_locks_after_fork() -> None:
    for sink in list(_live_sinks):
        sink._lock = threading.Lock()


def _track(sink: LineSink) -> None:
    _live_sinks.add(sink)
    if not _fork_hook and hasattr(os, "register_at_fork"):
        _fork_hook.append(True)
        os.register_at_fork(after_in_child=_renew_locks_after_fork)


class LineSink:
    """Write whole lines to a text stream; a failing write is swallowed, never raised.

    The first failure is reported on ``sys.stderr``; every failure is counted in
    ``failures`` and passed to ``on_error`` (whose own errors are swallowed too).
    """

    __slots__ = ("__weakref__", "_lock", "_reported", "failures", "on_error", "stream")

    def __init__(self, stream: IO[str], *, on_error: WriteErrorHook | None = None) -> None:
        self.stream = stream
        self.on_error = on_error
        self.failures = 0
        self._reported = False
        self._lock = threading.Lock()
        _track(self)

    def write_line(self, line: str) -> None:
        """Write ``line`` and a newline, then flush, so a crash loses no finished line."""
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except Exception as exc:
                self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        if not self._reported:
            self._reported = True
            message = (
                f"toolkit.logs: cannot write log lines to {self.stream!r}: {exc!r}; "
                "further failures are counted, not reported\n"
            )
            with contextlib.suppress(Exception):  # stderr may be the failing stream
                sys.stderr.write(message)
        if self.on_error is not None:
            with contextlib.suppress(Exception):  # a broken hook must not break logging
                self.on_error(exc)


class SinkLogger:
    """The structlog "wrapped logger": receives rendered lines and writes them to a sink."""

    __slots__ = ("name", "sink")

    def __init__(self, sink: LineSink, name: str | None) -> None:
        self.sink = sink
        self.name = name

    def msg(self, message: str) -> None:
        """Write one rendered line."""
        self.sink.write_line(message)

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg

    def __repr__(self) -> str:
        return f"SinkLogger({self.name!r})"


class SinkLoggerFactory:
    """structlog ``logger_factory``: ``structlog.get_logger(name)`` -> ``SinkLogger``.

    Without a name, the logger is named after the calling module, as
    ``structlog.stdlib.LoggerFactory`` does.
    """

    __slots__ = ("sink",)

    def __init__(self, sink: LineSink) -> None:
        self.sink = sink

    def __call__(self, *args: Any) -> SinkLogger:
        name = args[0] if args and isinstance(args[0], str) else _caller_module()
        return SinkLogger(self.sink, name)


def _caller_module() -> str:
    frame = sys._getframe(1)
    while frame.f_back is not None:
        name: str = frame.f_globals.get("__name__", "?")
        if not (name.startswith("structlog") or name.startswith("toolkit.logs")):
            return name
        frame = frame.f_back
    return str(frame.f_globals.get("__name__", "?"))


class JSONLinesHandler(logging.Handler):
    """stdlib handler that writes each formatted record to a ``LineSink``.

    ``configure_logging`` installs exactly one on the root logger, with a structlog
    ``ProcessorFormatter``; it recognises its own handler by this class.
    """

    def __init__(self, sink: LineSink, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        """Format ``record`` and write it; a formatting error goes to ``handleError``."""
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.sink.write_line(line)
