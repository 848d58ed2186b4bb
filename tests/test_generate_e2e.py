"""End to end: a real Prometheus scrapes an instrumented app and loads the generated rules;
every PromQL expression of every generated panel runs and returns data.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from _generate_support import evaluate_every_group_often, make_service
from _processes import (
    PROMETHEUS,
    free_port,
    run_prometheus,
    running,
    uvicorn_command,
    wait_until_http_ok,
)

from toolkit import semconv
from toolkit.catalog.model import Catalog
from toolkit.generate import DashboardMode, GenerateOptions, generate, write_output

JOB = "shop-e2e"
TESTS = Path(__file__).resolve().parent
RATE_INTERVAL = "1m"  # what Grafana would put in $__rate_interval (>= 4 scrape intervals)
DEADLINE = 60.0  # seconds to wait for a series before giving up
ROUNDS = 4
PACE_SECONDS = 2.0  # two scrapes between rounds of traffic

pytestmark = [
    pytest.mark.slow,
    pytest.mark.prometheus,
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed (Debian package)"),
]


def _wait_until(what: str, check: Any) -> Any:
    """Poll ``check`` until it returns something truthy; fail after DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app under uvicorn, Prometheus scraping it every second with the generated rules."""
    root = tmp_path_factory.mktemp("e2e")
    catalog = Catalog(
        root / "services.yaml",
        (make_service("shop", labels={}, alert_labels={"region": "test"}),),
    )
    catalog = Catalog(catalog.path, (_with_job(catalog.services[0], JOB),))
    files = generate(catalog)
    write_output(root, files)
    templated = generate(catalog, GenerateOptions(dashboards=DashboardMode.TEMPLATED))

    app_port = free_port()
    app = uvicorn_command(
        "_generate_e2e_app:app", app_port, app_dir=TESTS, options=["--log-level", "warning"]
    )
    rules = [root / "alert-rules" / "shop.rules.yaml"]
    evaluate_every_group_often(rules[0])
    with (
        running(app, root / "app.log") as started,
        run_prometheus(root, {JOB: f"127.0.0.1:{app_port}"}, rule_files=rules) as prom,
    ):
        base = f"http://127.0.0.1:{app_port}"
        wait_until_http_ok(f"{base}/items/1", started=started, timeout=DEADLINE)
        _wait_until("a first scrape", lambda: _scraped(prom))
        # Several rounds a couple of scrapes apart: rates need increases between samples.
        for _ in range(ROUNDS):
            _drive_traffic(base)
            time.sleep(PACE_SECONDS)
        yield {"prometheus": prom, "files": files, "templated": templated, "root": root}


def _drive_traffic(base: str) -> None:
    with httpx.Client(base_url=base, timeout=10) as client:
        for number in range(20):
            client.get(f"/items/{number}")
            client.post("/items", content=b"y" * (number * 50))
        for _ in range(2):
            client.get("/unavailable")
            client.get("/slow")
        client.get("/readyz")
    # An exception: uvicorn may drop the connection after sending the 500.
    with contextlib.suppress(httpx.TransportError):
        httpx.get(f"{base}/boom", timeout=10)


def _scraped(prometheus: str) -> bool:
    result = _query(prometheus, f'up{{job="{JOB}"}} == 1')
    return bool(result.get("data", {}).get("result"))


def _with_job(service: Any, job: str) -> Any:
    from dataclasses import replace

    return replace(service, prometheus=replace(service.prometheus, job=job))


def _query(prometheus: str, expr: str) -> dict[str, Any]:
    response = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=10)
    body: dict[str, Any] = response.json()
    return body


def _has_data(prometheus: str, expr: str) -> Any:
    body = _query(prometheus, expr)
    assert body["status"] == "success", f"{expr}: {body}"
    return body["data"]["result"]


# What Grafana puts in the dashboards' variables for this service.
_VARIABLES = {"$__rate_interval": RATE_INTERVAL, "$service": "shop", "$job": JOB}


def _panel_queries(files: dict[str, str]) -> list[tuple[str, str, str]]:
    queries = []
    for path, text in files.items():
        if path.endswith(".json"):
            for panel in json.loads(text)["panels"]:
                for target in panel["targets"]:
                    expr = target["expr"]
                    for variable, value in _VARIABLES.items():
                        expr = expr.replace(variable, value)
                    queries.append((path, panel["title"], expr))
    return queries


def _emitted_by_the_middleware(expr: str) -> bool:
    # Outbound-call and breaker metrics come from the client instrumentation and the
    # circuit breaker, which this app does not use, and no telemetry failed: these
    # panels are only run.
    others = (
        semconv.HTTP_CLIENT_REQUEST_DURATION,
        semconv.CIRCUITBREAKER_STATE,
        semconv.CIRCUITBREAKER_CALLS,
        semconv.CIRCUITBREAKER_FAILURE_RATE,
        semconv.TELEMETRY_ERRORS,  # nothing failed: no series
        semconv.TELEMETRY_SPANS_DROPPED,  # tracing is off here: no span pipeline
    )
    return not any(name in expr for name in others)


def test_every_recording_rule_produces_a_series(stack: dict[str, Any]) -> None:
    """Each recorded series of the service appears in Prometheus: the base counts, every
    window's ratio, the overview series, and the whole-window group's."""
    groups = yaml.safe_load(stack["files"]["alert-rules/shop.rules.yaml"])["groups"]
    recorded = [r for group in groups for r in group["rules"] if "record" in r]
    assert len(recorded) == 22 + 8
    for rule in recorded:
        selector = ",".join(f'{k}="{v}"' for k, v in rule["labels"].items())
        expr = f"{rule['record']}{{{selector}}}"
        _wait_until(expr, lambda expr=expr: _has_data(stack["prometheus"], expr))


def test_every_rule_evaluates_without_error(stack: dict[str, Any]) -> None:
    """Prometheus reports every generated rule healthy (it parsed and evaluated)."""

    def evaluated() -> list[dict[str, Any]]:
        body = httpx.get(f"{stack['prometheus']}/api/v1/rules", timeout=10).json()
        rules = [r for g in body["data"]["groups"] for r in g["rules"]]
        return rules if rules and all(r["health"] != "unknown" for r in rules) else []

    rules = _wait_until("rules evaluated", evaluated)
    assert [
        (r["name"], r["health"], r.get("lastError", "")) for r in rules if r["health"] != "ok"
    ] == []
    assert len(rules) == 42


def test_every_panel_query_parses_and_returns_data(stack: dict[str, Any]) -> None:
    """Every target of every dashboard panel runs; those on server metrics return data."""
    queries = _panel_queries(stack["files"])
    assert len(queries) == 37  # 31 on the service dashboard, 6 on the overview
    for path, title, expr in queries:
        if _emitted_by_the_middleware(expr):
            _wait_until(
                f"{path} / {title}: {expr}", lambda expr=expr: _has_data(stack["prometheus"], expr)
            )
        else:
            _has_data(stack["prometheus"], expr)  # parses and runs; no client metrics here


def test_every_templated_panel_query_returns_data_for_the_chosen_service(
    stack: dict[str, Any],
) -> None:
    """The templated dashboard, with $service and $job set as Grafana would set them from
    the recorded objective, runs every query; those on server metrics return data."""
    prometheus = stack["prometheus"]
    objective = f'{semconv.RECORD_SLO_OBJECTIVE}{{{semconv.LABEL_SERVICE}="shop"}}'
    series = _wait_until(objective, lambda: _has_data(prometheus, objective))
    assert {s["metric"][semconv.JOB] for s in series} == {JOB}  # what $job is set from
    files = {"dashboards/service.json": stack["templated"]["dashboards/service.json"]}
    queries = _panel_queries(files)
    assert len(queries) == 28
    for path, title, expr in queries:
        assert "$" not in expr.replace("${", ""), expr
        if _emitted_by_the_middleware(expr):
            _wait_until(f"{path} / {title}: {expr}", lambda expr=expr: _has_data(prometheus, expr))
        else:
            _has_data(prometheus, expr)


def test_no_alert_fires_on_this_healthy_enough_traffic(stack: dict[str, Any]) -> None:
    """Target alerts stay quiet while the app is up and scraped."""
    body = httpx.get(f"{stack['prometheus']}/api/v1/alerts", timeout=10).json()
    names = {a["labels"]["alertname"] for a in body["data"]["alerts"]}
    assert not names & {"ShopTargetDown", "ShopTargetAbsent"}
