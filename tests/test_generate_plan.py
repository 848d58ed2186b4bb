"""The plan: burn-rate windows, exact budgets, thresholds, severities and the SLI PromQL,
worked out once and reused verbatim by the rules and the dashboards."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from _generate_support import DAY, alert_texts, make_service, plan_of, varied_catalog

from toolkit.catalog.model import Duration, LatencySLO, Tier
from toolkit.generate.dashboards.service import service_dashboard
from toolkit.generate.plan import (
    SEVERITY,
    Speed,
    build_plan,
    camel_case,
    page_factors,
    percent,
    plan_catalog,
)
from toolkit.generate.plan.sli import (
    BASE_WINDOW,
    availability_error_ratio,
    base_errors,
    base_requests,
    budget_remaining,
    burn_rate,
    error_budget,
    event_count,
    objective_ratio,
    recorded_ratio,
    recording_name,
    requests_in,
    window_error_ratio,
)
from toolkit.generate.plan.windows import (
    Window,
    alert_windows,
    burn_alert_specs,
    format_duration,
    scale_window,
)
from toolkit.generate.promql import ServiceQueries, format_number
from toolkit.generate.rules import build_rule_group

# --- windows -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (60, "1m"),
        (300, "5m"),
        (3_600, "1h"),
        (5_400, "1h30m"),
        (86_400, "1d"),
        (241_920, "2d19h12m"),
    ],
)
def test_format_duration(seconds: int, text: str) -> None:
    """Seconds are written as Prometheus durations, largest unit first."""
    assert format_duration(seconds) == text


def test_format_duration_rejects_zero() -> None:
    """A zero-length window is a bug, not an empty string."""
    with pytest.raises(ValueError, match="positive"):
        format_duration(0)


def test_thirty_day_windows_are_the_workbook_table() -> None:
    """For a 30-day objective the windows and factors are exactly the SRE Workbook's."""
    page, ticket = burn_alert_specs(30 * DAY)
    assert page.speed is Speed.PAGE and ticket.speed is Speed.TICKET
    assert [(c.factor, c.long.text, c.short.text) for c in page.conditions] == [
        (Decimal("14.4"), "1h", "5m"),
        (Decimal("6"), "6h", "30m"),
    ]
    assert [(c.factor, c.long.text, c.short.text) for c in ticket.conditions] == [
        (Decimal("3"), "1d", "2h"),
        (Decimal("1"), "3d", "6h"),
    ]


@pytest.mark.parametrize(
    ("window_days", "expected"),
    [
        (28, ["5m", "28m", "56m", "1h52m", "5h36m", "22h24m", "2d19h12m"]),
        (7, ["5m", "7m", "14m", "28m", "1h24m", "5h36m", "16h48m"]),
        (30, ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]),
    ],
)
def test_windows_scale_with_the_slo_window(window_days: int, expected: list[str]) -> None:
    """Every window is scaled by window / 30d, to whole minutes, and listed once, shortest first."""
    windows = alert_windows(burn_alert_specs(window_days * DAY))
    assert [w.text for w in windows] == expected


def test_scale_window_never_goes_below_five_minutes() -> None:
    """A short SLO window never gives a range too short to hold the samples rate() needs.

    7d scales the 14.4x page condition's short window to 1m: one sample at a one-minute
    scrape interval, so that condition could never fire.
    """
    assert scale_window(300, 7 * DAY) == Window("5m", 300)
    assert scale_window(3_600, DAY) == Window("5m", 300)
    assert scale_window(21_600, 7 * DAY) == Window("1h24m", 5_040)


# --- SLIs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("objective", "budget"),
    [
        (99.9, "0.001"),
        (99.95, "0.0005"),
        (99.0, "0.01"),
        (95.0, "0.05"),
        (99.99, "0.0001"),
        (90.0, "0.1"),
    ],
)
def test_error_budget_is_exact(objective: float, budget: str) -> None:
    """The budget is computed in decimal: 99.9 gives 0.001, never 0.0009999999999999432."""
    assert error_budget(objective) == Decimal(budget)
    assert format_number(error_budget(objective)) == budget
    assert objective_ratio(objective) + error_budget(objective) == 1


def test_objective_ratio_is_exact() -> None:
    """The objective as a ratio, in decimal: 99.9 gives 0.999."""
    assert objective_ratio(99.9) == Decimal("0.999")
    assert str(objective_ratio(99.95)) == "0.9995"


