"""The SLIs of one service in PromQL: bad and total events over a window, their ratio.

The other half of the plan's SLO maths (``windows`` is the first): what counts as a bad
event for each kind of objective, and how a window's events are counted.

The rules form a pyramid: the raw series are read once, into 5-minute counts of
requests and bad events per service and objective (the base); every longer window —
the burn-rate windows, the whole SLO window — sums those recorded series, so its cost
no longer grows with the raw series (routes, status codes, buckets) or their history.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from toolkit import semconv
from toolkit.catalog.model import Service
from toolkit.generate.plan.windows import MIN_WINDOW_SECONDS, Window, format_duration
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
# The pyramid's base: every window's events are sums of these recorded 5-minute counts.
BASE_WINDOW = Window(format_duration(MIN_WINDOW_SECONDS), MIN_WINDOW_SECONDS)


@cache  # a catalog repeats a few objectives
def error_budget(objective_percent: float) -> Decimal:
    """The error budget of an objective in percent, exactly: ``99.9`` -> ``0.001``."""
    return ((Decimal(100) - Decimal(repr(objective_percent))) / Decimal(100)).normalize()


@cache
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
    # queries.increase(metric, window, *extra), on the selector already written
    older = f"sum(increase({series}[{window}]) and {series} offset {window})"
    born = f"sum({series} unless {series} offset {window})"
    return f"(({older} or vector(0)) + ({born} or vector(0)))"


def availability_error_ratio(queries: ServiceQueries, window: str) -> str:
    """Share of 5xx responses read from the raw series (dashboards); no result (never
    NaN) when there was no traffic."""
    error = f"{semconv.LABEL_STATUS_CODE}=~{quote(SERVER_ERROR_STATUS)}"
    errors = event_count(queries, SERVER_COUNT, window, error)
    total = event_count(queries, SERVER_COUNT, window)
    return f"{errors} / ({total} > 0)"


def base_requests(service: Service, queries: ServiceQueries, kind: str) -> str:
    """Requests over the pyramid's base window: always a number. Read from the raw series
    once, for availability; the latency objective counts the same requests, so it reads
    the availability series just recorded (its rule relabels it)."""
    if kind == AVAILABILITY:
        return event_count(queries, SERVER_COUNT, BASE_WINDOW.text)
    return recorded(semconv.RECORD_SLI_REQUESTS, service.name, AVAILABILITY)


def base_errors(service: Service, queries: ServiceQueries, kind: str) -> str:
    """Bad events of the ``kind`` objective over the base window.

    Availability: the 5xx responses, from the raw series. Latency: the requests just
    recorded less those in the threshold's bucket — only while that bucket's series
    exist. Without them (an app with other buckets) nothing is recorded, so no burn rate
    is computed from missing data; the bucket-missing ticket says why.
    """
    if kind == AVAILABILITY:
        error = f"{semconv.LABEL_STATUS_CODE}=~{quote(SERVER_ERROR_STATUS)}"
        return event_count(queries, SERVER_COUNT, BASE_WINDOW.text, error)
    latency = service.slo.latency
    if latency is None:
        raise ValueError(f"service {service.name!r} has no latency SLO")
    le = le_matcher(latency.threshold_seconds)
    fast = event_count(queries, SERVER_BUCKET, BASE_WINDOW.text, le)
    requests = recorded(semconv.RECORD_SLI_REQUESTS, service.name, kind)
    identity = f"{semconv.LABEL_SERVICE}, {semconv.LABEL_SLO}"
    return (
        f"({requests} - ignoring ({identity}) {fast}) "
        f"and on () count({SERVER_BUCKET}{queries.selector(le)})"
    )


@cache  # both objectives of a service, and the writers, ask again
def recorded_labels(service_name: str, kind: str) -> str:
    """The matchers of the series the rules record for one service and objective:
    ``{service="orders",slo="availability"}``."""
    labels = {semconv.LABEL_SERVICE: service_name, semconv.LABEL_SLO: kind}
    return f"{{{','.join(matchers(labels))}}}"


def recorded(record: str, service_name: str, kind: str) -> str:
    """The selector of a series the rules record for one service and objective."""
    return record + recorded_labels(service_name, kind)


class SLISeries:
    """The recorded series of one service and objective, spelled once: every window's
    error ratio and request count is built on them."""

    __slots__ = ("errors", "errors_tiled", "labels", "requests", "requests_tiled")

    def __init__(self, service_name: str, kind: str) -> None:
        labels = recorded_labels(service_name, kind)
        self.labels = labels
        self.errors = semconv.RECORD_SLI_ERRORS + labels
        self.requests = semconv.RECORD_SLI_REQUESTS + labels
        self.errors_tiled = semconv.RECORD_SLI_ERRORS_TILED + labels
        self.requests_tiled = semconv.RECORD_SLI_REQUESTS_TILED + labels

    def ratio(self, window: str) -> str:
        """The recorded SLI error ratio over ``window`` (its text: ``1h``)."""
        return recording_name(window) + self.labels

    def window_error_ratio(self, window: Window, *, tiled: bool) -> str:
        """See :func:`window_error_ratio`."""
        if tiled:
            errors, requests = self.errors_tiled, self.requests_tiled
        elif window.seconds == BASE_WINDOW.seconds:
            return f"{self.errors} / ({self.requests} > 0)"
        else:
            errors, requests = self.errors, self.requests
        return (
            f"sum_over_time({errors}[{window.text}]) "
            f"/ (sum_over_time({requests}[{window.text}]) > 0)"
        )

    def requests_in(self, window: Window, *, tiled: bool) -> str:
        """See :func:`requests_in`."""
        if tiled:
            return f"sum_over_time({self.requests_tiled}[{window.text}])"
        if window.seconds == BASE_WINDOW.seconds:
            return self.requests
        bases = format_number(Decimal(window.seconds) / BASE_WINDOW.seconds)
        return f"avg_over_time({self.requests}[{window.text}]) * {bases}"


def window_error_ratio(service_name: str, kind: str, window: Window, *, tiled: bool) -> str:
    """The error ratio over ``window``, summed from the recorded base counts (``tiled``:
    from their 5-minute tiles): weighted by traffic, and no result (never NaN) when the
    window saw no request."""
    return SLISeries(service_name, kind).window_error_ratio(window, tiled=tiled)


def requests_in(service_name: str, kind: str, window: Window, *, tiled: bool) -> str:
    """How many requests ``window`` holds: the sum of its tiles, or the mean of the base
    counts it holds times the number of 5-minute slices it spans."""
    return SLISeries(service_name, kind).requests_in(window, tiled=tiled)


@cache
def recording_name(window: str) -> str:
    """Name of the recorded SLI error ratio over ``window``."""
    return f"{semconv.RECORD_SLI_ERROR_RATIO_PREFIX}{window}"


def recorded_ratio(service_name: str, kind: str, window: str) -> str:
    """The recorded SLI error ratio series of a service and objective."""
    return recorded(recording_name(window), service_name, kind)


def burn_rate(recorded: str, budget: Decimal) -> str:
    """How many times faster than sustainable the budget burns, from a recorded SLI."""
    return f"{recorded} / {format_number(budget)}"


def budget_remaining(ratio: str, budget: Decimal) -> str:
    """Share of the error budget left given the window's error ratio (negative once
    overspent)."""
    return f"1 - ({ratio} / {format_number(budget)})"
