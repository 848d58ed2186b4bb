"""The process helpers the live tests share (tests/_processes.py)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest
from _processes import free_port, running, wait_until, wait_until_http_ok


def test_free_port_can_be_bound_on_localhost() -> None:
    """The port free_port gives can be bound on 127.0.0.1."""
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        assert sock.getsockname() == ("127.0.0.1", port)


def test_running_kills_the_whole_process_group(tmp_path: Path) -> None:
    """A child the command started (a worker) is killed with it when the block ends."""
    pid_file = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    with running([sys.executable, "-c", script], tmp_path / "out.log") as started:
        wait_until(lambda: pid_file.exists() and pid_file.read_text(), 20)
        child = int(pid_file.read_text())
        assert os.getpgid(child) == started.process.pid
    assert started.process.returncode is not None
    # The child is not this process's to reap: it is gone, or a zombie about to be reaped.
    wait_until(lambda: not _alive(child), 10)


def test_wait_until_reports_a_process_that_exited(tmp_path: Path) -> None:
    """Waiting on a process that exits fails at once with its output."""
    command = [sys.executable, "-c", "print('no config'); raise SystemExit(3)"]
    url = f"http://127.0.0.1:{free_port()}/"
    with (
        running(command, tmp_path / "out.log") as started,
        pytest.raises(RuntimeError, match=r"exited with 3:\nno config"),
    ):
        wait_until_http_ok(url, started=started, timeout=20)


def test_wait_until_returns_the_first_true_result() -> None:
    """Exceptions and false results are retried; the first true result is returned."""
    answers = iter([ValueError("not yet"), 0, "ready"])

    def check() -> object:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_until(check, 5) == "ready"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False
