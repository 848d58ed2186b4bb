"""Dashboard sections built from a service's series alone (no objectives): traffic,
dependencies, circuit breakers and the telemetry's own health.

They take :class:`ServiceQueries`, so the per-service dashboards (a catalog selector)
and the templated one (Grafana variables) share them.
"""

from __future__ import annotations

from collections.abc import Callable

from toolkit import semconv
from toolkit.generate.dashboards.panels import (
    GRID_WIDTH,
    Panel,
    Step,
    Target,
    failure_counter_panel,
)
from toolkit.generate.promql import ServiceQueries

ROUTE_LEGEND = "{{" + semconv.LABEL_ROUTE + "}}"


def request_rate_panel(queries: ServiceQueries) -> Panel:
    """Requests per second by route."""
    return Panel(
        "timeseries",
        "Request rate by route",
        "Requests per second, by route template.",
        [Target(queries.request_rate_by_route(), ROUTE_LEGEND)],
        unit="reqps",
        width=12,
        min=0,
    )


def latency_panels(
    queries: ServiceQueries, latency_steps: list[Step], link: dict[str, str]
) -> list[Panel]:
    """Latency quantiles (exemplars link to traces) and p99 by route."""
    return [
        Panel(
            "timeseries",
            "Latency p50 / p90 / p99",
            "Server request duration quantiles from the histogram; exemplars link to traces.",
            [
                Target(queries.latency_quantile(q), f"p{label}", exemplar=True)
                for q, label in (("0.5", "50"), ("0.9", "90"), ("0.99", "99"))
            ],
            unit="s",
            width=12,
            thresholds=latency_steps,
            threshold_lines=len(latency_steps) > 1,
            min=0,
            links=[link],
        ),
        Panel(
            "timeseries",
            "Latency p99 by route",
            "99th percentile of the server request duration, by route template.",
            [Target(queries.latency_quantile("0.99", by=semconv.LABEL_ROUTE), ROUTE_LEGEND)],
            unit="s",
            width=12,
            min=0,
        ),
    ]


def load_panels(queries: ServiceQueries) -> list[Panel]:
    """Active requests and body sizes."""
    return [
        Panel(
            "timeseries",
            "Active requests",
            "Requests being handled right now.",
            [Target(queries.active_requests(), "in flight")],
            unit="short",
            min=0,
        ),
        Panel(
            "timeseries",
            "Request body size p50 / p99",
            "Size of request bodies.",
            [
                Target(
                    queries.body_size_quantile(semconv.HTTP_SERVER_REQUEST_BODY_SIZE, q), f"p{n}"
                )
                for q, n in (("0.5", "50"), ("0.99", "99"))
            ],
            unit="bytes",
            min=0,
        ),
        Panel(
            "timeseries",
            "Response body size p50 / p99",
            "Size of response bodies.",
            [
                Target(
                    queries.body_size_quantile(semconv.HTTP_SERVER_RESPONSE_BODY_SIZE, q), f"p{n}"
                )
                for q, n in (("0.5", "50"), ("0.99", "99"))
            ],
            unit="bytes",
            min=0,
        ),
    ]


