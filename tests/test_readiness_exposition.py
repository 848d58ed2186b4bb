"""Tests for toolkit.readiness.probe.exposition: the metrics checks on parsed scrapes."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest

from toolkit import semconv
from toolkit.readiness.model import Status
from toolkit.readiness.probe.exposition import (
    ExpositionError,
    Scrape,
    check_metrics,
    looks_raw,
)

LABELS = (semconv.LABEL_METHOD, semconv.LABEL_ROUTE, semconv.LABEL_STATUS_CODE)


def _registry(
    requests: dict[tuple[str, str, str], int],
    buckets: tuple[float, ...] = semconv.DURATION_BUCKETS,
    labels: tuple[str, ...] = LABELS,
) -> CollectorRegistry:
    registry = CollectorRegistry()
    duration = Histogram(
        semconv.HTTP_SERVER_REQUEST_DURATION, "d", labels, buckets=buckets, registry=registry
    )
    Gauge(semconv.HTTP_SERVER_ACTIVE_REQUESTS, "a", registry=registry)
    for name in (semconv.HTTP_SERVER_REQUEST_BODY_SIZE, semconv.HTTP_SERVER_RESPONSE_BODY_SIZE):
        Histogram(name, "s", labels, registry=registry)
    for values, count in requests.items():
        for _ in range(count):
            duration.labels(*values[: len(labels)]).observe(0.01)
    return registry


def _scrape(registry: CollectorRegistry) -> Scrape:
    return Scrape.parse(generate_latest(registry).decode())


PROBE_PATH = "/__toolkit_probe__/0123abcd"
BEFORE = {("GET", "/items/{id}", "200"): 3}
AFTER = {("GET", "/items/{id}", "200"): 4, ("GET", semconv.UNMATCHED_ROUTE, "404"): 1}


def _statuses(before: CollectorRegistry, after: CollectorRegistry, sent: int = 2) -> dict[str, str]:
    checks = check_metrics(_scrape(before), _scrape(after), sent, [PROBE_PATH])
    return {c.id: c.status.value for c in checks}


def test_toolkit_shaped_metrics_pass_every_check() -> None:
    """Right names, labels, buckets and templates, counts moved by exactly 2: all pass."""
    checks = check_metrics(_scrape(_registry(BEFORE)), _scrape(_registry(AFTER)), 2, [PROBE_PATH])
    assert [(c.id, c.status, c.reason) for c in checks] == [
        ("metrics.names", Status.PASS, "4 HTTP server metrics, typed right"),
        (
            "metrics.labels",
            Status.PASS,
            "2 series, each with http_request_method, http_route, http_response_status_code",
        ),
        ("metrics.buckets", Status.PASS, "14 buckets, 0.005 s to 10 s"),
        ("metrics.routes", Status.PASS, "2 route values, all templates"),
        ("metrics.counts", Status.PASS, "+2 requests counted for the probe's 2"),
    ]


def test_missing_histogram_fails_names_and_skips_the_rest() -> None:
    """Without the duration histogram there is nothing else to check."""
    registry = CollectorRegistry()
    Histogram("http_request_duration_seconds", "d", registry=registry)
    checks = check_metrics(_scrape(registry), _scrape(registry), 2, [PROBE_PATH])
    assert [c.status for c in checks] == [Status.FAIL] + [Status.SKIPPED] * 4
    assert checks[0].reason == (
        "http_server_request_duration_seconds missing; http_server_active_requests missing; "
        "http_server_request_body_size_bytes missing; http_server_response_body_size_bytes "
        "missing (found: http_request_duration_seconds)"
    )


def test_wrong_buckets_name_the_difference() -> None:
    """Buckets other than the conventions' are listed as missing and unexpected."""
    after = _registry(AFTER, buckets=(0.1, 0.5, 1.0, 3.0))
    checks = {c.id: c for c in check_metrics(_scrape(_registry(BEFORE)), _scrape(after), 2, [])}
    assert checks["metrics.buckets"].status is Status.FAIL
    assert checks["metrics.buckets"].reason == (
        "buckets: missing 0.005, 0.01, 0.025, 0.05, 0.075, 0.25, 0.75, 2.5, 5, 7.5, 10; "
        "unexpected 3"
    )


