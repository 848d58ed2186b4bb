"""promtool unit tests for one service's rules, as data.

Every alert gets a case that first feeds a healthy baseline and then the failure it
watches for, and expects it firing with its exact labels and annotations. Two more
cases expect silence from every alert: healthy traffic, and no traffic at all.

The series are built so the alert's ``$value`` is exact: the burn cases' windows hold
only requests failing at one steady share.
Scenarios with mixed traffic (2 % errors, one target of three down, low traffic) are
tested with hand-written expectations in the test suite.

Over 300 lines and kept whole: each case's series and its expected alerts are
derived together, and splitting them would separate what must agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from toolkit import semconv
from toolkit.generate.plan import AVAILABILITY, ServicePlan, format_duration
from toolkit.generate.promql import SERVER_COUNT, ServiceQueries, le_label_value, quote
from toolkit.generate.rules import (
    BREAKER_OPEN,
    BUCKET_MISSING,
    BURN,
    METRICS_MISSING,
    OPEN_STATE,
    READINESS_FAILING,
    SERVICE_DOWN,
    SPANS_DROPPED,
    TARGET_DOWN,
    AlertRule,
    RuleGroup,
)
from toolkit.generate.texts import (
    BREAKER_OF_ALERT,
    CHECK_OF_ALERT,
    INSTANCE_OF_ALERT,
    VALUE_AS_PERCENT,
)

EVALUATION_INTERVAL = "1m"
TEST_INSTANCE = "app:8000"
REQUESTS_PER_MINUTE = 60
BASELINE_MINUTES = 30
HEALTHY_MINUTES = 60
QUIET_MINUTES = 10
FAILURE_MINUTES = 15  # longer than the 5-minute base window
# Shares of bad requests tried in turn (good:bad): the first above the threshold wins.
_SPLITS = ((1, 1), (1, 3), (1, 9), (1, 19), (1, 49), (1, 99))
TARGET_FOR_MINUTES = 10
# Targets of the job in the target cases: one of them goes down.
OTHER_INSTANCES = ("app-2:8000", "app-3:8000")
METRICS_MISSING_MINUTES = 70  # longer than the alert's ``for``
BUCKET_MISSING_MINUTES = 20  # longer than the alert's ``for``
OK_STATUS = "200"
ERROR_STATUS = "500"
TEST_BREAKER = "billing"
OTHER_BREAKER = "search"
BREAKER_OPEN_MINUTES = 15  # longer than the alert's ``for``
BREAKER_BLIP_MINUTES = 3  # shorter than the alert's ``for``
CLOSED_STATE = semconv.CIRCUITBREAKER_STATES[0]


@dataclass(frozen=True)
class Phase:
    """``minutes`` of traffic: fast successes, fast errors and slow successes per minute."""

    minutes: int
    ok: int = 0
    errors: int = 0
    slow: int = 0


# What each series of the duration histogram counts per minute of a phase.
_PER_MINUTE: dict[str, Callable[[Phase], int]] = {
    "all_ok": lambda p: p.ok + p.slow,  # count of 2xx (fast or slow)
    "errors": lambda p: p.errors,  # count of 5xx, and their bucket (errors are fast)
    "fast_ok": lambda p: p.ok,  # the SLO bucket of 2xx
}


@cache  # the same phases recur across services: their values are written once
def _counter(phases: tuple[Phase, ...], what: str) -> str:
    """promtool's expanding notation for a counter growing by ``_PER_MINUTE[what]``."""
    per_minute = _PER_MINUTE[what]
    value = 0
    parts = ["0"]
    for phase in phases:
        step = per_minute(phase)
        parts.append(f"{value + step}+{step}x{phase.minutes - 1}")
        value += step * phase.minutes
    return " ".join(parts)


def _series_name(metric: str, labels: dict[str, str]) -> str:
    return _series_text(metric, tuple(labels.items()))


@cache  # a service's few series recur in every case
def _series_text(metric: str, labels: tuple[tuple[str, str], ...]) -> str:
    inner = ",".join(f"{name}={quote(value)}" for name, value in sorted(labels))
    return f"{metric}{{{inner}}}"


