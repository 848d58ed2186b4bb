"""Rule groups as data: recorded SLIs, burn-rate alerts, target alerts, severities."""

from __future__ import annotations

import pytest
from _generate_support import make_service

from toolkit import semconv
from toolkit.catalog.model import Duration, Tier
from toolkit.generate.rules import OPEN_STATE, build_rule_group, camel_case


@pytest.mark.parametrize(
    ("name", "camel"),
    [
        ("orders", "Orders"),
        ("checkout-api", "CheckoutApi"),
        ("a_b.c", "ABC"),
        ("3ds", "Service3ds"),
    ],
)
def test_camel_case(name: str, camel: str) -> None:
    """Service names become valid CamelCase alert-name prefixes."""
    assert camel_case(name) == camel


def test_one_group_per_service_with_every_window_recorded() -> None:
    """Both SLIs are recorded at the seven windows the alerts read."""
    group = build_rule_group(make_service())
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
    group = build_rule_group(make_service())
    rules = {(r.record, r.labels["slo"]): r for r in group.recording_rules}
    objective = rules["slo:objective:ratio", "latency"]
    assert objective.expr == "vector(0.99)"
    assert objective.labels == {
        "service": "orders",
        "slo": "latency",
        "team": "checkout",
        "tier": "critical",
        "dashboard": "svc-orders",
    }
    burn = rules["slo:page_burn_rate:ratio", "availability"]
    assert burn.expr == ('slo:sli_error:ratio_rate1h{service="orders",slo="availability"} / 0.001')
    budget = rules["slo:period_error_budget_remaining:ratio", "availability"]
    assert budget.expr.startswith("1 - ((((sum(increase(") and budget.expr.endswith("/ 0.001)")
    assert "[30d]" in budget.expr


def test_alert_names_and_exact_thresholds() -> None:
    """CamelCase names; thresholds are factor x budget written exactly."""
    group = build_rule_group(make_service())
    assert [a.alert for a in group.alerts] == [
        "OrdersAvailabilityFastBurn",
        "OrdersAvailabilitySlowBurn",
        "OrdersLatencyFastBurn",
        "OrdersLatencySlowBurn",
        "OrdersTargetDown",
        "OrdersTargetAbsent",
        "OrdersCircuitBreakerOpen",
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
    severities = {
        a.alert: a.labels["severity"] for a in build_rule_group(make_service(tier=tier)).alerts
    }
    assert severities == {
        "OrdersAvailabilityFastBurn": page,
        "OrdersAvailabilitySlowBurn": ticket,
        "OrdersLatencyFastBurn": page,
        "OrdersLatencySlowBurn": ticket,
        "OrdersTargetDown": page,
        "OrdersTargetAbsent": page,
        "OrdersCircuitBreakerOpen": ticket,
    }


def test_breaker_alert_watches_open_breakers_of_the_service() -> None:
    """An open breaker (state gauge 1) of this service's job and matchers, for 5 minutes."""
    service = make_service(labels={"env": "prod"})
    alert = build_rule_group(service).alerts[-1]
    assert alert.alert == "OrdersCircuitBreakerOpen"
    assert alert.expr == (
        'max by (job, name) (circuitbreaker_state{job="orders",env="prod",state="open"}) == 1'
    )
    assert alert.for_ == "5m"
    assert alert.annotations["summary"] == "orders: circuit breaker {{ $labels.name }} is open"
    assert OPEN_STATE in semconv.CIRCUITBREAKER_STATES


def test_labels_and_annotations() -> None:
    """Labels: severity, service, team, slo, alert_labels; annotations: three, exact."""
    group = build_rule_group(make_service(alert_labels={"region": "eu-west"}))
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
    group = build_rule_group(make_service(runbook=None))
    assert all("runbook_url" not in a.annotations for a in group.alerts)


def test_no_latency_slo_no_latency_rules() -> None:
    """Without a latency objective only availability is recorded and alerted on."""
    group = build_rule_group(make_service(latency=None))
    assert {r.labels["slo"] for r in group.recording_rules} == {"availability"}
    assert [a.alert for a in group.alerts] == [
        "OrdersAvailabilityFastBurn",
        "OrdersAvailabilitySlowBurn",
        "OrdersTargetDown",
        "OrdersTargetAbsent",
        "OrdersCircuitBreakerOpen",
    ]


def test_branches_that_can_never_fire_are_dropped() -> None:
    """At a 90 % objective 14.4x the budget is 144 %: only the 6x page branch remains."""
    group = build_rule_group(make_service(availability=90.0, latency=None))
    fast = group.alerts[0]
    assert fast.expr == (
        '(slo:sli_error:ratio_rate6h{service="orders",slo="availability"} > 0.6 and '
        'slo:sli_error:ratio_rate30m{service="orders",slo="availability"} > 0.6)'
    )


def test_target_alerts_select_by_job_and_labels() -> None:
    """Down: up == 0 for 5m; absent: no up series at all for 5m."""
    group = build_rule_group(make_service(labels={"env": "prod"}, window=Duration("7d", 604_800)))
    down, absent = group.alerts[-3:-1]
    assert (down.expr, down.for_) == ('up{job="orders",env="prod"} == 0', "5m")
    assert (absent.expr, absent.for_) == ('absent(up{job="orders",env="prod"})', "5m")
