"""The synthetic fleet of ``bench.fleet``: its series, their values at any time, as text.

Every counter is a pure function of time, so the backfill (OpenMetrics files for
``promtool tsdb create-blocks-from openmetrics``) and the live exporter that Prometheus
scrapes afterwards agree exactly: the series run on without a gap or a reset.

A service has ``instances`` x the routes of ``ROUTES`` x the statuses of ``STATUSES``
label sets of ``http_server_request_duration_seconds`` (``_count``, ``_sum`` and a
``_bucket`` per ``le`` of ``semconv.DURATION_BUCKETS`` plus ``+Inf``), and an ``up`` per
instance, with the labels toolkit's middleware writes (``job`` and ``instance`` as a
scrape attaches them; ``error_type`` on 5xx only: it is empty, so absent, otherwise).
Traffic follows a daily cycle (+/- ``DAILY_SWING`` around each label set's mean rate).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from toolkit import semconv

DAY = 86_400
DAILY_SWING = 0.5  # the rate moves between 0.5 and 1.5 times its mean over a day
# Counters count from this long before the backfill starts (processes started earlier).
COUNTER_ORIGIN_BEFORE = DAY

# (method, route template, mean requests/s over the service's instances)
ROUTES: tuple[tuple[str, str, float], ...] = (
    ("GET", "/items", 8.0),
    ("GET", "/items/{item_id}", 20.0),
    ("POST", "/orders", 2.0),
    ("GET", "/orders/{order_id}", 4.0),
)
# (status, share of a route's requests, median seconds, spread (log-normal sigma))
STATUSES: tuple[tuple[int, float, float, float], ...] = (
    (200, 0.9695, 0.060, 0.9),
    (404, 0.03, 0.012, 0.6),
    (500, 0.0005, 0.180, 1.2),
)
DURATION = semconv.HTTP_SERVER_REQUEST_DURATION
LE_TEXTS = (*(repr(float(le)) for le in semconv.DURATION_BUCKETS), "+Inf")


def _log_normal_cdf(x: float, median: float, sigma: float) -> float:
    return 0.5 * (1.0 + math.erf(math.log(x / median) / (sigma * math.sqrt(2.0))))


@dataclass(frozen=True)
class LabelSet:
    """One label set of the duration histogram: its series and how fast they grow."""

    prefixes: tuple[str, ...]  # "name{labels} " of each series: buckets, +Inf, count, sum
    rate: float  # mean requests/s
    fractions: tuple[float, ...]  # share of requests at or under each ``le``, +Inf last
    mean_seconds: float


@dataclass(frozen=True)
class Fleet:
    """The services' series; ``origin`` (unix seconds) is where every counter is 0."""

    jobs: tuple[str, ...]
    instances: int
    origin: int

    def instance(self, job: str, index: int) -> str:
        """The ``instance`` label of a job's ``index``-th target."""
        return f"{job}-{index}:8000"

    def label_sets(self, job: str, index: int) -> list[LabelSet]:
        """The duration histogram's label sets of one target."""
        instance = self.instance(job, index)
        found = []
        for method, route, route_rate in ROUTES:
            for status, share, median, sigma in STATUSES:
                labels = (
                    f'{semconv.JOB}="{job}",{semconv.LABEL_INSTANCE}="{instance}",'
                    f'{semconv.LABEL_METHOD}="{method}",{semconv.LABEL_ROUTE}="{route}",'
                    f'{semconv.LABEL_STATUS_CODE}="{status}"'
                )
                if status >= 500:
                    labels += f',{semconv.LABEL_ERROR_TYPE}="{status}"'
                prefixes = (
                    *(
                        f'{DURATION}_bucket{{{labels},{semconv.LABEL_LE}="{le}"}} '
                        for le in LE_TEXTS
                    ),
                    f"{DURATION}_count{{{labels}}} ",
                    f"{DURATION}_sum{{{labels}}} ",
                )
                fractions = (
                    *(_log_normal_cdf(le, median, sigma) for le in semconv.DURATION_BUCKETS),
                    1.0,
                )
                mean = median * math.exp(sigma * sigma / 2.0)
                found.append(
                    LabelSet(prefixes, route_rate * share / self.instances, fractions, mean)
                )
        return found

    def up_prefix(self, job: str, index: int) -> str:
        """``up{...} `` of one target."""
        labels = f'{semconv.JOB}="{job}",{semconv.LABEL_INSTANCE}="{self.instance(job, index)}"'
        return f"{semconv.SCRAPE_UP}{{{labels}}} "

    def targets(self) -> Iterator[tuple[str, int]]:
        """Every (job, instance index)."""
        for job in self.jobs:
            for index in range(self.instances):
                yield job, index

    def series_per_service(self) -> int:
        """Series per service: every histogram series of every label set, and ``up``."""
        return self.instances * (len(ROUTES) * len(STATUSES) * (len(LE_TEXTS) + 2) + 1)

    def requests(self, seconds: float) -> float:
        """Requests per unit of mean rate counted by ``seconds`` (unix time) since the
        origin: the integral of ``1 + DAILY_SWING · cos(2πt/DAY)``."""
        phase = 2.0 * math.pi / DAY
        swing = DAILY_SWING / phase

        def integral(at: float) -> float:
            return at + swing * math.sin(phase * at)

        return integral(seconds) - integral(self.origin)

    def exposition(self, job: str, index: int, seconds: float) -> str:
        """The text exposition of one target at ``seconds``, without timestamps."""
        base = self.requests(seconds)
        lines = []
        for label_set in self.label_sets(job, index):
            lines.extend(_values_at(label_set, label_set.rate * base))
        return "".join(lines)