def _traffic(plan: ServicePlan, phases: list[Phase]) -> list[dict[str, str]]:
    """Duration-histogram series (count and the SLO's bucket) for these phases."""
    latency = plan.service.slo.latency
    names = _traffic_names(plan.queries, latency.threshold_seconds if latency else None)
    steps = tuple(phases)
    return [{"series": name, "values": _counter(steps, what)} for name, what in names]


@cache  # per service: its traffic series recur in every case
def _traffic_names(
    queries: ServiceQueries, threshold_seconds: float | None
) -> tuple[tuple[str, str], ...]:
    identity = queries.identity_labels()
    count = semconv.HTTP_SERVER_REQUEST_DURATION + "_count"
    bucket = semconv.HTTP_SERVER_REQUEST_DURATION + "_bucket"
    ok = {**identity, semconv.LABEL_STATUS_CODE: OK_STATUS}
    err = {**identity, semconv.LABEL_STATUS_CODE: ERROR_STATUS}
    names = [(_series_name(count, ok), "all_ok"), (_series_name(count, err), "errors")]
    if threshold_seconds is not None:
        le = {semconv.LABEL_LE: le_label_value(threshold_seconds)}
        names += [
            (_series_name(bucket, {**ok, **le}), "fast_ok"),
            (_series_name(bucket, {**err, **le}), "errors"),
        ]
    return tuple(names)


def _up(plan: ServicePlan, values: str) -> dict[str, str]:
    labels = {**plan.queries.identity_labels(), semconv.LABEL_INSTANCE: TEST_INSTANCE}
    return {"series": _series_name(semconv.SCRAPE_UP, labels), "values": values}


def _minutes(minutes: int) -> str:
    return format_duration(minutes * 60)


def _silence(group: RuleGroup, eval_minutes: int) -> list[dict[str, Any]]:
    return [
        {"eval_time": _minutes(eval_minutes), "alertname": alert.alert, "exp_alerts": []}
        for alert in group.alerts
    ]


def _expected(alert: AlertRule, labels: dict[str, str], value: str) -> dict[str, Any]:
    annotations = {
        name: text.replace(VALUE_AS_PERCENT, value)
        .replace(INSTANCE_OF_ALERT, labels.get(semconv.LABEL_INSTANCE, ""))
        .replace(BREAKER_OF_ALERT, labels.get(semconv.LABEL_BREAKER_NAME, ""))
        .replace(CHECK_OF_ALERT, labels.get(semconv.LABEL_CHECK, ""))
        for name, text in alert.annotations.items()
    }
    return {"exp_labels": {**labels, **alert.labels}, "exp_annotations": annotations}


@cache  # a pure function of the threshold: a catalog has few distinct ones
def _failure_split(threshold: Decimal) -> tuple[int, int, str]:
    """Good and bad requests per failing minute, and the alert's expected ``$value``:
    the first round share of bad requests above ``threshold`` (1:1 gives "50%")."""
    for good, bad in _SPLITS:
        share = Decimal(bad) / Decimal(good + bad)
        if share > threshold:
            return good, bad, _humanize_percentage(share)
    return 0, 1, _humanize_percentage(Decimal(1))


def _humanize_percentage(share: Decimal) -> str:
    # Prometheus' humanizePercentage is Go's %.4g of value * 100.
    return f"{float(share) * 100:.4g}%"


