"""Start the fake services of ``_readiness_apps.py`` under uvicorn for the live probe tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

APPS = Path(__file__).parent / "_readiness_apps.py"
STARTUP_SECONDS = 20.0


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class RunningApp:
    """A fake service: its URL and the file its logs go to."""

    url: str
    log_file: Path


@contextmanager
def run_app(kind: str, log_file: Path, otlp_endpoint: str | None) -> Iterator[RunningApp]:
    """Serve the fake service ``kind`` on a free port until the block ends."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OTEL_BSP_SCHEDULE_DELAY": "50"}
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    if otlp_endpoint is not None:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_endpoint
    with log_file.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(APPS), kind, str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{kind} exited: {log_file.read_text(errors='replace')}")
            try:
                # /metrics makes no span (the middleware leaves it out): nothing is
                # exported before the test's receiver is listening.
                httpx.get(url + "/metrics", timeout=1.0)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield RunningApp(url, log_file)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
