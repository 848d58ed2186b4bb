"""The plan: each service's objectives worked out once, as plain data.

Everything that is SLO maths lives in this package and nowhere else: error budgets,
the burn-rate windows scaled to the SLO window, the thresholds each alert fires at, and
the PromQL of every SLI. The writers (dashboards, rules, promtool tests) read a
:class:`ServicePlan` and decide only how it is shown or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache, cached_property

from toolkit import semconv
from toolkit.catalog.model import Catalog, Service, Tier
from toolkit.catalog.names import alert_name_prefix
from toolkit.generate.plan.sli import (
    AVAILABILITY,
    BASE_WINDOW,
    LATENCY,
    SLISeries,
    availability_error_ratio,
    base_errors,
    base_requests,
    budget_remaining,
    burn_rate,
    error_budget,
    objective_ratio,
    recording_name,
)
from toolkit.generate.plan.windows import (
    REFERENCE_WINDOW_SECONDS,
    BurnAlertSpec,
    Speed,
    Window,
    alert_windows,
    burn_alert_specs,
    format_duration,
)
from toolkit.generate.promql import RATE_INTERVAL, ServiceQueries, format_number
from toolkit.generate.uids import dashboard_uid

SEVERITY: dict[Tier, dict[Speed, str]] = {
    Tier.CRITICAL: {Speed.PAGE: "critical", Speed.TICKET: "warning"},
    Tier.STANDARD: {Speed.PAGE: "warning", Speed.TICKET: "info"},
    Tier.EXPERIMENTAL: {Speed.PAGE: "info", Speed.TICKET: "info"},
}


@dataclass(frozen=True)
class BurnCheck:
    """Fire when the error ratio exceeds ``threshold`` (``factor`` x budget) over both
    windows; ``long``/``short`` are the recorded SLI series of those windows.

    ``long_requests`` counts the requests of the long window: the check fires only when
    it holds at least ``min_requests`` (the low-traffic guard; 0 turns it off).
    """

    factor: Decimal
    threshold: Decimal
    long_window: Window
    short_window: Window
    long: str
    short: str
    long_requests: str
    min_requests: int


@dataclass(frozen=True)
class BurnAlertPlan:
    """One burn-rate alert: the checks it ORs together, how urgent, how severe."""

    speed: Speed
    severity: str
    checks: tuple[BurnCheck, ...]


@dataclass(frozen=True)
class SLOPlan:
    """One objective of a service, with every number and SLI query it needs."""

    kind: str
    target: float  # percent, as the catalog says it
    objective: Decimal  # the same as a ratio
    budget: Decimal
    # (record name, expression), in evaluation order: the base counts, then the error
    # ratio of every alert window summed from them.
    recorded: tuple[tuple[str, str], ...]
    burn_alerts: tuple[BurnAlertPlan, ...]  # page then ticket; those that can fire
    # The base counts copied every 5 minutes (record name, expression): their samples
    # tile time, so long windows sum few of them.
    tiles: tuple[tuple[str, str], ...]
    # The error ratio over the whole SLO window: (record name, expression) and the
    # recorded series. Its rule reads the longest range: it is evaluated less often.
    window_recorded: tuple[str, str]
    window_error_ratio: str
    budget_remaining: str  # share of the budget left over the SLO window
    page_burn_rate: str  # burn rate over the first page window, from its recorded SLI
    page_burn_rates: tuple[tuple[Window, str], ...]  # burn rate over each page long window
    dashboard_error_ratio: str | None  # availability only: over Grafana's rate interval

    @property
    def target_text(self) -> str:
        """``99.9``: the objective in percent, without float noise."""
        return format_number(Decimal(repr(self.target)))


@dataclass(frozen=True)
class ServicePlan:
    """Everything the writers need to know about one service's objectives."""

    service: Service
    queries: ServiceQueries
    alert_prefix: str  # CamelCase, for alert names
    dashboard_uid: str
    slos: tuple[SLOPlan, ...]
    page_windows: tuple[Window, ...]  # long windows of the page checks (1h, 6h at 30d)
    page_factors: tuple[Decimal, ...]  # their burn rates, slowest first (6, 14.4)

    @property
    def name(self) -> str:
        """The service's name."""
        return self.service.name

    def severity(self, speed: Speed) -> str:
        """The severity of an alert of this speed for the service's tier."""
        return SEVERITY[self.service.tier][speed]

    @cached_property
    def availability(self) -> SLOPlan:
        """The availability objective (every service has one)."""
        return self.slos[0]


@cache
def camel_case(name: str) -> str:
    """``checkout-api`` -> ``CheckoutApi``: a valid alert-name prefix."""
    return alert_name_prefix(name)


@dataclass(frozen=True)
class _WindowSet:
    """What depends only on the SLO window's length, worked out once per length."""

    specs: tuple[BurnAlertSpec, ...]
    ratio_windows: tuple[tuple[Window, bool], ...]  # every alert window; read from tiles?
    tiled: frozenset[str]  # the texts of the windows read from tiles
    slo_window: Window
    page_windows: tuple[Window, ...]
    page_factors: tuple[Decimal, ...]


