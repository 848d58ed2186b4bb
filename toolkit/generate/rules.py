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
from types import SimpleNamespace
from typing import Any

from toolkit import semconv
from toolkit.generate.plan import (
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
        self.severity = {speed: plan.severity(speed) for speed in Speed}
        self._labels: dict[str, dict[str, str]] = {}

    def labels(self, severity: str) -> dict[str, str]:
        """The labels of an alert of ``severity`` (shared: copy before changing)."""
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
                **self.facts,
                slo=slo.kind,
                page=alert.speed is Speed.PAGE,
                bad_events=bad_events,
                windows=" or ".join(windows),
                factors=" or ".join(factors),
                objective=objective,
                budget=budget,
            )
            name = f"{self.prefix}{slo.kind.capitalize()}{_SPEED_WORD[alert.speed]}Burn"
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
            dict(self.labels(self.severity[speed])),
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
    by = f"count by ({semconv.JOB})"
    return f"({by} ({up} == 0) / {by} ({up}))"


def _target_alerts(build: _Alerts) -> tuple[AlertRule, ...]:
    """A page when the service is down (every target, or the catalog's share of them),
    a ticket per target down, a page when the service has no target at all."""
    plan = build.plan
    selector = build.selector
    up = f"{semconv.SCRAPE_UP}{selector}"
    share = Decimal(repr(plan.service.alerting.page_targets_down)) / 100
    return (
        build.simple(
            "ServiceDown",
            SERVICE_DOWN,
            f"{share_down_expr(plan)} >= {format_number(share)}",
            SERVICE_DOWN_FOR,
            Speed.PAGE,
            share="all" if share == 1 else f"at least {percent(share)}",
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
    requests = f"count by ({job}) ({SERVER_COUNT}{selector})"
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
    by = f"{semconv.JOB}, {semconv.LABEL_INSTANCE}, {semconv.LABEL_CHECK}"
    failing = f"min by ({by}) ({semconv.HEALTH_CHECK_STATUS}{selector}) == 0"
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
    name = plan.name
    recording = [
        RecordingRule(record, expr, {semconv.LABEL_SERVICE: name, semconv.LABEL_SLO: slo.kind})
        for slo in plan.slos
        for record, expr in slo.recorded
    ]
    for slo in plan.slos:
        recording.extend(_overview_rules(plan, slo))
    build = _Alerts(plan, texts, runbook_base_url)
    alerts = [alert for slo in plan.slos for alert in build.burn(slo)]
    alerts.extend(_target_alerts(build))
    alerts.extend(_missing_data_alerts(build))
    alerts.append(_breaker_alert(build))
    alerts.extend(_telemetry_alerts(build))
    window = tuple(rule for slo in plan.slos for rule in _window_rules(plan, slo))
    return RuleGroup(name, plan, tuple(recording), tuple(alerts), window)
