"""What an on-call engineer meets, replayed by the real promtool against the generated rules.

Each scenario feeds series a real service would export and states when each alert must
be firing or silent. The expectations are written from the scenario, not from the rules:
a total outage pages 2 minutes after the first failure, 2 % errors on a 99.9 % objective
page 45 minutes in, 0.05 % never does; one target of three down is a ticket, not a page;
a missing latency bucket and missing request metrics raise their own tickets instead of
a page; one failure among a request every 10 minutes no longer pages.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from _generate_support import make_service

from toolkit.catalog.model import Alerting, Catalog, LatencySLO
from toolkit.generate import generate, write_output

PROMTOOL = shutil.which("promtool")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.prometheus,
    pytest.mark.skipif(
        PROMTOOL is None, reason="promtool not installed (Debian package prometheus)"
    ),
]

COUNT = "http_server_request_duration_seconds_count"
BUCKET = "http_server_request_duration_seconds_bucket"
BASELINE = 360  # six healthy hours: every page window is full before the trouble starts
# 99.9 % availability over 30 days, 99 % of requests within 250 ms (le="0.25").
CATALOG = (
    make_service("orders", latency=LatencySLO(0.25, 99.0)),
    make_service("unguarded", latency=None, alerting=Alerting(min_requests=0)),
    make_service("batch", latency=None, alerting=Alerting(expect_traffic=False)),
)


def counter(*phases: tuple[int, int]) -> str:
    """A counter from 0 growing by ``per_minute`` for ``minutes``, phase after phase."""
    value, parts = 0, ["0"]
    for minutes, per_minute in phases:
        parts.append(f"{value + per_minute}+{per_minute}x{minutes - 1}")
        value += per_minute * minutes
    return " ".join(parts)


def requests(
    job: str, ok: str, errors: str, *, buckets: Sequence[str] = ("0.25",)
) -> list[dict[str, str]]:
    """Count series of 2xx and 5xx responses, each request fast (inside every bucket)."""
    series = []
    for status, values in (("200", ok), ("500", errors)):
        labels = f'job="{job}",http_response_status_code="{status}"'
        series.append({"series": f"{COUNT}{{{labels}}}", "values": values})
        series += [
            {"series": f'{BUCKET}{{{labels},le="{le}"}}', "values": values} for le in buckets
        ]
    return series


def up(job: str, values: str, instance: str = "app-1:8000") -> dict[str, str]:
    """The scrape health of one target."""
    return {"series": f'up{{job="{job}",instance="{instance}"}}', "values": values}


@dataclass
class Scenario:
    """Series, and the minutes at which alerts must fire or stay silent."""

    name: str
    series: list[dict[str, str]]
    firing: list[tuple[int, str]] = field(default_factory=list)
    silent: list[tuple[int, str]] = field(default_factory=list)

    def promtool_case(self) -> dict[str, Any]:
        """One promtool test case asserting on ``ALERTS`` at each stated minute."""
        checks = [(m, a, True) for m, a in self.firing] + [(m, a, False) for m, a in self.silent]
        return {
            "name": self.name,
            "interval": "1m",
            "input_series": self.series,
            "promql_expr_test": [
                {
                    "expr": f'count(ALERTS{{alertname="{alert}",alertstate="firing"}})',
                    "eval_time": f"{minute}m",
                    "exp_samples": [{"labels": "{}", "value": 1}] if firing else [],
                }
                for minute, alert, firing in checks
            ],
        }


def _outage() -> Scenario:
    # Healthy at 60 requests a minute, then every request fails from minute 361.
    series = [
        up("orders", f"1x{BASELINE + 60}"),
        *requests("orders", counter((BASELINE, 60), (60, 0)), counter((BASELINE, 0), (60, 60))),
    ]
    return Scenario(
        "a total outage pages within 2 minutes",
        series,
        firing=[(BASELINE + 3, "OrdersAvailabilityFastBurn")],
        silent=[(BASELINE, "OrdersAvailabilityFastBurn"), (BASELINE + 3, "OrdersServiceDown")],
    )


def _two_percent() -> Scenario:
    # 2 % of requests fail from minute 361: above 14.4x the 0.1 % budget once the last
    # hour holds enough of them.
    series = [
        up("orders", f"1x{BASELINE + 120}"),
        *requests("orders", counter((BASELINE, 100), (120, 98)), counter((BASELINE, 0), (120, 2))),
    ]
    return Scenario(
        "2 % errors on a 99.9 % objective page within the hour",
        series,
        firing=[(BASELINE + 50, "OrdersAvailabilityFastBurn")],
        silent=[(BASELINE + 40, "OrdersAvailabilityFastBurn")],
    )


def _a_twentieth_percent() -> Scenario:
    # One request in 2,000 fails, for a whole day: half the budget's sustainable rate.
    day = 1440
    series = [
        up("orders", f"1x{day}"),
        *requests("orders", counter((day, 1999)), counter((day, 1))),
    ]
    burns = [
        "OrdersAvailabilityFastBurn",
        "OrdersAvailabilitySlowBurn",
        "OrdersLatencyFastBurn",
        "OrdersLatencySlowBurn",
    ]
    return Scenario(
        "0.05 % errors never fire",
        series,
        silent=[(minute, alert) for minute in (60, 360, day) for alert in burns],
    )


def _one_of_three_down() -> Scenario:
    # app-1 stops answering its scrapes at minute 31; app-2 and app-3 serve on.
    healthy = f"1x{30 + 20}"
    series = [
        up("orders", "1x30 0x20"),
        up("orders", healthy, "app-2:8000"),
        up("orders", healthy, "app-3:8000"),
        *requests("orders", counter((50, 60)), counter((50, 0))),
    ]
    return Scenario(
        "one target of three down is a ticket, not a page",
        series,
        firing=[(40, "OrdersTargetDown")],
        silent=[
            (40, "OrdersServiceDown"),
            (40, "OrdersAvailabilityFastBurn"),
            (34, "OrdersTargetDown"),
        ],
    )


def _every_target_down() -> Scenario:
    down = "1x30 0x20"
    series = [
        up("orders", down),
        up("orders", down, "app-2:8000"),
        up("orders", down, "app-3:8000"),
        *requests("orders", counter((50, 60)), counter((50, 0))),
    ]
    return Scenario(
        "every target down pages after 5 minutes",
        series,
        firing=[(37, "OrdersServiceDown")],
        silent=[(34, "OrdersServiceDown")],
    )


def _missing_bucket() -> Scenario:
    # The app's histogram has other boundaries: no le="0.25" bucket at all.
    series = [
        up("orders", "1x40"),
        *requests("orders", counter((40, 60)), counter((40, 0)), buckets=("0.1", "0.5")),
    ]
    return Scenario(
        "a missing latency bucket raises its ticket, not a latency page",
        series,
        firing=[(20, "OrdersLatencyBucketMissing")],
        silent=[
            (10, "OrdersLatencyBucketMissing"),
            (40, "OrdersLatencyFastBurn"),
            (40, "OrdersLatencySlowBurn"),
        ],
    )


def _one_request_every_ten_minutes(job: str) -> list[dict[str, str]]:
    """A request every 10 minutes for 7 hours; the one at minute 400 fails."""
    ok, errors, ok_values, error_values = 0, 0, ["0"], ["0"]
    for minute in range(1, 421):
        if minute % 10 == 0:
            if minute == 400:
                errors += 1
            else:
                ok += 1
        ok_values.append(str(ok))
        error_values.append(str(errors))
    return [up(job, "1x420"), *requests(job, " ".join(ok_values), " ".join(error_values))]


def _low_traffic() -> Scenario:
    return Scenario(
        "one failure among a request every 10 minutes does not page",
        _one_request_every_ten_minutes("orders"),
        silent=[(minute, "OrdersAvailabilityFastBurn") for minute in (400, 405, 420)],
    )


def _low_traffic_unguarded() -> Scenario:
    return Scenario(
        "without the guard (min_requests: 0) that one failure pages",
        _one_request_every_ten_minutes("unguarded"),
        firing=[(400, "UnguardedAvailabilityFastBurn"), (430, "UnguardedAvailabilityFastBurn")],
        silent=[(399, "UnguardedAvailabilityFastBurn")],
    )


def _metrics_missing() -> Scenario:
    # Both targets answer their scrapes, but neither exports request series.
    return Scenario(
        "a target up without request metrics for an hour raises a ticket",
        [up("orders", "1x70"), up("batch", "1x70")],
        firing=[(61, "OrdersMetricsMissing")],
        silent=[(59, "OrdersMetricsMissing"), (70, "BatchMetricsMissing")],
    )


def _zero_traffic() -> Scenario:
    burns = ["OrdersAvailabilityFastBurn", "OrdersAvailabilitySlowBurn", "OrdersLatencyFastBurn"]
    return Scenario(
        "no traffic at all stays silent",
        [up("orders", "1x120"), *requests("orders", counter((120, 0)), counter((120, 0)))],
        silent=[
            (minute, alert) for minute in (30, 120) for alert in [*burns, "OrdersMetricsMissing"]
        ],
    )


SCENARIOS = [
    _outage(),
    _two_percent(),
    _a_twentieth_percent(),
    _one_of_three_down(),
    _every_target_down(),
    _missing_bucket(),
    _low_traffic(),
    _low_traffic_unguarded(),
    _metrics_missing(),
    _zero_traffic(),
]


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated rules of the scenario catalog, written out."""
    root = tmp_path_factory.mktemp("scenarios")
    write_output(root, generate(Catalog(root / "services.yaml", CATALOG)))
    return root / "alert-rules"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario: Scenario, rules: Path) -> None:
    """promtool replays the scenario against the generated rules; every check holds."""
    assert PROMTOOL is not None
    test_file = rules / f"scenario-{SCENARIOS.index(scenario)}.yaml"
    document = {
        "rule_files": sorted(p.name for p in rules.glob("*.rules.yaml")),
        "evaluation_interval": "1m",
        "tests": [scenario.promtool_case()],
    }
    test_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    result = subprocess.run(
        [PROMTOOL, "test", "rules", test_file.name],
        cwd=rules,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_idle_services_have_no_metrics_missing_rule(rules: Path) -> None:
    """``expect_traffic: false`` leaves the rule out: there is nothing to fire."""
    text = (rules / "batch.rules.yaml").read_text(encoding="utf-8")
    assert "BatchMetricsMissing" not in text
    assert "OrdersMetricsMissing" in (rules / "orders.rules.yaml").read_text(encoding="utf-8")
