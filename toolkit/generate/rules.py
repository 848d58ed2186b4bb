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

Rules are data to serialise, never changed once built: the labels an alert or rule
shares with others of the service are one dict, not copies.

Over 300 lines and kept whole: the alerts' expressions, labels and texts are read
together by ``rule_tests`` and ``runbooks``, and every kind of alert is one short
function; apart, the kinds would drift from the severity table above.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from types import SimpleNamespace
from typing import Any

from toolkit import semconv
from toolkit.generate.plan import (
    SEVERITY,
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
from toolkit.generate.runbooks import runbook_links
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
# Pieces of the alert expressions that are the same for every service.
_COUNT_BY_JOB = f"count by ({semconv.JOB})"
_OPEN_MATCHER = f"{semconv.LABEL_BREAKER_STATE}={quote(OPEN_STATE)}"
_BY_BREAKER = f"{semconv.JOB}, {semconv.LABEL_BREAKER_NAME}"
_BY_CHECK = f"{semconv.JOB}, {semconv.LABEL_INSTANCE}, {semconv.LABEL_CHECK}"


@dataclass(frozen=True, init=False)
class RecordingRule:
    """One ``record:`` rule."""

    record: str
    expr: str
    labels: dict[str, str]

    def __init__(self, record: str, expr: str, labels: dict[str, str]) -> None:
        # Frozen, yet filled straight into the instance's dict: the generated __init__
        # of a frozen dataclass calls object.__setattr__ per field, and every service
        # builds dozens of rules.
        fields = self.__dict__
        fields["record"] = record
        fields["expr"] = expr
        fields["labels"] = labels

    def to_data(self) -> dict[str, Any]:
        """The rule as Prometheus reads it."""
        return {"record": self.record, "expr": self.expr, "labels": self.labels}


@dataclass(frozen=True, init=False)
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

    def __init__(
        self,
        alert: str,
        expr: str,
        for_: str | None,
        labels: dict[str, str],
        annotations: dict[str, str],
        watches: str,
        slo: SLOPlan | None = None,
        checks: tuple[BurnCheck, ...] = (),
    ) -> None:
        fields = self.__dict__  # as RecordingRule's
        fields["alert"] = alert
        fields["expr"] = expr
        fields["for_"] = for_
        fields["labels"] = labels
        fields["annotations"] = annotations
        fields["watches"] = watches
        fields["slo"] = slo
        fields["checks"] = checks

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


class _Alerts:
    """Builds one service's alerts; holds what they share, worked out once: the
    labels of each severity, the facts every text may use, the runbook links."""

    def __init__(self, plan: ServicePlan, texts: AlertTexts, base_url: str | None) -> None:
        self.plan = plan
        self.texts = texts
        self.prefix = plan.alert_prefix
        self.selector = plan.queries.selector()
        self.facts = texts.service_facts(plan)
        self.link = runbook_links(plan, base_url)
        self.severity = SEVERITY[plan.service.tier]  # by speed
        self._labels: dict[str, dict[str, str]] = {}

    def labels(self, severity: str) -> dict[str, str]:
        """The labels of an alert of ``severity``, one dict shared by those alerts: rules
        are data to serialise, never changed once built."""
        labels = self._labels.get(severity)
        if labels is None:
            service = self.plan.service
            labels = dict(sorted(service.alert_labels.items()))
            # The generator's own labels win over alert_labels: routing relies on them.
            labels.update(
                {
                    semconv.LABEL_SEVERITY: severity,
                    semconv.LABEL_SERVICE: service.name,
                    semconv.LABEL_TEAM: service.team,
                }
            )
            self._labels[severity] = labels
        return labels

    def annotations(self, name: str, kind: str, facts: SimpleNamespace) -> dict[str, str]:
        """The texts of alert ``name`` (the ``kind`` macros) and its runbook link: every
        alert links to a runbook, the service's own, else its section of the stub."""
        summary, description = self.texts.render(kind, facts)
        return {"summary": summary, "description": description, "runbook_url": self.link(name)}

    def burn(self, slo: SLOPlan) -> list[AlertRule]:
        """The burn-rate alerts of ``slo``."""
        bad_events, objective, budget = _objective_texts(self.plan, slo)
        # What the texts of both alerts (page and ticket) say about the objective.
        slo_facts = {
            **self.facts,
            "slo": slo.kind,
            "bad_events": bad_events,
            "objective": objective,
            "budget": budget,
        }
        prefix = f"{self.prefix}{slo.kind.capitalize()}"
        built = []
        for alert in slo.burn_alerts:
            checks = alert.checks
            branches, windows, factors = [], [], []
            for check in checks:
                threshold = format_number(check.threshold)
                guard = ""
                if check.min_requests:
                    guard = f" and {check.long_requests} >= {check.min_requests}"
                branches.append(
                    f"({check.long} > {threshold} and {check.short} > {threshold}{guard})"
                )
                windows.append(check.long_window.text)
                factors.append(f"{format_number(check.factor)}x")
            facts = SimpleNamespace(
                **slo_facts,
                page=alert.speed is Speed.PAGE,
                windows=" or ".join(windows),
                factors=" or ".join(factors),
            )
            name = f"{prefix}{_SPEED_WORD[alert.speed]}Burn"
            built.append(
                AlertRule(
                    name,
                    " or ".join(branches),
                    None,
                    {**self.labels(alert.severity), semconv.LABEL_SLO: slo.kind},
                    self.annotations(name, BURN, facts),
                    BURN,
                    slo,
                    checks,
                )
            )
        return built

    def simple(
        self, name: str, kind: str, expr: str, for_: str, speed: Speed, **facts: str
    ) -> AlertRule:
        """An alert on one condition held for ``for_``, its texts from the ``kind`` macros."""
        name = f"{self.prefix}{name}"
        texts_facts = SimpleNamespace(**self.facts, **{"for": for_}, **facts)
        return AlertRule(
            name,
            expr,
            for_,
            self.labels(self.severity[speed]),
            self.annotations(name, kind, texts_facts),
            kind,
        )


# What the burn-rate texts say about an objective, by everything it depends on: many
# services share an objective.
_OBJECTIVE_TEXTS: dict[tuple[str, float, Decimal, str, float | None], tuple[str, str, str]] = {}


def _objective_texts(plan: ServicePlan, slo: SLOPlan) -> tuple[str, str, str]:
    """What bad events are, the objective (``99.9% over 30d``) and its budget (``0.1%``)."""
    latency = plan.service.slo.latency
    window = plan.service.slo.window.text
    threshold = latency.threshold_seconds if latency else None
    key = (slo.kind, slo.target, slo.budget, window, threshold)
    texts = _OBJECTIVE_TEXTS.get(key)
    if texts is None:
        objective = f"{slo.target_text}% over {window}"
        texts = _OBJECTIVE_TEXTS[key] = (_bad_events(plan, slo), objective, percent(slo.budget))
    return texts


def _bad_events(plan: ServicePlan, slo: SLOPlan) -> str:
    if slo.kind == "availability":
        return "failed with a 5xx status"
    latency = plan.service.slo.latency
    threshold = format_number(Decimal(repr(latency.threshold_seconds))) if latency else "?"
    return f"took longer than {threshold}s"


def share_down_expr(plan: ServicePlan) -> str:
    """The share of the job's scrape targets that are down: one series per job."""
    up = f"{semconv.SCRAPE_UP}{plan.queries.selector()}"
    return f"({_COUNT_BY_JOB} ({up} == 0) / {_COUNT_BY_JOB} ({up}))"


@cache  # a catalog has few distinct settings
def _down_share(page_targets_down: float) -> tuple[str, str]:
    """The share of targets down that pages, as the expression and the texts write it
    (``0.5`` and ``at least 50%``; ``1`` and ``all``)."""
    share = Decimal(repr(page_targets_down)) / 100
    return format_number(share), "all" if share == 1 else f"at least {percent(share)}"


def _target_alerts(build: _Alerts) -> tuple[AlertRule, ...]:
    """A page when the service is down (every target, or the catalog's share of them),
    a ticket per target down, a page when the service has no target at all."""
    plan = build.plan
    selector = build.selector
    up = f"{semconv.SCRAPE_UP}{selector}"
    threshold, share = _down_share(plan.service.alerting.page_targets_down)
    return (
        build.simple(
            "ServiceDown",
            SERVICE_DOWN,
            f"{share_down_expr(plan)} >= {threshold}",
            SERVICE_DOWN_FOR,
            Speed.PAGE,
            share=share,
        ),
        build.simple("TargetDown", TARGET_DOWN, f"{up} == 0", TARGET_DOWN_FOR, Speed.TICKET),
        build.simple(
            "TargetAbsent",
            TARGET_ABSENT,
            f"absent({up})",
            TARGET_ABSENT_FOR,
            Speed.PAGE,
            selector=selector,
        ),
    )


def _missing_data_alerts(build: _Alerts) -> tuple[AlertRule, ...]:
    """Tickets for data the SLOs need: request series missing while a target is up
    (unless the catalog expects no traffic), the latency SLO's bucket missing."""
    plan = build.plan
    selector = build.selector
    job = semconv.JOB
    requests = f"{_COUNT_BY_JOB} ({SERVER_COUNT}{selector})"
    alerts = []
    if plan.service.alerting.expect_traffic:
        up = f"max by ({job}) ({semconv.SCRAPE_UP}{selector}) == 1"
        alerts.append(
            build.simple(
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
            build.simple(
                "LatencyBucketMissing",
                BUCKET_MISSING,
                f"{requests} unless on ({job}) {_COUNT_BY_JOB} ({bucket})",
                BUCKET_MISSING_FOR,
                Speed.TICKET,
                le=le_label_value(latency.threshold_seconds),
                metric=SERVER_BUCKET,
            )
        )
    return tuple(alerts)


def breaker_open_expr(plan: ServicePlan) -> str:
    """Each breaker of the service that is open: ``1`` per (job, breaker name)."""
    selector = plan.queries.selector(_OPEN_MATCHER)
    return f"max by ({_BY_BREAKER}) ({semconv.CIRCUITBREAKER_STATE}{selector}) == 1"


def _breaker_alert(build: _Alerts) -> AlertRule:
    # No breaker metrics at all (a service without breakers) gives no series: silence.
    return build.simple(
        "CircuitBreakerOpen",
        BREAKER_OPEN,
        breaker_open_expr(build.plan),
        BREAKER_OPEN_FOR,
        Speed.TICKET,
    )


def _telemetry_alerts(build: _Alerts) -> tuple[AlertRule, ...]:
    """Tickets on the telemetry's and the service's own health: spans lost (traces
    missing), a readiness check failing (an instance out of rotation)."""
    selector = build.selector
    dropped = f"sum by ({semconv.JOB}) (rate({semconv.TELEMETRY_SPANS_DROPPED}{selector}[5m])) > 0"
    failing = f"min by ({_BY_CHECK}) ({semconv.HEALTH_CHECK_STATUS}{selector}) == 0"
    return (
        build.simple("SpansDropped", SPANS_DROPPED, dropped, SPANS_DROPPED_FOR, Speed.TICKET),
        build.simple(
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


def _overview_rules(
    plan: ServicePlan, slo: SLOPlan, overview: dict[str, str]
) -> list[RecordingRule]:
    """Uniformly named series for the overview table (``overview``: their labels):
    objective and page burn rate (the budget left is recorded with the whole-window
    rules).

    The objective also carries the service's ``job``: the templated dashboard selects a
    service's raw series by it.
    """
    objective_labels = {**overview, semconv.JOB: plan.queries.job}
    return [
        RecordingRule(
            semconv.RECORD_SLO_OBJECTIVE,
            f"vector({format_number(slo.objective)})",
            objective_labels,
        ),
        RecordingRule(semconv.RECORD_SLO_PAGE_BURN_RATE, slo.page_burn_rate, overview),
    ]


def _window_rules(
    slo: SLOPlan, labels: dict[str, str], overview: dict[str, str]
) -> list[RecordingRule]:
    """The base counts' 5-minute tiles, the error ratio over the whole SLO window summed
    from them (``labels``: the SLO's), and the budget left (``overview``: its labels)."""
    record, expr = slo.window_recorded
    return [
        *(RecordingRule(name, tile, labels) for name, tile in slo.tiles),
        RecordingRule(record, expr, labels),
        RecordingRule(semconv.RECORD_SLO_BUDGET_REMAINING, slo.budget_remaining, overview),
    ]


def build_rule_group(
    plan: ServicePlan, texts: AlertTexts, runbook_base_url: str | None = None
) -> RuleGroup:
    """Build every rule of the service: the recorded SLIs (base counts, then every alert
    window's ratio) and the alerts; the whole-window rules apart. ``runbook_base_url``:
    where the runbook stubs are published (``runbooks.runbook_url``)."""
    name = plan.name
    # Each SLO's two label sets, one dict each for all the rules that carry it (rules
    # are data to serialise, never changed once built).
    labels = [{semconv.LABEL_SERVICE: name, semconv.LABEL_SLO: slo.kind} for slo in plan.slos]
    overview = [overview_labels(plan, slo) for slo in plan.slos]
    recording = [
        RecordingRule(record, expr, slo_labels)
        for slo, slo_labels in zip(plan.slos, labels, strict=True)
        for record, expr in slo.recorded
    ]
    window = []
    for slo, slo_labels, slo_overview in zip(plan.slos, labels, overview, strict=True):
        recording += _overview_rules(plan, slo, slo_overview)
        window += _window_rules(slo, slo_labels, slo_overview)
    build = _Alerts(plan, texts, runbook_base_url)
    alerts = [alert for slo in plan.slos for alert in build.burn(slo)]
    alerts.extend(_target_alerts(build))
    alerts.extend(_missing_data_alerts(build))
    alerts.append(_breaker_alert(build))
    alerts.extend(_telemetry_alerts(build))
    return RuleGroup(name, plan, tuple(recording), tuple(alerts), tuple(window))
