"""One service's Prometheus rules from its plan: recorded SLIs, burn-rate, target and
breaker alerts, as data.

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
The telemetry health alerts (spans dropped for 15 minutes, a readiness check failing for
10) take the ticket severity too.
Summaries and descriptions come from ``templates/alert-texts.j2`` (see ``texts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from toolkit import semconv
from toolkit.generate.plan import (
    BurnAlertPlan,
    BurnCheck,
    ServicePlan,
    SLOPlan,
    Speed,
    percent,
)
from toolkit.generate.promql import format_number, quote
from toolkit.generate.texts import AlertTexts

BURN = "burn"
TARGET_DOWN = "target_down"
TARGET_ABSENT = "target_absent"
TARGET_DOWN_FOR = "5m"
TARGET_ABSENT_FOR = "5m"
BREAKER_OPEN = "breaker_open"
BREAKER_OPEN_FOR = "5m"
SPANS_DROPPED = "spans_dropped"
SPANS_DROPPED_FOR = "15m"
READINESS_FAILING = "readiness_failing"
READINESS_FAILING_FOR = "10m"
# The value of the breaker's state label when it is open (one of CIRCUITBREAKER_STATES).
OPEN_STATE = "open"
_SPEED_WORD = {Speed.PAGE: "Fast", Speed.TICKET: "Slow"}


@dataclass(frozen=True)
class RecordingRule:
    """One ``record:`` rule."""

    record: str
    expr: str
    labels: dict[str, str]

    def to_data(self) -> dict[str, Any]:
        """The rule as Prometheus reads it."""
        return {"record": self.record, "expr": self.expr, "labels": self.labels}


@dataclass(frozen=True)
class AlertRule:
    """One ``alert:`` rule, plus what its generated unit test needs to know."""

    alert: str
    expr: str
    for_: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    watches: str
    slo: SLOPlan | None = None
    checks: tuple[BurnCheck, ...] = ()

    def to_data(self) -> dict[str, Any]:
        """The rule as Prometheus reads it."""
        rule: dict[str, Any] = {"alert": self.alert, "expr": self.expr}
        if self.for_:
            rule["for"] = self.for_
        rule["labels"] = self.labels
        rule["annotations"] = self.annotations
        return rule


@dataclass(frozen=True)
class RuleGroup:
    """All rules of one service: one Prometheus rule group."""

    name: str
    plan: ServicePlan
    recording_rules: tuple[RecordingRule, ...]
    alerts: tuple[AlertRule, ...]

    def to_data(self) -> dict[str, Any]:
        """The group as Prometheus reads it."""
        rules = [rule.to_data() for rule in self.recording_rules]
        rules += [rule.to_data() for rule in self.alerts]
        return {"name": self.name, "rules": rules}


def _base_labels(plan: ServicePlan, severity: str) -> dict[str, str]:
    service = plan.service
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


def _annotations(plan: ServicePlan, summary: str, description: str) -> dict[str, str]:
    annotations = {"summary": summary, "description": description}
    if plan.service.runbook:
        annotations["runbook_url"] = plan.service.runbook
    return annotations


def _bad_events(plan: ServicePlan, slo: SLOPlan) -> str:
    if slo.kind == "availability":
        return "failed with a 5xx status"
    latency = plan.service.slo.latency
    threshold = format_number(Decimal(repr(latency.threshold_seconds))) if latency else "?"
    return f"took longer than {threshold}s"


def _burn_alert(
    plan: ServicePlan, slo: SLOPlan, alert: BurnAlertPlan, texts: AlertTexts
) -> AlertRule:
    branches = []
    for check in alert.checks:
        threshold = format_number(check.threshold)
        branches.append(f"({check.long} > {threshold} and {check.short} > {threshold})")
    facts = texts.facts(
        plan,
        slo=slo.kind,
        page=alert.speed is Speed.PAGE,
        bad_events=_bad_events(plan, slo),
        windows=" or ".join(c.long_window.text for c in alert.checks),
        factors=" or ".join(f"{format_number(c.factor)}x" for c in alert.checks),
        objective=f"{slo.target_text}% over {plan.service.slo.window.text}",
        budget=percent(slo.budget),
    )
    summary, description = texts.render("burn", facts)
    return AlertRule(
        alert=f"{plan.alert_prefix}{slo.kind.capitalize()}{_SPEED_WORD[alert.speed]}Burn",
        expr=" or ".join(branches),
        for_=None,
        labels={**_base_labels(plan, alert.severity), semconv.LABEL_SLO: slo.kind},
        annotations=_annotations(plan, summary, description),
        watches=BURN,
        slo=slo,
        checks=alert.checks,
    )


def _target_alerts(plan: ServicePlan, texts: AlertTexts) -> tuple[AlertRule, ...]:
    selector = plan.queries.selector()
    up = f"{semconv.SCRAPE_UP}{selector}"
    severity = plan.severity(Speed.PAGE)
    down = texts.render("target_down", texts.facts(plan, **{"for": TARGET_DOWN_FOR}))
    absent = texts.render(
        "target_absent", texts.facts(plan, selector=selector, **{"for": TARGET_ABSENT_FOR})
    )
    return (
        AlertRule(
            alert=f"{plan.alert_prefix}TargetDown",
            expr=f"{up} == 0",
            for_=TARGET_DOWN_FOR,
            labels=_base_labels(plan, severity),
            annotations=_annotations(plan, *down),
            watches=TARGET_DOWN,
        ),
        AlertRule(
            alert=f"{plan.alert_prefix}TargetAbsent",
            expr=f"absent({up})",
            for_=TARGET_ABSENT_FOR,
            labels=_base_labels(plan, severity),
            annotations=_annotations(plan, *absent),
            watches=TARGET_ABSENT,
        ),
    )


def breaker_open_expr(plan: ServicePlan) -> str:
    """Each breaker of the service that is open: ``1`` per (job, breaker name)."""
    state = f"{semconv.LABEL_BREAKER_STATE}={quote(OPEN_STATE)}"
    by = f"{semconv.JOB}, {semconv.LABEL_BREAKER_NAME}"
    return f"max by ({by}) ({semconv.CIRCUITBREAKER_STATE}{plan.queries.selector(state)}) == 1"


def _breaker_alert(plan: ServicePlan, texts: AlertTexts) -> AlertRule:
    # No breaker metrics at all (a service without breakers) gives no series: silence.
    summary, description = texts.render(
        "breaker_open", texts.facts(plan, **{"for": BREAKER_OPEN_FOR})
    )
    return AlertRule(
        alert=f"{plan.alert_prefix}CircuitBreakerOpen",
        expr=breaker_open_expr(plan),
        for_=BREAKER_OPEN_FOR,
        labels=_base_labels(plan, plan.severity(Speed.TICKET)),
        annotations=_annotations(plan, summary, description),
        watches=BREAKER_OPEN,
    )


def _telemetry_alerts(plan: ServicePlan, texts: AlertTexts) -> tuple[AlertRule, ...]:
    """Tickets on the telemetry's and the service's own health: spans lost (traces
    missing), a readiness check failing (an instance out of rotation)."""
    selector = plan.queries.selector()
    severity = plan.severity(Speed.TICKET)
    dropped = f"sum by ({semconv.JOB}) (rate({semconv.TELEMETRY_SPANS_DROPPED}{selector}[5m])) > 0"
    by = f"{semconv.JOB}, {semconv.LABEL_INSTANCE}, {semconv.LABEL_CHECK}"
    failing = f"min by ({by}) ({semconv.HEALTH_CHECK_STATUS}{selector}) == 0"
    return (
        AlertRule(
            alert=f"{plan.alert_prefix}SpansDropped",
            expr=dropped,
            for_=SPANS_DROPPED_FOR,
            labels=_base_labels(plan, severity),
            annotations=_annotations(
                plan,
                *texts.render(SPANS_DROPPED, texts.facts(plan, **{"for": SPANS_DROPPED_FOR})),
            ),
            watches=SPANS_DROPPED,
        ),
        AlertRule(
            alert=f"{plan.alert_prefix}ReadinessCheckFailing",
            expr=failing,
            for_=READINESS_FAILING_FOR,
            labels=_base_labels(plan, severity),
            annotations=_annotations(
                plan,
                *texts.render(
                    READINESS_FAILING, texts.facts(plan, **{"for": READINESS_FAILING_FOR})
                ),
            ),
            watches=READINESS_FAILING,
        ),
    )


def overview_labels(plan: ServicePlan, slo: SLOPlan) -> dict[str, str]:
    """The labels of a service's overview series: identity, tier, team, dashboard uid."""
    return {
        semconv.LABEL_SERVICE: plan.name,
        semconv.LABEL_SLO: slo.kind,
        semconv.LABEL_TEAM: plan.service.team,
        semconv.LABEL_TIER: plan.service.tier.value,
        semconv.LABEL_DASHBOARD: plan.dashboard_uid,
    }


