"""One service's dashboard: its objectives (SLIs, budget, burn rate) above its traffic,
dependencies and the telemetry's own health. Numbers come from the service's plan."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from toolkit.generate.dashboards.document import DASHBOARD_TAG, dashboard, link
from toolkit.generate.dashboards.panels import (
    BUDGET_STEPS,
    Panel,
    Step,
    Target,
    lay_out,
)
from toolkit.generate.dashboards.sections import (
    DEPENDENCY_PANELS,
    latency_panels,
    load_panels,
    request_rate_panel,
    telemetry_panels,
    trace_link,
)
from toolkit.generate.plan import ServicePlan, SLOPlan
from toolkit.generate.promql import format_number
from toolkit.generate.uids import OVERVIEW_UID


def ratio_steps(budget: Decimal) -> list[Step]:
    """Error ratio colours: orange from the budget, red from ten times it."""
    return [Step("green"), Step("orange", float(budget)), Step("red", float(budget * 10))]


def burn_steps(plan: ServicePlan) -> list[Step]:
    """Burn-rate colours: orange from the slower page rate, red from the faster."""
    slow, fast = plan.page_factors
    return [Step("green"), Step("orange", float(slow)), Step("red", float(fast))]


def _objective_text(plan: ServicePlan, slo: SLOPlan) -> str:
    return f"{slo.target_text}% over {plan.service.slo.window.text}"


def slo_panels(plan: ServicePlan) -> list[Panel]:
    """SLIs over the SLO window, error budget left, and burn rate from the recorded SLIs."""
    window = plan.service.slo.window.text
    panels: list[Panel] = []
    width = 4 if len(plan.slos) == 2 else 8
    for slo in plan.slos:
        panels.append(
            Panel(
                "stat",
                f"{slo.kind.capitalize()} SLI ({window})",
                f"Share of good requests over the SLO window; "
                f"objective {_objective_text(plan, slo)}.",
                [Target(f"1 - ({slo.window_error_ratio})", slo.kind, instant=True)],
                unit="percentunit",
                width=width,
                height=5,
                thresholds=[Step("red"), Step("green", float(slo.objective))],
                decimals=3,
            )
        )
    for slo in plan.slos:
        panels.append(
            Panel(
                "stat",
                f"{slo.kind.capitalize()} error budget left",
                f"Error budget ({format_number(slo.budget * 100)}% of requests) not yet spent "
                f"over the last {window}; negative once overspent.",
                [Target(slo.budget_remaining, slo.kind, instant=True)],
                unit="percentunit",
                width=width,
                height=5,
                thresholds=list(BUDGET_STEPS),
                decimals=1,
            )
        )
    panels.append(
        Panel(
            "timeseries",
            "Error budget burn rate",
            "How many times faster than sustainable the budget burns (1 = spent exactly at "
            "the end of the window); the page alerts fire above the marked lines.",
            [
                Target(expr, f"{slo.kind} {window.text}")
                for slo in plan.slos
                for window, expr in slo.page_burn_rates
            ],
            unit="x",
            width=8,
            height=5,
            thresholds=burn_steps(plan),
            threshold_lines=True,
            min=0,
        )
    )
    return panels


def traffic_panels(plan: ServicePlan) -> list[Panel]:
    """Request rate, errors, latency, active requests and body sizes."""
    queries = plan.queries
    availability = plan.availability
    latency = plan.service.slo.latency
    latency_steps = [Step("green")]
    if latency is not None:
        latency_steps.append(Step("red", latency.threshold_seconds))
    error_ratio = Panel(
        "timeseries",
        "Error ratio (5xx)",
        "Share of responses with a 5xx status; the line marks the availability budget.",
        [Target(availability.dashboard_error_ratio or "", "5xx ratio")],
        unit="percentunit",
        width=12,
        thresholds=ratio_steps(availability.budget),
        threshold_lines=True,
        min=0,
    )
    return [
        request_rate_panel(queries),
        error_ratio,
        *latency_panels(queries, latency_steps, trace_link(plan.name)),
        *load_panels(queries),
    ]


def service_dashboard(plan: ServicePlan, header: str) -> dict[str, Any]:
    """The Grafana dashboard of one service."""
    service = plan.service
    panels = slo_panels(plan) + traffic_panels(plan)
    for build in DEPENDENCY_PANELS:
        panels += build(plan.queries)
    panels += telemetry_panels(plan.queries)
    return dashboard(
        uid=plan.dashboard_uid,
        title=f"{service.name} service",
        description=f"{header}. {service.description}".strip(),
        tags=[DASHBOARD_TAG, f"team:{service.team}", f"tier:{service.tier.value}"],
        refresh="30s",
        graph_tooltip=1,
        links=[link("Services overview", f"/d/{OVERVIEW_UID}")],
        panels=lay_out(panels),
    )
