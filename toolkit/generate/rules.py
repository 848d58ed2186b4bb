"""One service's Prometheus rules from its plan: recorded SLIs, burn-rate, target,
missing-data, breaker and telemetry alerts, as data.

Severity comes from the service's tier:

============  ================  =================
tier          page              ticket
============  ================  =================
critical      ``critical``      ``warning``
standard      ``warning``       ``info``
experimental  ``info``          ``info``
============  ================  =================

Pages: the fast burn, the service down (every target, or the catalog's
``alerting.page_targets_down`` share, for 5 minutes), no target at all. Tickets: the
slow burn; one target down while others serve; the request series missing for an hour
while a target is up (``alerting.expect_traffic``); the latency SLO's bucket missing; a
circuit breaker open for 5 minutes (a cause the breaker contains — if users feel it, the
SLO alerts page); spans dropped for 15 minutes; a readiness check failing for 10.
Summaries and descriptions come from ``templates/alert-texts.j2`` (see ``texts``);
``runbook_url`` from ``runbooks.runbook_url``.
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
from toolkit.generate.promql import (
    SERVER_BUCKET,
    SERVER_COUNT,
    format_number,
    le_label_value,
    le_matcher,
    quote,
)
from toolkit.generate.runbooks import runbook_url
from toolkit.generate.texts import AlertTexts

BURN = "burn"
SERVICE_DOWN = "service_down"
SERVICE_DOWN_FOR = "5m"
TARGET_DOWN = "target_down"
TARGET_ABSENT = "target_absent"
TARGET_DOWN_FOR = "5m"
TARGET_ABSENT_FOR = "5m"
METRICS_MISSING = "metrics_missing"
METRICS_MISSING_FOR = "1h"
BUCKET_MISSING = "bucket_missing"
BUCKET_MISSING_FOR = "15m"
WINDOW_GROUP_SUFFIX = "-slo-window"
WINDOW_INTERVAL = "5m"
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
    """All rules of one service, as two Prometheus rule groups.

    The first, named after the service, holds the recorded SLIs and every alert, at the
    global evaluation interval. The second (``<service>-slo-window``), evaluated every
    ``WINDOW_INTERVAL``, copies the base counts into 5-minute tiles (which the long
    ticket windows and the SLO window sum) and holds the rules that read the whole SLO
    window: groups run independently, so a slow evaluation there never delays a page.
    """

    name: str
    plan: ServicePlan
    recording_rules: tuple[RecordingRule, ...]
    alerts: tuple[AlertRule, ...]
    window_rules: tuple[RecordingRule, ...] = ()

    def to_data(self) -> list[dict[str, Any]]:
        """The groups as Prometheus reads them."""
        rules = [rule.to_data() for rule in self.recording_rules]
        rules += [rule.to_data() for rule in self.alerts]
        groups = [{"name": self.name, "rules": rules}]
        if self.window_rules:
            groups.append(
                {
                    "name": f"{self.name}{WINDOW_GROUP_SUFFIX}",
                    "interval": WINDOW_INTERVAL,
                    "rules": [rule.to_data() for rule in self.window_rules],
                }
            )
        return groups


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


def _annotations(summary: str, description: str) -> dict[str, str]:
    return {"summary": summary, "description": description}


def _link_runbook(plan: ServicePlan, alert: AlertRule, base_url: str | None) -> None:
    """Every alert links to a runbook: the service's own, else its section of the stub.
    (Completes the annotations of an alert still being built.)"""
    alert.annotations["runbook_url"] = runbook_url(plan, base_url, alert.alert)


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
        guard = ""
        if check.min_requests:
            guard = f" and {check.long_requests} >= {check.min_requests}"
        branches.append(f"({check.long} > {threshold} and {check.short} > {threshold}{guard})")
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
        annotations=_annotations(summary, description),
        watches=BURN,
        slo=slo,
        checks=alert.checks,
    )


def _simple_alert(
    plan: ServicePlan,
    texts: AlertTexts,
    name: str,
    kind: str,
    expr: str,
    for_: str,
    speed: Speed,
    **facts: str,
) -> AlertRule:
    """An alert on one condition held for ``for_``, its texts from the ``kind`` macros."""
    summary, description = texts.render(kind, texts.facts(plan, **{"for": for_}, **facts))
    return AlertRule(
        alert=f"{plan.alert_prefix}{name}",
        expr=expr,
        for_=for_,
        labels=_base_labels(plan, plan.severity(speed)),
        annotations=_annotations(summary, description),
        watches=kind,
    )


def share_down_expr(plan: ServicePlan) -> str:
    """The share of the job's scrape targets that are down: one series per job."""
    up = f"{semconv.SCRAPE_UP}{plan.queries.selector()}"
    by = f"count by ({semconv.JOB})"
    return f"({by} ({up} == 0) / {by} ({up}))"


