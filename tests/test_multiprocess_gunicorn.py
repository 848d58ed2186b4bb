"""toolkit.gunicorn: a real gunicorn with 3 workers; scrapes sum them, kills lose nothing."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests._multiprocess_apps import SLOW_PID_FILE
from tests._multiprocess_support import COUNT, scrape, scrape_text
from tests._processes import free_port, wait_until
from toolkit import semconv

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
ACTIVE = semconv.HTTP_SERVER_ACTIVE_REQUESTS
REQUESTS = 60

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn not installed"),
]


class Server:
    """A gunicorn master on 127.0.0.1 started with the toolkit hooks."""

    def __init__(
        self,
        tmp_path: Path,
        worker_class: str,
        app: str,
        extra_env: dict[str, str] | None = None,
        ready: str = "/metrics",
        preload: bool = False,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_dir = tmp_path / "metrics"
        self.slow_pid_file = tmp_path / "slow.pid"
        env = {
            **os.environ,
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
            SLOW_PID_FILE: str(self.slow_pid_file),
            # gunicorn 25.1+ opens a control socket under XDG_RUNTIME_DIR (else ~/.gunicorn):
            # one per test, so concurrent masters never share it.
            "XDG_RUNTIME_DIR": str(tmp_path),
            **(extra_env or {}),
        }
        self.log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed in stop
        self.process = subprocess.Popen(
            [
                str(GUNICORN),
                "-c",
                "python:toolkit.gunicorn",
                "--workers",
                "3",
                "--worker-class",
                worker_class,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "2",
                *(["--preload"] if preload else []),
                # One thread would queue a scrape behind the test's hanging request.
                *(["--threads", "4"] if worker_class == "gthread" else []),
                app,
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: httpx.get(self.url + ready, timeout=2).status_code == 200)
        wait_until(lambda: len(self.worker_pids()) == 3)

    def worker_pids(self) -> set[int]:
        """PIDs of the master's current worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()}

    def stop(self) -> None:
        """TERM the master, KILL it if it lingers."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(
    params=[
        ("sync", "tests._multiprocess_apps:wsgi", False),
        ("sync", "tests._multiprocess_apps:wsgi", True),
        ("gthread", "tests._multiprocess_apps:wsgi", False),
        ("uvicorn.workers.UvicornWorker", "tests._multiprocess_apps:asgi", False),
    ],
    ids=["sync", "sync-preload", "gthread", "uvicorn-worker"],
)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A running gunicorn with 3 workers of one class (the app loaded in each worker, or
    once in the master with ``--preload``)."""
    worker_class, app, preload = request.param
    started = Server(tmp_path, worker_class, app, preload=preload)
    try:
        yield started
    finally:
        started.stop()


def _slow_request(url: str) -> None:
    """A request whose worker is killed before it answers: the error is expected."""
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(url + "/slow", timeout=30)


def _spread(url: str, count: int, workers: int = 2) -> tuple[int, set[int]]:
    """At least ``count`` requests, in rounds of ``count``, until ``workers`` different
    workers served some (async and threaded workers may take a whole round alone);
    return (requests sent, serving PIDs)."""
    sent, pids = 0, set()
    for _ in range(10):
        pids |= _send(url, count)
        sent += count
        if len(pids) >= workers:
            break
    return sent, pids


def _send(url: str, count: int) -> set[int]:
    """``count`` requests, 6 at a time (so that every worker gets some); the serving PIDs."""
    with ThreadPoolExecutor(6) as pool:
        bodies = list(pool.map(lambda _: httpx.get(url + "/work", timeout=10).text, range(count)))
    return {int(body) for body in bodies}


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
def test_scrape_sums_workers_and_survives_a_dead_worker(server: Server, signum: int) -> None:
    """Requests spread over 3 workers are counted exactly; a worker killed and respawned
    loses nothing and counts nothing twice; every scrape (any worker) agrees."""
    sent, served_by = _spread(server.url, REQUESTS)
    assert len(served_by) >= 2
    assert scrape(server.url + "/metrics")[COUNT] == float(sent)
    victim = sorted(served_by)[0]
    os.kill(victim, signum)
    wait_until(lambda: victim not in server.worker_pids() and len(server.worker_pids()) == 3)
    for _ in range(6):  # several scrapes, landing on different workers
        assert scrape(server.url + "/metrics")[COUNT] == float(sent)
    _send(server.url, 9)
    assert scrape(server.url + "/metrics")[COUNT] == float(sent + 9)
    leftovers = sorted(p.name for p in server.metrics_dir.glob(f"*_{victim}.*"))
    assert leftovers == []


def test_active_requests_of_a_killed_worker_are_dropped(server: Server) -> None:
    """A worker killed in the middle of a request: its in-flight gauge is gone, the
    request it never finished is not counted."""
    _send(server.url, 12)
    slow = threading.Thread(target=_slow_request, args=(server.url,), daemon=True)
    slow.start()
    wait_until(lambda: server.slow_pid_file.exists() and server.slow_pid_file.read_text())
    assert scrape(server.url + "/metrics")[ACTIVE] == 1.0
    victim = int(server.slow_pid_file.read_text())
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: victim not in server.worker_pids() and len(server.worker_pids()) == 3)
    totals = scrape(server.url + "/metrics")
    assert totals == {COUNT: 12.0, ACTIVE: 0.0}
    slow.join(timeout=30)


