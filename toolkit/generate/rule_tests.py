"""promtool unit tests for one service's rules, as data.

Every alert gets a case that first feeds a healthy baseline and then the failure it
watches for, and expects it firing with its exact labels and annotations. Two more
cases expect silence from every alert: healthy traffic, and no traffic at all.

The series are built so the alert's ``$value`` is exact: the burn cases' windows hold
only requests failing at one steady share.
Scenarios with mixed traffic (2 % errors, one target of three down, low traffic) are
tested with hand-written expectations in the test suite.

What differs between services is the series names and the alerts (names, expected
labels and annotations); a series' values depend on the scenario alone. So the values
are worked out once per scenario (cached across services), a service's series names
once for all its cases (``_Service``), from templates shared by the services whose
selectors have the same label names (only the values are filled in). What the two quiet
cases have in common (the ``up`` series, the silent checks) is the same object in both:
the document is data to serialise, not to edit.

Over 300 lines and kept whole: each case's series and its expected alerts are
derived together, and splitting them would separate what must agree.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from toolkit import semconv
from toolkit.generate.plan import AVAILABILITY, format_duration
from toolkit.generate.promql import SERVER_BUCKET, SERVER_COUNT, le_label_value, quote
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


class Phase(NamedTuple):
    """``minutes`` of traffic: fast successes, fast errors and slow successes per minute.

    A named tuple, not a dataclass: phases key the caches of series values, and a
    tuple hashes without running Python code."""

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
# What the request series of ``_Service.traffic`` count, in their order (the last two,
# the SLO's buckets, only with a latency SLO).
_TRAFFIC_COUNTS = ("all_ok", "errors", "fast_ok", "errors")


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


@cache  # a handful of scenarios
def _traffic_values(phases: tuple[Phase, ...]) -> tuple[str, ...]:
    """The values of the request series (``_TRAFFIC_COUNTS``) over these phases."""
    return tuple(_counter(phases, what) for what in _TRAFFIC_COUNTS)


@cache  # a handful of durations
def _minutes(minutes: int) -> str:
    return format_duration(minutes * 60)


def _humanize_percentage(share: Decimal) -> str:
    # Prometheus' humanizePercentage is Go's %.4g of value * 100.
    return f"{float(share) * 100:.4g}%"


_ALL = _humanize_percentage(Decimal(1))
_NONE = _humanize_percentage(Decimal(0))
_ONE_THIRD = Decimal(1) / 3
_ONE_THIRD_TEXT = _humanize_percentage(_ONE_THIRD)
# The request series' values of the scenarios every service shares.
_HEALTHY = _traffic_values((Phase(HEALTHY_MINUTES, ok=REQUESTS_PER_MINUTE),))
_NO_TRAFFIC = _traffic_values((Phase(HEALTHY_MINUTES),))
_TARGET_TRAFFIC = _traffic_values(
    (Phase(BASELINE_MINUTES + TARGET_FOR_MINUTES, ok=REQUESTS_PER_MINUTE),)
)
_ABSENT_TRAFFIC = _traffic_values((Phase(TARGET_FOR_MINUTES, ok=REQUESTS_PER_MINUTE),))
_QUIET = Phase(QUIET_MINUTES)
_SLOW_TRAFFIC = (Phase(BUCKET_MISSING_MINUTES, slow=REQUESTS_PER_MINUTE),)


class _Service:
    """What every case of one service's tests shares, worked out once: its job, the
    labels all its series carry, and the names of its ``up`` and request series."""

    __slots__ = (
        "_label_names",
        "_label_texts",
        "group",
        "identity",
        "job",
        "targets",
        "traffic",
        "up",
    )

    def __init__(self, group: RuleGroup) -> None:
        queries = group.plan.queries
        latency = group.plan.service.slo.latency
        self.group = group
        self.identity = queries.identity_labels()
        self.job = {semconv.JOB: queries.job}
        # The service's labels as every series name writes them (name="value"), by name.
        self._label_names = tuple(sorted(self.identity))
        self._label_texts = {
            name: f"{name}={quote(value)}" for name, value in self.identity.items()
        }
        self.targets = self.series(
            semconv.SCRAPE_UP, semconv.LABEL_INSTANCE, (TEST_INSTANCE, *OTHER_INSTANCES)
        )
        self.up = self.targets[0]  # the one target of most cases
        statuses = (OK_STATUS, ERROR_STATUS)
        traffic = self.series(SERVER_COUNT, semconv.LABEL_STATUS_CODE, statuses)
        if latency is not None:
            le = (semconv.LABEL_LE, le_label_value(latency.threshold_seconds))
            traffic += self.series(SERVER_BUCKET, semconv.LABEL_STATUS_CODE, statuses, le)
        self.traffic = traffic

    def series(
        self, metric: str, label: str, values: tuple[str, ...], *labels: tuple[str, str]
    ) -> tuple[str, ...]:
        """``metric{...}`` for each of ``values`` of ``label``, with the service's labels
        and ``labels``, sorted by name."""
        templates = _series_templates(self._label_names, metric, label, values, labels)
        texts = self._label_texts
        return tuple([template % texts for template in templates])


@cache  # services share the names of their labels: only the values differ
def _series_templates(
    label_names: tuple[str, ...],
    metric: str,
    label: str,
    values: tuple[str, ...],
    labels: tuple[tuple[str, str], ...],
) -> tuple[str, ...]:
    """``_Service.series`` as ``%`` templates: ``%(job)s``... stand for a service's
    labels (``label_names``), everything else is written out. ``%`` with a dict of the
    service's label texts fills them in: half the cost of ``str.format``, and these
    names are built for every case of every service."""
    written = {name: f"%({name})s" for name in label_names}
    for name, value in labels:
        written[name] = _literal(f"{name}={quote(value)}")
    templates = []
    for value in values:
        written[label] = _literal(f"{label}={quote(value)}")
        inside = ",".join(written[name] for name in sorted(written))
        templates.append(_literal(metric) + "{" + inside + "}")
    return tuple(templates)


def _literal(text: str) -> str:
    """``text`` as it reads in a ``%`` template."""
    return text.replace("%", "%%")


def _traffic(service: _Service, values: tuple[str, ...]) -> list[dict[str, str]]:
    """Duration-histogram series (count and the SLO's bucket) with ``_traffic_values``."""
    return [{"series": name, "values": values[i]} for i, name in enumerate(service.traffic)]


def _up(service: _Service, values: str) -> dict[str, str]:
    return {"series": service.up, "values": values}


def _silence(names: list[str], eval_minutes: int) -> list[dict[str, Any]]:
    eval_time = _minutes(eval_minutes)
    return [{"eval_time": eval_time, "alertname": name, "exp_alerts": []} for name in names]


def _expected(alert: AlertRule, labels: dict[str, str], value: str) -> dict[str, Any]:
    annotations = {}
    for name, text in alert.annotations.items():
        if "{{" in text:  # every placeholder opens so; most texts (the URL) hold none
            text = text.replace(VALUE_AS_PERCENT, value)
            if "{{" in text:  # the alert's labels: fewer texts still
                text = (
                    text.replace(INSTANCE_OF_ALERT, labels.get(semconv.LABEL_INSTANCE, ""))
                    .replace(BREAKER_OF_ALERT, labels.get(semconv.LABEL_BREAKER_NAME, ""))
                    .replace(CHECK_OF_ALERT, labels.get(semconv.LABEL_CHECK, ""))
                )
        annotations[name] = text
    # Without labels of its own (the burn cases) the case expects the alert's labels,
    # shared, not copied: the document is data to serialise.
    exp_labels = {**labels, **alert.labels} if labels else alert.labels
    return {"exp_labels": exp_labels, "exp_annotations": annotations}


@cache  # a pure function of the threshold: a catalog has few distinct ones
def _failure_split(threshold: Decimal) -> tuple[int, int, str]:
    """Good and bad requests per failing minute, and the alert's expected ``$value``:
    the first round share of bad requests above ``threshold`` (1:1 gives "50%")."""
    for good, bad in _SPLITS:
        share = Decimal(bad) / Decimal(good + bad)
        if share > threshold:
            return good, bad, _humanize_percentage(share)
    return 0, 1, _ALL


def _burn_inputs(alert: AlertRule) -> tuple[Phase, str]:
    """The failing phase that makes ``alert`` fire, and its expected ``$value``."""
    check = alert.checks[0]
    availability = alert.slo is not None and alert.slo.kind == AVAILABILITY
    return _failing_phase(check.threshold, check.min_requests, availability)


@cache  # a catalog has few distinct thresholds and guards
def _failing_phase(threshold: Decimal, min_requests: int, availability: bool) -> tuple[Phase, str]:
    """``_burn_inputs`` of a check's threshold and guard, failing with 5xx responses for
    an availability objective, with slow 2xx ones for a latency objective."""
    good, bad, value = _failure_split(threshold)
    # Enough requests that even the base window passes the low-traffic guard.
    per_minute = max(REQUESTS_PER_MINUTE, -(-2 * min_requests // FAILURE_MINUTES))
    scale = -(-per_minute // (good + bad))
    if availability:
        return Phase(FAILURE_MINUTES, ok=good * scale, errors=bad * scale), value
    return Phase(FAILURE_MINUTES, ok=good * scale, slow=bad * scale), value


def _burn_cases(service: _Service) -> list[dict[str, Any]]:
    """Quiet, then requests failing at a steady share above the thresholds: the alerts
    fire. Every request of every window is of the failing phase, so each window's error
    ratio is exactly that share (the quiet minutes count no requests), whatever the
    weighting of the 5-minute base counts or the Prometheus release. Alerts that the
    same failure makes fire (the page and the ticket of an objective, as a rule) share
    one case."""
    total = QUIET_MINUTES + FAILURE_MINUTES
    by_input: dict[Phase, list[tuple[AlertRule, str]]] = {}
    for alert in service.group.alerts:
        if alert.watches == BURN:
            failing, value = _burn_inputs(alert)
            by_input.setdefault(failing, []).append((alert, value))
    quiet, fired = _minutes(QUIET_MINUTES), _minutes(total)
    cases = []
    for failing, alerts in by_input.items():
        names = " and ".join(alert.alert for alert, _ in alerts)
        checks: list[dict[str, Any]] = [
            {"eval_time": quiet, "alertname": alert.alert, "exp_alerts": []} for alert, _ in alerts
        ]
        checks += [
            {
                "eval_time": fired,
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
                    _up(service, f"1x{total}"),
                    *_traffic(service, _traffic_values((_QUIET, failing))),
                ],
                "alert_rule_test": checks,
            }
        )
    return cases


@cache  # two scenarios
def _target_values(down: int, minutes: int) -> tuple[str, ...]:
    """Three targets answering for ``BASELINE_MINUTES``, then the first ``down`` of them
    failing their scrapes for ``minutes`` while the others keep answering."""
    return tuple(
        f"1x{BASELINE_MINUTES - 1} {'0' if index < down else '1'}x{minutes}"
        for index in range(1 + len(OTHER_INSTANCES))
    )


def _targets(service: _Service, down: int, minutes: int) -> list[dict[str, str]]:
    """The ``up`` series of three targets, the first ``down`` failing (``_target_values``)."""
    values = _target_values(down, minutes)
    return [{"series": name, "values": values[i]} for i, name in enumerate(service.targets)]


@cache  # a catalog has few distinct settings
def _pages_at_one_target_of_three(page_targets_down: float) -> bool:
    return Decimal(repr(page_targets_down)) <= _ONE_THIRD * 100


def _target_down_case(service: _Service, alert: AlertRule) -> dict[str, Any]:
    """One target of three down: the ticket fires for it (the service-down page only
    when the catalog pages at a third of the targets or less)."""
    group = service.group
    total = BASELINE_MINUTES + TARGET_FOR_MINUTES
    labels = {**service.identity, semconv.LABEL_INSTANCE: TEST_INSTANCE}
    service_down = next(a for a in group.alerts if a.watches == SERVICE_DOWN)
    pages = _pages_at_one_target_of_three(group.plan.service.alerting.page_targets_down)
    down = [_expected(service_down, service.job, _ONE_THIRD_TEXT)] if pages else []
    return {
        "name": f"{alert.alert} fires for the one target of three that stops answering",
        "interval": EVALUATION_INTERVAL,
        "input_series": [
            *_targets(service, 1, TARGET_FOR_MINUTES),
            *_traffic(service, _TARGET_TRAFFIC),
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
                "exp_alerts": [_expected(alert, labels, _NONE)],
            },
            {"eval_time": _minutes(total), "alertname": service_down.alert, "exp_alerts": down},
        ],
    }


def _service_down_case(service: _Service, alert: AlertRule) -> dict[str, Any]:
    """Every target down for longer than ``for``: the page fires."""
    total = BASELINE_MINUTES + TARGET_FOR_MINUTES
    return {
        "name": f"{alert.alert} fires when every target stops answering",
        "interval": EVALUATION_INTERVAL,
        "input_series": [
            *_targets(service, 1 + len(OTHER_INSTANCES), TARGET_FOR_MINUTES),
            *_traffic(service, _TARGET_TRAFFIC),
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
                "exp_alerts": [_expected(alert, service.job, _ALL)],
            },
        ],
    }


def _metrics_missing_case(service: _Service, alert: AlertRule) -> dict[str, Any]:
    """A target up for longer than ``for`` without any request series: the ticket fires."""
    return {
        "name": f"{alert.alert} fires when a target that is up exports no request series",
        "interval": EVALUATION_INTERVAL,
        "input_series": [_up(service, f"1x{METRICS_MISSING_MINUTES}")],
        "alert_rule_test": [
            {"eval_time": _minutes(BASELINE_MINUTES), "alertname": alert.alert, "exp_alerts": []},
            {
                "eval_time": _minutes(METRICS_MISSING_MINUTES),
                "alertname": alert.alert,
                "exp_alerts": [_expected(alert, service.job, _ALL)],
            },
        ],
    }


def _bucket_missing_case(service: _Service, alert: AlertRule) -> dict[str, Any]:
    """Requests counted but the threshold's bucket never exported, even while every
    request is slow: the ticket fires, the latency burn-rate alerts stay silent."""
    minutes = BUCKET_MISSING_MINUTES
    count = service.traffic[0]  # the count of 2xx requests
    counter = _counter(_SLOW_TRAFFIC, "all_ok")
    latency_burns = [
        a.alert for a in service.group.alerts if a.slo is not None and a.slo.kind != AVAILABILITY
    ]
    return {
        "name": f"{alert.alert} fires, not a latency page, when the SLO's bucket is missing",
        "interval": EVALUATION_INTERVAL,
        "input_series": [_up(service, f"1x{minutes}"), {"series": count, "values": counter}],
        "alert_rule_test": [
            {
                "eval_time": _minutes(minutes),
                "alertname": alert.alert,
                "exp_alerts": [_expected(alert, service.job, _ALL)],
            },
            *(
                {"eval_time": _minutes(minutes), "alertname": name, "exp_alerts": []}
                for name in latency_burns
            ),
        ],
    }


def _target_absent_case(service: _Service, alert: AlertRule) -> dict[str, Any]:
    return {
        "name": f"{alert.alert} fires when Prometheus has no target for the service",
        "interval": EVALUATION_INTERVAL,
        "input_series": _traffic(service, _ABSENT_TRAFFIC),
        "alert_rule_test": [
            {
                "eval_time": _minutes(TARGET_FOR_MINUTES),
                "alertname": alert.alert,
                "exp_alerts": [_expected(alert, service.identity, _ALL)],
            }
        ],
    }


@cache  # three scenarios
def _breaker_values(phases: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    """The one-hot state gauge's values, per state: ``phases`` of (state, minutes)."""
    return tuple(
        " ".join(f"{int(now == state)}x{minutes - 1}" for now, minutes in phases)
        for state in semconv.CIRCUITBREAKER_STATES
    )


def _breaker(names: tuple[str, ...], phases: tuple[tuple[str, int], ...]) -> list[dict[str, str]]:
    """The one-hot state gauge of one breaker (its series ``names``, one per state):
    ``phases`` of (state, minutes)."""
    values = _breaker_values(phases)
    return [{"series": name, "values": values[i]} for i, name in enumerate(names)]


def _breaker_names(service: _Service, name: str) -> tuple[str, ...]:
    """The state gauge's series of breaker ``name``, one per state."""
    return service.series(
        semconv.CIRCUITBREAKER_STATE,
        semconv.LABEL_BREAKER_STATE,
        semconv.CIRCUITBREAKER_STATES,
        (semconv.LABEL_BREAKER_NAME, name),
    )


# The breaker scenarios, as (state, minutes): opened past ``for``, opened briefly, closed.
_CLOSED_BEFORE = BASELINE_MINUTES // 3
_BREAKER_END = 2 * _CLOSED_BEFORE + BREAKER_OPEN_MINUTES  # the minutes of each scenario
_BREAKER_OPENED = (
    (CLOSED_STATE, _CLOSED_BEFORE),
    (OPEN_STATE, BREAKER_OPEN_MINUTES + 1),
    (CLOSED_STATE, _CLOSED_BEFORE),
)
_BREAKER_BLIP = (
    (CLOSED_STATE, _CLOSED_BEFORE),
    (OPEN_STATE, BREAKER_BLIP_MINUTES),
    (CLOSED_STATE, _CLOSED_BEFORE + BREAKER_OPEN_MINUTES),
)
_BREAKER_CLOSED = ((CLOSED_STATE, _BREAKER_END),)


def _breaker_cases(service: _Service, alert: AlertRule) -> list[dict[str, Any]]:
    """Fires once a breaker stays open past ``for`` and resolves when it closes; quiet
    when a breaker opens only briefly or stays closed, and when there are no breakers."""
    labels = {**service.job, semconv.LABEL_BREAKER_NAME: TEST_BREAKER}
    open_until = _CLOSED_BEFORE + BREAKER_OPEN_MINUTES
    end = _BREAKER_END - 1
    tested = _breaker_names(service, TEST_BREAKER)
    other = _breaker_names(service, OTHER_BREAKER)

    def check(minutes: int, firing: bool) -> dict[str, Any]:
        expected = [_expected(alert, labels, _ALL)] if firing else []
        return {"eval_time": _minutes(minutes), "alertname": alert.alert, "exp_alerts": expected}

    return [
        {
            "name": f"{alert.alert} fires once a breaker stays open, resolves when it closes",
            "interval": EVALUATION_INTERVAL,
            "input_series": [
                *_breaker(tested, _BREAKER_OPENED),
                *_breaker(other, _BREAKER_CLOSED),
            ],
            "alert_rule_test": [
                check(_CLOSED_BEFORE + 1, firing=False),  # open, but not for long enough yet
                check(open_until, firing=True),
                check(end, firing=False),
            ],
        },
        {
            "name": f"{alert.alert} stays silent while breakers open only briefly or stay closed",
            "interval": EVALUATION_INTERVAL,
            "input_series": [
                *_breaker(tested, _BREAKER_BLIP),
                *_breaker(other, _BREAKER_CLOSED),
            ],
            "alert_rule_test": [
                check(_CLOSED_BEFORE + BREAKER_BLIP_MINUTES - 1, firing=False),
                check(end, firing=False),
            ],
        },
        {
            "name": f"{alert.alert} stays silent without any circuit-breaker metrics",
            "interval": EVALUATION_INTERVAL,
            "input_series": [_up(service, f"1x{HEALTHY_MINUTES}")],
            "alert_rule_test": [check(HEALTHY_MINUTES, firing=False)],
        },
    ]


def _telemetry_series(
    service: _Service, metric: str, label: str, values: dict[str, str]
) -> list[dict[str, str]]:
    instance = (semconv.LABEL_INSTANCE, TEST_INSTANCE)
    names = service.series(metric, label, tuple(values), instance)
    return [
        {"series": name, "values": series}
        for name, series in zip(names, values.values(), strict=True)
    ]


# The spans-dropped scenarios, the same for every service (by reason: the counter's
# values): quiet, then spans dropped for longer than the alert's ``for``; a flat counter.
_SPANS_QUIET, _SPANS_DROPPING = BASELINE_MINUTES // 3, 25
_SPANS_A_MINUTE = 5  # $value is the rate per second
_SPANS_DROPPED = {
    "queue_full": f"0x{_SPANS_QUIET} {_SPANS_A_MINUTE}+{_SPANS_A_MINUTE}x{_SPANS_DROPPING - 1}"
}
_SPANS_FLAT = {"export_failed": f"7x{HEALTHY_MINUTES}"}
_SPANS_VALUE = _humanize_percentage(Decimal(_SPANS_A_MINUTE) / 60)


def _spans_dropped_cases(service: _Service, alert: AlertRule) -> list[dict[str, Any]]:
    """Fires once spans have been dropped for 15 minutes on end; quiet while a counter
    that dropped spans long ago stays flat."""
    quiet, dropping = _SPANS_QUIET, _SPANS_DROPPING

    def check(minutes: int, firing: bool) -> dict[str, Any]:
        expected = [_expected(alert, service.job, _SPANS_VALUE)] if firing else []
        return {"eval_time": _minutes(minutes), "alertname": alert.alert, "exp_alerts": expected}

    metric = semconv.TELEMETRY_SPANS_DROPPED
    return [
        {
            "name": f"{alert.alert} fires once spans have been dropped for 15 minutes",
            "interval": EVALUATION_INTERVAL,
            "input_series": _telemetry_series(
                service, metric, semconv.LABEL_REASON, _SPANS_DROPPED
            ),
            "alert_rule_test": [check(quiet + 10, firing=False), check(quiet + dropping, True)],
        },
        {
            "name": f"{alert.alert} stays silent while the dropped-spans counter is flat",
            "interval": EVALUATION_INTERVAL,
            "input_series": _telemetry_series(service, metric, semconv.LABEL_REASON, _SPANS_FLAT),
            "alert_rule_test": [check(HEALTHY_MINUTES, firing=False)],
        },
    ]


# The readiness scenario, the same for every service (by check: its status's values):
# one check passing, then failing for longer than the alert's ``for``; one passing.
_CHECK_PASSING, _CHECK_FAILING = BASELINE_MINUTES // 3, 20
_CHECK_STATUSES = {
    "database": f"1x{_CHECK_PASSING - 1} 0x{_CHECK_FAILING}",
    "cache": f"1x{_CHECK_PASSING + _CHECK_FAILING}",
}


def _readiness_case(service: _Service, alert: AlertRule) -> dict[str, Any]:
    """Fires for the one check that has failed for 10 minutes, not for the one passing."""
    passing, failing = _CHECK_PASSING, _CHECK_FAILING
    labels = {**service.job, semconv.LABEL_INSTANCE: TEST_INSTANCE, semconv.LABEL_CHECK: "database"}
    metric = semconv.HEALTH_CHECK_STATUS
    return {
        "name": f"{alert.alert} fires for a check failing for 10 minutes, not a passing one",
        "interval": EVALUATION_INTERVAL,
        "input_series": _telemetry_series(service, metric, semconv.LABEL_CHECK, _CHECK_STATUSES),
        "alert_rule_test": [
            {"eval_time": _minutes(passing + 5), "alertname": alert.alert, "exp_alerts": []},
            {
                "eval_time": _minutes(passing + failing - 1),
                "alertname": alert.alert,
                "exp_alerts": [_expected(alert, labels, _NONE)],
            },
        ],
    }


def build_test_cases(group: RuleGroup) -> list[dict[str, Any]]:
    """Every promtool test case for ``group``: quiet cases first, then the burn-rate
    cases, then one or more per other alert."""
    service = _Service(group)
    up = _up(service, f"1x{HEALTHY_MINUTES}")
    silence = _silence([alert.alert for alert in group.alerts], HEALTHY_MINUTES)
    cases: list[dict[str, Any]] = [
        {
            "name": "healthy traffic: no alert fires",
            "interval": EVALUATION_INTERVAL,
            "input_series": [up, *_traffic(service, _HEALTHY)],
            "alert_rule_test": silence,
        },
        {
            "name": "no traffic at all: no alert fires (no NaN, no false page)",
            "interval": EVALUATION_INTERVAL,
            "input_series": [up, *_traffic(service, _NO_TRAFFIC)],
            "alert_rule_test": silence,
        },
        *_burn_cases(service),
    ]
    for alert in group.alerts:
        if alert.watches == BURN:
            continue
        if alert.watches == SERVICE_DOWN:
            cases.append(_service_down_case(service, alert))
        elif alert.watches == TARGET_DOWN:
            cases.append(_target_down_case(service, alert))
        elif alert.watches == METRICS_MISSING:
            cases.append(_metrics_missing_case(service, alert))
        elif alert.watches == BUCKET_MISSING:
            cases.append(_bucket_missing_case(service, alert))
        elif alert.watches == BREAKER_OPEN:
            cases.extend(_breaker_cases(service, alert))
        elif alert.watches == SPANS_DROPPED:
            cases.extend(_spans_dropped_cases(service, alert))
        elif alert.watches == READINESS_FAILING:
            cases.append(_readiness_case(service, alert))
        else:
            cases.append(_target_absent_case(service, alert))
    return cases


def promtool_tests(group: RuleGroup, rule_file: str) -> dict[str, Any]:
    """The promtool unit-test file of ``group``, whose rules are in ``rule_file``."""
    return {
        "rule_files": [rule_file],
        "evaluation_interval": EVALUATION_INTERVAL,
        "tests": build_test_cases(group),
    }
