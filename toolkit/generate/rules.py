"""Prometheus rules for one service as data: recorded SLIs, burn-rate, target and breaker alerts.

Severity comes from the service's tier:

============  ================  =================
tier          page (fast burn)  ticket (slow burn)
============  ================  =================
critical      ``critical``      ``warning``
standard      ``warning``       ``info``
experimental  ``info``          ``info``
============  ================  =================

The target alerts (down, absent) take the page severity of the tier. The circuit-breaker
alert (a breaker open for 5 minutes) takes the ticket severity: it names a cause (a
failing dependency) that the breaker is containing; if users feel it, the SLO alerts page.

Over 300 lines and kept whole: recorded SLIs, burn-rate windows and alerts name each
other's series, and one file keeps those names in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from toolkit import semconv
from toolkit.catalog.model import Service, Tier
from toolkit.generate.promql import (
    ServiceQueries,
    error_budget,
    format_number,
    quote,
    recording_name,
)
from toolkit.generate.uids import dashboard_uid
from toolkit.generate.windows import (
    BurnAlertSpec,
    BurnCondition,
    Speed,
    alert_windows,
    burn_alert_specs,
)

AVAILABILITY = "availability"
LATENCY = "latency"
BURN = "burn"
TARGET_DOWN = "target_down"
TARGET_ABSENT = "target_absent"
TARGET_DOWN_FOR = "5m"
TARGET_ABSENT_FOR = "5m"
BREAKER_OPEN = "breaker_open"
BREAKER_OPEN_FOR = "5m"
# The value of the breaker's state label when it is open (one of CIRCUITBREAKER_STATES).
OPEN_STATE = "open"
# Prometheus alert templates the annotations use; the generated unit tests expand them.
VALUE_AS_PERCENT = "{{ $value | humanizePercentage }}"
INSTANCE_OF_ALERT = f"{{{{ $labels.{semconv.LABEL_INSTANCE} }}}}"
BREAKER_OF_ALERT = f"{{{{ $labels.{semconv.LABEL_BREAKER_NAME} }}}}"

SEVERITY: dict[Tier, dict[Speed, str]] = {
    Tier.CRITICAL: {Speed.PAGE: "critical", Speed.TICKET: "warning"},
    Tier.STANDARD: {Speed.PAGE: "warning", Speed.TICKET: "info"},
    Tier.EXPERIMENTAL: {Speed.PAGE: "info", Speed.TICKET: "info"},
}
_SPEED_WORD = {Speed.PAGE: "Fast", Speed.TICKET: "Slow"}


@dataclass(frozen=True)
class RecordingRule:
    """One ``record:`` rule."""

    record: str
    expr: str
    labels: dict[str, str]


@dataclass(frozen=True)
class AlertRule:
    """One ``alert:`` rule, plus what its generated unit test needs to know."""

    alert: str
    expr: str
    for_: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    watches: str
    slo: str | None = None
    budget: Decimal = Decimal(0)
    conditions: tuple[BurnCondition, ...] = ()


@dataclass(frozen=True)
class SLOSpec:
    """One objective of a service: its kind, target in percent and error budget."""

    kind: str
    target: float
    budget: Decimal


@dataclass(frozen=True)
class RuleGroup:
    """All rules of one service: one Prometheus rule group."""

    name: str
    service: Service
    slos: tuple[SLOSpec, ...]
    recording_rules: tuple[RecordingRule, ...]
    alerts: tuple[AlertRule, ...]


@cache
def camel_case(name: str) -> str:
    """``checkout-api`` -> ``CheckoutApi``: a valid alert-name prefix."""
    words = [word for word in re.split(r"[^0-9A-Za-z]+", name) if word]
    text = "".join(word[:1].upper() + word[1:] for word in words)
    return text if text[:1].isalpha() else f"Service{text}"


def slo_specs(service: Service) -> tuple[SLOSpec, ...]:
    """The service's objectives: availability always, latency when it has one."""
    specs = [
        SLOSpec(AVAILABILITY, service.slo.availability, error_budget(service.slo.availability))
    ]
    if service.slo.latency is not None:
        target = service.slo.latency.target
        specs.append(SLOSpec(LATENCY, target, error_budget(target)))
    return tuple(specs)