def telemetry_panels(queries: ServiceQueries) -> list[Panel]:
    """The instrumentation's own health: failures it swallowed, spans lost, readiness checks."""
    return [
        failure_counter_panel(
            "Telemetry errors",
            "Failures of the telemetry itself (exporter, log sink, hooks), counted and "
            "swallowed so that requests went on; anything above zero deserves a look.",
            queries.telemetry_errors(),
            semconv.LABEL_COMPONENT,
        ),
        failure_counter_panel(
            "Spans dropped",
            "Finished spans that never reached the collector: its queue was full or the "
            "export failed. Traces of these requests are missing.",
            queries.spans_dropped(),
            semconv.LABEL_REASON,
        ),
        Panel(
            "timeseries",
            "Readiness checks",
            "Each /readyz check's last result (1 passed, 0 failed), the worst over instances.",
            [Target(queries.health_checks(), "{{" + semconv.LABEL_CHECK + "}}")],
            unit="short",
            width=GRID_WIDTH - 2 * (GRID_WIDTH // 3),
            height=6,
            thresholds=[Step("red"), Step("green", 1.0)],
            min=0,
            max=1,
        ),
    ]


def outbound_panels(queries: ServiceQueries) -> list[Panel]:
    """Outbound calls by target, from the HTTP client metrics."""
    target = "{{" + semconv.LABEL_SERVER_ADDRESS + "}}"
    return [
        Panel(
            "timeseries",
            "Outbound calls by target",
            "Calls per second this service makes, by target host.",
            [Target(queries.outbound_rate_by_target(), target)],
            unit="reqps",
            min=0,
        ),
        Panel(
            "timeseries",
            "Outbound error ratio by target",
            "Share of outbound calls that failed, by target host.",
            [Target(queries.outbound_error_ratio_by_target(), target)],
            unit="percentunit",
            thresholds=[Step("green"), Step("red", 0.05)],
            threshold_lines=True,
            min=0,
        ),
        Panel(
            "timeseries",
            "Outbound latency p99 by target",
            "99th percentile of outbound call duration, by target host.",
            [Target(queries.outbound_latency_by_target("0.99"), target)],
            unit="s",
            min=0,
        ),
        Panel(
            "table",
            "Dependencies",
            "Every target this service calls: call rate, failure ratio and p99 latency now.",
            [
                Target(queries.outbound_rate_by_target(), "calls/s", instant=True, table=True),
                Target(
                    queries.outbound_error_ratio_by_target(), "errors", instant=True, table=True
                ),
                Target(queries.outbound_latency_by_target("0.99"), "p99", instant=True, table=True),
            ],
            width=GRID_WIDTH,
        ),
    ]


# A state added to semconv later gets blue (see .get below) rather than breaking the import.
_BREAKER_COLORS = dict(zip(semconv.CIRCUITBREAKER_STATES, ("green", "red", "orange"), strict=False))


def breaker_panels(queries: ServiceQueries) -> list[Panel]:
    """Circuit breakers (toolkit.resilience): state, calls by outcome, failure rate."""
    name = "{{" + semconv.LABEL_BREAKER_NAME + "}}"
    states = {
        str(index): {"text": state, "color": _BREAKER_COLORS.get(state, "blue"), "index": index}
        for index, state in enumerate(semconv.CIRCUITBREAKER_STATES)
    }
    return [
        Panel(
            "stat",
            "Circuit breakers",
            "Current state of each circuit breaker in this service.",
            [Target(queries.breaker_state(), name, instant=True)],
            thresholds=[Step("blue")],
            mappings=[{"type": "value", "options": states}],
        ),
        Panel(
            "timeseries",
            "Circuit breaker calls by outcome",
            "Calls through each breaker per second: successful, failed, ignored, not permitted.",
            [
                Target(
                    queries.breaker_calls(),
                    f"{name} {{{{{semconv.LABEL_BREAKER_KIND}}}}}",
                )
            ],
            unit="reqps",
            min=0,
        ),
        Panel(
            "timeseries",
            "Circuit breaker failure rate",
            "Failure rate of each breaker's sliding window (-1 until enough calls were made).",
            [Target(queries.breaker_failure_rate(), name)],
            unit="percent",
            max=100,
        ),
    ]


# Builders of the dependency section, in order: a new kind of dependency metric adds one.
DEPENDENCY_PANELS: tuple[Callable[[ServiceQueries], list[Panel]], ...] = (
    outbound_panels,
    breaker_panels,
)


def trace_link(service_name: str) -> dict[str, str]:
    """A link to the service's traces in the ``$trace_datasource`` (TraceQL)."""
    return {
        "title": f"Traces of {service_name}",
        "url": "/explore?left="
        + "%7B%22datasource%22%3A%22${trace_datasource}%22%2C%22queries%22%3A%5B%7B%22refId"
        + "%22%3A%22A%22%2C%22queryType%22%3A%22traceql%22%2C%22query%22%3A%22%7B"
        + "resource.service.name%3D%5C%22"
        + service_name
        + "%5C%22%7D%22%7D%5D%7D",
    }
