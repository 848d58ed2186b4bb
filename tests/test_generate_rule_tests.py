"""Generated promtool test cases: series notation, exact expected values, coverage."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from _generate_support import make_service, rule_group

from toolkit._resources import templates_dir
from toolkit.catalog.model import Alerting
from toolkit.generate.rule_tests import (
    Phase,
    _counter,
    _failure_split,
    build_test_cases,
    promtool_tests,
)
from toolkit.generate.texts import AlertTexts


def test_counter_notation() -> None:
    """A counter over phases in promtool's expanding notation, starting at 0."""
    phases = [Phase(3, ok=60), Phase(2, errors=60)]
    assert _counter(tuple(phases), "fast_ok") == "0 60+60x2 180+0x1"
    assert _counter(tuple(phases), "errors") == "0 0+0x2 60+60x1"


def test_every_alert_has_a_firing_case_and_two_quiet_cases() -> None:
    """Healthy and zero-traffic cases expect silence from every alert; each alert fires once
    (the breaker alert also has two quiet cases of its own)."""
    group = rule_group(make_service())
    cases = build_test_cases(group)
    assert [c["name"] for c in cases] == [
        "healthy traffic: no alert fires",
        "no traffic at all: no alert fires (no NaN, no false page)",
        "OrdersAvailabilityFastBurn and OrdersAvailabilitySlowBurn fire on requests failing "
        "above the threshold",
        "OrdersLatencyFastBurn and OrdersLatencySlowBurn fire on requests failing above the "
        "threshold",
        "OrdersServiceDown fires when every target stops answering",
        "OrdersTargetDown fires for the one target of three that stops answering",
        "OrdersTargetAbsent fires when Prometheus has no target for the service",
        "OrdersMetricsMissing fires when a target that is up exports no request series",
        "OrdersLatencyBucketMissing fires, not a latency page, when the SLO's bucket is missing",
        "OrdersCircuitBreakerOpen fires once a breaker stays open, resolves when it closes",
        "OrdersCircuitBreakerOpen stays silent while breakers open only briefly or stay closed",
        "OrdersCircuitBreakerOpen stays silent without any circuit-breaker metrics",
        "OrdersSpansDropped fires once spans have been dropped for 15 minutes",
        "OrdersSpansDropped stays silent while the dropped-spans counter is flat",
        "OrdersReadinessCheckFailing fires for a check failing for 10 minutes, not a passing one",
    ]
    for quiet in cases[:2]:
        assert {t["alertname"] for t in quiet["alert_rule_test"]} == {a.alert for a in group.alerts}
        assert all(t["exp_alerts"] == [] for t in quiet["alert_rule_test"])


def test_firing_case_expects_exact_labels_and_expanded_annotations() -> None:
    """The expected alert carries every label and the description with $value filled in."""
    group = rule_group(make_service(alert_labels={"region": "eu-west"}))
    case = build_test_cases(group)[2]
    quiet, _, firing, _ = case["alert_rule_test"]
    assert (quiet["eval_time"], quiet["exp_alerts"]) == ("10m", [])
    assert firing["eval_time"] == "25m"
    (expected,) = firing["exp_alerts"]
    assert expected["exp_labels"] == {
        "region": "eu-west",
        "severity": "critical",
        "service": "orders",
        "team": "checkout",
        "slo": "availability",
    }
    assert expected["exp_annotations"]["description"].startswith(
        "50% of the requests to orders failed with a 5xx status over the last 1h or 6h"
    )


@pytest.mark.parametrize(
    ("threshold", "split"),
    [
        ("0.0144", (1, 1, "50%")),
        ("0.72", (1, 3, "75%")),  # a 95 % objective's 14.4x: 1:1 is not enough
        ("0.985", (1, 99, "99%")),
        ("0.999", (0, 1, "100%")),
    ],
)
def test_failure_split(threshold: str, split: tuple[int, int, str]) -> None:
    """Good and bad requests per failing minute: the first round share above the
    threshold, and the $value Prometheus writes for it."""
    assert _failure_split(Decimal(threshold)) == split


def test_burn_cases_pass_the_low_traffic_guard() -> None:
    """A service that needs many requests in a window gets enough in its burn cases."""
    service = make_service(latency=None, alerting=Alerting(min_requests=6000))
    case = build_test_cases(rule_group(service))[2]
    errors = next(s for s in case["input_series"] if 'code="500"' in s["series"])
    assert errors["values"] == "0 0+0x9 400+400x14"  # 800 a minute, half bad: 5m holds 4000+


