"""Helpers shared by the resilience tests: a real redis-server and a settable clock."""

from __future__ import annotations

import contextlib
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from _processes import free_port, running, wait_until


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """Start ``redis-server`` on a free port (no persistence), yield its URL, stop it.

    Skips the calling test when the binary is not installed.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1"]
    command += ["--save", "", "--appendonly", "no"]  # no persistence
    with running(command, workdir / "redis.log", cwd=workdir) as started:
        wait_until(lambda: _pong(port), 10, started=started)
        yield f"redis://127.0.0.1:{port}/0"


def _pong(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")


class FakeClock:
    """A clock tests move by hand: ``clock()`` returns ``now``."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds
