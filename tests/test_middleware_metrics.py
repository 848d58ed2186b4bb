"""Collectors: once per registry, shared between middlewares, exact names and buckets."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from toolkit import semconv
from toolkit.metrics._server import server_metrics
from toolkit.middleware import ToolkitASGIMiddleware, ToolkitWSGIMiddleware


def test_one_set_of_collectors_per_registry() -> None:
    """Two calls on one registry share collectors; another registry gets its own."""
    registry = CollectorRegistry()

    first = server_metrics(registry)
    assert server_metrics(registry) is first
    assert server_metrics(CollectorRegistry()) is not first


def test_two_middlewares_share_one_registry() -> None:
    """An ASGI and a WSGI middleware on one registry do not collide on registration."""
    registry = CollectorRegistry()

    asgi = ToolkitASGIMiddleware(None, registry=registry, tracing=False)  # type: ignore[arg-type]
    wsgi = ToolkitWSGIMiddleware(None, registry=registry, tracing=False)  # type: ignore[arg-type]

    assert asgi.telemetry.metrics is wsgi.telemetry.metrics


def test_names_labels_and_buckets_come_from_semconv() -> None:
    """What a scrape shows: the semconv names, label names and advisory buckets."""
    registry = CollectorRegistry()
    metrics = server_metrics(registry)
    labels = ("GET", "/items/{id}", "200", "")
    metrics.child(metrics.duration, labels).observe(0.2)

    le = [
        sample.labels["le"]
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == semconv.HTTP_SERVER_REQUEST_DURATION + "_bucket"
    ]
    assert le == [str(float(b)) for b in semconv.DURATION_BUCKETS] + ["+Inf"]
    expected = dict(zip(semconv.SERVER_DURATION_LABELS, labels, strict=True))
    count = semconv.HTTP_SERVER_REQUEST_DURATION + "_count"
    assert registry.get_sample_value(count, expected) == 1.0
    names = {metric.name for metric in registry.collect()}
    assert names == {
        semconv.HTTP_SERVER_REQUEST_DURATION,
        semconv.HTTP_SERVER_ACTIVE_REQUESTS,
        semconv.HTTP_SERVER_REQUEST_BODY_SIZE,
        semconv.HTTP_SERVER_RESPONSE_BODY_SIZE,
        semconv.TELEMETRY_ERRORS.removesuffix("_total"),
    }


def test_children_are_cached() -> None:
    """The same label values return the same child object."""
    metrics = server_metrics(CollectorRegistry())
    labels = ("GET", "/", "200", "")

    assert metrics.child(metrics.duration, labels) is metrics.child(metrics.duration, labels)


def test_observers_are_cached_and_request_size_not_precreated() -> None:
    """observers() returns the same pair for the same labels and creates no request-size
    series (a GET without a body must not show an empty request-size histogram)."""
    registry = CollectorRegistry()
    metrics = server_metrics(registry)
    labels = ("GET", "/", "200", "")

    assert metrics.observers(labels) is metrics.observers(labels)
    samples = [
        sample.name
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name.startswith(semconv.HTTP_SERVER_REQUEST_BODY_SIZE)
    ]
    assert samples == []


def test_active_increment_moves_the_gauge() -> None:
    """active_increment(labels) is cached; +1 then -1 leaves the gauge where it was."""
    registry = CollectorRegistry()
    metrics = server_metrics(registry)
    increment = metrics.active_increment(("GET", "http"))
    assert metrics.active_increment(("GET", "http")) is increment
    labels = {semconv.LABEL_METHOD: "GET", semconv.LABEL_URL_SCHEME: "http"}
    increment(1)
    increment(1)
    assert registry.get_sample_value(semconv.HTTP_SERVER_ACTIVE_REQUESTS, labels) == 2.0
    increment(-1)
    assert registry.get_sample_value(semconv.HTTP_SERVER_ACTIVE_REQUESTS, labels) == 1.0