def _overview_rules(plan: ServicePlan, slo: SLOPlan) -> list[RecordingRule]:
    """Uniformly named series for the overview table: objective, budget left, burn rate.

    The objective also carries the service's ``job``: the templated dashboard selects a
    service's raw series by it.
    """
    labels = overview_labels(plan, slo)
    objective_labels = {**labels, semconv.JOB: plan.queries.job}
    return [
        RecordingRule(
            semconv.RECORD_SLO_OBJECTIVE,
            f"vector({format_number(slo.objective)})",
            objective_labels,
        ),
        RecordingRule(semconv.RECORD_SLO_BUDGET_REMAINING, slo.budget_remaining, labels),
        RecordingRule(semconv.RECORD_SLO_PAGE_BURN_RATE, slo.page_burn_rate, labels),
    ]


def build_rule_group(plan: ServicePlan, texts: AlertTexts) -> RuleGroup:
    """Build every rule of the service: recorded SLIs first, then its alerts."""
    recording = [
        RecordingRule(
            record=record,
            expr=expr,
            labels={semconv.LABEL_SERVICE: plan.name, semconv.LABEL_SLO: slo.kind},
        )
        for slo in plan.slos
        for _, record, expr in slo.recorded
    ]
    for slo in plan.slos:
        recording.extend(_overview_rules(plan, slo))
    alerts = [
        _burn_alert(plan, slo, alert, texts) for slo in plan.slos for alert in slo.burn_alerts
    ]
    alerts.extend(_target_alerts(plan, texts))
    alerts.append(_breaker_alert(plan, texts))
    alerts.extend(_telemetry_alerts(plan, texts))
    return RuleGroup(plan.name, plan, tuple(recording), tuple(alerts))
