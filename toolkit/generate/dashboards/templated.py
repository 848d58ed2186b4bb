"""One dashboard for every service (``--dashboards templated``): a ``$service`` variable,
thresholds and objectives read from the series the rules record.

The objectives come from the uniformly named ``slo:*`` series every service's rules
record (``slo:objective:ratio{service=...}`` and its siblings, as sloth and pyrra do),
so one dashboard serves services with different objectives and windows. A service's raw
series are selected by its ``job``, which the objective series carries: a catalog whose
services narrow their job with ``prometheus.labels`` needs per-service dashboards.
"""

from __future__ import annotations

from typing import Any

from toolkit import semconv
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
from toolkit.generate.plan import AVAILABILITY, ServicePlan, page_factors
from toolkit.generate.plan.sli import availability_error_ratio
from toolkit.generate.promql import RATE_INTERVAL, ServiceQueries, matchers
from toolkit.generate.uids import OVERVIEW_UID
from toolkit.generate.validate import ValidationError

TEMPLATED_FILE = "service.json"
TEMPLATED_UID = "toolkit-service"
# The overview's link to a service: this dashboard with the service chosen.
TEMPLATED_URL = f"/d/{TEMPLATED_UID}?var-service=${{__value.text}}"
SERVICE_VARIABLE = "service"
JOB_VARIABLE = "job"
_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_SLO_LEGEND = "{{" + semconv.LABEL_SLO + "}}"


def _series(record: str, **labels: str) -> str:
    selector = {semconv.LABEL_SERVICE: f"${SERVICE_VARIABLE}", **labels}
    return f"{record}{{{','.join(matchers(selector))}}}"


def _query_variable(name: str, label: str, query: str, *, hide: int) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": dict(_DATASOURCE),
        "query": query,
        "current": {"text": "", "value": ""},
        "hide": hide,
        "includeAll": False,
        "multi": False,
        "options": [],
        "refresh": 2,
        "regex": "",
        "skipUrlSync": False,
    }


def _variables() -> list[dict[str, Any]]:
    objective = semconv.RECORD_SLO_OBJECTIVE
    service = f"label_values({objective}, {semconv.LABEL_SERVICE})"
    job = f"label_values({_series(objective)}, {semconv.JOB})"
    return [
        _query_variable(SERVICE_VARIABLE, "Service", service, hide=0),
        _query_variable(JOB_VARIABLE, "Job", job, hide=2),
    ]


def _slo_panels() -> list[Panel]:
    objective = _series(semconv.RECORD_SLO_OBJECTIVE)
    remaining = _series(semconv.RECORD_SLO_BUDGET_REMAINING)
    by = f"{semconv.LABEL_SERVICE}, {semconv.LABEL_SLO}"
    # error ratio = (1 - budget left) x budget, and budget = 1 - objective.
    sli = f"1 - (1 - {remaining}) * on ({by}) (1 - {objective})"
    slow, fast = page_factors()
    return [
        Panel(
            "stat",
            "SLI over the SLO window",
            "Share of good requests over each objective's SLO window.",
            [Target(sli, _SLO_LEGEND, instant=True)],
            unit="percentunit",
            height=5,
            thresholds=[Step("blue")],
            decimals=3,
        ),
        Panel(
            "stat",
            "Objectives",
            "Each objective of the service, as its rules record it.",
            [Target(objective, _SLO_LEGEND, instant=True)],
            unit="percentunit",
            width=4,
            height=5,
            thresholds=[Step("blue")],
        ),
        Panel(
            "stat",
            "Error budget left",
            "Error budget not yet spent over the SLO window; negative once overspent.",
            [Target(remaining, _SLO_LEGEND, instant=True)],
            unit="percentunit",
            width=4,
            height=5,
            thresholds=list(BUDGET_STEPS),
            decimals=1,
        ),
        Panel(
            "timeseries",
            "Error budget burn rate (first page window)",
            "How many times faster than sustainable the budget burns over the first page "
            "window (1h for a 30-day objective); the page alerts fire above the marked lines.",
            [Target(_series(semconv.RECORD_SLO_PAGE_BURN_RATE), _SLO_LEGEND)],
            unit="x",
            height=5,
            thresholds=[Step("green"), Step("orange", slow), Step("red", fast)],
            threshold_lines=True,
            min=0,
        ),
    ]


def _traffic_panels(queries: ServiceQueries) -> list[Panel]:
    objective = _series(semconv.RECORD_SLO_OBJECTIVE, **{semconv.LABEL_SLO: AVAILABILITY})
    error_ratio = Panel(
        "timeseries",
        "Error ratio (5xx)",
        "Share of responses with a 5xx status, and the availability error budget "
        "(1 - objective) read from the recorded objective.",
        [
            Target(availability_error_ratio(queries, RATE_INTERVAL), "5xx ratio"),
            Target(f"1 - {objective}", "error budget"),
        ],
        unit="percentunit",
        width=12,
        min=0,
    )
    return [
        request_rate_panel(queries),
        error_ratio,
        *latency_panels(queries, [Step("green")], trace_link("${" + SERVICE_VARIABLE + "}")),
        *load_panels(queries),
    ]


def check_templatable(plans: tuple[ServicePlan, ...], path: str) -> None:
    """Refuse a catalog whose services the templated dashboard cannot tell apart."""
    narrowed = [plan.name for plan in plans if plan.service.prometheus.labels]
    if narrowed:
        raise ValidationError(
            path,
            "the templated dashboard selects a service's series by job alone, but "
            f"{', '.join(narrowed)} narrow{'s' if len(narrowed) == 1 else ''} the job with "
            "prometheus.labels: use --dashboards per-service",
        )


def templated_dashboard(plans: tuple[ServicePlan, ...], header: str, path: str) -> dict[str, Any]:
    """The one dashboard of every planned service, chosen with ``$service``."""
    check_templatable(plans, path)
    queries = ServiceQueries(f"${JOB_VARIABLE}")
    panels = _slo_panels() + _traffic_panels(queries)
    for build in DEPENDENCY_PANELS:
        panels += build(queries)
    panels += telemetry_panels(queries)
    return dashboard(
        uid=TEMPLATED_UID,
        title="Service",
        description=f"{header}. Every service of the catalog: pick one with $service.",
        tags=[DASHBOARD_TAG],
        refresh="30s",
        graph_tooltip=1,
        links=[link("Services overview", f"/d/{OVERVIEW_UID}")],
        panels=lay_out(panels),
        variables=_variables(),
    )


__all__ = [
    "TEMPLATED_FILE",
    "TEMPLATED_UID",
    "TEMPLATED_URL",
    "check_templatable",
    "templated_dashboard",
]
