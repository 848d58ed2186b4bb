"""promtool unit tests for one service's rules, as data.

Every alert gets a case that first feeds a healthy baseline and then the failure it
watches for, and expects it firing with its exact labels and annotations. Two more
cases expect silence from every alert: healthy traffic, and no traffic at all.

The series are built so the alert's ``$value`` is exact: the failure lasts longer than
the alert's first long window, so that window holds only bad events (ratio 1, "100%").

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
from toolkit.generate.plan import AVAILABILITY, BurnCheck, ServicePlan, format_duration
from toolkit.generate.promql import ServiceQueries, le_label_value, quote
from toolkit.generate.rules import (
    BREAKER_OPEN,
    BURN,
    OPEN_STATE,
    READINESS_FAILING,
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
MIN_BASELINE_MINUTES = 10
# How long past the window the failure lasts, so the whole window is bad.
MARGIN_MINUTES = 10
TARGET_FOR_MINUTES = 10
# (baseline, failure) proportions tried in turn: the first whose error share is above
# the alert's threshold wins. 1:1 gives "50%", 1:3 "75%", and so on.
_SPLITS = ((1, 1), (1, 3), (1, 9), (1, 19), (1, 49), (1, 99))
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


def _failure_split(alert: AlertRule) -> tuple[int, int, str]:
    """Minutes of baseline and of failure, and the alert's expected ``$value``.

    Both phases fit inside the first long window, so its error ratio is exactly
    failure / (baseline + failure), a round share. The short window either holds both
    phases too (the same share) or only failure (100 %). Short series keep promtool fast.
    """
    return _split_for(alert.checks[0])


@cache  # a pure function of the objective: a catalog has few distinct ones
def _split_for(check: BurnCheck) -> tuple[int, int, str]:
    threshold = check.threshold
    long_minutes = check.long_window.seconds // 60
    short_minutes = check.short_window.seconds // 60
    for baseline, failure in _SPLITS:
        share = Decimal(failure) / Decimal(baseline + failure)
        most = (long_minutes - 1) // (baseline + failure)  # both phases inside the long window
        if share <= threshold or most < 1:
            continue
        scale = min(-(-MIN_BASELINE_MINUTES // baseline), most)
        if scale * (baseline + failure) >= short_minutes and scale * failure <= short_minutes:
            scale = -(-(short_minutes + 1) // failure)  # the failure fills the short window
            if scale > most:
                continue
        return scale * baseline, scale * failure, _humanize_percentage(share)
    # A tight window: no baseline fits beside the failure, so fill the long window.
    return BASELINE_MINUTES, long_minutes + MARGIN_MINUTES, "100%"


def _humanize_percentage(share: Decimal) -> str:
    # Prometheus' humanizePercentage is Go's %.4g of value * 100.
    return f"{float(share) * 100:.4g}%"


def _burn_case(group: RuleGroup, alert: AlertRule) -> dict[str, Any]:
    plan = group.plan
    baseline, failing_minutes, value = _failure_split(alert)
    total = baseline + failing_minutes
    healthy = Phase(baseline, ok=REQUESTS_PER_MINUTE)
    if alert.slo is not None and alert.slo.kind == AVAILABILITY:
        failing = Phase(failing_minutes, errors=REQUESTS_PER_MINUTE)
    else:
        failing = Phase(failing_minutes, slow=REQUESTS_PER_MINUTE)
    return {
        "name": f"{alert.alert} fires after a healthy baseline",
        "interval": EVALUATION_INTERVAL,
        "input_series": [
            _up(plan, f"1x{total}"),
            *_traffic(plan, [healthy, failing]),
        ],
        "alert_rule_test": [
            {
                "eval_time": _minutes(baseline),
                "alertname": alert.alert,
                "exp_alerts": [],
            },
            {
                "eval_time": _minutes(total),
                "alertname": alert.alert,
                "exp_alerts": [_expected(alert, {}, value)],
            },
        ],
    }


def _target_down_case(group: RuleGroup, alert: AlertRule) -> dict[str, Any]:
    plan = group.plan
    down = TARGET_FOR_MINUTES
    total = BASELINE_MINUTES + down
    labels = {
        **plan.queries.identity_labels(),
        semconv.LABEL_INSTANCE: TEST_INSTANCE,
    }
    return {
        "name": f"{alert.alert} fires when the target stops answering",
        "interval": EVALUATION_INTERVAL,
        "input_series": [
            _up(plan, f"1x{BASELINE_MINUTES - 1} 0x{down}"),
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
    """Every promtool test case for ``group``: quiet cases first, then one per alert."""
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
    ]
    for alert in group.alerts:
        if alert.watches == BURN:
            cases.append(_burn_case(group, alert))
        elif alert.watches == TARGET_DOWN:
            cases.append(_target_down_case(group, alert))
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
