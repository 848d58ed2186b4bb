"""Rule groups as data: recorded SLIs, burn-rate alerts, target alerts, severities."""

from __future__ import annotations

from dataclasses import replace

import pytest
from _generate_support import alert_texts, make_service, plan_of, rule_group

from toolkit import semconv
from toolkit.catalog.model import Duration, PrometheusSelector, Tier
from toolkit.generate.plan import BurnCheck
from toolkit.generate.rules import OPEN_STATE, build_rule_group


def test_one_group_per_service_with_every_window_recorded() -> None:
    """Both SLIs are recorded at the seven windows the alerts read."""
    group = rule_group(make_service())
    assert group.name == "orders"
    recorded = [(r.record, r.labels["slo"]) for r in group.recording_rules]
    windows = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    overview = ["slo:objective:ratio", "slo:period_error_budget_remaining:ratio"]
    assert recorded == [
        (f"slo:sli_error:ratio_rate{w}", slo)
        for slo in ("availability", "latency")
        for w in windows
    ] + [
        (name, slo)
        for slo in ("availability", "latency")
        for name in [*overview, "slo:page_burn_rate:ratio"]
    ]


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
    # Only the objective carries the job (the templated dashboard reads it from there).
    assert "job" not in rules["slo:page_burn_rate:ratio", "latency"].labels
    assert "job" not in rules["slo:period_error_budget_remaining:ratio", "latency"].labels
    burn = rules["slo:page_burn_rate:ratio", "availability"]
    assert burn.expr == ('slo:sli_error:ratio_rate1h{service="orders",slo="availability"} / 0.001')
    budget = rules["slo:period_error_budget_remaining:ratio", "availability"]
    assert budget.expr.startswith("1 - ((((sum(increase(") and budget.expr.endswith("/ 0.001)")
    assert "[30d]" in budget.expr


def test_alert_names_and_exact_thresholds() -> None:
    """CamelCase names; thresholds are factor x budget written exactly."""
    group = rule_group(make_service())
    assert [a.alert for a in group.alerts] == [
        "OrdersAvailabilityFastBurn",
        "OrdersAvailabilitySlowBurn",
        "OrdersLatencyFastBurn",
        "OrdersLatencySlowBurn",
        "OrdersTargetDown",
        "OrdersTargetAbsent",
        "OrdersCircuitBreakerOpen",
        "OrdersSpansDropped",
        "OrdersReadinessCheckFailing",
    ]
    fast = group.alerts[0]
    assert fast.expr == (
        '(slo:sli_error:ratio_rate1h{service="orders",slo="availability"} > 0.0144 and '
        'slo:sli_error:ratio_rate5m{service="orders",slo="availability"} > 0.0144) or '
        '(slo:sli_error:ratio_rate6h{service="orders",slo="availability"} > 0.006 and '
        'slo:sli_error:ratio_rate30m{service="orders",slo="availability"} > 0.006)'
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
    """Fast burn and target alerts take the tier's page severity; slow burn and an open
    circuit breaker its ticket one."""
    severities = {a.alert: a.labels["severity"] for a in rule_group(make_service(tier=tier)).alerts}
    assert severities == {
        "OrdersAvailabilityFastBurn": page,
        "OrdersAvailabilitySlowBurn": ticket,
        "OrdersLatencyFastBurn": page,
        "OrdersLatencySlowBurn": ticket,
        "OrdersTargetDown": page,
        "OrdersTargetAbsent": page,
        "OrdersCircuitBreakerOpen": ticket,
        "OrdersSpansDropped": ticket,
        "OrdersReadinessCheckFailing": ticket,
    }


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


def test_no_runbook_no_runbook_annotation() -> None:
    """A service without a runbook gets no empty runbook_url."""
    group = rule_group(make_service(runbook=None))
    assert all("runbook_url" not in a.annotations for a in group.alerts)


def test_no_latency_slo_no_latency_rules() -> None:
    """Without a latency objective only availability is recorded and alerted on."""
    group = rule_group(make_service(latency=None))
    assert {r.labels["slo"] for r in group.recording_rules} == {"availability"}
    assert [a.alert for a in group.alerts] == [
        "OrdersAvailabilityFastBurn",
        "OrdersAvailabilitySlowBurn",
        "OrdersTargetDown",
        "OrdersTargetAbsent",
        "OrdersCircuitBreakerOpen",
        "OrdersSpansDropped",
        "OrdersReadinessCheckFailing",
    ]


def test_branches_that_can_never_fire_are_dropped() -> None:
    """At a 90 % objective 14.4x the budget is 144 %: only the 6x page branch remains."""
    group = rule_group(make_service(availability=90.0, latency=None))
    fast = group.alerts[0]
    assert fast.expr == (
        '(slo:sli_error:ratio_rate6h{service="orders",slo="availability"} > 0.6 and '
        'slo:sli_error:ratio_rate30m{service="orders",slo="availability"} > 0.6)'
    )


def test_target_alerts_select_by_job_and_labels() -> None:
    """Down: up == 0 for 5m; absent: no up series at all for 5m."""
    group = rule_group(make_service(labels={"env": "prod"}, window=Duration("7d", 604_800)))
    down, absent = group.alerts[-5:-3]
    assert (down.expr, down.for_) == ('up{job="orders",env="prod"} == 0', "5m")
    assert (absent.expr, absent.for_) == ('absent(up{job="orders",env="prod"})', "5m")


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
    assert [(a.slo, a.checks) for a in others] == [(None, ())] * 5
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
    data = rule_group(make_service(latency=None)).to_data()
    assert data["name"] == "orders"
    rules = data["rules"]
    assert list(rules[0]) == ["record", "expr", "labels"]
    assert rules[0]["labels"] == {"service": "orders", "slo": "availability"}
    fast = next(r for r in rules if r.get("alert") == "OrdersAvailabilityFastBurn")
    assert list(fast) == ["alert", "expr", "labels", "annotations"]
    down = next(r for r in rules if r.get("alert") == "OrdersTargetDown")
    assert list(down) == ["alert", "expr", "for", "labels", "annotations"]
    assert [r.get("record", r.get("alert")) for r in rules][-7:] == [
        "OrdersAvailabilityFastBurn",
        "OrdersAvailabilitySlowBurn",
        "OrdersTargetDown",
        "OrdersTargetAbsent",
        "OrdersCircuitBreakerOpen",
        "OrdersSpansDropped",
        "OrdersReadinessCheckFailing",
    ]