def _target_alerts(plan: ServicePlan, texts: AlertTexts) -> tuple[AlertRule, ...]:
    """A page when the service is down (every target, or the catalog's share of them),
    a ticket per target down, a page when the service has no target at all."""
    selector = plan.queries.selector()
    up = f"{semconv.SCRAPE_UP}{selector}"
    share = Decimal(repr(plan.service.alerting.page_targets_down)) / 100
    return (
        _simple_alert(
            plan,
            texts,
            "ServiceDown",
            SERVICE_DOWN,
            f"{share_down_expr(plan)} >= {format_number(share)}",
            SERVICE_DOWN_FOR,
            Speed.PAGE,
            share="all" if share == 1 else f"at least {percent(share)}",
        ),
        _simple_alert(
            plan, texts, "TargetDown", TARGET_DOWN, f"{up} == 0", TARGET_DOWN_FOR, Speed.TICKET
        ),
        _simple_alert(
            plan,
            texts,
            "TargetAbsent",
            TARGET_ABSENT,
            f"absent({up})",
            TARGET_ABSENT_FOR,
            Speed.PAGE,
            selector=selector,
        ),
    )


def _missing_data_alerts(plan: ServicePlan, texts: AlertTexts) -> tuple[AlertRule, ...]:
    """Tickets for data the SLOs need: request series missing while a target is up
    (unless the catalog expects no traffic), the latency SLO's bucket missing."""
    selector = plan.queries.selector()
    job = semconv.JOB
    requests = f"count by ({job}) ({SERVER_COUNT}{selector})"
    alerts = []
    if plan.service.alerting.expect_traffic:
        up = f"max by ({job}) ({semconv.SCRAPE_UP}{selector}) == 1"
        alerts.append(
            _simple_alert(
                plan,
                texts,
                "MetricsMissing",
                METRICS_MISSING,
                f"{up} unless on ({job}) {requests}",
                METRICS_MISSING_FOR,
                Speed.TICKET,
                metric=SERVER_COUNT,
            )
        )
    latency = plan.service.slo.latency
    if latency is not None:
        bucket = f"{SERVER_BUCKET}{plan.queries.selector(le_matcher(latency.threshold_seconds))}"
        alerts.append(
            _simple_alert(
                plan,
                texts,
                "LatencyBucketMissing",
                BUCKET_MISSING,
                f"{requests} unless on ({job}) count by ({job}) ({bucket})",
                BUCKET_MISSING_FOR,
                Speed.TICKET,
                le=le_label_value(latency.threshold_seconds),
                metric=SERVER_BUCKET,
            )
        )
    return tuple(alerts)


def breaker_open_expr(plan: ServicePlan) -> str:
    """Each breaker of the service that is open: ``1`` per (job, breaker name)."""
    state = f"{semconv.LABEL_BREAKER_STATE}={quote(OPEN_STATE)}"
    by = f"{semconv.JOB}, {semconv.LABEL_BREAKER_NAME}"
    return f"max by ({by}) ({semconv.CIRCUITBREAKER_STATE}{plan.queries.selector(state)}) == 1"


