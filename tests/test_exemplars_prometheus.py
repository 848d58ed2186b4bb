"""A real Prometheus with exemplar storage scrapes the app and returns its trace_id exemplar."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests._multiprocess_support import free_port, wait_until
from toolkit import semconv

ROOT = Path(__file__).resolve().parent.parent
UVICORN = Path(sys.executable).with_name("uvicorn")
PROMETHEUS = shutil.which("prometheus")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed"),
]


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as handle:
        return subprocess.Popen(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[str]:
    """The traced app under uvicorn on 127.0.0.1."""
    port = free_port()
    process = _start(
        [
            str(UVICORN),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "tests._exemplar_app:app",
        ],
        tmp_path / "uvicorn.log",
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(url + "/metrics", timeout=2).status_code == 200)
        yield url
    finally:
        _stop(process)


@pytest.fixture
def prometheus_url(tmp_path: Path, app_url: str) -> Iterator[str]:
    """Prometheus 2.x with exemplar storage, scraping the app every second."""
    port = free_port()
    config = tmp_path / "prometheus.yml"
    target = app_url.removeprefix("http://")
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        f"scrape_configs:\n  - job_name: exemplars\n    static_configs:\n"
        f"      - targets: ['{target}']\n"
    )
    assert PROMETHEUS is not None
    process = _start(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--enable-feature=exemplar-storage",
        ],
        tmp_path / "prometheus.log",
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(url + "/-/ready", timeout=2).status_code == 200, 30)
        yield url
    finally:
        _stop(process)


def test_prometheus_returns_the_trace_id_exemplar(app_url: str, prometheus_url: str) -> None:
    """query_exemplars on the duration buckets returns the trace_id the request ran under."""
    trace_id = httpx.get(app_url + "/traced", timeout=5).text
    assert len(trace_id) == 32
    start = time.time() - 60
    found: list[dict[str, str]] = []

    def exemplar_seen() -> bool:
        response = httpx.get(
            prometheus_url + "/api/v1/query_exemplars",
            params={
                "query": semconv.HTTP_SERVER_REQUEST_DURATION + "_bucket",
                "start": str(start),
                "end": str(time.time() + 60),
            },
            timeout=5,
        )
        found[:] = [
            exemplar["labels"]
            for series in response.json()["data"]
            for exemplar in series["exemplars"]
        ]
        return bool(found)

    wait_until(exemplar_seen, 30)
    assert found == [{semconv.EXEMPLAR_TRACE_ID: trace_id}]
