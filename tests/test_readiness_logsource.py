"""Tests for toolkit.readiness.probe.logsource: reading log lines and the log checks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from toolkit.readiness.model import Status
from toolkit.readiness.probe import logsource
from toolkit.readiness.probe.logsource import (
    CommandLogSource,
    FileLogSource,
    LogSourceError,
    check_logs,
    parse_lines,
)

CID, TID = "probe-1", "4bf92f3577b34da6a3ce929d0e0e4736"
LINE = json.dumps({"event": "request", "correlation_id": CID, "trace_id": TID})


def test_file_source_returns_complete_lines_written_after_mark(tmp_path: Path) -> None:
    """Lines before ``mark`` and an unfinished last line are left out."""
    path = tmp_path / "app.log"
    path.write_text("old line\n")
    source = FileLogSource(path)
    source.mark()
    with path.open("a") as out:
        out.write("new 1\nnew 2\npartial")
    assert source.lines() == ["new 1", "new 2"]


def test_file_source_of_a_missing_file_says_so(tmp_path: Path) -> None:
    """A file that does not exist is a problem naming its path, not an empty log."""
    source = FileLogSource(tmp_path / "none.log")
    source.mark()
    with pytest.raises(LogSourceError) as raised:
        source.lines()
    assert raised.value.problem == f"log file {tmp_path / 'none.log'} does not exist"


def test_file_source_that_cannot_be_read_says_why(tmp_path: Path) -> None:
    """A path that is a directory: the problem names the path and the cause."""
    source = FileLogSource(tmp_path)
    source.mark()
    with pytest.raises(LogSourceError) as raised:
        source.lines()
    assert raised.value.problem == f"cannot read log file {tmp_path}: Is a directory"


def test_file_source_takes_a_str_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``FileLogSource("orders.log")`` works as a ``Path`` does, relative to the cwd."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "orders.log").write_text("old\n")
    source = FileLogSource("orders.log")
    source.mark()
    with (tmp_path / "orders.log").open("a") as out:
        out.write("new\n")
    assert (source.lines(), source.describe()) == (["new"], "orders.log")


def test_command_source_returns_stdout_lines() -> None:
    """The command's stdout, split into lines; its description is the command line."""
    source = CommandLogSource([sys.executable, "-c", "print('a'); print('b')"])
    assert source.lines() == ["a", "b"]
    assert CommandLogSource("docker logs --since 1m app").describe() == "docker logs --since 1m app"


def test_command_that_cannot_run_is_a_log_source_error() -> None:
    """A missing executable is a problem naming the command, not an empty log."""
    with pytest.raises(LogSourceError) as raised:
        CommandLogSource("/nonexistent/tool --since 1m").lines()
    assert raised.value.problem == (
        "cannot run log command '/nonexistent/tool --since 1m': No such file or directory"
    )


def test_command_that_fails_silently_is_a_log_source_error() -> None:
    """A command that exits non-zero and prints nothing: its status and last stderr line
    (docker logs of a container that does not exist)."""
    script = "import sys; print('Error: No such container: app', file=sys.stderr); sys.exit(1)"
    with pytest.raises(LogSourceError) as raised:
        CommandLogSource([sys.executable, "-c", script]).lines()
    assert raised.value.problem.endswith("exited with status 1: Error: No such container: app")


def test_command_that_fails_after_printing_gives_its_lines() -> None:
    """A command that prints lines and then exits non-zero: the lines count."""
    script = "import sys; print('a'); sys.exit(3)"
    assert CommandLogSource([sys.executable, "-c", script]).lines() == ["a"]


def test_command_that_hangs_is_a_log_source_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command that does not finish in time is named, with the time it was given."""
    monkeypatch.setattr(logsource, "COMMAND_TIMEOUT_SECONDS", 0.2)
    with pytest.raises(LogSourceError) as raised:
        CommandLogSource([sys.executable, "-c", "import time; time.sleep(5)"]).lines()
    assert raised.value.problem.endswith("did not finish within 0.2 s")


def test_lines_are_split_into_json_objects_and_others() -> None:
    """JSON objects count; arrays, text and blank lines do not (blank lines are ignored)."""
    objects, other = parse_lines([LINE, "", "[1]", "INFO plain"])
    assert objects == [json.loads(LINE)]
    assert other == ["[1]", "INFO plain"]


def test_json_lines_with_both_ids_pass() -> None:
    """JSON lines, one carrying the probe's IDs: both checks pass."""
    checks = check_logs([LINE, json.dumps({"event": "x"})], CID, TID, "app.log")
    assert [(c.id, c.status, c.reason) for c in checks] == [
        ("logs.json", Status.PASS, "2 JSON lines from app.log"),
        (
            "logs.correlation",
            Status.PASS,
            f"a line with correlation_id={CID} and the probe's trace_id",
        ),
    ]


def test_line_without_trace_id_fails_naming_it() -> None:
    """The correlation ID without the trace ID names ``trace_id`` as missing."""
    line = json.dumps({"correlation_id": CID, "trace_id": None})
    check = check_logs([line], CID, TID, "app.log")[1]
    assert (check.status, check.reason) == (
        Status.FAIL,
        "no JSON line carries the probe's trace_id (1 lines searched)",
    )


def test_text_lines_fail_json_and_skip_correlation() -> None:
    """Any non-JSON line fails logs.json; without JSON lines the correlation check skips."""
    checks = check_logs(["INFO started", "INFO request"], CID, TID, "app.log")
    assert [(c.status, c.reason) for c in checks] == [
        (Status.FAIL, "2 of 2 lines are not JSON, e.g. 'INFO started'"),
        (Status.SKIPPED, "no JSON lines to search"),
    ]


def test_nothing_logged_fails() -> None:
    """No lines at all during the probe fails logs.json."""
    check = check_logs([], CID, TID, "app.log")[0]
    assert (check.status, check.reason) == (
        Status.FAIL,
        "nothing logged to app.log during the probe",
    )
