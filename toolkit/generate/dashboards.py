"""What goes on the Grafana dashboards, as data: panels, queries, units, thresholds.

The templates (``dashboard.json.j2``, ``overview.json.j2`` and the panel macros in
``panels.j2``) turn this data into Grafana's JSON model; Python decides what is shown
and where, the templates decide how a panel of each type is written.

Over 300 lines and kept whole for now: the service and overview dashboards share
their panel builders; splitting the two is the next step for this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from toolkit import semconv
from toolkit.catalog.model import Catalog, Service
from toolkit.generate.promql import ServiceQueries, format_number
from toolkit.generate.render import Record
from toolkit.generate.rules import SLOSpec, slo_specs
from toolkit.generate.uids import OVERVIEW_UID, dashboard_uid
from toolkit.generate.windows import REFERENCE_WINDOW_SECONDS, burn_alert_specs

GRID_WIDTH = 24
DASHBOARD_TAG = "toolkit"
_REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Target:
    """One PromQL query of a panel."""

    expr: str
    legend: str = ""
    instant: bool = False
    exemplar: bool = False
    table: bool = False


@dataclass(frozen=True)
class Step:
    """A threshold step: from ``value`` upwards (``None``: the base) the colour is ``color``."""

    color: str
    value: float | None = None


@dataclass
class Panel:
    """One panel: ``kind`` is ``timeseries``, ``stat`` or ``table``; the grid sets its place."""

    kind: str
    title: str
    description: str
    targets: list[Target]
    unit: str = "short"
    width: int = 8
    height: int = 8
    thresholds: list[Step] = field(default_factory=lambda: [Step("green")])
    threshold_lines: bool = False
    min: float | None = None
    max: float | None = None
    decimals: int | None = None
    links: list[dict[str, str]] = field(default_factory=list)
    mappings: list[dict[str, Any]] = field(default_factory=list)
    # Tables only: per-column field overrides, columns to hide, column positions.
    overrides: list[dict[str, Any]] = field(default_factory=list)
    hidden_columns: dict[str, bool] = field(default_factory=lambda: {"Time": True})
    column_order: dict[str, int] = field(default_factory=dict)
    id: int = 0
    grid: dict[str, int] = field(default_factory=dict)

    def context(self) -> Record:
        """The panel as the template sees it (targets get their ``refId``)."""
        return Record(
            id=self.id,
            kind=self.kind,
            title=self.title,
            description=self.description,
            grid=self.grid,
            unit=self.unit,
            min=self.min,
            max=self.max,
            decimals=self.decimals,
            thresholds=[{"color": s.color, "value": s.value} for s in self.thresholds],
            threshold_lines=self.threshold_lines,
            links=[Record(link) for link in self.links],
            mappings=self.mappings,
            overrides=self.overrides,
            hidden_columns=self.hidden_columns,
            column_order=self.column_order,
            targets=[
                Record(
                    ref_id=_REF_IDS[index],
                    expr=target.expr,
                    legend=target.legend,
                    instant=target.instant,
                    exemplar=target.exemplar,
                    format="table" if target.table else "time_series",
                )
                for index, target in enumerate(self.targets)
            ],
        )


def lay_out(panels: list[Panel]) -> list[Panel]:
    """Place panels left to right, wrapping at the grid width; ids follow that order."""
    x = y = row_height = 0
    for number, panel in enumerate(panels, start=1):
        if x + panel.width > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        panel.id = number
        panel.grid = {"h": panel.height, "w": panel.width, "x": x, "y": y}
        x += panel.width
        row_height = max(row_height, panel.height)
    return panels


def _ratio_steps(budget: Decimal) -> list[Step]:
    return [Step("green"), Step("orange", float(budget)), Step("red", float(budget * 10))]


def _sli_steps(target: float) -> list[Step]:
    return [Step("red"), Step("green", float(Decimal(repr(target)) / 100))]


def _budget_steps() -> list[Step]:
    return [Step("red"), Step("orange", 0.0), Step("green", 0.25)]


def _burn_steps(service: Service) -> list[Step]:
    page = burn_alert_specs(service.slo.window.seconds)[0]
    slow, fast = sorted(c.factor for c in page.conditions)
    return [Step("green"), Step("orange", float(slow)), Step("red", float(fast))]


def _burn_windows(service: Service) -> tuple[str, str]:
    """The long windows of the two page conditions (1h and 6h for a 30-day objective)."""
    page = burn_alert_specs(service.slo.window.seconds)[0]
    first, second = page.conditions
    return first.long.text, second.long.text


def _slo_label(service: Service, slo: SLOSpec) -> str:
    return f"{format_number(Decimal(repr(slo.target)))}% over {service.slo.window.text}"


def slo_panels(service: Service) -> list[Panel]:
    """SLIs over the SLO window, error budget left, and burn rate from the recorded SLIs."""
    queries = ServiceQueries(service)
    slos = slo_specs(service)
    window = service.slo.window.text
    panels: list[Panel] = []
    width = 4 if len(slos) == 2 else 8
    for slo in slos:
        panels.append(
            Panel(
                "stat",
                f"{slo.kind.capitalize()} SLI ({window})",
                f"Share of good requests over the SLO window; "
                f"objective {_slo_label(service, slo)}.",
                [Target(queries.slo_window_success(slo.kind), slo.kind, instant=True)],
                unit="percentunit",
                width=width,
                height=5,
                thresholds=_sli_steps(slo.target),
                decimals=3,
            )
        )
    for slo in slos:
        panels.append(
            Panel(
                "stat",
                f"{slo.kind.capitalize()} error budget left",
                f"Error budget ({format_number(slo.budget * 100)}% of requests) not yet spent "
                f"over the last {window}; negative once overspent.",
                [Target(queries.budget_remaining(slo.kind, slo.budget), slo.kind, instant=True)],
                unit="percentunit",
                width=width,
                height=5,
                thresholds=_budget_steps(),
                decimals=1,
            )
        )
    fast, slow = _burn_windows(service)
    panels.append(
        Panel(
            "timeseries",
            "Error budget burn rate",
            "How many times faster than sustainable the budget burns (1 = spent exactly at "
            "the end of the window); the page alerts fire above the marked lines.",
            [
                Target(queries.burn_rate(slo.kind, w, slo.budget), f"{slo.kind} {w}")
                for slo in slos
                for w in (fast, slow)
            ],
            unit="x",
            width=8,
            height=5,
            thresholds=_burn_steps(service),
            threshold_lines=True,
            min=0,
        )
    )
    return panels


def traffic_panels(service: Service, budget: Decimal) -> list[Panel]:
    """Request rate, errors, latency, active requests and body sizes."""
    queries = ServiceQueries(service)
    route = "{{" + semconv.LABEL_ROUTE + "}}"
    latency = service.slo.latency
    latency_steps = [Step("green")]
    if latency is not None:
        latency_steps.append(Step("red", latency.threshold_seconds))
    return [
        Panel(
            "timeseries",
            "Request rate by route",
            "Requests per second, by route template.",
            [Target(queries.request_rate_by_route(), route)],
            unit="reqps",
            width=12,
            min=0,
        ),
        Panel(
            "timeseries",
            "Error ratio (5xx)",
            "Share of responses with a 5xx status; the line marks the availability budget.",
            [Target(queries.error_ratio(), "5xx ratio")],
            unit="percentunit",
            width=12,
            thresholds=_ratio_steps(budget),
            threshold_lines=True,
            min=0,
        ),
        Panel(
            "timeseries",
            "Latency p50 / p90 / p99",
            "Server request duration quantiles from the histogram; exemplars link to traces.",
            [
                Target(queries.latency_quantile(q), f"p{label}", exemplar=True)
                for q, label in (("0.5", "50"), ("0.9", "90"), ("0.99", "99"))
            ],
            unit="s",
            width=12,
            thresholds=latency_steps,
            threshold_lines=latency is not None,
            min=0,
            links=[_trace_link(service)],
        ),
        Panel(
            "timeseries",
            "Latency p99 by route",
            "99th percentile of the server request duration, by route template.",
            [Target(queries.latency_quantile("0.99", by=semconv.LABEL_ROUTE), route)],
            unit="s",
            width=12,
            min=0,
        ),
        Panel(
            "timeseries",
            "Active requests",
            "Requests being handled right now.",
            [Target(queries.active_requests(), "in flight")],
            unit="short",
            min=0,
        ),
        Panel(
            "timeseries",
            "Request body size p50 / p99",
            "Size of request bodies.",
            [
                Target(
                    queries.body_size_quantile(semconv.HTTP_SERVER_REQUEST_BODY_SIZE, q), f"p{n}"
                )
                for q, n in (("0.5", "50"), ("0.99", "99"))
            ],
            unit="bytes",
            min=0,
        ),
        Panel(
            "timeseries",
            "Response body size p50 / p99",
            "Size of response bodies.",
            [
                Target(
                    queries.body_size_quantile(semconv.HTTP_SERVER_RESPONSE_BODY_SIZE, q), f"p{n}"
                )
                for q, n in (("0.5", "50"), ("0.99", "99"))
            ],
            unit="bytes",
            min=0,
        ),
    ]


def _failure_counter_panel(title: str, description: str, expr: str, label: str) -> Panel:
    # A rate of things that should never happen: green at zero, red above it.
    return Panel(
        "timeseries",
        title,
        description,
        [Target(expr, "{{" + label + "}}")],
        unit="short",
        width=GRID_WIDTH // 3,
        height=6,
        thresholds=[Step("green"), Step("red", 0.0)],
        min=0,
    )


def telemetry_panels(service: Service) -> list[Panel]:
    """The instrumentation's own health: failures it swallowed, spans lost, readiness checks."""
    queries = ServiceQueries(service)
    return [
        _failure_counter_panel(
            "Telemetry errors",
            "Failures of the telemetry itself (exporter, log sink, hooks), counted and "
            "swallowed so that requests went on; anything above zero deserves a look.",
            queries.telemetry_errors(),
            semconv.LABEL_COMPONENT,
        ),
        _failure_counter_panel(
            "Spans dropped",
            "Finished spans that never reached the collector: its queue was full or the "
            "export failed. Traces of these requests are missing.",
            queries.spans_dropped(),
            semconv.LABEL_REASON,
        ),
        Panel(
            "timeseries",
            "Readiness checks",
            "Each /readyz check's last result (1 passed, 0 failed), the worst over instances.",
            [Target(queries.health_checks(), "{{" + semconv.LABEL_CHECK + "}}")],
            unit="short",
            width=GRID_WIDTH - 2 * (GRID_WIDTH // 3),
            height=6,
            thresholds=[Step("red"), Step("green", 1.0)],
            min=0,
            max=1,
        ),
    ]


def outbound_panels(service: Service) -> list[Panel]:
    """Outbound calls by target, from the HTTP client metrics."""
    queries = ServiceQueries(service)
    target = "{{" + semconv.LABEL_SERVER_ADDRESS + "}}"
    return [
        Panel(
            "timeseries",
            "Outbound calls by target",
            "Calls per second this service makes, by target host.",
            [Target(queries.outbound_rate_by_target(), target)],
            unit="reqps",
            min=0,
        ),
        Panel(
            "timeseries",
            "Outbound error ratio by target",
            "Share of outbound calls that failed, by target host.",
            [Target(queries.outbound_error_ratio_by_target(), target)],
            unit="percentunit",
            thresholds=[Step("green"), Step("red", 0.05)],
            threshold_lines=True,
            min=0,
        ),
        Panel(
            "timeseries",
            "Outbound latency p99 by target",
            "99th percentile of outbound call duration, by target host.",
            [Target(queries.outbound_latency_by_target("0.99"), target)],
            unit="s",
            min=0,
        ),
        Panel(
            "table",
            "Dependencies",
            "Every target this service calls: call rate, failure ratio and p99 latency now.",
            [
                Target(queries.outbound_rate_by_target(), "calls/s", instant=True, table=True),
                Target(
                    queries.outbound_error_ratio_by_target(), "errors", instant=True, table=True
                ),
                Target(queries.outbound_latency_by_target("0.99"), "p99", instant=True, table=True),
            ],
            width=GRID_WIDTH,
        ),
    ]


# A state added to semconv later gets blue (see .get below) rather than breaking the import.
_BREAKER_COLORS = dict(zip(semconv.CIRCUITBREAKER_STATES, ("green", "red", "orange"), strict=False))


def breaker_panels(service: Service) -> list[Panel]:
    """Circuit breakers (toolkit.resilience): state, calls by outcome, failure rate."""
    queries = ServiceQueries(service)
    name = "{{" + semconv.LABEL_BREAKER_NAME + "}}"
    states = {
        str(index): {"text": state, "color": _BREAKER_COLORS.get(state, "blue"), "index": index}
        for index, state in enumerate(semconv.CIRCUITBREAKER_STATES)
    }
    return [
        Panel(
            "stat",
            "Circuit breakers",
            "Current state of each circuit breaker in this service.",
            [Target(queries.breaker_state(), name, instant=True)],
            thresholds=[Step("blue")],
            mappings=[{"type": "value", "options": states}],
        ),
        Panel(
            "timeseries",
            "Circuit breaker calls by outcome",
            "Calls through each breaker per second: successful, failed, ignored, not permitted.",
            [
                Target(
                    queries.breaker_calls(),
                    f"{name} {{{{{semconv.LABEL_BREAKER_KIND}}}}}",
                )
            ],
            unit="reqps",
            min=0,
        ),
        Panel(
            "timeseries",
            "Circuit breaker failure rate",
            "Failure rate of each breaker's sliding window (-1 until enough calls were made).",
            [Target(queries.breaker_failure_rate(), name)],
            unit="percent",
            max=100,
        ),
    ]


# Builders of the dependency section, in order: a new kind of dependency metric adds one.
DEPENDENCY_PANELS: tuple[Callable[[Service], list[Panel]], ...] = (
    outbound_panels,
    breaker_panels,
)


def _trace_link(service: Service) -> dict[str, str]:
    return {
        "title": f"Traces of {service.name}",
        "url": "/explore?left="
        + "%7B%22datasource%22%3A%22${trace_datasource}%22%2C%22queries%22%3A%5B%7B%22refId"
        + "%22%3A%22A%22%2C%22queryType%22%3A%22traceql%22%2C%22query%22%3A%22%7B"
        + "resource.service.name%3D%5C%22"
        + service.name
        + "%5C%22%7D%22%7D%5D%7D",
    }


def service_dashboard(service: Service, header: str) -> dict[str, Any]:
    """The template context of one service's dashboard."""
    budget = slo_specs(service)[0].budget
    panels = slo_panels(service) + traffic_panels(service, budget)
    for build in DEPENDENCY_PANELS:
        panels += build(service)
    panels += telemetry_panels(service)
    description = f"{header}. {service.description}".strip()
    return Record(
        uid=dashboard_uid(service.name),
        title=f"{service.name} service",
        description=description,
        tags=[DASHBOARD_TAG, f"team:{service.team}", f"tier:{service.tier.value}"],
        overview_uid=OVERVIEW_UID,
        panels=[panel.context() for panel in lay_out(panels)],
    )


# Columns of the overview table: (legend, recorded series) in order.
_OVERVIEW_COLUMNS = (
    ("objective", semconv.RECORD_SLO_OBJECTIVE),
    ("budget left", semconv.RECORD_SLO_BUDGET_REMAINING),
    ("burn rate", semconv.RECORD_SLO_PAGE_BURN_RATE),
)
_OVERVIEW_LABELS = (
    semconv.LABEL_SERVICE,
    semconv.LABEL_SLO,
    semconv.LABEL_TIER,
    semconv.LABEL_TEAM,
    semconv.LABEL_DASHBOARD,
)
_TABLE_ROW_HEIGHT = 1  # grid units per table row, roughly (cellHeight "sm")
_TABLE_MAX_HEIGHT = 30


def _overview_series(record: str) -> str:
    """One recorded series for every SLO of the catalog, labels only (no ``__name__``)."""
    by = ", ".join(_OVERVIEW_LABELS)
    return f'max by ({by}) ({record}{{{semconv.LABEL_SERVICE}!=""}})'


def _override(column: str, *properties: tuple[str, Any]) -> dict[str, Any]:
    return {
        "matcher": {"id": "byName", "options": column},
        "properties": [{"id": key, "value": value} for key, value in properties],
    }


def _steps(steps: list[Step]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"color": s.color, "value": s.value} for s in steps]}


