"""A real Prometheus with exemplar storage scrapes the app and returns its trace_id exemplar."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests._processes import (
    PROMETHEUS,
    free_port,
    run_prometheus,
    running,
    uvicorn_command,
    wait_until,
    wait_until_http_ok,
)
from toolkit import semconv

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.prometheus,
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed"),
]


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[str]:
    """The traced app under uvicorn on 127.0.0.1."""
    port = free_port()
    command = uvicorn_command("tests._exemplar_app:app", port, options=["--no-access-log"])
    with running(command, tmp_path / "uvicorn.log", cwd=ROOT, stop_seconds=15) as started:
        url = f"http://127.0.0.1:{port}"
        wait_until_http_ok(url + "/metrics", started=started)
        yield url


@pytest.fixture
def prometheus_url(tmp_path: Path, app_url: str) -> Iterator[str]:
    """Prometheus 2.x with exemplar storage, scraping the app every second."""
    target = app_url.removeprefix("http://")
    with run_prometheus(tmp_path, {"exemplars": target}, features=["exemplar-storage"]) as url:
        yield url


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
