"""Start the example shop's services under uvicorn on 127.0.0.1, and stop every one of them.

Each service runs in its own process group (so a stop reaches any child it spawned),
logs JSON lines to ``LOG_DIR/NAME.log`` and exports its spans to ``otlp_endpoint``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

SHOP = Path(__file__).resolve().parent / "shop.py"
STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0


@dataclass(frozen=True)
class RunningService:
    """A started service: its name, URL and log file."""

    name: str
    url: str
    log_file: Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(
    services: Sequence[RunningService], processes: list[subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    for service, process in zip(services, processes, strict=True):
        while True:
            if process.poll() is not None:
                log = service.log_file.read_text(errors="replace")
                raise RuntimeError(f"{service.name} exited during startup:\n{log}")
            try:
                httpx.get(service.url + "/metrics", timeout=1.0)  # /metrics makes no span
                break
            except httpx.HTTPError as error:
                if time.monotonic() > deadline:
                    message = f"{service.name} did not start within {STARTUP_SECONDS}s"
                    raise RuntimeError(message) from error
                time.sleep(0.05)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def run_services(
    names: Sequence[str], log_dir: Path, otlp_endpoint: str
) -> Iterator[dict[str, RunningService]]:
    """Start ``names`` side by side, wait until each answers, stop them all at the end."""
    log_dir.mkdir(parents=True, exist_ok=True)
    services = [
        RunningService(name, f"http://127.0.0.1:{free_port()}", log_dir / f"{name}.log")
        for name in names
    ]
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # export spans within 0.2 s (default: 5 s)
        **{f"SHOP_{s.name.upper()}_URL": s.url for s in services},
    }
    processes: list[subprocess.Popen[bytes]] = []
    state = tempfile.TemporaryDirectory(prefix="shop-state-")  # idempotency stores
    env["SHOP_STATE_DIR"] = state.name
    try:
        for service in services:
            port = service.url.rsplit(":", 1)[1]
            with service.log_file.open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, str(SHOP), service.name, port],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env=env,
                        start_new_session=True,  # its own process group
                    )
                )
        _wait_until_up(services, processes)
        yield {service.name: service for service in services}
    finally:
        _stop(processes)
        state.cleanup()