def _page_factors() -> tuple[float, float]:
    """The burn rates the page alert fires at (6x and 14.4x, whatever the window)."""
    page = burn_alert_specs(REFERENCE_WINDOW_SECONDS)[0]
    slow, fast = sorted(c.factor for c in page.conditions)
    return float(slow), float(fast)


def overview_panels(slo_count: int) -> list[Panel]:
    """Counts at a glance, then one table row per service and SLO, whatever the catalog size.

    Every column is one query over the uniformly named series the rules record for each
    service (``toolkit.semconv.RECORD_SLO_*``), so the dashboard's size does not grow
    with the catalog. The service column links to each service's dashboard.
    """
    slow, fast = _page_factors()
    budget = semconv.RECORD_SLO_BUDGET_REMAINING
    burn = semconv.RECORD_SLO_PAGE_BURN_RATE
    background = ("custom.cellOptions", {"type": "color-background"})
    label = semconv.LABEL_SERVICE
    link = {
        "title": "${__value.text} dashboard",
        "url": f"/d/${{__data.fields.{semconv.LABEL_DASHBOARD}}}",
    }
    table = Panel(
        "table",
        "Services",
        "Every service and objective of the catalog: its tier and team, the objective, the "
        "error budget left over its SLO window (red: overspent) and the burn rate over the "
        "first page window (1h for a 30-day objective; orange from the 6h page rate, red "
        "from the 1h one). Empty cells: no traffic. Click a service for its dashboard.",
        [
            Target(_overview_series(record), legend, instant=True, table=True)
            for legend, record in _OVERVIEW_COLUMNS
        ],
        width=GRID_WIDTH,
        height=min(_TABLE_MAX_HEIGHT, 4 + slo_count * _TABLE_ROW_HEIGHT),
        overrides=[
            _override(label, ("links", [link])),
            _override(semconv.LABEL_DASHBOARD, ("custom.hidden", True)),
            _override("objective", ("unit", "percentunit")),
            _override(
                "budget left",
                ("unit", "percentunit"),
                ("decimals", 1),
                ("thresholds", _steps(_budget_steps())),
                background,
            ),
            _override(
                "burn rate",
                ("unit", "x"),
                ("decimals", 1),
                ("thresholds", _steps([Step("green"), Step("orange", slow), Step("red", fast)])),
                background,
            ),
        ],
        column_order={
            **{name: index for index, name in enumerate(_OVERVIEW_LABELS)},
            **{f"Value #{_REF_IDS[i]}": len(_OVERVIEW_LABELS) + i for i in range(3)},
        },
    )
    anywhere = f'{{{label}!=""}}'
    return [
        Panel(
            "stat",
            "Objectives",
            "Service level objectives in the catalog (availability and latency).",
            [
                Target(
                    f"count({semconv.RECORD_SLO_OBJECTIVE}{anywhere})", "objectives", instant=True
                )
            ],
            thresholds=[Step("blue")],
            height=4,
        ),
        Panel(
            "stat",
            "Error budget overspent",
            "Objectives whose error budget over their SLO window is spent.",
            [Target(f"count({budget}{anywhere} < 0) or vector(0)", "overspent", instant=True)],
            thresholds=[Step("green"), Step("red", 1.0)],
            height=4,
        ),
        Panel(
            "stat",
            "Burning fast",
            f"Objectives burning their error budget faster than {fast:g}x over the first "
            "page window: the fast-burn page is firing or about to.",
            [Target(f"count({burn}{anywhere} > {fast:g}) or vector(0)", "burning", instant=True)],
            thresholds=[Step("green"), Step("red", 1.0)],
            height=4,
        ),
        table,
    ]


def overview_dashboard(catalog: Catalog, header: str) -> Record:
    """The template context of the overview: every service's SLO status and burn rate."""
    slo_count = sum(len(slo_specs(service)) for service in catalog.services)
    return Record(
        uid=OVERVIEW_UID,
        title="Services overview",
        description=f"{header}. SLO status and burn rate of every service in the catalog.",
        tags=[DASHBOARD_TAG],
        panels=[panel.context() for panel in lay_out(overview_panels(slo_count))],
    )