def events(series: str, window: str) -> str:
    """The event count of ``series`` over ``window`` as the SLIs write it."""
    return (
        f"((sum(increase({series}[{window}]) and {series} offset {window}) or vector(0))"
        f" + (sum({series} unless {series} offset {window}) or vector(0)))"
    )


def test_event_count_includes_series_born_in_the_window() -> None:
    """Older series contribute their increase, new ones their whole value; never empty."""
    queries = ServiceQueries("orders", (("env", "prod"),))
    assert event_count(queries, "m_count", "1h", 'x="1"') == events(
        'm_count{job="orders",env="prod",x="1"}', "1h"
    )


def test_availability_error_ratio_is_guarded_against_zero_traffic() -> None:
    """5xx share: no 5xx series counts as 0, no traffic gives no result (never NaN); each
    count includes the first event of series born inside the window."""
    ratio = availability_error_ratio(ServiceQueries.of(make_service()), "5m")
    count = "http_server_request_duration_seconds_count"
    errors = events(f'{count}{{job="orders",http_response_status_code=~"5.."}}', "5m")
    total = events(f'{count}{{job="orders"}}', "5m")
    assert ratio == f"{errors} / ({total} > 0)"


def test_base_counts_read_the_raw_series_once() -> None:
    """The pyramid's base: requests and bad events over 5 minutes, from the raw series
    once; latency's bad events are the requests outside the threshold's bucket, recorded
    only while it exists."""
    service = make_service(latency=LatencySLO(0.5, 99.0))
    queries = ServiceQueries.of(service)
    count = 'http_server_request_duration_seconds_count{job="orders"}'
    bucket = 'http_server_request_duration_seconds_bucket{job="orders",le="0.5"}'
    assert base_requests(service, queries, "availability") == events(count, "5m")
    assert base_errors(service, queries, "availability") == events(
        'http_server_request_duration_seconds_count{job="orders",http_response_status_code=~"5.."}',
        "5m",
    )
    # Latency counts the same requests: it reads the availability count just recorded.
    requests = 'slo:sli_requests:increase5m{service="orders",slo="%s"}'
    assert base_requests(service, queries, "latency") == requests % "availability"
    assert base_errors(service, queries, "latency") == (
        f"({requests % 'latency'} - ignoring (service, slo) {events(bucket, '5m')}) "
        f"and on () count({bucket})"
    )


def test_windows_sum_the_recorded_base_counts() -> None:
    """A window's ratio sums the recorded 5-minute counts (traffic-weighted, no result at
    zero traffic); its request count scales their mean to the window. A tiled window
    sums the 5-minute tiles, whose sum is the count."""
    selector = '{service="orders",slo="availability"}'
    errors = f"slo:sli_errors:increase5m{selector}"
    requests = f"slo:sli_requests:increase5m{selector}"
    assert window_error_ratio("orders", "availability", BASE_WINDOW, tiled=False) == (
        f"{errors} / ({requests} > 0)"
    )
    hour = Window("1h", 3600)
    assert window_error_ratio("orders", "availability", hour, tiled=False) == (
        f"sum_over_time({errors}[1h]) / (sum_over_time({requests}[1h]) > 0)"
    )
    assert requests_in("orders", "availability", BASE_WINDOW, tiled=False) == requests
    assert requests_in("orders", "availability", hour, tiled=False) == (
        f"avg_over_time({requests}[1h]) * 12"
    )
    day = Window("1d", 86400)
    tiles = f"slo:sli_requests:tiled5m{selector}"
    assert window_error_ratio("orders", "availability", day, tiled=True) == (
        f"sum_over_time(slo:sli_errors:tiled5m{selector}[1d]) / (sum_over_time({tiles}[1d]) > 0)"
    )
    assert requests_in("orders", "availability", day, tiled=True) == (f"sum_over_time({tiles}[1d])")


def test_latency_ratio_needs_a_latency_slo() -> None:
    """Asking for the latency SLI of a service without one is a programming error."""
    service = make_service(latency=None)
    with pytest.raises(ValueError, match="no latency SLO"):
        base_errors(service, ServiceQueries.of(service), "latency")