def _values_at(label_set: LabelSet, requests: float) -> list[str]:
    """``prefix value\\n`` of every series of a label set after ``requests`` requests."""
    *buckets, count_prefix, sum_prefix = label_set.prefixes
    lines = [
        f"{prefix}{int(requests * fraction)}\n"
        for prefix, fraction in zip(buckets, label_set.fractions, strict=True)
    ]
    lines.append(f"{count_prefix}{int(requests)}\n")
    lines.append(f"{sum_prefix}{round(requests * label_set.mean_seconds, 3)}\n")
    return lines


def write_openmetrics(
    out: TextIO, fleet: Fleet, start: int, end: int, step: int, *, eof: bool = True
) -> int:
    """Write every series of ``fleet`` from ``start`` to ``end`` (unix seconds, both
    included) every ``step`` seconds as OpenMetrics text, series by series; return the
    number of samples. ``# EOF`` ends the text unless ``eof`` is false."""
    times = range(start, end + 1, step)
    stamps = [f" {at}\n" for at in times]
    bases = [fleet.requests(at) for at in times]
    samples = 0
    for job, index in fleet.targets():
        up = fleet.up_prefix(job, index) + "1"
        out.write("".join([up + stamp for stamp in stamps]))
        samples += len(stamps)
        for label_set in fleet.label_sets(job, index):
            rate = label_set.rate
            counts = [rate * base for base in bases]
            *buckets, count_prefix, sum_prefix = label_set.prefixes
            for prefix, fraction in zip(buckets, label_set.fractions, strict=True):
                out.write(
                    "".join(
                        [
                            f"{prefix}{int(count * fraction)}{stamp}"
                            for count, stamp in zip(counts, stamps, strict=True)
                        ]
                    )
                )
            out.write(
                "".join(
                    [
                        f"{count_prefix}{int(count)}{stamp}"
                        for count, stamp in zip(counts, stamps, strict=True)
                    ]
                )
            )
            mean = label_set.mean_seconds
            out.write(
                "".join(
                    [
                        f"{sum_prefix}{round(count * mean, 3)}{stamp}"
                        for count, stamp in zip(counts, stamps, strict=True)
                    ]
                )
            )
            samples += len(stamps) * len(label_set.prefixes)
    if eof:
        out.write("# EOF\n")
    return samples