def test_metrics_port_in_the_master_serves_the_sum(tmp_path: Path) -> None:
    """TOOLKIT_METRICS_PORT: the master serves the workers' sum on its own port (with the
    token), and the app's port no longer answers /metrics itself."""
    metrics_port = free_port()
    env = {
        "TOOLKIT_METRICS_PORT": str(metrics_port),
        "TOOLKIT_METRICS_HOST": "127.0.0.1",
        "TOOLKIT_METRICS_TOKEN": "tok",
    }
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    headers = {"authorization": "Bearer tok"}
    started = Server(tmp_path, "sync", "tests._multiprocess_apps:wsgi", env, ready="/work")
    try:
        _send(started.url, 15)
        response = httpx.get(metrics_url, headers=headers, timeout=10)
        # 15 requests, plus the one that found the server ready.
        assert scrape_text(response.text)[COUNT] == 16.0
        assert httpx.get(metrics_url, timeout=10).status_code == 401
        # The app's own /metrics is now an ordinary (counted) request.
        assert httpx.get(started.url + "/metrics", timeout=10).status_code == 200
        again = scrape_text(httpx.get(metrics_url, headers=headers, timeout=10).text)
        assert again[COUNT] == 17.0
    finally:
        started.stop()


def test_without_a_directory_gunicorn_uses_a_temporary_one(tmp_path: Path) -> None:
    """No PROMETHEUS_MULTIPROC_DIR: the hooks make a temporary directory, the workers
    share it (exact sum), and it is removed when gunicorn exits."""
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(tmp_path / "gunicorn.log", "wb") as log:
        process = subprocess.Popen(
            [
                str(GUNICORN),
                "-c",
                "python:toolkit.gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "tests._multiprocess_apps:wsgi",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: httpx.get(url + "/metrics", timeout=2).status_code == 200)
            _send(url, 10)
            assert scrape(url + "/metrics")[COUNT] == 10.0
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)
    text = (tmp_path / "gunicorn.log").read_text()
    directory = text.split("toolkit: worker metrics in ", 1)[1].split()[0]
    assert directory.startswith(tempfile.gettempdir())
    assert not Path(directory).exists()


SERVER_FAMILIES = (
    semconv.HTTP_SERVER_REQUEST_DURATION,
    semconv.HTTP_SERVER_ACTIVE_REQUESTS,
    semconv.HTTP_SERVER_REQUEST_BODY_SIZE,
    semconv.HTTP_SERVER_RESPONSE_BODY_SIZE,
)


def declared_types(text: str) -> dict[str, str]:
    """``# TYPE`` lines of an exposition: family name -> type."""
    return {
        parts[2]: parts[3]
        for parts in (line.split() for line in text.splitlines())
        if parts[:2] == ["#", "TYPE"]
    }


@pytest.mark.parametrize("separate_port", [False, True], ids=["app-port", "metrics-port"])
def test_every_family_is_declared_from_the_first_scrape(
    tmp_path: Path, separate_port: bool
) -> None:
    """Before any request (metrics port in the master), and after GET-only traffic (no
    request body), every HTTP server family has its TYPE line."""
    metrics_port = free_port()
    env = (
        {"TOOLKIT_METRICS_PORT": str(metrics_port), "TOOLKIT_METRICS_HOST": "127.0.0.1"}
        if separate_port
        else {}
    )
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics" if separate_port else None
    started = Server(tmp_path, "sync", "tests._multiprocess_apps:wsgi", env, ready="/work")
    try:
        url = metrics_url or started.url + "/metrics"
        if separate_port:
            # The master, before any worker recorded anything but the readiness probe.
            first = declared_types(httpx.get(url, timeout=10).text)
            assert {name: first.get(name) for name in SERVER_FAMILIES} == {
                semconv.HTTP_SERVER_REQUEST_DURATION: "histogram",
                semconv.HTTP_SERVER_ACTIVE_REQUESTS: "gauge",
                semconv.HTTP_SERVER_REQUEST_BODY_SIZE: "histogram",
                semconv.HTTP_SERVER_RESPONSE_BODY_SIZE: "histogram",
            }
        _send(started.url, 3)
        after = declared_types(httpx.get(url, timeout=10).text)
        assert {name: after.get(name) for name in SERVER_FAMILIES} == {
            semconv.HTTP_SERVER_REQUEST_DURATION: "histogram",
            semconv.HTTP_SERVER_ACTIVE_REQUESTS: "gauge",
            semconv.HTTP_SERVER_REQUEST_BODY_SIZE: "histogram",
            semconv.HTTP_SERVER_RESPONSE_BODY_SIZE: "histogram",
        }
    finally:
        started.stop()
