"""``uvicorn --workers 2`` (no server hooks): dead workers are found and compacted at scrape."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests._multiprocess_apps import SLOW_PID_FILE
from tests._multiprocess_support import COUNT, scrape
from tests._processes import free_port, wait_until
from toolkit import semconv

ROOT = Path(__file__).resolve().parent.parent
UVICORN = Path(sys.executable).with_name("uvicorn")
ACTIVE = semconv.HTTP_SERVER_ACTIVE_REQUESTS

pytestmark = pytest.mark.slow


@pytest.fixture
def uvicorn(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``uvicorn --workers 2`` on 127.0.0.1 with a fresh metrics directory: (url, directory)."""
    port = free_port()
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        SLOW_PID_FILE: str(tmp_path / "slow.pid"),
    }
    with open(tmp_path / "uvicorn.log", "wb") as log:
        process = subprocess.Popen(
            [
                str(UVICORN),
                "--workers",
                "2",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "tests._multiprocess_apps:asgi",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: httpx.get(url + "/metrics", timeout=2).status_code == 200)
            wait_until(lambda: len(_live_workers(directory)) == 2)
            yield url, directory
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _live_workers(directory: Path) -> set[int]:
    """Workers that registered (a lock file) and still run."""
    pids = {int(p.name.split("_")[-1].split(".")[0]) for p in directory.glob("toolkit_worker_*")}
    return {pid for pid in pids if Path(f"/proc/{pid}").exists()}


def test_uvicorn_workers_sum_and_a_killed_worker_is_kept(uvicorn: tuple[str, Path]) -> None:
    """40 requests over two uvicorn workers count 40; after SIGKILL of one (uvicorn starts
    another) still 40, its files compacted away, then new requests add up."""
    url, directory = uvicorn
    with ThreadPoolExecutor(8) as pool:
        pids = set(pool.map(lambda _: int(httpx.get(url + "/work", timeout=10).text), range(40)))
    assert scrape(url + "/metrics")[COUNT] == 40.0
    victim = sorted(pids)[0]
    os.kill(victim, signal.SIGKILL)
    wait_until(
        lambda: victim not in _live_workers(directory) and len(_live_workers(directory)) == 2
    )
    assert scrape(url + "/metrics") == {COUNT: 40.0, ACTIVE: 0.0}
    assert sorted(p.name for p in directory.glob(f"*_{victim}.*")) == []
    for _ in range(5):
        httpx.get(url + "/work", timeout=10)
    assert scrape(url + "/metrics")[COUNT] == 45.0


def test_uvicorn_worker_killed_mid_request_takes_its_active_gauge(
    uvicorn: tuple[str, Path], tmp_path: Path
) -> None:
    """A worker SIGKILLed while a request is in flight: active requests back to 0, and the
    request it never answered is not counted."""
    url, directory = uvicorn
    for _ in range(4):
        httpx.get(url + "/work", timeout=10)
    slow = threading.Thread(target=_slow_request, args=(url,), daemon=True)
    slow.start()
    pid_file = tmp_path / "slow.pid"
    wait_until(lambda: pid_file.exists() and pid_file.read_text())
    assert scrape(url + "/metrics") == {COUNT: 4.0, ACTIVE: 1.0}
    victim = int(pid_file.read_text())
    os.kill(victim, signal.SIGKILL)
    wait_until(
        lambda: victim not in _live_workers(directory) and len(_live_workers(directory)) == 2
    )
    assert scrape(url + "/metrics") == {COUNT: 4.0, ACTIVE: 0.0}
    slow.join(timeout=30)


def _slow_request(url: str) -> None:
    """A request whose worker is killed before it answers: the error is expected."""
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(url + "/slow", timeout=30)