def test_burn_rate_reads_the_recorded_sli() -> None:
    """Burn rate = recorded error ratio / budget; budget left = 1 - ratio / budget."""
    assert recording_name("1h") == "slo:sli_error:ratio_rate1h"
    recorded = recorded_ratio("orders", "availability", "1h")
    assert recorded == 'slo:sli_error:ratio_rate1h{service="orders",slo="availability"}'
    assert burn_rate(recorded, Decimal("0.001")) == (
        'slo:sli_error:ratio_rate1h{service="orders",slo="availability"} / 0.001'
    )
    assert budget_remaining("R", Decimal("0.0005")) == "1 - (R / 0.0005)"


# --- the plan ------------------------------------------------------------------------------


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


def test_plan_of_a_service() -> None:
    """Identity, alert prefix, dashboard uid, and availability first, then latency."""
    plan = plan_of(make_service("checkout-api", labels={"env": "prod"}))
    assert plan.name == "checkout-api"
    assert plan.alert_prefix == "CheckoutApi"
    assert plan.dashboard_uid == "svc-checkout-api"
    assert plan.queries == ServiceQueries("checkout-api", (("env", "prod"),))
    assert [slo.kind for slo in plan.slos] == ["availability", "latency"]
    assert plan.availability is plan.slos[0]
    assert [slo.kind for slo in plan_of(make_service(latency=None)).slos] == ["availability"]


def test_plan_catalog_keeps_catalog_order() -> None:
    """One plan per service, in the catalog's order."""
    assert [p.name for p in plan_catalog(varied_catalog())] == ["orders", "users", "notifications"]


@pytest.mark.parametrize(
    ("availability", "latency", "budgets", "text"),
    [
        (99.9, 99.0, ("0.001", "0.01"), "99.9"),
        (99.95, 99.9, ("0.0005", "0.001"), "99.95"),
        (99.0, 95.0, ("0.01", "0.05"), "99"),
    ],
)
def test_budgets_and_thresholds_are_exact_decimals(
    availability: float, latency: float, budgets: tuple[str, str], text: str
) -> None:
    """Budget, objective and every threshold (factor x budget) are Decimals, with no float noise."""
    plan = plan_of(make_service(availability=availability, latency=LatencySLO(0.25, latency)))
    assert [slo.budget for slo in plan.slos] == [Decimal(b) for b in budgets]
    assert [str(slo.budget) for slo in plan.slos] == list(budgets)
    assert plan.availability.objective == Decimal(text) / 100
    assert plan.availability.target_text == text
    for slo in plan.slos:
        for alert in slo.burn_alerts:
            for check in alert.checks:
                assert isinstance(check.threshold, Decimal)
                assert check.threshold == check.factor * slo.budget
    first = plan.availability.burn_alerts[0].checks[0]
    assert str(first.threshold.normalize()) == format_number(Decimal("14.4") * Decimal(budgets[0]))


def test_thresholds_of_a_999_objective() -> None:
    """99.9 %: page at 1.44 % and 0.6 %, ticket at 0.3 % and 0.1 % error ratio."""
    slo = plan_of().availability
    thresholds = [
        [format_number(check.threshold) for check in alert.checks] for alert in slo.burn_alerts
    ]
    assert thresholds == [["0.0144", "0.006"], ["0.003", "0.001"]]
    assert percent(slo.budget) == "0.1%"
    assert percent(Decimal("0.0144")) == "1.44%"


def _factors(availability: float) -> list[tuple[Speed, list[str]]]:
    slo = plan_of(make_service(availability=availability, latency=None)).availability
    return [
        (alert.speed, [format_number(check.factor) for check in alert.checks])
        for alert in slo.burn_alerts
    ]


@pytest.mark.parametrize(
    ("availability", "expected"),
    [
        (99.9, [(Speed.PAGE, ["14.4", "6"]), (Speed.TICKET, ["3", "1"])]),
        # 14.4 x 0.069 = 99.36 %: can still fire.
        (93.1, [(Speed.PAGE, ["14.4", "6"]), (Speed.TICKET, ["3", "1"])]),
        # 14.4 x 0.07 = 100.8 %: can never fire, dropped.
        (93.0, [(Speed.PAGE, ["6"]), (Speed.TICKET, ["3", "1"])]),
        (90.0, [(Speed.PAGE, ["6"]), (Speed.TICKET, ["3", "1"])]),
        # 6 x 0.2 = 120 %: the page alert has nothing left and goes.
        (80.0, [(Speed.TICKET, ["3", "1"])]),
        (50.0, [(Speed.TICKET, ["1"])]),
        # 1 x 1 = 100 %: exactly the whole budget is not below it, so nothing is left.
        (0.0, []),
    ],
)
def test_checks_that_can_never_fire_are_dropped(
    availability: float, expected: list[tuple[Speed, list[str]]]
) -> None:
    """A check whose threshold (factor x budget) is 100 % or more is left out, and an alert
    without checks with it (objectives below ~93 %)."""
    assert _factors(availability) == expected