def percent(ratio: Decimal) -> str:
    """``Decimal('0.0144')`` -> ``1.44%``."""
    return f"{format_number(ratio * 100)}%"


def _base_labels(service: Service, severity: str) -> dict[str, str]:
    labels = dict(sorted(service.alert_labels.items()))
    # The generator's own labels win over alert_labels: routing relies on them.
    labels.update(
        {
            semconv.LABEL_SEVERITY: severity,
            semconv.LABEL_SERVICE: service.name,
            semconv.LABEL_TEAM: service.team,
        }
    )
    return labels


def _annotations(service: Service, summary: str, description: str) -> dict[str, str]:
    annotations = {"summary": summary, "description": description}
    if service.runbook:
        annotations["runbook_url"] = service.runbook
    return annotations


def _bad_events(service: Service, kind: str) -> str:
    if kind == AVAILABILITY:
        return "failed with a 5xx status"
    latency = service.slo.latency
    threshold = format_number(Decimal(repr(latency.threshold_seconds))) if latency else "?"
    return f"took longer than {threshold}s"


def _burn_alert(
    service: Service, queries: ServiceQueries, slo: SLOSpec, spec: BurnAlertSpec
) -> AlertRule | None:
    # A branch whose threshold is 100 % or more can never fire (objective below ~93 %).
    conditions = tuple(c for c in spec.conditions if c.factor * slo.budget < 1)
    if not conditions:
        return None
    branches = []
    for condition in conditions:
        threshold = format_number(condition.factor * slo.budget)
        long = queries.recorded_ratio(slo.kind, condition.long.text)
        short = queries.recorded_ratio(slo.kind, condition.short.text)
        branches.append(f"({long} > {threshold} and {short} > {threshold})")
    windows = " or ".join(c.long.text for c in conditions)
    factors = " or ".join(f"{format_number(c.factor)}x" for c in conditions)
    objective = f"{format_number(Decimal(repr(slo.target)))}% over {service.slo.window.text}"
    summary = (
        f"{service.name}: {slo.kind} error budget burning "
        f"{'fast' if spec.speed is Speed.PAGE else 'slowly'}"
    )
    description = (
        f"{VALUE_AS_PERCENT} of the requests to {service.name} "
        f"{_bad_events(service, slo.kind)} over the last {windows}: the error budget of the "
        f"{slo.kind} objective ({objective}, budget {percent(slo.budget)}) is burning at "
        f"{factors} the sustainable rate."
    )
    return AlertRule(
        alert=f"{camel_case(service.name)}{slo.kind.capitalize()}{_SPEED_WORD[spec.speed]}Burn",
        expr=" or ".join(branches),
        for_=None,
        labels={
            **_base_labels(service, SEVERITY[service.tier][spec.speed]),
            semconv.LABEL_SLO: slo.kind,
        },
        annotations=_annotations(service, summary, description),
        watches=BURN,
        slo=slo.kind,
        budget=slo.budget,
        conditions=conditions,
    )


def _target_alerts(service: Service, queries: ServiceQueries) -> tuple[AlertRule, ...]:
    up = f"{semconv.SCRAPE_UP}{queries.selector()}"
    severity = SEVERITY[service.tier][Speed.PAGE]
    prefix = camel_case(service.name)
    down = AlertRule(
        alert=f"{prefix}TargetDown",
        expr=f"{up} == 0",
        for_=TARGET_DOWN_FOR,
        labels=_base_labels(service, severity),
        annotations=_annotations(
            service,
            f"{service.name}: a scrape target is down",
            f"Prometheus has failed to scrape {INSTANCE_OF_ALERT} of "
            f"{service.name} for {TARGET_DOWN_FOR}: its metrics and SLO alerts are blind.",
        ),
        watches=TARGET_DOWN,
    )
    absent = AlertRule(
        alert=f"{prefix}TargetAbsent",
        expr=f"absent({up})",
        for_=TARGET_ABSENT_FOR,
        labels=_base_labels(service, severity),
        annotations=_annotations(
            service,
            f"{service.name}: no scrape target",
            f"Prometheus has no target for {service.name} ({queries.selector()}) since "
            f"{TARGET_ABSENT_FOR}: no data is not a healthy service.",
        ),
        watches=TARGET_ABSENT,
    )
    return down, absent


