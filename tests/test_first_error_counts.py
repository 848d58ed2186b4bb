"""The first 5xx of every route and status counts: the SLI event counts the generated rules
and panels use see it on a real Prometheus, where a plain ``increase()`` does not."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _generate_support import make_service

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
from toolkit.generate.plan.sli import availability_error_ratio, event_count
from toolkit.generate.promql import ServiceQueries

ROOT = Path(__file__).resolve().parent.parent
AREAS = ("a", "b", "c", "d", "e")
ERROR_STATUSES = (500, 502, 503)
WINDOW = "15m"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.prometheus,
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed"),
]


@pytest.fixture
def urls(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(app, Prometheus): the app under uvicorn, scraped every second as job "shop"."""
    port = free_port()
    command = uvicorn_command("tests._first_error_app:app", port, options=["--no-access-log"])
    with running(command, tmp_path / "uvicorn.log", cwd=ROOT, stop_seconds=15) as started:
        app = f"http://127.0.0.1:{port}"
        wait_until_http_ok(app + "/metrics", started=started)
        with run_prometheus(tmp_path, {"shop": f"127.0.0.1:{port}"}) as prometheus:
            yield app, prometheus


def query(prometheus: str, expr: str) -> float:
    """The single value of an instant query (0 when it returns nothing)."""
    response = httpx.get(prometheus + "/api/v1/query", params={"query": expr}, timeout=10)
    response.raise_for_status()
    result = response.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def test_every_error_is_counted_including_each_series_first(urls: tuple[str, str]) -> None:
    """23 5xx answers, 15 of them the first of a new (route, status) series: the event
    count the SLIs use sees 23 (within 5 %); a plain ``increase()`` misses most firsts."""
    app, prometheus = urls
    service = make_service("shop")
    queries = ServiceQueries.of(service)
    count = semconv.HTTP_SERVER_REQUEST_DURATION + "_count"
    errors = f'{semconv.LABEL_STATUS_CODE}=~"5.."'
    for area in AREAS:  # healthy traffic first: the total series exist before the errors
        assert httpx.get(f"{app}/{area}/200", timeout=5).status_code == 200
    wait_until(lambda: query(prometheus, f'sum({count}{{job="shop"}})') >= len(AREAS))
    firsts = [f"/{a}/{s}" for a, s in itertools.product(AREAS, ERROR_STATUSES)]
    repeats = firsts[:8]
    sent = 0
    for path in [*firsts, *repeats]:
        assert httpx.get(app + path, timeout=5).status_code >= 500
        sent += 1
    assert sent == 23
    wait_until(lambda: query(prometheus, f'sum({count}{{job="shop",{errors}}})') == sent)

    counted = query(prometheus, event_count(queries, count, WINDOW, errors))
    plain = query(prometheus, f'sum(increase({count}{{job="shop",{errors}}}[{WINDOW}]))')
    assert abs(counted - sent) <= 0.05 * sent, counted
    assert plain < 0.9 * sent, plain  # the problem the event count solves
    ratio = query(prometheus, availability_error_ratio(queries, WINDOW))
    assert abs(ratio - sent / (sent + len(AREAS))) <= 0.05 * sent / (sent + len(AREAS)), ratio
