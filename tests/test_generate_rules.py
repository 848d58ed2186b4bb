"""Rule groups as data: recorded SLIs, burn-rate alerts, target alerts, severities."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import pytest
from _generate_support import alert_texts, make_service, plan_of, rule_group

from toolkit import semconv
from toolkit.catalog.model import Alerting, Duration, PrometheusSelector, Tier
from toolkit.generate.plan import BurnCheck
from toolkit.generate.rules import OPEN_STATE, build_rule_group

BASE = ["slo:sli_requests:increase5m", "slo:sli_errors:increase5m"]
ALERTS = [
    "OrdersAvailabilityFastBurn",
    "OrdersAvailabilitySlowBurn",
    "OrdersLatencyFastBurn",
    "OrdersLatencySlowBurn",
    "OrdersServiceDown",
    "OrdersTargetDown",
    "OrdersTargetAbsent",
    "OrdersMetricsMissing",
    "OrdersLatencyBucketMissing",
    "OrdersCircuitBreakerOpen",
    "OrdersSpansDropped",
    "OrdersReadinessCheckFailing",
]


def test_the_pyramid_base_counts_then_every_window_then_the_slo_window_apart() -> None:
    """Per SLI: the 5-minute base counts, then the seven windows the alerts read; the
    5-minute tiles, the whole SLO window and the budget left in their own group."""
    group = rule_group(make_service())
    assert group.name == "orders"
    recorded = [(r.record, r.labels["slo"]) for r in group.recording_rules]
    windows = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    assert recorded == [
        (name, slo)
        for slo in ("availability", "latency")
        for name in [*BASE, *(f"slo:sli_error:ratio_rate{w}" for w in windows)]
    ] + [
        (name, slo)
        for slo in ("availability", "latency")
        for name in ["slo:objective:ratio", "slo:page_burn_rate:ratio"]
    ]
    assert [(r.record, r.labels["slo"]) for r in group.window_rules] == [
        (name, slo)
        for slo in ("availability", "latency")
        for name in [
            "slo:sli_requests:tiled5m",
            "slo:sli_errors:tiled5m",
            "slo:sli_error:ratio_rate30d",
            "slo:period_error_budget_remaining:ratio",
        ]
    ]


def test_no_window_reads_the_raw_series_but_the_base() -> None:
    """Only the base counts read raw series (latency's requests not even those: they are
    availability's); every window sums the recorded base."""
    group = rule_group(make_service())
    raw = {
        (rule.record, rule.labels["slo"])
        for rule in (*group.recording_rules, *group.window_rules)
        if "http_server_request_duration_seconds" in rule.expr
    }
    assert raw == {
        ("slo:sli_requests:increase5m", "availability"),
        ("slo:sli_errors:increase5m", "availability"),
        ("slo:sli_errors:increase5m", "latency"),  # the threshold's bucket
    }
    ratio_1h = next(r for r in group.recording_rules if r.record.endswith("ratio_rate1h"))
    selector = '{service="orders",slo="availability"}'
    assert ratio_1h.expr == (
        f"sum_over_time(slo:sli_errors:increase5m{selector}[1h]) / "
        f"(sum_over_time(slo:sli_requests:increase5m{selector}[1h]) > 0)"
    )


def test_overview_series_are_recorded_under_uniform_names() -> None:
    """Objective (a constant), budget left over the window and page burn rate, labelled alike."""
    group = rule_group(make_service())
    rules = {(r.record, r.labels["slo"]): r for r in group.recording_rules}
    objective = rules["slo:objective:ratio", "latency"]
    assert objective.expr == "vector(0.99)"
    assert objective.labels == {
        "service": "orders",
        "slo": "latency",
        "team": "checkout",
        "tier": "critical",
        "dashboard": "svc-orders",
        "job": "orders",
    }
    window = {(r.record, r.labels["slo"]): r for r in group.window_rules}
    # Only the objective carries the job (the templated dashboard reads it from there).
    assert "job" not in rules["slo:page_burn_rate:ratio", "latency"].labels
    assert "job" not in window["slo:period_error_budget_remaining:ratio", "latency"].labels
    assert window["slo:period_error_budget_remaining:ratio", "latency"].labels == {
        k: v for k, v in objective.labels.items() if k != "job"
    }
    burn = rules["slo:page_burn_rate:ratio", "availability"]
    assert burn.expr == ('slo:sli_error:ratio_rate1h{service="orders",slo="availability"} / 0.001')
    budget = window["slo:period_error_budget_remaining:ratio", "availability"]
    assert budget.expr == (
        '1 - (slo:sli_error:ratio_rate30d{service="orders",slo="availability"} / 0.001)'
    )


def test_alert_names_and_exact_thresholds() -> None:
    """CamelCase names; thresholds are factor x budget written exactly."""
    group = rule_group(make_service())
    assert [a.alert for a in group.alerts] == ALERTS
    fast = group.alerts[0]
    requests = 'slo:sli_requests:increase5m{service="orders",slo="availability"}'
    assert fast.expr == (
        '(slo:sli_error:ratio_rate1h{service="orders",slo="availability"} > 0.0144 and '
        'slo:sli_error:ratio_rate5m{service="orders",slo="availability"} > 0.0144 and '
        f"avg_over_time({requests}[1h]) * 12 >= 100) or "
        '(slo:sli_error:ratio_rate6h{service="orders",slo="availability"} > 0.006 and '
        'slo:sli_error:ratio_rate30m{service="orders",slo="availability"} > 0.006 and '
        f"avg_over_time({requests}[6h]) * 72 >= 100)"
    )
    assert "0.0009999" not in "".join(a.expr for a in group.alerts)


@pytest.mark.parametrize(
    ("tier", "page", "ticket"),
    [
        (Tier.CRITICAL, "critical", "warning"),
        (Tier.STANDARD, "warning", "info"),
        (Tier.EXPERIMENTAL, "info", "info"),
    ],
)
def test_severity_follows_the_tier(tier: Tier, page: str, ticket: str) -> None:
    """Fast burn, service down and no target take the tier's page severity; everything
    else its ticket one."""
    severities = {a.alert: a.labels["severity"] for a in rule_group(make_service(tier=tier)).alerts}
    pages = {"OrdersAvailabilityFastBurn", "OrdersLatencyFastBurn", "OrdersServiceDown"}
    pages.add("OrdersTargetAbsent")
    assert severities == {name: page if name in pages else ticket for name in ALERTS}


def test_breaker_alert_watches_open_breakers_of_the_service() -> None:
    """An open breaker (state gauge 1) of this service's job and matchers, for 5 minutes."""
    service = make_service(labels={"env": "prod"})
    alert = rule_group(service).alerts[-3]
    assert alert.alert == "OrdersCircuitBreakerOpen"
    assert alert.expr == (
        'max by (job, name) (circuitbreaker_state{job="orders",env="prod",state="open"}) == 1'
    )
    assert alert.for_ == "5m"
    assert alert.annotations["summary"] == "orders: circuit breaker {{ $labels.name }} is open"
    assert OPEN_STATE in semconv.CIRCUITBREAKER_STATES


def test_labels_and_annotations() -> None:
    """Labels: severity, service, team, slo, alert_labels; annotations: three, exact."""
    group = rule_group(make_service(alert_labels={"region": "eu-west"}))
    fast = group.alerts[0]
    assert fast.labels == {
        "region": "eu-west",
        "severity": "critical",
        "service": "orders",
        "team": "checkout",
        "slo": "availability",
    }
    assert fast.annotations == {
        "summary": "orders: availability error budget burning fast",
        "description": (
            "{{ $value | humanizePercentage }} of the requests to orders failed with a 5xx status"
            " over the last 1h or 6h: the error budget of the availability objective (99.9% over"
            " 30d, budget 0.1%) is burning at 14.4x or 6x the sustainable rate."
        ),
        "runbook_url": "https://runbooks.example.com/orders",
    }


def test_no_runbook_links_to_the_stub() -> None:
    """A service without a runbook links each alert to its section of the runbook stub."""
    group = rule_group(make_service(runbook=None))
    assert [a.annotations["runbook_url"] for a in group.alerts] == [
        f"runbooks/orders.md#{a.alert.lower()}" for a in group.alerts
    ]


def test_no_latency_slo_no_latency_rules() -> None:
    """Without a latency objective only availability is recorded and alerted on."""
    group = rule_group(make_service(latency=None))
    assert {r.labels["slo"] for r in group.recording_rules} == {"availability"}
    assert [a.alert for a in group.alerts] == [name for name in ALERTS if "Latency" not in name]


def test_branches_that_can_never_fire_are_dropped() -> None:
    """At a 90 % objective 14.4x the budget is 144 %: only the 6x page branch remains."""
    group = rule_group(make_service(availability=90.0, latency=None))
    fast = group.alerts[0]
    assert fast.expr == (
        '(slo:sli_error:ratio_rate6h{service="orders",slo="availability"} > 0.6 and '
        'slo:sli_error:ratio_rate30m{service="orders",slo="availability"} > 0.6 and '
        'avg_over_time(slo:sli_requests:increase5m{service="orders",slo="availability"}[6h])'
        " * 72 >= 100)"
    )


def test_the_low_traffic_guard_follows_the_catalog() -> None:
    """``alerting.min_requests`` sets the guard of every check; 0 removes it."""
    guarded = rule_group(make_service(alerting=Alerting(min_requests=20)))
    assert all(">= 20)" in a.expr for a in guarded.alerts if a.watches == "burn")
    unguarded = rule_group(make_service(alerting=Alerting(min_requests=0)))
    burns = [a.expr for a in unguarded.alerts if a.watches == "burn"]
    assert burns and not any("avg_over_time" in expr for expr in burns)


def test_idle_services_opt_out_of_metrics_missing() -> None:
    """``alerting.expect_traffic: false`` drops the metrics-missing ticket."""
    group = rule_group(make_service(alerting=Alerting(expect_traffic=False)))
    assert [a.alert for a in group.alerts] == [n for n in ALERTS if n != "OrdersMetricsMissing"]


def test_target_alerts_select_by_job_and_labels() -> None:
    """Service down: every target down for 5m (a page); target down: one (a ticket);
    absent: no up series at all for 5m."""
    group = rule_group(make_service(labels={"env": "prod"}, window=Duration("7d", 604_800)))
    alerts = {a.alert: a for a in group.alerts}
    up = 'up{job="orders",env="prod"}'
    service_down = alerts["OrdersServiceDown"]
    assert service_down.expr == (f"(count by (job) ({up} == 0) / count by (job) ({up})) >= 1")
    assert service_down.for_ == "5m"
    down, absent = alerts["OrdersTargetDown"], alerts["OrdersTargetAbsent"]
    assert (down.expr, down.for_) == (f"{up} == 0", "5m")
    assert (absent.expr, absent.for_) == (f"absent({up})", "5m")


def test_the_share_of_targets_down_that_pages_follows_the_catalog() -> None:
    """``alerting.page_targets_down: 50`` pages when half the targets are down."""
    group = rule_group(make_service(alerting=Alerting(page_targets_down=50.0)))
    alert = next(a for a in group.alerts if a.alert == "OrdersServiceDown")
    assert alert.expr.endswith(" >= 0.5")
    assert "at least 50% are down" in alert.annotations["description"]


def test_missing_data_alerts() -> None:
    """Metrics missing: a target up without request series, for an hour; bucket
    missing: request series without the threshold's bucket, for 15 minutes."""
    alerts = {a.alert: a for a in rule_group(make_service()).alerts}
    count = 'http_server_request_duration_seconds_count{job="orders"}'
    missing = alerts["OrdersMetricsMissing"]
    assert missing.expr == (
        f'max by (job) (up{{job="orders"}}) == 1 unless on (job) count by (job) ({count})'
    )
    assert missing.for_ == "1h"
    bucket = alerts["OrdersLatencyBucketMissing"]
    assert bucket.expr == (
        f"count by (job) ({count}) unless on (job) count by (job) "
        '(http_server_request_duration_seconds_bucket{job="orders",le="0.25"})'
    )
    assert bucket.for_ == "15m"
    assert bucket.annotations["summary"] == 'orders: latency bucket le="0.25" missing'


def test_burn_alerts_carry_their_objective_and_checks() -> None:
    """What the generated unit tests need: the alert's SLO plan and the checks it ORs."""
    plan = plan_of(make_service())
    group = build_rule_group(plan, alert_texts())
    burn = [a for a in group.alerts if a.watches == "burn"]
    assert [(a.slo, a.checks) for a in burn] == [
        (slo, alert.checks) for slo in plan.slos for alert in slo.burn_alerts
    ]
    assert all(isinstance(c, BurnCheck) for a in burn for c in a.checks)
    others = [a for a in group.alerts if a.watches != "burn"]
    assert [(a.slo, a.checks) for a in others] == [(None, ())] * 8
    assert group.plan is plan


def test_objective_carries_the_catalogs_job() -> None:
    """The objective's job label is the catalog's job, not the service's name."""
    service = replace(make_service(), prometheus=PrometheusSelector("shop-monolith", {}))
    objectives = [
        r for r in rule_group(service).recording_rules if r.record == "slo:objective:ratio"
    ]
    assert [r.labels["job"] for r in objectives] == ["shop-monolith", "shop-monolith"]


def test_group_as_prometheus_reads_it() -> None:
    """Recording rules first, then alerts; ``for`` only where set, in Prometheus' key order."""
    data, window = rule_group(make_service(latency=None)).to_data()
    assert data["name"] == "orders"
    assert list(window) == ["name", "interval", "rules"]
    assert (window["name"], window["interval"]) == ("orders-slo-window", "5m")
    rules = data["rules"]
    assert list(rules[0]) == ["record", "expr", "labels"]
    assert rules[0]["labels"] == {"service": "orders", "slo": "availability"}
    fast = next(r for r in rules if r.get("alert") == "OrdersAvailabilityFastBurn")
    assert list(fast) == ["alert", "expr", "labels", "annotations"]
    down = next(r for r in rules if r.get("alert") == "OrdersTargetDown")
    assert list(down) == ["alert", "expr", "for", "labels", "annotations"]
    assert [r.get("record", r.get("alert")) for r in rules][-9:] == [
        name for name in ALERTS if "Latency" not in name
    ]


def test_rules_are_frozen_values() -> None:
    """Rules compare by value, copy with replace() and refuse assignment."""
    group = rule_group(make_service())
    alert, record = group.alerts[0], group.recording_rules[0]
    assert alert == rule_group(make_service()).alerts[0]
    assert replace(alert, alert="Other") == replace(alert, alert="Other") != alert
    assert replace(record, expr="vector(1)").expr == "vector(1)"
    assert vars(replace(alert)) == vars(alert)
    with pytest.raises(FrozenInstanceError):
        alert.expr = "up"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        record.labels = {}  # type: ignore[misc]
