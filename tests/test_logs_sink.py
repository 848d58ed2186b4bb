"""toolkit.logs._sink: whole lines to one stream, and a failing stream never raises."""

from __future__ import annotations

import io
import logging
import os
import signal
import threading

import pytest

from toolkit.logs import JSONLinesHandler, LineSink, SinkLogger, SinkLoggerFactory


class BrokenStream(io.StringIO):
    """A stream whose every write fails, like a closed pipe."""

    def write(self, text: str) -> int:
        raise OSError(5, "Input/output error")


class CountingStream(io.StringIO):
    """A stream that counts flushes."""

    flushes = 0

    def flush(self) -> None:
        self.flushes += 1


def test_write_line_appends_a_newline_and_flushes() -> None:
    """Each line is written whole, newline-terminated, and flushed at once."""
    stream = CountingStream()
    sink = LineSink(stream)
    sink.write_line('{"a": 1}')
    sink.write_line('{"b": 2}')
    assert stream.getvalue() == '{"a": 1}\n{"b": 2}\n'
    assert stream.flushes == 2
    assert sink.failures == 0


def test_failures_are_counted_reported_once_and_hooked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Three failed writes: no exception, three counted, three hook calls, one report."""
    errors: list[Exception] = []
    stream = BrokenStream()
    sink = LineSink(stream, on_error=errors.append)
    for _ in range(3):
        sink.write_line("x")
    assert sink.failures == 3
    assert [str(e) for e in errors] == ["[Errno 5] Input/output error"] * 3
    assert capsys.readouterr().err == (
        f"toolkit.logs: cannot write log lines to {stream!r}: "
        "OSError(5, 'Input/output error'); further failures are counted, not reported\n"
    )


def test_a_raising_hook_and_a_broken_stderr_are_swallowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Even when the hook raises and stderr is broken too, the caller sees nothing."""

    def hook(exc: Exception) -> None:
        raise RuntimeError("hook bug")

    monkeypatch.setattr("sys.stderr", BrokenStream())
    sink = LineSink(BrokenStream(), on_error=hook)
    sink.write_line("x")
    assert sink.failures == 1


def test_concurrent_writers_never_interleave() -> None:
    """Lines written from many threads come out whole, each on its own line."""
    stream = io.StringIO()
    sink = LineSink(stream)

    def write(n: int) -> None:
        for i in range(200):
            sink.write_line(f"{n}:{i}:" + "x" * 100)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = stream.getvalue().splitlines()
    assert sorted(lines) == sorted(f"{n}:{i}:" + "x" * 100 for n in range(8) for i in range(200))


@pytest.mark.parametrize("method", ["msg", "debug", "info", "warning", "error", "critical"])
def test_sink_logger_writes_every_level(method: str) -> None:
    """structlog calls the method named after the level; each one writes the line."""
    stream = io.StringIO()
    getattr(SinkLogger(LineSink(stream), "a"), method)("line")
    assert stream.getvalue() == "line\n"


def test_factory_names_loggers() -> None:
    """A given name is used; without one the logger is named after the calling module."""
    factory = SinkLoggerFactory(LineSink(io.StringIO()))
    assert factory("app.orders").name == "app.orders"
    assert factory().name == __name__
    assert repr(factory("x")) == "SinkLogger('x')"


def test_handler_writes_formatted_records_to_the_sink() -> None:
    """The stdlib handler formats a record and writes it as one line."""
    stream = io.StringIO()
    handler = JSONLinesHandler(LineSink(stream))
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    handler.handle(logging.LogRecord("lib", logging.INFO, "f.py", 1, "hi %s", ("x",), None))
    assert stream.getvalue() == "lib hi x\n"


def test_handler_reports_a_formatting_error_without_raising(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A record whose arguments do not fit its message goes to stdlib's handleError."""
    stream = io.StringIO()
    handler = JSONLinesHandler(LineSink(stream))
    handler.handle(logging.LogRecord("lib", logging.INFO, "f.py", 1, "%d", ("x",), None))
    assert stream.getvalue() == ""
    assert "--- Logging error ---" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_can_write_while_the_parent_holds_the_lock() -> None:
    """A lock held at fork time (another thread mid-write) does not deadlock the child."""
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as stream:
        sink = LineSink(stream)
        with sink._lock:  # as if another thread were writing when the process forked
            pid = os.fork()
            if pid == 0:  # child: must not block on the inherited, held lock
                signal.alarm(5)  # a deadlock ends the child by SIGALRM, failing the test
                sink.write_line("from the child")
                os._exit(0)
        _, status = os.waitpid(pid, 0)
    with os.fdopen(read_end) as received:
        assert received.read() == "from the child\n"
    assert os.waitstatus_to_exitcode(status) == 0