@cache
def _window_set(slo_window_seconds: int, slo_window_text: str) -> _WindowSet:
    """The burn-alert specs for this SLO window, and which windows read the 5-minute
    tiles: the long windows of the ticket checks (a day and 3 days for a 30-day
    objective). A tile is up to 5 minutes old, which a ticket can afford; the page
    checks and every short window read the 5-minute base."""
    specs = burn_alert_specs(slo_window_seconds)
    page, *tickets = specs
    fresh = {w for c in page.conditions for w in (c.long, c.short)}
    fresh |= {c.short for spec in tickets for c in spec.conditions}
    tiled = frozenset(c.long for spec in tickets for c in spec.conditions) - fresh
    windows = tuple((w, w in tiled) for w in alert_windows(specs))
    return _WindowSet(
        specs,
        windows,
        frozenset(w.text for w in tiled),
        Window(slo_window_text, slo_window_seconds),
        page_windows=tuple(c.long for c in page.conditions),
        page_factors=tuple(sorted(c.factor for c in page.conditions)),
    )


def _service_window_set(service: Service) -> _WindowSet:
    window = service.slo.window
    return _window_set(window.seconds, window.text)


def _slo_plan(service: Service, queries: ServiceQueries, kind: str, target: float) -> SLOPlan:
    budget = error_budget(target)
    window_set = _service_window_set(service)
    specs, tiled = window_set.specs, window_set.tiled
    # Every string below is built on the recorded series of this service and objective,
    # spelled once here.
    series = SLISeries(service.name, kind)
    base = (
        (semconv.RECORD_SLI_REQUESTS, base_requests(service, queries, kind)),
        (semconv.RECORD_SLI_ERRORS, base_errors(service, queries, kind)),
    )
    ratios = tuple(
        (recording_name(w.text), series.window_error_ratio(w, tiled=is_tiled))
        for w, is_tiled in window_set.ratio_windows
    )
    ratio_of = {w.text: series.ratio(w.text) for w, _ in window_set.ratio_windows}
    severity = SEVERITY[service.tier]
    min_requests = service.alerting.min_requests
    alerts = []
    for spec in specs:
        # A check whose threshold is 100 % or more can never fire (objective below ~93 %).
        checks = tuple(
            BurnCheck(
                condition.factor,
                threshold,
                condition.long,
                condition.short,
                ratio_of[condition.long.text],
                ratio_of[condition.short.text],
                series.requests_in(condition.long, tiled=condition.long.text in tiled),
                min_requests,
            )
            for condition in spec.conditions
            if (threshold := condition.factor * budget) < 1
        )
        if checks:
            alerts.append(BurnAlertPlan(spec.speed, severity[spec.speed], checks))
    slo_window = window_set.slo_window
    window_ratio = series.ratio(slo_window.text)
    return SLOPlan(
        kind=kind,
        target=target,
        objective=objective_ratio(target),
        budget=budget,
        recorded=base + ratios,
        burn_alerts=tuple(alerts),
        tiles=(
            (semconv.RECORD_SLI_REQUESTS_TILED, series.requests),
            (semconv.RECORD_SLI_ERRORS_TILED, series.errors),
        ),
        window_recorded=(
            recording_name(slo_window.text),
            series.window_error_ratio(slo_window, tiled=True),
        ),
        window_error_ratio=window_ratio,
        budget_remaining=budget_remaining(window_ratio, budget),
        page_burn_rate=burn_rate(ratio_of[window_set.page_windows[0].text], budget),
        page_burn_rates=tuple(
            (w, burn_rate(ratio_of[w.text], budget)) for w in window_set.page_windows
        ),
        dashboard_error_ratio=(
            availability_error_ratio(queries, RATE_INTERVAL) if kind == AVAILABILITY else None
        ),
    )


def build_plan(service: Service) -> ServicePlan:
    """Work out ``service``'s objectives: availability always, latency when it has one."""
    queries = ServiceQueries.of(service)
    slos = [_slo_plan(service, queries, AVAILABILITY, service.slo.availability)]
    if service.slo.latency is not None:
        slos.append(_slo_plan(service, queries, LATENCY, service.slo.latency.target))
    window_set = _service_window_set(service)
    return ServicePlan(
        service=service,
        queries=queries,
        alert_prefix=camel_case(service.name),
        dashboard_uid=dashboard_uid(service.name),
        slos=tuple(slos),
        page_windows=window_set.page_windows,
        page_factors=window_set.page_factors,
    )


def plan_catalog(catalog: Catalog) -> tuple[ServicePlan, ...]:
    """The plan of every service of the catalog, in catalog order."""
    return tuple(build_plan(service) for service in catalog.services)


def page_factors() -> tuple[float, float]:
    """The burn rates the page alert fires at (6x and 14.4x, whatever the window)."""
    page = burn_alert_specs(REFERENCE_WINDOW_SECONDS)[0]
    slow, fast = sorted(c.factor for c in page.conditions)
    return float(slow), float(fast)


def percent(ratio: Decimal) -> str:
    """``Decimal('0.0144')`` -> ``1.44%``."""
    return f"{format_number(ratio * 100)}%"


__all__ = [
    "AVAILABILITY",
    "BASE_WINDOW",
    "LATENCY",
    "SEVERITY",
    "BurnAlertPlan",
    "BurnCheck",
    "SLOPlan",
    "ServicePlan",
    "Speed",
    "Window",
    "build_plan",
    "camel_case",
    "format_duration",
    "page_factors",
    "percent",
    "plan_catalog",
]
