"""toolkit.metrics._otlp: which exporter, where to push, and a real push to toolkit's
own OTLP receiver from an app served on 127.0.0.1."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from _faults_support import BlackHole, failing_collector
from _processes import free_port, wait_until
from middleware_apps import starlette_app
from prometheus_client import CollectorRegistry

from toolkit import semconv
from toolkit.metrics import build_meter_provider, resolve_metrics_exporter
from toolkit.metrics._otlp import metrics_endpoint
from toolkit.metrics._otlp_reader import METRICS_EXPORT_COMPONENT
from toolkit.middleware import ToolkitASGIMiddleware
from toolkit.readiness.probe.receiver import SpanReceiver

DURATION = semconv.OTLP_HTTP_SERVER_REQUEST_DURATION
ITEMS = "/items/{item_id}"


@pytest.mark.parametrize(
    ("explicit", "environ", "expected"),
    [
        (None, {}, "prometheus"),
        (None, {"OTEL_METRICS_EXPORTER": "otlp"}, "otlp"),
        (None, {"OTEL_METRICS_EXPORTER": " OTLP , prometheus"}, "both"),
        (None, {"OTEL_METRICS_EXPORTER": "prometheus"}, "prometheus"),
        (None, {"OTEL_METRICS_EXPORTER": "none"}, "prometheus"),
        (None, {"OTEL_METRICS_EXPORTER": "console"}, "prometheus"),
        ("both", {"OTEL_METRICS_EXPORTER": "otlp"}, "both"),
        ("prometheus", {"OTEL_METRICS_EXPORTER": "otlp"}, "prometheus"),
    ],
)
def test_resolve_metrics_exporter(
    explicit: str | None, environ: dict[str, str], expected: str
) -> None:
    """The argument wins over OTEL_METRICS_EXPORTER, which wins over "prometheus"; only
    ``otlp`` in the variable changes anything."""
    assert resolve_metrics_exporter(explicit, environ) == expected


def test_unknown_exporter_argument_is_refused() -> None:
    """A value the option does not know fails loudly, naming the ones it does."""
    with pytest.raises(ValueError, match="'OTLP' is not one of prometheus, otlp, both"):
        resolve_metrics_exporter("OTLP", {})


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "http://localhost:4318/v1/metrics"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"},
            "http://collector:4318/v1/metrics",
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://metrics:9090/api/v1/otlp/v1/metrics",
            },
            "http://metrics:9090/api/v1/otlp/v1/metrics",
        ),
    ],
)
def test_metrics_endpoint(environ: dict[str, str], expected: str) -> None:
    """The signal's own variable as is, else the base endpoint plus /v1/metrics."""
    assert metrics_endpoint(environ) == expected


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL: toolkit pushes"),
        ({"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json"}, "not 'http/json'"),
        ({"OTEL_METRIC_EXPORT_INTERVAL": "soon"}, "OTEL_METRIC_EXPORT_INTERVAL: 'soon'"),
        ({"OTEL_METRIC_EXPORT_INTERVAL": "0"}, "OTEL_METRIC_EXPORT_INTERVAL: '0'"),
    ],
)
def test_configuration_errors_fail_at_start(environ: dict[str, str], message: str) -> None:
    """A protocol toolkit cannot push, or an interval that is not a positive number of
    milliseconds, fails when the provider is built, not silently later."""
    with pytest.raises(ValueError, match=message):
        build_meter_provider("orders", environ)


def test_the_metrics_protocol_wins_over_the_general_one() -> None:
    """gRPC for the other signals, http/protobuf for metrics: accepted."""
    environ = {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf",
    }
    endpoint = f"http://127.0.0.1:{free_port()}/v1/metrics"
    build_meter_provider("orders", environ, endpoint=endpoint).shutdown()


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a thread; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=10.0)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10.0)


