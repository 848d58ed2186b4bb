"""One service's dashboard: its objectives (SLIs, budget, burn rate) above its traffic,
dependencies and the telemetry's own health. Numbers come from the service's plan.

A catalog holds many services whose panels differ only in their queries and in a few
numbers many of them share, so each panel is built once, as a :class:`PanelStamp`
(``stamp`` module), for what it shows besides its queries, and stamped with each
service's queries. The stamp builders below take exactly what a panel depends on
besides its queries: their caches cannot hand one service another's panel.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from toolkit.generate.dashboards.document import DASHBOARD_TAG, dashboard, link
from toolkit.generate.dashboards.panels import (
    BUDGET_STEPS,
    Panel,
    Step,
    Target,
    panel_link,
)
from toolkit.generate.dashboards.sections import (
    DEPENDENCY_PANELS,
    latency_panels,
    load_panels,
    request_rate_panel,
    telemetry_panels,
    trace_link,
)
from toolkit.generate.dashboards.stamp import (
    STAND_IN,
    PanelStamp,
    Part,
    identity_matchers,
    stamp_panels,
)
from toolkit.generate.plan import ServicePlan
from toolkit.generate.promql import format_number
from toolkit.generate.uids import OVERVIEW_UID

# Distinct objectives, windows and thresholds of a catalog: a few, or one per service.
_STAMPS_CACHED = 1024
_OVERVIEW_LINKS = [link("Services overview", f"/d/{OVERVIEW_UID}")]


def ratio_steps(budget: Decimal) -> list[Step]:
    """Error ratio colours: orange from the budget, red from ten times it."""
    return [Step("green"), Step("orange", float(budget)), Step("red", float(budget * 10))]


def burn_steps(page_factors: tuple[Decimal, ...]) -> list[Step]:
    """Burn-rate colours: orange from the slower page rate, red from the faster."""
    slow, fast = page_factors
    return [Step("green"), Step("orange", float(slow)), Step("red", float(fast))]


# --- objectives: stamped with the plan's SLI queries ------------------------------------
@lru_cache(maxsize=_STAMPS_CACHED)
def _sli_stamp(
    kind: str, target_text: str, objective: Decimal, window: str, width: int
) -> PanelStamp:
    return PanelStamp.of(
        Panel(
            "stat",
            f"{kind.capitalize()} SLI ({window})",
            f"Share of good requests over the SLO window; objective {target_text}% over {window}.",
            [Target("", kind, instant=True)],
            unit="percentunit",
            width=width,
            height=5,
            thresholds=[Step("red"), Step("green", float(objective))],
            decimals=3,
        )
    )


@lru_cache(maxsize=_STAMPS_CACHED)
def _budget_stamp(kind: str, budget: Decimal, window: str, width: int) -> PanelStamp:
    return PanelStamp.of(
        Panel(
            "stat",
            f"{kind.capitalize()} error budget left",
            f"Error budget ({format_number(budget * 100)}% of requests) not yet spent "
            f"over the last {window}; negative once overspent.",
            [Target("", kind, instant=True)],
            unit="percentunit",
            width=width,
            height=5,
            thresholds=list(BUDGET_STEPS),
            decimals=1,
        )
    )


@lru_cache(maxsize=_STAMPS_CACHED)
def _burn_stamp(legends: tuple[str, ...], page_factors: tuple[Decimal, ...]) -> PanelStamp:
    return PanelStamp.of(
        Panel(
            "timeseries",
            "Error budget burn rate",
            "How many times faster than sustainable the budget burns (1 = spent exactly at "
            "the end of the window); the page alerts fire above the marked lines.",
            [Target("", legend) for legend in legends],
            unit="x",
            width=8,
            height=5,
            thresholds=burn_steps(page_factors),
            threshold_lines=True,
            min=0,
        )
    )


def slo_parts(plan: ServicePlan) -> list[Part]:
    """SLIs over the SLO window, error budget left, and burn rate from the recorded SLIs."""
    window = plan.service.slo.window.text
    slos = plan.slos
    width = 4 if len(slos) == 2 else 8
    parts: list[Part] = [
        (
            _sli_stamp(slo.kind, slo.target_text, slo.objective, window, width),
            [f"1 - ({slo.window_error_ratio})"],
            None,
        )
        for slo in slos
    ]
    parts += [
        (_budget_stamp(slo.kind, slo.budget, window, width), [slo.budget_remaining], None)
        for slo in slos
    ]
    burn_rates = [(slo.kind, *burn_rate) for slo in slos for burn_rate in slo.page_burn_rates]
    legends = tuple([f"{kind} {long.text}" for kind, long, _ in burn_rates])
    exprs = [expr for _, _, expr in burn_rates]
    parts.append((_burn_stamp(legends, plan.page_factors), exprs, None))
    return parts


# --- traffic, dependencies, telemetry: most stamped with the service's matchers --------
@lru_cache(maxsize=_STAMPS_CACHED)
def _error_ratio_stamp(budget: Decimal) -> PanelStamp:
    return PanelStamp.of(
        Panel(
            "timeseries",
            "Error ratio (5xx)",
            "Share of responses with a 5xx status; the line marks the availability budget.",
            [Target("", "5xx ratio")],
            unit="percentunit",
            width=12,
            thresholds=ratio_steps(budget),
            threshold_lines=True,
            min=0,
        )
    )


@lru_cache(maxsize=_STAMPS_CACHED)
def _latency_stamps(threshold: tuple[type, float] | None) -> tuple[PanelStamp, ...]:
    # The threshold comes with its type: 1 and 1.0 are one key but written differently.
    steps = [Step("green")]
    if threshold is not None:
        steps.append(Step("red", threshold[1]))
    # The trace link is the service's own: stamped with the panel.
    panels = latency_panels(STAND_IN, steps, {"title": "", "url": ""})
    return tuple(PanelStamp.of(panel) for panel in panels)


@cache
def _series_stamps() -> tuple[PanelStamp, ...]:
    """The panels after latency: load, dependencies and the telemetry's own health."""
    panels = load_panels(STAND_IN)
    for build in DEPENDENCY_PANELS:
        panels += build(STAND_IN)
    panels += telemetry_panels(STAND_IN)
    return tuple(PanelStamp.of(panel) for panel in panels)