@pytest.mark.parametrize(
    ("tier", "page", "ticket"),
    [
        (Tier.CRITICAL, "critical", "warning"),
        (Tier.STANDARD, "warning", "info"),
        (Tier.EXPERIMENTAL, "info", "info"),
    ],
)
def test_severity_per_tier(tier: Tier, page: str, ticket: str) -> None:
    """Page alerts take the tier's page severity, ticket alerts its ticket one."""
    plan = plan_of(make_service(tier=tier))
    assert SEVERITY[tier] == {Speed.PAGE: page, Speed.TICKET: ticket}
    assert (plan.severity(Speed.PAGE), plan.severity(Speed.TICKET)) == (page, ticket)
    for slo in plan.slos:
        assert [(a.speed, a.severity) for a in slo.burn_alerts] == [
            (Speed.PAGE, page),
            (Speed.TICKET, ticket),
        ]


@pytest.mark.parametrize(
    ("window", "page_windows", "short_windows"),
    [
        (Duration("30d", 30 * DAY), ["1h", "6h"], ["5m", "30m"]),
        (Duration("28d", 28 * DAY), ["56m", "5h36m"], ["5m", "28m"]),
        (Duration("7d", 7 * DAY), ["14m", "1h24m"], ["5m", "7m"]),
    ],
)
def test_page_windows_and_factors_scale_with_the_slo_window(
    window: Duration, page_windows: list[str], short_windows: list[str]
) -> None:
    """The page checks read scaled windows; their burn rates stay 14.4x and 6x."""
    plan = plan_of(make_service(window=window))
    assert [w.text for w in plan.page_windows] == page_windows
    assert plan.page_factors == (Decimal("6"), Decimal("14.4"))
    assert page_factors() == (6.0, 14.4)
    for slo in plan.slos:
        page = slo.burn_alerts[0]
        assert page.speed is Speed.PAGE
        assert [c.long_window.text for c in page.checks] == page_windows
        assert [c.short_window.text for c in page.checks] == short_windows
        assert [w.text for w, _ in slo.page_burn_rates] == page_windows
        first = recorded_ratio(plan.name, slo.kind, page_windows[0])
        assert slo.page_burn_rate == burn_rate(first, slo.budget)
        assert slo.page_burn_rates[0][1] == slo.page_burn_rate
        expected = alert_windows(burn_alert_specs(window.seconds))
        assert [name for name, _ in slo.recorded] == [
            "slo:sli_requests:increase5m",
            "slo:sli_errors:increase5m",
            *(recording_name(w.text) for w in expected),
        ]


def test_slis_of_the_plan() -> None:
    """The base counts, each window's ratio summed from them (the ticket checks' long
    windows from the tiles), the tiles and the whole window's ratio (recorded apart), the
    guard of each check, and the dashboard's rate-interval ratio."""
    service = make_service(labels={"env": "prod"}, window=Duration("28d", 28 * DAY))
    plan = build_plan(service)
    queries = ServiceQueries.of(service)
    windows = alert_windows(burn_alert_specs(28 * DAY))
    tiled = {"22h24m", "2d19h12m"}  # the ticket checks' long windows
    for slo in plan.slos:
        assert slo.recorded == (
            ("slo:sli_requests:increase5m", base_requests(service, queries, slo.kind)),
            ("slo:sli_errors:increase5m", base_errors(service, queries, slo.kind)),
            *(
                (
                    recording_name(w.text),
                    window_error_ratio("orders", slo.kind, w, tiled=w.text in tiled),
                )
                for w in windows
            ),
        )
        selector = f'{{service="orders",slo="{slo.kind}"}}'
        assert slo.tiles == (
            ("slo:sli_requests:tiled5m", f"slo:sli_requests:increase5m{selector}"),
            ("slo:sli_errors:tiled5m", f"slo:sli_errors:increase5m{selector}"),
        )
        assert slo.window_recorded == (
            "slo:sli_error:ratio_rate28d",
            window_error_ratio("orders", slo.kind, Window("28d", 28 * DAY), tiled=True),
        )
        assert slo.window_error_ratio == recorded_ratio("orders", slo.kind, "28d")
        assert slo.budget_remaining == budget_remaining(slo.window_error_ratio, slo.budget)
        for alert in slo.burn_alerts:
            for check in alert.checks:
                assert check.long == recorded_ratio("orders", slo.kind, check.long_window.text)
                assert check.short == recorded_ratio("orders", slo.kind, check.short_window.text)
                assert check.long_requests == requests_in(
                    "orders", slo.kind, check.long_window, tiled=check.long_window.text in tiled
                )
                assert check.min_requests == 100
    availability, latency = plan.slos
    assert availability.dashboard_error_ratio == availability_error_ratio(
        queries, "$__rate_interval"
    )
    assert latency.dashboard_error_ratio is None