def test_missing_route_label_fails_labels() -> None:
    """Series without ``http_route`` fail the labels check, naming the label."""
    labels = (semconv.LABEL_METHOD, semconv.LABEL_STATUS_CODE)
    after = _registry({("GET", "200", ""): 2}, labels=labels)
    checks = {c.id: c for c in check_metrics(_scrape(after), _scrape(after), 0, [])}
    assert (checks["metrics.labels"].status, checks["metrics.labels"].reason) == (
        Status.FAIL,
        "series without http_route",
    )


def test_raw_probe_path_in_route_fails_routes() -> None:
    """The probe's own path as ``http_route`` is a raw path."""
    after = _registry({("GET", PROBE_PATH, "404"): 1, ("GET", "/items/{id}", "200"): 4})
    assert _statuses(_registry(BEFORE), after)["metrics.routes"] == "fail"


@pytest.mark.parametrize(
    ("route", "raw"),
    [
        ("/items/{id}", False),
        ("/v1/users/<user_id>", False),
        ("__unmatched__", False),
        ("__unrouted__", False),
        ("/items/42", True),
        ("/orders/3f2c9a1b7e", True),
        ("/u/8c4b5a4e-6d1f-4f0e-9a53-0e4c1e1b2a77", True),
    ],
)
def test_values_in_paths_look_raw(route: str, raw: bool) -> None:
    """Numbers, UUIDs and long hex segments mark a raw path; templates do not."""
    assert looks_raw(route) is raw


@pytest.mark.parametrize(
    ("sent", "status"),
    [(2, "pass"), (1, "warn"), (3, "fail")],
)
def test_counts_must_move_by_exactly_the_probes_requests(sent: int, status: str) -> None:
    """Equal: pass; more counted than sent: warn (other traffic); fewer: fail."""
    assert _statuses(_registry(BEFORE), _registry(AFTER), sent)["metrics.counts"] == status


def test_scrapes_of_the_metrics_path_are_not_counted() -> None:
    """Requests to /metrics itself are left out of the count."""
    after = {**AFTER, ("GET", "/metrics", "200"): 5}
    assert _statuses(_registry(BEFORE), _registry(after))["metrics.counts"] == "pass"


def test_garbage_is_not_exposition() -> None:
    """A body that is not Prometheus text raises :class:`ExpositionError`."""
    with pytest.raises(ExpositionError):
        Scrape.parse("<html>not metrics</html>\n")


@pytest.mark.parametrize(
    ("extra", "status", "reason"),
    [
        (
            {("GET", semconv.UNROUTED_ROUTE, "200"): 3, ("POST", semconv.UNROUTED_ROUTE, "201"): 1},
            Status.WARN,
            "4 successful (2xx) requests carry no route template "
            "(http_route='__unrouted__'): the app routes where toolkit cannot see",
        ),
        (
            {("GET", semconv.UNROUTED_ROUTE, "404"): 2, ("GET", semconv.UNROUTED_ROUTE, "500"): 1},
            Status.PASS,
            "3 route values, all templates",
        ),
    ],
)
def test_unrouted_successes_warn_routes(
    extra: dict[tuple[str, str, str], int], status: Status, reason: str
) -> None:
    """__unrouted__ on a 2xx series warns (declare routes=[...]); on errors only, it passes."""
    after = _registry({**AFTER, **extra})
    checks = {c.id: c for c in check_metrics(_scrape(_registry(BEFORE)), _scrape(after), 2, [])}
    routes = checks["metrics.routes"]

    assert (routes.status, routes.reason) == (status, reason)
    if status is Status.WARN:
        assert routes.fix == (
            "declare the app's route templates: "
            "toolkit.instrument(app, routes=['/{database}/{table}', ...])"
        )