def _breaker_alert(plan: ServicePlan, texts: AlertTexts) -> AlertRule:
    # No breaker metrics at all (a service without breakers) gives no series: silence.
    return _simple_alert(
        plan,
        texts,
        "CircuitBreakerOpen",
        BREAKER_OPEN,
        breaker_open_expr(plan),
        BREAKER_OPEN_FOR,
        Speed.TICKET,
    )


def _telemetry_alerts(plan: ServicePlan, texts: AlertTexts) -> tuple[AlertRule, ...]:
    """Tickets on the telemetry's and the service's own health: spans lost (traces
    missing), a readiness check failing (an instance out of rotation)."""
    selector = plan.queries.selector()
    dropped = f"sum by ({semconv.JOB}) (rate({semconv.TELEMETRY_SPANS_DROPPED}{selector}[5m])) > 0"
    by = f"{semconv.JOB}, {semconv.LABEL_INSTANCE}, {semconv.LABEL_CHECK}"
    failing = f"min by ({by}) ({semconv.HEALTH_CHECK_STATUS}{selector}) == 0"
    return (
        _simple_alert(
            plan, texts, "SpansDropped", SPANS_DROPPED, dropped, SPANS_DROPPED_FOR, Speed.TICKET
        ),
        _simple_alert(
            plan,
            texts,
            "ReadinessCheckFailing",
            READINESS_FAILING,
            failing,
            READINESS_FAILING_FOR,
            Speed.TICKET,
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
    """Uniformly named series for the overview table: objective and page burn rate (the
    budget left is recorded with the whole-window rules).

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
        RecordingRule(semconv.RECORD_SLO_PAGE_BURN_RATE, slo.page_burn_rate, labels),
    ]


def _window_rules(plan: ServicePlan, slo: SLOPlan) -> list[RecordingRule]:
    """The base counts' 5-minute tiles, the error ratio over the whole SLO window summed
    from them, and the budget left."""
    labels = _slo_labels(plan, slo)
    record, expr = slo.window_recorded
    return [
        *(RecordingRule(name, tile, labels) for name, tile in slo.tiles),
        RecordingRule(record, expr, labels),
        RecordingRule(
            semconv.RECORD_SLO_BUDGET_REMAINING, slo.budget_remaining, overview_labels(plan, slo)
        ),
    ]


def _slo_labels(plan: ServicePlan, slo: SLOPlan) -> dict[str, str]:
    return {semconv.LABEL_SERVICE: plan.name, semconv.LABEL_SLO: slo.kind}


def build_rule_group(
    plan: ServicePlan, texts: AlertTexts, runbook_base_url: str | None = None
) -> RuleGroup:
    """Build every rule of the service: the recorded SLIs (base counts, then every alert
    window's ratio) and the alerts; the whole-window rules apart. ``runbook_base_url``:
    where the runbook stubs are published (``runbooks.runbook_url``)."""
    recording = [
        RecordingRule(record, expr, _slo_labels(plan, slo))
        for slo in plan.slos
        for record, expr in slo.recorded
    ]
    for slo in plan.slos:
        recording.extend(_overview_rules(plan, slo))
    alerts = [
        _burn_alert(plan, slo, alert, texts) for slo in plan.slos for alert in slo.burn_alerts
    ]
    alerts.extend(_target_alerts(plan, texts))
    alerts.extend(_missing_data_alerts(plan, texts))
    alerts.append(_breaker_alert(plan, texts))
    alerts.extend(_telemetry_alerts(plan, texts))
    window = tuple(rule for slo in plan.slos for rule in _window_rules(plan, slo))
    for alert in alerts:
        _link_runbook(plan, alert, runbook_base_url)
    return RuleGroup(plan.name, plan, tuple(recording), tuple(alerts), window)