@pytest.mark.parametrize("exporter", ["otlp", "both"])
def test_an_app_pushes_its_http_metrics_to_the_receiver(exporter: str) -> None:
    """An app served by uvicorn on 127.0.0.1 answers three requests; shutting its meter
    provider down (the push interval is a minute away) pushes them to the receiver:
    http.server.request.duration in seconds, the conventions' attributes, count 3, the
    advisory buckets, the service's name. "both" still serves /metrics with the same
    count; "otlp" serves none and records nothing in prometheus-client."""
    registry = CollectorRegistry()
    with SpanReceiver(port=0) as receiver:
        provider = build_meter_provider(
            "orders", {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}, registry=registry
        )
        app = ToolkitASGIMiddleware(
            starlette_app(),
            service="orders",
            registry=registry,
            tracing=False,
            metrics_exporter=exporter,  # type: ignore[typeddict-item]
            meter_provider=provider,
        )
        with serving(app) as url:
            statuses = [httpx.get(f"{url}/items/{i}").status_code for i in range(3)]
            scrape = httpx.get(f"{url}/metrics")
        provider.shutdown()

        point = receiver.wait_for_point(
            DURATION, 10.0, lambda p: p.attributes.get(semconv.SPAN_ATTR_HTTP_ROUTE) == ITEMS
        )

    assert statuses == [200, 200, 200]
    assert point is not None, receiver.points()
    assert (point.unit, point.kind, point.count) == ("s", "histogram", 3)
    assert point.attributes == {
        semconv.SPAN_ATTR_HTTP_METHOD: "GET",
        semconv.SPAN_ATTR_URL_SCHEME: "http",
        semconv.SPAN_ATTR_HTTP_ROUTE: ITEMS,
        semconv.SPAN_ATTR_HTTP_STATUS_CODE: 200,
    }
    assert point.bounds == semconv.DURATION_BUCKETS
    assert (point.service, point.scope) == ("orders", "toolkit.middleware")
    labels = {
        semconv.LABEL_METHOD: "GET",
        semconv.LABEL_ROUTE: ITEMS,
        semconv.LABEL_STATUS_CODE: "200",
        semconv.LABEL_ERROR_TYPE: "",
    }
    count = registry.get_sample_value(semconv.HTTP_SERVER_REQUEST_DURATION + "_count", labels)
    if exporter == "both":
        assert scrape.status_code == 200
        assert count == 3.0
        assert f"{semconv.HTTP_SERVER_REQUEST_DURATION}_count{{" in scrape.text
    else:
        assert scrape.status_code == 404  # not served: the app answered it
        assert count is None
    assert _push_failures(registry) is None  # pushed: no failure counted


def _push_failures(registry: CollectorRegistry) -> float | None:
    """``toolkit_telemetry_errors_total{component="metrics_export"}`` of ``registry``."""
    labels = {semconv.LABEL_COMPONENT: METRICS_EXPORT_COMPONENT}
    return registry.get_sample_value(semconv.TELEMETRY_ERRORS, labels)


def test_a_failed_push_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A collector that refuses the push (400, which the exporter does not retry): each
    push counts one telemetry error of component metrics_export in the registry given,
    and the provider goes on."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "1")
    registry = CollectorRegistry()
    with failing_collector(status=400) as port:
        provider = build_meter_provider(
            "orders",
            {},
            endpoint=f"http://127.0.0.1:{port}/v1/metrics",
            export_interval=3600.0,
            registry=registry,
        )
        try:
            provider.get_meter("test").create_counter("requests").add(1)
            assert _push_failures(registry) is None  # nothing failed yet: not even declared
            provider.force_flush(timeout_millis=5_000)
            assert _push_failures(registry) == 1.0
            provider.get_meter("test").create_counter("requests").add(1)
            provider.force_flush(timeout_millis=5_000)
            assert _push_failures(registry) == 2.0
        finally:
            provider.shutdown()


def test_a_push_that_raises_is_counted_and_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An exporter that raises (a bug, a broken dependency): counted as a failed push,
    logged once with its cause, and the push thread keeps running."""
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("encoder broke")

    monkeypatch.setattr(OTLPMetricExporter, "export", broken)
    registry = CollectorRegistry()
    provider = build_meter_provider(
        "orders",
        {},
        endpoint=f"http://127.0.0.1:{free_port()}/v1/metrics",
        export_interval=3600.0,
        registry=registry,
    )
    try:
        for _ in range(2):
            provider.get_meter("test").create_counter("requests").add(1)
            provider.force_flush(timeout_millis=5_000)
    finally:
        provider.shutdown()
    assert _push_failures(registry) == 3.0  # two flushes and the shutdown's last push
    logged = [r for r in caplog.records if r.name == "toolkit.metrics"]
    assert [r.getMessage() for r in logged] == ["metrics push raised; counted (logged once)"]
    assert "encoder broke" in str(logged[0].exc_info[1] if logged[0].exc_info else "")


def test_shutdown_is_bounded_when_the_collector_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A collector that accepts and never answers: shutdown() still returns within its
    bound (the SDK's own would wait 30 s). The push thread it leaves behind gives up on
    its own (the exporter's timeout, 1 s here) and is gone before the next test runs: a
    thread that logs its failure later would land in another test's captured logs."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "1")
    threads_before = set(threading.enumerate())
    hole = BlackHole()
    try:
        provider = build_meter_provider(
            "orders",
            {},
            endpoint=f"http://127.0.0.1:{hole.port}/v1/metrics",
            shutdown_timeout=0.5,
            registry=CollectorRegistry(),  # its failed pushes are counted there
        )
        provider.get_meter("test").create_counter("requests").add(1)
        started = time.monotonic()
        provider.shutdown()
        elapsed = time.monotonic() - started
        assert hole.accepted.acquire(timeout=5.0)  # the last push did go out
    finally:
        hole.close()
        wait_until(lambda: not set(threading.enumerate()) - threads_before, timeout=30.0)
    assert elapsed < 2.0
