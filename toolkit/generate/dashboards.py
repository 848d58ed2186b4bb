"""What goes on the Grafana dashboards, as data: panels, queries, units, thresholds.

The templates (``dashboard.json.j2``, ``overview.json.j2`` and the panel macros in
``panels.j2``) turn this data into Grafana's JSON model; Python decides what is shown
and where, the templates decide how a panel of each type is written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from toolkit import semconv
from toolkit.catalog.model import Catalog, Service
from toolkit.generate.promql import ServiceQueries, format_number
from toolkit.generate.rules import SLOSpec, slo_specs
from toolkit.generate.windows import burn_alert_specs

GRID_WIDTH = 24
UID_MAX = 40
OVERVIEW_UID = "toolkit-overview"
SERVICE_UID_PREFIX = "svc-"
DASHBOARD_TAG = "toolkit"
_UID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
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
    id: int = 0
    grid: dict[str, int] = field(default_factory=dict)

    def context(self) -> dict[str, Any]:
        """The panel as the template sees it (targets get their ``refId``)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "description": self.description,
            "grid": self.grid,
            "unit": self.unit,
            "min": self.min,
            "max": self.max,
            "decimals": self.decimals,
            "thresholds": [{"color": s.color, "value": s.value} for s in self.thresholds],
            "threshold_lines": self.threshold_lines,
            "links": self.links,
            "mappings": self.mappings,
            "targets": [
                {
                    "ref_id": _REF_IDS[index],
                    "expr": target.expr,
                    "legend": target.legend,
                    "instant": target.instant,
                    "exemplar": target.exemplar,
                    "format": "table" if target.table else "time_series",
                }
                for index, target in enumerate(self.targets)
            ],
        }


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


def dashboard_uid(service_name: str) -> str:
    """A stable Grafana uid for a service: readable when it can be, always <= 40 chars."""
    slug = _UID_UNSAFE.sub("-", service_name)
    uid = SERVICE_UID_PREFIX + slug
    if slug == service_name and len(uid) <= UID_MAX:
        return uid
    digest = hashlib.sha256(service_name.encode()).hexdigest()[:10]
    return f"{uid[: UID_MAX - len(digest) - 1]}-{digest}"


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


def telemetry_panels(service: Service) -> list[Panel]:
    """The instrumentation's own health: failures it swallowed to keep requests going."""
    component = "{{" + semconv.LABEL_COMPONENT + "}}"
    return [
        Panel(
            "timeseries",
            "Telemetry errors",
            "Failures of the telemetry itself (exporter, log sink, hooks), counted and "
            "swallowed so that requests went on; anything above zero deserves a look.",
            [Target(ServiceQueries(service).telemetry_errors(), component)],
            unit="short",
            width=GRID_WIDTH,
            height=6,
            thresholds=[Step("green"), Step("red", 0.0)],
            min=0,
        )
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
    return {
        "uid": dashboard_uid(service.name),
        "title": f"{service.name} service",
        "description": description,
        "tags": [DASHBOARD_TAG, f"team:{service.team}", f"tier:{service.tier.value}"],
        "overview_uid": OVERVIEW_UID,
        "panels": [panel.context() for panel in lay_out(panels)],
    }


def _overview_panels(service: Service) -> list[Panel]:
    queries = ServiceQueries(service)
    fast, _ = _burn_windows(service)
    link = [{"title": f"{service.name} dashboard", "url": f"/d/{dashboard_uid(service.name)}"}]
    heading = f"{service.name} · {service.tier.value} · team {service.team}"
    panels = []
    for slo in slo_specs(service):
        panels.append(
            Panel(
                "stat",
                f"{heading} · {slo.kind}",
                f"{slo.kind.capitalize()} SLI over {service.slo.window.text}; "
                f"objective {_slo_label(service, slo)}. Red: objective missed.",
                [Target(queries.slo_window_success(slo.kind), slo.kind, instant=True)],
                unit="percentunit",
                width=6,
                height=4,
                thresholds=_sli_steps(slo.target),
                decimals=3,
                links=link,
            )
        )
        panels.append(
            Panel(
                "stat",
                f"{heading} · {slo.kind} burn rate {fast}",
                f"{slo.kind.capitalize()} error budget burn rate over {fast}.",
                [Target(queries.burn_rate(slo.kind, fast, slo.budget), fast, instant=True)],
                unit="x",
                width=6,
                height=4,
                thresholds=_burn_steps(service),
                decimals=1,
                links=link,
            )
        )
    if len(panels) == 2:  # no latency SLO: keep one service per grid row
        panels[0].width = panels[1].width = 12
    return panels


def overview_dashboard(catalog: Catalog, header: str) -> dict[str, Any]:
    """The template context of the overview: every service's SLO status and burn rate."""
    panels: list[Panel] = []
    for service in catalog.services:
        panels += _overview_panels(service)
    return {
        "uid": OVERVIEW_UID,
        "title": "Services overview",
        "description": f"{header}. SLO status and burn rate of every service in the catalog.",
        "tags": [DASHBOARD_TAG],
        "panels": [panel.context() for panel in lay_out(panels)],
    }