def breaker_open_expr(queries: ServiceQueries) -> str:
    """Each breaker of the service that is open: ``1`` per (job, breaker name)."""
    state = f"{semconv.LABEL_BREAKER_STATE}={quote(OPEN_STATE)}"
    by = f"{semconv.JOB}, {semconv.LABEL_BREAKER_NAME}"
    return f"max by ({by}) ({semconv.CIRCUITBREAKER_STATE}{queries.selector(state)}) == 1"


def _breaker_alert(service: Service, queries: ServiceQueries) -> AlertRule:
    # No breaker metrics at all (a service without breakers) gives no series: silence.
    return AlertRule(
        alert=f"{camel_case(service.name)}CircuitBreakerOpen",
        expr=breaker_open_expr(queries),
        for_=BREAKER_OPEN_FOR,
        labels=_base_labels(service, SEVERITY[service.tier][Speed.TICKET]),
        annotations=_annotations(
            service,
            f"{service.name}: circuit breaker {BREAKER_OF_ALERT} is open",
            f"The circuit breaker {BREAKER_OF_ALERT} of {service.name} has been open for "
            f"{BREAKER_OPEN_FOR}: calls to that dependency are refused (or served by a "
            f"fallback) while it keeps failing. Check the dependency and the breaker's "
            f"failure rate on the service dashboard.",
        ),
        watches=BREAKER_OPEN,
    )


def overview_labels(service: Service, slo: SLOSpec) -> dict[str, str]:
    """The labels of a service's overview series: identity, tier, team, dashboard uid."""
    return {
        semconv.LABEL_SERVICE: service.name,
        semconv.LABEL_SLO: slo.kind,
        semconv.LABEL_TEAM: service.team,
        semconv.LABEL_TIER: service.tier.value,
        semconv.LABEL_DASHBOARD: dashboard_uid(service.name),
    }


def _overview_rules(
    service: Service, queries: ServiceQueries, slo: SLOSpec, page: BurnAlertSpec
) -> list[RecordingRule]:
    """Uniformly named series for the overview table: objective, budget left, burn rate."""
    labels = overview_labels(service, slo)
    objective = format_number(Decimal(repr(slo.target)) / 100)
    fast = page.conditions[0].long.text
    return [
        RecordingRule(semconv.RECORD_SLO_OBJECTIVE, f"vector({objective})", labels),
        RecordingRule(
            semconv.RECORD_SLO_BUDGET_REMAINING,
            queries.budget_remaining(slo.kind, slo.budget),
            labels,
        ),
        RecordingRule(
            semconv.RECORD_SLO_PAGE_BURN_RATE, queries.burn_rate(slo.kind, fast, slo.budget), labels
        ),
    ]


def build_rule_group(service: Service) -> RuleGroup:
    """Build every rule of ``service``: recorded SLIs first, then its alerts."""
    queries = ServiceQueries(service)
    specs = burn_alert_specs(service.slo.window.seconds)
    slos = slo_specs(service)
    recording = []
    for slo in slos:
        build = (
            queries.availability_error_ratio
            if slo.kind == AVAILABILITY
            else queries.latency_error_ratio
        )
        for window in alert_windows(specs):
            recording.append(
                RecordingRule(
                    record=recording_name(window.text),
                    expr=build(window.text),
                    labels={semconv.LABEL_SERVICE: service.name, semconv.LABEL_SLO: slo.kind},
                )
            )
    for slo in slos:
        recording.extend(_overview_rules(service, queries, slo, specs[0]))
    alerts: list[AlertRule] = []
    for slo in slos:
        for spec in specs:
            alert = _burn_alert(service, queries, slo, spec)
            if alert is not None:
                alerts.append(alert)
    alerts.extend(_target_alerts(service, queries))
    alerts.append(_breaker_alert(service, queries))
    return RuleGroup(service.name, service, slos, tuple(recording), tuple(alerts))