# --- the writers reuse the plan's strings ----------------------------------------------------


def _panels(plan: Any) -> dict[str, dict[str, Any]]:
    return {panel["title"]: panel for panel in service_dashboard(plan, "h")["panels"]}


def _exprs(panel: dict[str, Any]) -> list[str]:
    return [target["expr"] for target in panel["targets"]]


@pytest.mark.parametrize(
    "service",
    [
        make_service(labels={"env": "prod"}),
        make_service("users", window=Duration("28d", 28 * DAY), availability=99.95),
        make_service("notifications", window=Duration("7d", 7 * DAY), latency=None),
    ],
    ids=["30d", "28d", "7d-availability-only"],
)
def test_rules_and_dashboard_use_the_plans_expressions_verbatim(service: Any) -> None:
    """Recorded SLIs, overview series and alert conditions in the rules, and the SLI, budget,
    burn-rate and error-ratio panels of the dashboard, are the plan's strings."""
    plan = build_plan(service)
    group = build_rule_group(plan, alert_texts())
    recorded = {(r.record, r.labels["slo"]): r.expr for r in group.recording_rules}
    panels = _panels(plan)
    window = service.slo.window.text
    for slo in plan.slos:
        for name, expr in slo.recorded:
            assert recorded[name, slo.kind] == expr
        window_rules = {(r.record, r.labels["slo"]): r.expr for r in group.window_rules}
        assert window_rules[slo.window_recorded[0], slo.kind] == slo.window_recorded[1]
        budget = window_rules["slo:period_error_budget_remaining:ratio", slo.kind]
        assert budget == slo.budget_remaining
        assert recorded["slo:page_burn_rate:ratio", slo.kind] == slo.page_burn_rate
        assert recorded["slo:objective:ratio", slo.kind] == f"vector({slo.objective})"
        title = slo.kind.capitalize()
        assert _exprs(panels[f"{title} SLI ({window})"]) == [f"1 - ({slo.window_error_ratio})"]
        assert _exprs(panels[f"{title} error budget left"]) == [slo.budget_remaining]
        alerts = [a for a in group.alerts if a.slo is slo]
        assert [a.checks for a in alerts] == [b.checks for b in slo.burn_alerts]
        for alert in alerts:
            for check in alert.checks:
                threshold = format_number(check.threshold)
                guard = f"{check.long_requests} >= {check.min_requests}"
                both = f"{check.long} > {threshold} and {check.short} > {threshold}"
                assert f"({both} and {guard})" in alert.expr
    assert _exprs(panels["Error budget burn rate"]) == [
        expr for slo in plan.slos for _, expr in slo.page_burn_rates
    ]
    assert _exprs(panels["Error ratio (5xx)"]) == [plan.availability.dashboard_error_ratio]


@pytest.mark.parametrize("hours", [24, 25, 36, 48, 72, 7 * 24, 30 * 24, 90 * 24])
def test_no_allowed_window_clamps_both_page_windows(hours: int) -> None:
    """The catalog's shortest window (1d) still leaves one page window above the 5-minute
    floor: both would clamp only below ~10h, which the catalog refuses."""
    from toolkit.catalog.settings import MIN_WINDOW
    from toolkit.generate.plan.windows import MIN_WINDOW_SECONDS, burn_alert_specs

    assert MIN_WINDOW.seconds == 86_400
    page = burn_alert_specs(hours * 3600)[0]
    assert max(c.long.seconds for c in page.conditions) > MIN_WINDOW_SECONDS