@cache
def _request_rate_stamp() -> PanelStamp:
    return PanelStamp.of(request_rate_panel(STAND_IN))


def series_parts(plan: ServicePlan) -> list[Part]:
    """Request rate, errors, latency, active requests and body sizes; then dependencies
    and the telemetry's own health."""
    matchers = identity_matchers(plan.queries)
    availability = plan.availability
    latency = plan.service.slo.latency
    threshold = None
    if latency is not None:
        threshold = (type(latency.threshold_seconds), latency.threshold_seconds)
    quantiles, *latency_rest = _latency_stamps(threshold)
    request_rate = _request_rate_stamp()
    parts: list[Part] = [
        (request_rate, request_rate.queries_of(matchers), None),
        (
            _error_ratio_stamp(availability.budget),
            [availability.dashboard_error_ratio or ""],
            None,
        ),
        (quantiles, quantiles.queries_of(matchers), [panel_link(trace_link(plan.name))]),
    ]
    parts += [
        (stamp, stamp.queries_of(matchers), None) for stamp in (*latency_rest, *_series_stamps())
    ]
    return parts


def service_dashboard(plan: ServicePlan, header: str) -> dict[str, Any]:
    """The Grafana dashboard of one service."""
    service = plan.service
    return dashboard(
        uid=plan.dashboard_uid,
        title=f"{service.name} service",
        description=f"{header}. {service.description}".strip(),
        tags=[DASHBOARD_TAG, f"team:{service.team}", f"tier:{service.tier.value}"],
        refresh="30s",
        graph_tooltip=1,
        links=_OVERVIEW_LINKS,
        panels=stamp_panels(slo_parts(plan) + series_parts(plan)),
    )
