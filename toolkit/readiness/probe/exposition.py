"""Metrics checks: two scrapes of ``/metrics`` around the probe's requests, parsed."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from toolkit import semconv
from toolkit.readiness import checks as c
from toolkit.readiness.model import Check

# Name -> type, as prometheus_client's parser reports them. The dashboards use all four.
REQUIRED_METRICS = {
    semconv.HTTP_SERVER_REQUEST_DURATION: "histogram",
    semconv.HTTP_SERVER_ACTIVE_REQUESTS: "gauge",
    semconv.HTTP_SERVER_REQUEST_BODY_SIZE: "histogram",
    semconv.HTTP_SERVER_RESPONSE_BODY_SIZE: "histogram",
}
REQUIRED_LABELS = (semconv.LABEL_METHOD, semconv.LABEL_ROUTE, semconv.LABEL_STATUS_CODE)
# Path segments that are values, not names: numbers, UUIDs, long hex strings.
_ID_SEGMENT = re.compile(
    r"^(\d+|[0-9a-fA-F]{8,}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)


class ExpositionError(ValueError):
    """The body is not Prometheus text exposition."""


@dataclass(frozen=True)
class Scrape:
    """One parsed scrape: families by name."""

    families: dict[str, Metric]

    @classmethod
    def parse(cls, text: str) -> Scrape:
        """Parse Prometheus text exposition; :class:`ExpositionError` if it is not."""
        try:
            families = {family.name: family for family in text_string_to_metric_families(text)}
        except (ValueError, TypeError, IndexError) as error:
            raise ExpositionError(str(error) or type(error).__name__) from error
        return cls(families)

    def duration_count(self, exclude_routes: Iterable[str]) -> float:
        """Requests counted by the duration histogram, minus those of ``exclude_routes``."""
        family = self.families.get(semconv.HTTP_SERVER_REQUEST_DURATION)
        if family is None:
            return 0.0
        excluded = set(exclude_routes)
        return sum(
            sample.value
            for sample in family.samples
            if sample.name == family.name + "_count"
            and sample.labels.get(semconv.LABEL_ROUTE) not in excluded
        )

    def unrouted_successes(self) -> float:
        """Successful (2xx) requests labelled ``__unrouted__``: served without a template."""
        family = self.families.get(semconv.HTTP_SERVER_REQUEST_DURATION)
        if family is None:
            return 0.0
        return sum(
            sample.value
            for sample in family.samples
            if sample.name == family.name + "_count"
            and sample.labels.get(semconv.LABEL_ROUTE) == semconv.UNROUTED_ROUTE
            and sample.labels.get(semconv.LABEL_STATUS_CODE, "").startswith("2")
        )

    def routes(self) -> set[str]:
        """Every ``http_route`` value of the HTTP server metrics."""
        found: set[str] = set()
        for name in REQUIRED_METRICS:
            family = self.families.get(name)
            for sample in family.samples if family else ():
                route = sample.labels.get(semconv.LABEL_ROUTE)
                if route is not None:
                    found.add(route)
        return found


def looks_raw(route: str) -> bool:
    """Whether ``route`` holds a value (a number, UUID or hex ID) where a template would not."""
    return any(_ID_SEGMENT.match(segment) for segment in route.split("/"))


def _names(scrape: Scrape) -> Check:
    problems = []
    for name, kind in REQUIRED_METRICS.items():
        family = scrape.families.get(name)
        if family is None:
            problems.append(f"{name} missing")
        elif family.type != kind:
            problems.append(f"{name} is a {family.type}, not a {kind}")
    if problems:
        seen = sorted(
            n for n in scrape.families if n.startswith("http") and not n.endswith("_created")
        )
        tail = f" (found: {', '.join(seen)})" if seen else ""
        return c.METRICS_NAMES.failed("; ".join(problems) + tail)
    return c.METRICS_NAMES.passed(f"{len(REQUIRED_METRICS)} HTTP server metrics, typed right")


def _labels(scrape: Scrape) -> Check:
    family = scrape.families[semconv.HTTP_SERVER_REQUEST_DURATION]
    counts = [s for s in family.samples if s.name == family.name + "_count"]
    if not counts:
        return c.METRICS_LABELS.failed("no request recorded in the duration histogram")
    missing = sorted({label for s in counts for label in REQUIRED_LABELS if label not in s.labels})
    if missing:
        return c.METRICS_LABELS.failed(f"series without {', '.join(missing)}")
    return c.METRICS_LABELS.passed(f"{len(counts)} series, each with {', '.join(REQUIRED_LABELS)}")


def _buckets(scrape: Scrape) -> Check:
    family = scrape.families[semconv.HTTP_SERVER_REQUEST_DURATION]
    bounds = {
        float(s.labels[semconv.LABEL_LE])
        for s in family.samples
        if s.name == family.name + "_bucket" and semconv.LABEL_LE in s.labels
    }
    bounds.discard(math.inf)
    if not bounds:
        return c.METRICS_BUCKETS.failed("no buckets exposed")
    expected = set(semconv.DURATION_BUCKETS)
    if bounds != expected:
        missing = sorted(expected - bounds)
        extra = sorted(bounds - expected)
        parts = []
        if missing:
            parts.append("missing " + ", ".join(f"{b:g}" for b in missing))
        if extra:
            parts.append("unexpected " + ", ".join(f"{b:g}" for b in extra))
        return c.METRICS_BUCKETS.failed("buckets: " + "; ".join(parts))
    return c.METRICS_BUCKETS.passed(f"{len(bounds)} buckets, 0.005 s to 10 s")


def _routes(scrape: Scrape, probe_paths: Sequence[str]) -> Check:
    routes = scrape.routes()
    raw = sorted(r for r in routes if r in probe_paths or looks_raw(r))
    if raw:
        shown = ", ".join(repr(r) for r in raw[:3])
        more = f" and {len(raw) - 3} more" if len(raw) > 3 else ""
        return c.METRICS_ROUTES.failed(f"raw paths in http_route: {shown}{more}")
    if not routes:
        return c.METRICS_ROUTES.failed("no http_route values")
    unrouted = scrape.unrouted_successes()
    if unrouted:
        return c.METRICS_ROUTES.warned(
            f"{unrouted:g} successful (2xx) requests carry no route template "
            f"(http_route={semconv.UNROUTED_ROUTE!r}): the app routes where toolkit cannot see",
            "declare the app's route templates: "
            "toolkit.instrument(app, routes=['/{database}/{table}', ...])",
        )
    return c.METRICS_ROUTES.passed(f"{len(routes)} route values, all templates")


def _counts(before: Scrape, after: Scrape, sent: int, metrics_path: str) -> Check:
    moved = after.duration_count([metrics_path]) - before.duration_count([metrics_path])
    if moved == sent:
        return c.METRICS_COUNTS.passed(f"+{moved:g} requests counted for the probe's {sent}")
    if moved > sent:
        return c.METRICS_COUNTS.warned(
            f"+{moved:g} requests counted, the probe sent {sent}: other traffic meanwhile?",
            "probe an idle instance to measure the count exactly",
        )
    return c.METRICS_COUNTS.failed(f"+{moved:g} requests counted, the probe sent {sent}")


def check_metrics(
    before: Scrape | None,
    after: Scrape,
    sent: int,
    probe_paths: Sequence[str],
    metrics_path: str = "/metrics",
) -> list[Check]:
    """The metrics checks after ``/metrics`` parsed; ``sent`` requests between the scrapes."""
    names = _names(after)
    if semconv.HTTP_SERVER_REQUEST_DURATION not in after.families or (
        after.families[semconv.HTTP_SERVER_REQUEST_DURATION].type != "histogram"
    ):
        missing = f"no {semconv.HTTP_SERVER_REQUEST_DURATION} histogram"
        return [
            names,
            c.METRICS_LABELS.skipped(missing),
            c.METRICS_BUCKETS.skipped(missing),
            c.METRICS_ROUTES.skipped(missing),
            c.METRICS_COUNTS.skipped(missing),
        ]
    counts = (
        _counts(before, after, sent, metrics_path)
        if before is not None
        else c.METRICS_COUNTS.skipped("the first scrape failed")
    )
    return [names, _labels(after), _buckets(after), _routes(after, probe_paths), counts]