def _burn_inputs(alert: AlertRule) -> tuple[Phase, str]:
    """The failing phase that makes ``alert`` fire, and its expected ``$value``."""
    check = alert.checks[0]
    good, bad, value = _failure_split(check.threshold)
    # Enough requests that even the base window passes the low-traffic guard.
    per_minute = max(REQUESTS_PER_MINUTE, -(-2 * check.min_requests // FAILURE_MINUTES))
    scale = -(-per_minute // (good + bad))
    if alert.slo is not None and alert.slo.kind == AVAILABILITY:
        return Phase(FAILURE_MINUTES, ok=good * scale, errors=bad * scale), value
    return Phase(FAILURE_MINUTES, ok=good * scale, slow=bad * scale), value


def _burn_cases(group: RuleGroup) -> list[dict[str, Any]]:
    """Quiet, then requests failing at a steady share above the thresholds: the alerts
    fire. Every request of every window is of the failing phase, so each window's error
    ratio is exactly that share (the quiet minutes count no requests), whatever the
    weighting of the 5-minute base counts or the Prometheus release. Alerts that the
    same failure makes fire (the page and the ticket of an objective, as a rule) share
    one case."""
    plan = group.plan
    total = QUIET_MINUTES + FAILURE_MINUTES
    by_input: dict[Phase, list[tuple[AlertRule, str]]] = {}
    for alert in group.alerts:
        if alert.watches == BURN:
            failing, value = _burn_inputs(alert)
            by_input.setdefault(failing, []).append((alert, value))
    cases = []
    for failing, alerts in by_input.items():
        names = " and ".join(alert.alert for alert, _ in alerts)
        checks: list[dict[str, Any]] = [
            {"eval_time": _minutes(QUIET_MINUTES), "alertname": alert.alert, "exp_alerts": []}
            for alert, _ in alerts
        ]
        checks += [
            {
                "eval_time": _minutes(total),
                "alertname": alert.alert,
                "exp_alerts": [_expected(alert, {}, value)],
            }
            for alert, value in alerts
        ]
        cases.append(
            {
                "name": f"{names} fire{'s' if len(alerts) == 1 else ''} on requests failing "
                "above the threshold",
                "interval": EVALUATION_INTERVAL,
                "input_series": [
                    _up(plan, f"1x{total}"),
                    *_traffic(plan, [Phase(QUIET_MINUTES), failing]),
                ],
                "alert_rule_test": checks,
            }
        )
    return cases


def _targets(plan: ServicePlan, down: int, minutes: int) -> list[dict[str, str]]:
    """Three targets answering for ``BASELINE_MINUTES``, then the first ``down`` of them
    failing their scrapes for ``minutes`` while the others keep answering."""
    series = []
    for index, instance in enumerate((TEST_INSTANCE, *OTHER_INSTANCES)):
        later = "0" if index < down else "1"
        labels = {**plan.queries.identity_labels(), semconv.LABEL_INSTANCE: instance}
        values = f"1x{BASELINE_MINUTES - 1} {later}x{minutes}"
        series.append({"series": _series_name(semconv.SCRAPE_UP, labels), "values": values})
    return series


def _target_down_case(group: RuleGroup, alert: AlertRule) -> dict[str, Any]:
    """One target of three down: the ticket fires for it (the service-down page only
    when the catalog pages at a third of the targets or less)."""
    plan = group.plan
    total = BASELINE_MINUTES + TARGET_FOR_MINUTES
    labels = {**plan.queries.identity_labels(), semconv.LABEL_INSTANCE: TEST_INSTANCE}
    service_down = next(a for a in group.alerts if a.watches == SERVICE_DOWN)
    share = Decimal(1) / 3
    pages = share * 100 >= Decimal(repr(plan.service.alerting.page_targets_down))
    down = [_expected(service_down, _job(plan), _humanize_percentage(share))] if pages else []
    return {
        "name": f"{alert.alert} fires for the one target of three that stops answering",
        "interval": EVALUATION_INTERVAL,
        "input_series": [
            *_targets(plan, 1, TARGET_FOR_MINUTES),
            *_traffic(plan, [Phase(total, ok=REQUESTS_PER_MINUTE)]),
        ],
        "alert_rule_test": [
            {
                "eval_time": _minutes(BASELINE_MINUTES - 1),
                "alertname": alert.alert,
                "exp_alerts": [],
            },
            {
                "eval_time": _minutes(total),
                "alertname": alert.alert,
                "exp_alerts": [_expected(alert, labels, _humanize_percentage(Decimal(0)))],
            },
            {"eval_time": _minutes(total), "alertname": service_down.alert, "exp_alerts": down},
        ],
    }


def _job(plan: ServicePlan) -> dict[str, str]:
    return {semconv.JOB: plan.queries.job}


def _service_down_case(group: RuleGroup, alert: AlertRule) -> dict[str, Any]:
    """Every target down for longer than ``for``: the page fires."""
    plan = group.plan
    total = BASELINE_MINUTES + TARGET_FOR_MINUTES
    return {
        "name": f"{alert.alert} fires when every target stops answering",
        "interval": EVALUATION_INTERVAL,
        "input_series": [
            *_targets(plan, 1 + len(OTHER_INSTANCES), TARGET_FOR_MINUTES),
            *_traffic(plan, [Phase(total, ok=REQUESTS_PER_MINUTE)]),
        ],
        "alert_rule_test": [
            {
                "eval_time": _minutes(BASELINE_MINUTES - 1),
                "alertname": alert.alert,
                "exp_alerts": [],
            },
            {
                "eval_time": _minutes(total),
                "alertname": alert.alert,
                "exp_alerts": [_expected(alert, _job(plan), _humanize_percentage(Decimal(1)))],
            },
        ],
    }


def _metrics_missing_case(group: RuleGroup, alert: AlertRule) -> dict[str, Any]:
    """A target up for longer than ``for`` without any request series: the ticket fires."""
    plan = group.plan
    return {
        "name": f"{alert.alert} fires when a target that is up exports no request series",
        "interval": EVALUATION_INTERVAL,
        "input_series": [_up(plan, f"1x{METRICS_MISSING_MINUTES}")],
        "alert_rule_test": [
            {"eval_time": _minutes(BASELINE_MINUTES), "alertname": alert.alert, "exp_alerts": []},
            {
                "eval_time": _minutes(METRICS_MISSING_MINUTES),
                "alertname": alert.alert,
                "exp_alerts": [_expected(alert, _job(plan), _humanize_percentage(Decimal(1)))],
            },
        ],
    }


def _bucket_missing_case(group: RuleGroup, alert: AlertRule) -> dict[str, Any]:
    """Requests counted but the threshold's bucket never exported, even while every
    request is slow: the ticket fires, the latency burn-rate alerts stay silent."""
    plan = group.plan
    count = _series_name(
        SERVER_COUNT,
        {**plan.queries.identity_labels(), semconv.LABEL_STATUS_CODE: OK_STATUS},
    )
    minutes = BUCKET_MISSING_MINUTES
    counter = _counter((Phase(minutes, slow=REQUESTS_PER_MINUTE),), "all_ok")
    latency_burns = [
        a.alert for a in group.alerts if a.slo is not None and a.slo.kind != AVAILABILITY
    ]
    return {
        "name": f"{alert.alert} fires, not a latency page, when the SLO's bucket is missing",
        "interval": EVALUATION_INTERVAL,
        "input_series": [_up(plan, f"1x{minutes}"), {"series": count, "values": counter}],
        "alert_rule_test": [
            {
                "eval_time": _minutes(minutes),
                "alertname": alert.alert,
                "exp_alerts": [_expected(alert, _job(plan), _humanize_percentage(Decimal(1)))],
            },
            *(
                {"eval_time": _minutes(minutes), "alertname": name, "exp_alerts": []}
                for name in latency_burns
            ),
        ],
    }


def _target_absent_case(group: RuleGroup, alert: AlertRule) -> dict[str, Any]:
    plan = group.plan
    return {
        "name": f"{alert.alert} fires when Prometheus has no target for the service",
        "interval": EVALUATION_INTERVAL,
        "input_series": _traffic(plan, [Phase(TARGET_FOR_MINUTES, ok=REQUESTS_PER_MINUTE)]),
        "alert_rule_test": [
            {
                "eval_time": _minutes(TARGET_FOR_MINUTES),
                "alertname": alert.alert,
                "exp_alerts": [
                    _expected(
                        alert, plan.queries.identity_labels(), _humanize_percentage(Decimal(1))
                    )
                ],
            }
        ],
    }


def _breaker(plan: ServicePlan, name: str, phases: list[tuple[str, int]]) -> list[dict[str, str]]:
    """The one-hot state gauge of breaker ``name``: ``phases`` of (state, minutes)."""
    identity = plan.queries.identity_labels()
    series = []
    for state in semconv.CIRCUITBREAKER_STATES:
        values = " ".join(f"{int(now == state)}x{minutes - 1}" for now, minutes in phases)
        labels = {
            **identity,
            semconv.LABEL_BREAKER_NAME: name,
            semconv.LABEL_BREAKER_STATE: state,
        }
        series.append(
            {"series": _series_name(semconv.CIRCUITBREAKER_STATE, labels), "values": values}
        )
    return series


def _breaker_cases(group: RuleGroup, alert: AlertRule) -> list[dict[str, Any]]:
    """Fires once a breaker stays open past ``for`` and resolves when it closes; quiet
    when a breaker opens only briefly or stays closed, and when there are no breakers."""
    plan = group.plan
    labels = {
        semconv.JOB: plan.queries.job,
        semconv.LABEL_BREAKER_NAME: TEST_BREAKER,
    }
    closed_before = BASELINE_MINUTES // 3
    opened = [
        (CLOSED_STATE, closed_before),
        (OPEN_STATE, BREAKER_OPEN_MINUTES + 1),
        (CLOSED_STATE, closed_before),
    ]
    open_until = closed_before + BREAKER_OPEN_MINUTES
    blip = [
        (CLOSED_STATE, closed_before),
        (OPEN_STATE, BREAKER_BLIP_MINUTES),
        (CLOSED_STATE, closed_before + BREAKER_OPEN_MINUTES),
    ]
    closed = [(CLOSED_STATE, 2 * closed_before + BREAKER_OPEN_MINUTES)]
    end = 2 * closed_before + BREAKER_OPEN_MINUTES - 1

    def check(minutes: int, firing: bool) -> dict[str, Any]:
        expected = [_expected(alert, labels, _humanize_percentage(Decimal(1)))] if firing else []
        return {"eval_time": _minutes(minutes), "alertname": alert.alert, "exp_alerts": expected}

    return [
        {
            "name": f"{alert.alert} fires once a breaker stays open, resolves when it closes",
            "interval": EVALUATION_INTERVAL,
            "input_series": [
                *_breaker(plan, TEST_BREAKER, opened),
                *_breaker(plan, OTHER_BREAKER, closed),
            ],
            "alert_rule_test": [
                check(closed_before + 1, firing=False),  # open, but not for long enough yet
                check(open_until, firing=True),
                check(end, firing=False),
            ],
        },
        {
            "name": f"{alert.alert} stays silent while breakers open only briefly or stay closed",
            "interval": EVALUATION_INTERVAL,
            "input_series": [
                *_breaker(plan, TEST_BREAKER, blip),
                *_breaker(plan, OTHER_BREAKER, closed),
            ],
            "alert_rule_test": [
                check(closed_before + BREAKER_BLIP_MINUTES - 1, firing=False),
                check(end, firing=False),
            ],
        },
        {
            "name": f"{alert.alert} stays silent without any circuit-breaker metrics",
            "interval": EVALUATION_INTERVAL,
            "input_series": [_up(plan, f"1x{HEALTHY_MINUTES}")],
            "alert_rule_test": [check(HEALTHY_MINUTES, firing=False)],
        },
    ]


def _telemetry_series(
    plan: ServicePlan, metric: str, label: str, values: dict[str, str]
) -> list[dict[str, str]]:
    base = {**plan.queries.identity_labels(), semconv.LABEL_INSTANCE: TEST_INSTANCE}
    return [
        {"series": _series_name(metric, {**base, label: name}), "values": series}
        for name, series in values.items()
    ]


def _spans_dropped_cases(group: RuleGroup, alert: AlertRule) -> list[dict[str, Any]]:
    """Fires once spans have been dropped for 15 minutes on end; quiet while a counter
    that dropped spans long ago stays flat."""
    plan = group.plan
    quiet, dropping = BASELINE_MINUTES // 3, 25  # dropping: longer than the alert's for
    rate = 5  # spans a minute: $value is the rate per second
    dropped = {"queue_full": f"0x{quiet} {rate}+{rate}x{dropping - 1}"}
    labels = {semconv.JOB: plan.queries.job}
    value = _humanize_percentage(Decimal(rate) / 60)

    def check(minutes: int, firing: bool) -> dict[str, Any]:
        expected = [_expected(alert, labels, value)] if firing else []
        return {"eval_time": _minutes(minutes), "alertname": alert.alert, "exp_alerts": expected}

    metric = semconv.TELEMETRY_SPANS_DROPPED
    return [
        {
            "name": f"{alert.alert} fires once spans have been dropped for 15 minutes",
            "interval": EVALUATION_INTERVAL,
            "input_series": _telemetry_series(plan, metric, semconv.LABEL_REASON, dropped),
            "alert_rule_test": [check(quiet + 10, firing=False), check(quiet + dropping, True)],
        },
        {
            "name": f"{alert.alert} stays silent while the dropped-spans counter is flat",
            "interval": EVALUATION_INTERVAL,
            "input_series": _telemetry_series(
                plan, metric, semconv.LABEL_REASON, {"export_failed": f"7x{HEALTHY_MINUTES}"}
            ),
            "alert_rule_test": [check(HEALTHY_MINUTES, firing=False)],
        },
    ]


def _readiness_case(group: RuleGroup, alert: AlertRule) -> dict[str, Any]:
    """Fires for the one check that has failed for 10 minutes, not for the one passing."""
    plan = group.plan
    passing, failing = BASELINE_MINUTES // 3, 20
    statuses = {"database": f"1x{passing - 1} 0x{failing}", "cache": f"1x{passing + failing}"}
    labels = {
        semconv.JOB: plan.queries.job,
        semconv.LABEL_INSTANCE: TEST_INSTANCE,
        semconv.LABEL_CHECK: "database",
    }
    metric = semconv.HEALTH_CHECK_STATUS
    zero = _humanize_percentage(Decimal(0))
    return {
        "name": f"{alert.alert} fires for a check failing for 10 minutes, not a passing one",
        "interval": EVALUATION_INTERVAL,
        "input_series": _telemetry_series(plan, metric, semconv.LABEL_CHECK, statuses),
        "alert_rule_test": [
            {"eval_time": _minutes(passing + 5), "alertname": alert.alert, "exp_alerts": []},
            {
                "eval_time": _minutes(passing + failing - 1),
                "alertname": alert.alert,
                "exp_alerts": [_expected(alert, labels, zero)],
            },
        ],
    }


def build_test_cases(group: RuleGroup) -> list[dict[str, Any]]:
    """Every promtool test case for ``group``: quiet cases first, then the burn-rate
    cases, then one or more per other alert."""
    plan = group.plan
    cases: list[dict[str, Any]] = [
        {
            "name": "healthy traffic: no alert fires",
            "interval": EVALUATION_INTERVAL,
            "input_series": [
                _up(plan, f"1x{HEALTHY_MINUTES}"),
                *_traffic(plan, [Phase(HEALTHY_MINUTES, ok=REQUESTS_PER_MINUTE)]),
            ],
            "alert_rule_test": _silence(group, HEALTHY_MINUTES),
        },
        {
            "name": "no traffic at all: no alert fires (no NaN, no false page)",
            "interval": EVALUATION_INTERVAL,
            "input_series": [
                _up(plan, f"1x{HEALTHY_MINUTES}"),
                *_traffic(plan, [Phase(HEALTHY_MINUTES)]),
            ],
            "alert_rule_test": _silence(group, HEALTHY_MINUTES),
        },
        *_burn_cases(group),
    ]
    for alert in group.alerts:
        if alert.watches == BURN:
            continue
        if alert.watches == SERVICE_DOWN:
            cases.append(_service_down_case(group, alert))
        elif alert.watches == TARGET_DOWN:
            cases.append(_target_down_case(group, alert))
        elif alert.watches == METRICS_MISSING:
            cases.append(_metrics_missing_case(group, alert))
        elif alert.watches == BUCKET_MISSING:
            cases.append(_bucket_missing_case(group, alert))
        elif alert.watches == BREAKER_OPEN:
            cases.extend(_breaker_cases(group, alert))
        elif alert.watches == SPANS_DROPPED:
            cases.extend(_spans_dropped_cases(group, alert))
        elif alert.watches == READINESS_FAILING:
            cases.append(_readiness_case(group, alert))
        else:
            cases.append(_target_absent_case(group, alert))
    return cases


def promtool_tests(group: RuleGroup, rule_file: str) -> dict[str, Any]:
    """The promtool unit-test file of ``group``, whose rules are in ``rule_file``."""
    return {
        "rule_files": [rule_file],
        "evaluation_interval": EVALUATION_INTERVAL,
        "tests": build_test_cases(group),
    }