def test_breaker_cases_fire_after_for_and_resolve() -> None:
    """Open from 10m to 25m: pending at 11m, firing at 25m with job and name, gone at 34m."""
    group = rule_group(make_service(alert_labels={"region": "eu-west"}))
    fires, brief, absent = build_test_cases(group)[-6:-3]
    billing_open = next(
        s
        for s in fires["input_series"]
        if 'name="billing"' in s["series"] and "open" in s["series"]
    )
    assert billing_open == {
        "series": 'circuitbreaker_state{job="orders",name="billing",state="open"}',
        "values": "0x9 1x15 0x9",
    }
    checks = [(t["eval_time"], len(t["exp_alerts"])) for t in fires["alert_rule_test"]]
    assert checks == [("11m", 0), ("25m", 1), ("34m", 0)]
    (expected,) = fires["alert_rule_test"][1]["exp_alerts"]
    assert expected["exp_labels"] == {
        "job": "orders",
        "name": "billing",
        "region": "eu-west",
        "severity": "warning",
        "service": "orders",
        "team": "checkout",
    }
    assert expected["exp_annotations"]["summary"] == "orders: circuit breaker billing is open"
    assert [t["exp_alerts"] for t in brief["alert_rule_test"]] == [[], []]
    assert [s["series"].split("{")[0] for s in absent["input_series"]] == ["up"]


def test_burn_cases_fail_the_way_the_objective_counts() -> None:
    """Availability cases fail with 5xx responses, latency cases with slow 2xx ones."""
    cases = {c["name"].split()[0]: c for c in build_test_cases(rule_group(make_service()))}

    def values(case: dict[str, Any], fragment: str) -> str:
        (series,) = [s for s in case["input_series"] if fragment in s["series"]]
        return str(series["values"])

    count_500 = 'http_server_request_duration_seconds_count{http_response_status_code="500"'
    bucket_200 = 'http_server_request_duration_seconds_bucket{http_response_status_code="200"'
    availability = cases["OrdersAvailabilityFastBurn"]
    assert values(availability, count_500) == "0 0+0x9 30+30x14"
    latency = cases["OrdersLatencyFastBurn"]
    assert set(values(latency, count_500).split()) == {"0", "0+0x9", "0+0x14"}
    assert values(latency, bucket_200) == "0 0+0x9 30+30x14"  # the slow half is not in it


def test_promtool_test_file() -> None:
    """The test file names its rule file, the evaluation interval and every case."""
    group = rule_group(make_service())
    document = promtool_tests(group, "orders.rules.yaml")
    assert document == {
        "rule_files": ["orders.rules.yaml"],
        "evaluation_interval": "1m",
        "tests": build_test_cases(group),
    }


def test_value_is_expanded_as_prometheus_does_in_every_kind_of_text(tmp_path: Path) -> None:
    """An override may use ``a.value`` in any text (the template's header says so): the
    expected annotations hold what humanizePercentage writes for the alert's value."""
    text = (templates_dir() / "alert-texts.j2").read_text(encoding="utf-8")
    (tmp_path / "alert-texts.j2").write_text(
        text.replace("-%}\n{{ a.service }}:", "-%}\n{{ a.value }} {{ a.service }}:"),
        encoding="utf-8",
    )
    group = rule_group(make_service(), AlertTexts(tmp_path))
    summaries = {
        case["name"]: alert["exp_annotations"]["summary"]
        for case in build_test_cases(group)
        for check in case["alert_rule_test"]
        for alert in check["exp_alerts"]
    }
    target_down = "OrdersTargetDown fires for the one target of three that stops answering"
    assert summaries[target_down].startswith("0% ")
    assert summaries["OrdersServiceDown fires when every target stops answering"].startswith(
        "100% "
    )
    breaker = "OrdersCircuitBreakerOpen fires once a breaker stays open, resolves when it closes"
    assert summaries[breaker].startswith("100% ")


def test_series_names_sort_labels_and_keep_braces_in_values() -> None:
    """Series names carry the service's selector labels sorted with the case's own, and
    label values are written as they are, braces and quotes included (the names are
    filled into templates shared by services with the same label names)."""
    group = rule_group(make_service(labels={"zone": 'a{0}"b', "env": "prod}"}))
    other = rule_group(make_service("billing", labels={"zone": "z", "env": "e"}))
    up = 'up{env="prod}",instance="app:8000",job="orders",zone="a{0}\\"b"}'
    healthy = build_test_cases(group)[0]["input_series"]
    assert healthy[0]["series"] == up
    assert healthy[1]["series"] == (
        'http_server_request_duration_seconds_count{env="prod}",http_response_status_code="200",'
        'job="orders",zone="a{0}\\"b"}'
    )
    other_up = build_test_cases(other)[0]["input_series"][0]["series"]
    assert other_up == 'up{env="e",instance="app:8000",job="billing",zone="z"}'


def test_series_names_keep_percent_signs_and_let_the_case_label_win() -> None:
    """Values with ``%`` are written as they are (the names are filled into ``%``
    templates), and a selector label the case sets itself (``instance``) takes the
    case's value."""
    group = rule_group(make_service(labels={"zone": "50%(job)s %s", "instance": "x"}))
    up = build_test_cases(group)[0]["input_series"][0]["series"]
    assert up == 'up{instance="app:8000",job="orders",zone="50%(job)s %s"}'
