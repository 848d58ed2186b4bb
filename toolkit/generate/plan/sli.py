"""The SLIs of one service in PromQL: bad and total events over a window, their ratio.

The other half of the plan's SLO maths (``windows`` is the first): what counts as a bad
event for each kind of objective, and how a window's events are counted.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from toolkit import semconv
from toolkit.catalog.model import Service
from toolkit.generate.promql import (
    SERVER_BUCKET,
    SERVER_COUNT,
    ServiceQueries,
    format_number,
    le_matcher,
    matchers,
    quote,
)

AVAILABILITY = "availability"
LATENCY = "latency"
SERVER_ERROR_STATUS = "5.."


def error_budget(objective_percent: float) -> Decimal:
    """The error budget of an objective in percent, exactly: ``99.9`` -> ``0.001``."""
    return ((Decimal(100) - Decimal(repr(objective_percent))) / Decimal(100)).normalize()


def objective_ratio(objective_percent: float) -> Decimal:
    """The objective as a ratio, exactly: ``99.9`` -> ``0.999``."""
    return (Decimal(repr(objective_percent)) / 100).normalize()


def event_count(queries: ServiceQueries, metric: str, window: str, *extra: str) -> str:
    """Events a counter counted over ``window``, the first one of every series born
    inside the window included.

    ``increase()`` cannot see the first increment of a series: its first sample is
    already 1 (the first 5xx of a route and status). So series that existed a window
    ago contribute their increase, and series born since contribute their whole
    value, which they gathered inside the window. Never empty: 0 without series.
    """
    series = f"{metric}{queries.selector(*extra)}"
    older = f"sum({queries.increase(metric, window, *extra)} and {series} offset {window})"
    born = f"sum({series} unless {series} offset {window})"
    return f"(({older} or vector(0)) + ({born} or vector(0)))"


def availability_error_ratio(queries: ServiceQueries, window: str) -> str:
    """Share of 5xx responses; no result (never NaN) when there was no traffic."""
    error = f"{semconv.LABEL_STATUS_CODE}=~{quote(SERVER_ERROR_STATUS)}"
    errors = event_count(queries, SERVER_COUNT, window, error)
    total = event_count(queries, SERVER_COUNT, window)
    return f"{errors} / ({total} > 0)"


def latency_error_ratio(queries: ServiceQueries, threshold_seconds: float, window: str) -> str:
    """Share of requests slower than ``threshold_seconds``; no result at zero traffic."""
    fast = event_count(queries, SERVER_BUCKET, window, le_matcher(threshold_seconds))
    total = event_count(queries, SERVER_COUNT, window)
    return f"({total} - {fast}) / ({total} > 0)"


def error_ratio(service: Service, queries: ServiceQueries, kind: str, window: str) -> str:
    """The error ratio of the service's ``kind`` objective over ``window``."""
    if kind == AVAILABILITY:
        return availability_error_ratio(queries, window)
    latency = service.slo.latency
    if latency is None:
        raise ValueError(f"service {service.name!r} has no latency SLO")
    return latency_error_ratio(queries, latency.threshold_seconds, window)


@cache
def recording_name(window: str) -> str:
    """Name of the recorded SLI error ratio over ``window``."""
    return f"{semconv.RECORD_SLI_ERROR_RATIO_PREFIX}{window}"


def recorded_ratio(service_name: str, kind: str, window: str) -> str:
    """The recorded SLI error ratio series of a service and objective."""
    labels = {semconv.LABEL_SERVICE: service_name, semconv.LABEL_SLO: kind}
    return f"{recording_name(window)}{{{','.join(matchers(labels))}}}"


def burn_rate(recorded: str, budget: Decimal) -> str:
    """How many times faster than sustainable the budget burns, from a recorded SLI."""
    return f"{recorded} / {format_number(budget)}"


def budget_remaining(ratio: str, budget: Decimal) -> str:
    """Share of the error budget left given the window's error ratio (negative once
    overspent)."""
    return f"1 - (({ratio}) / {format_number(budget)})"
