"""The middleware's HTTP metrics over OTLP: the same measurements in OpenTelemetry
instruments, instead of or beside prometheus-client, and nothing of it while it is off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _otlp_support import OTel, attrs
from middleware_apps import ASGI, BOOM_ERROR, FACTORIES, FRAMEWORKS, ROUTE, ok_asgi_app
from middleware_fixtures import Harness, call, make_harness

from toolkit import semconv
from toolkit.middleware import ToolkitASGIMiddleware, ToolkitWSGIMiddleware, instrument
from toolkit.middleware.config import resolve_settings
from toolkit.middleware.otlp import OTLPRequestTelemetry
from toolkit.middleware.request import RequestTelemetry

pytestmark = pytest.mark.filterwarnings("ignore::Warning")

DURATION = semconv.OTLP_HTTP_SERVER_REQUEST_DURATION
ACTIVE = semconv.OTLP_HTTP_SERVER_ACTIVE_REQUESTS
REQUEST_SIZE = semconv.OTLP_HTTP_SERVER_REQUEST_BODY_SIZE
RESPONSE_SIZE = semconv.OTLP_HTTP_SERVER_RESPONSE_BODY_SIZE


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


@pytest.fixture
def otel() -> Iterator[OTel]:
    found = OTel()
    yield found
    found.provider.shutdown()


def instrumented(framework: str, harness: Harness, otel: OTel, exporter: str) -> Any:
    return instrument(
        FACTORIES[framework](),
        configure_logging=False,
        **harness.options(metrics_exporter=exporter, meter_provider=otel.provider),
    )


async def serve_three(framework: str, app: Any) -> list[int]:
    """GET /items/1, /items/2 and /boom; the bytes of the two item responses."""
    asgi = framework in ASGI
    first = await call(app, asgi, "/items/1")
    second = await call(app, asgi, "/items/2")
    assert (await call(app, asgi, "/boom")).status_code == 500
    return [len(first.content), len(second.content)]


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_otlp_instead_records_the_conventions_instruments(
    framework: str, harness: Harness, otel: OTel
) -> None:
    """metrics_exporter="otlp": durations in seconds with the conventions' attributes and
    buckets, active requests back at 0, response sizes; nothing in prometheus-client."""
    app = instrumented(framework, harness, otel, "otlp")
    sizes = await serve_three(framework, app)

    ok = attrs(
        method="GET",
        scheme="http",
        route=ROUTE[framework],
        status=200,
    )
    boom = attrs(
        method="GET",
        scheme="http",
        route="/boom",
        status=500,
        error=BOOM_ERROR[framework],
    )
    assert otel.counts(DURATION) == {ok: 2, boom: 1}
    duration = otel.metric(DURATION)
    assert duration.unit == "s"
    assert tuple(otel.points(DURATION)[ok].explicit_bounds) == semconv.DURATION_BUCKETS
    active = otel.points(ACTIVE)
    assert {key: point.value for key, point in active.items()} == {
        attrs(method="GET", scheme="http"): 0
    }
    assert otel.metric(ACTIVE).unit == "{request}"
    response_sizes = otel.points(RESPONSE_SIZE)
    assert (response_sizes[ok].count, response_sizes[ok].sum) == (2, sum(sizes))
    assert otel.metric(RESPONSE_SIZE).unit == "By"
    assert otel.points(REQUEST_SIZE) == {}  # no request had a body
    assert harness.duration_count("GET", ROUTE[framework], 200) == 0.0
    assert (
        harness.sample(
            semconv.HTTP_SERVER_ACTIVE_REQUESTS,
            {"http_request_method": "GET", "url_scheme": "http"},
        )
        is None
    )


@pytest.mark.parametrize("framework", ["starlette", "flask", "plain_asgi", "plain_wsgi"])
async def test_both_records_the_same_requests_twice(
    framework: str, harness: Harness, otel: OTel
) -> None:
    """metrics_exporter="both": each request in prometheus-client and in OpenTelemetry,
    and both active-request counts come back down."""
    app = instrumented(framework, harness, otel, "both")
    await serve_three(framework, app)

    ok = attrs(
        method="GET",
        scheme="http",
        route=ROUTE[framework],
        status=200,
    )
    assert otel.counts(DURATION)[ok] == 2
    assert harness.duration_count("GET", ROUTE[framework], 200) == 2.0
    assert harness.duration_count("GET", "/boom", 500, BOOM_ERROR[framework]) == 1.0
    labels = {"http_request_method": "GET", "url_scheme": "http"}
    assert harness.sample(semconv.HTTP_SERVER_ACTIVE_REQUESTS, labels) == 0.0
    assert [point.value for point in otel.points(ACTIVE).values()] == [0]


async def test_request_body_size_and_unmatched_route(harness: Harness, otel: OTel) -> None:
    """A request body is measured from Content-Length; an app that names no route gets
    the same fixed route value as the Prometheus label."""
    app = ToolkitASGIMiddleware(
        ok_asgi_app, **harness.options(metrics_exporter="otlp", meter_provider=otel.provider)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        await client.post("/anything", content=b"x" * 1500)

    key = attrs(
        method="POST",
        scheme="https",
        route=semconv.UNROUTED_ROUTE,
        status=200,
    )
    request_size = otel.points(REQUEST_SIZE)[key]
    assert (request_size.count, request_size.sum) == (1, 1500)
    assert tuple(request_size.explicit_bounds) == semconv.BODY_SIZE_BUCKETS
    assert otel.metric(REQUEST_SIZE).unit == "By"


async def test_duration_carries_the_request_trace_as_exemplar(harness: Harness, otel: OTel) -> None:
    """The SDK's trace-based exemplar filter sees the server span: the duration point
    links to the request's trace, as the Prometheus exemplar does; the other instruments
    offer none (each offer costs the SDK microseconds)."""
    app = instrumented("starlette", harness, otel, "otlp")
    await call(app, True, "/items/1")

    (span,) = harness.spans()
    data = otel.reader.get_metrics_data()  # one collection: exemplars are handed out once
    (point,) = otel.points(DURATION, data).values()
    assert [exemplar.trace_id for exemplar in point.exemplars] == [span.context.trace_id]
    others = [*otel.points(ACTIVE, data).values(), *otel.points(RESPONSE_SIZE, data).values()]
    assert [list(other.exemplars) for other in others] == [[], []]


async def test_a_failing_instrument_never_fails_the_request(harness: Harness, otel: OTel) -> None:
    """An instrument that raises is counted in toolkit_telemetry_errors_total and the
    request is served; the active count still comes back down."""
    app = instrumented("plain_asgi", harness, otel, "otlp")
    otlp = app.telemetry.otlp_metrics

    def broken(*args: Any) -> None:
        raise RuntimeError("exporter gone")

    otlp.record = broken
    response = await call(app, True, "/items/1")

    assert response.status_code == 200
    errors = harness.sample(semconv.TELEMETRY_ERRORS, {semconv.LABEL_COMPONENT: "metrics"})
    assert errors == 1.0
    assert [point.value for point in otel.points(ACTIVE).values()] == [0]


@pytest.mark.parametrize("middleware", [ToolkitASGIMiddleware, ToolkitWSGIMiddleware])
@pytest.mark.parametrize(
    ("exporter", "request_class"),
    [
        ("prometheus", RequestTelemetry),
        ("otlp", OTLPRequestTelemetry),
        ("both", OTLPRequestTelemetry),
    ],
)
def test_the_request_class_is_picked_once(
    middleware: Any, exporter: str, request_class: type, otel: OTel
) -> None:
    """With Prometheus only (the default), requests use the plain RequestTelemetry and no
    instrument exists: the option costs nothing while it is off."""
    app = middleware(None, metrics_exporter=exporter, meter_provider=otel.provider, tracing=False)

    assert app._request_type is request_class
    assert (app.telemetry.otlp_metrics is None) == (exporter == "prometheus")


def test_metrics_off_records_nothing_anywhere(harness: Harness, otel: OTel) -> None:
    """metrics=False wins over metrics_exporter: no instrument, the plain request class."""
    app = ToolkitASGIMiddleware(
        ok_asgi_app,
        **harness.options(metrics=False, metrics_exporter="otlp", meter_provider=otel.provider),
    )

    assert app._request_type is RequestTelemetry
    assert app.telemetry.otlp_metrics is None


@pytest.mark.parametrize(
    ("options", "environ", "exporter", "metrics_path"),
    [
        ({}, {}, "prometheus", "/metrics"),
        ({}, {"OTEL_METRICS_EXPORTER": "otlp"}, "otlp", None),
        ({}, {"OTEL_METRICS_EXPORTER": "prometheus,otlp"}, "both", "/metrics"),
        ({}, {"OTEL_METRICS_EXPORTER": "none"}, "prometheus", "/metrics"),
        (
            {"metrics_exporter": "prometheus"},
            {"OTEL_METRICS_EXPORTER": "otlp"},
            "prometheus",
            "/metrics",
        ),
        ({"metrics_exporter": "otlp"}, {"TOOLKIT_METRICS_PATH": "/m"}, "otlp", "/m"),
        ({"metrics_exporter": "otlp", "metrics_path": "/x"}, {}, "otlp", "/x"),
        ({"metrics_exporter": "both"}, {}, "both", "/metrics"),
    ],
)
def test_exporter_and_metrics_path_resolution(
    options: dict[str, Any], environ: dict[str, str], exporter: str, metrics_path: str | None
) -> None:
    """Explicit argument > OTEL_METRICS_EXPORTER > "prometheus"; pushing instead of being
    scraped serves no /metrics unless a path is asked for."""
    settings = resolve_settings(options, environ)  # type: ignore[arg-type]

    assert (settings.metrics_exporter, settings.metrics_path) == (exporter, metrics_path)


def test_unknown_exporter_is_a_configuration_error() -> None:
    """A misspelt metrics_exporter fails when the middleware is built."""
    with pytest.raises(
        ValueError, match="metrics_exporter: 'otel' is not one of prometheus, otlp, both"
    ):
        ToolkitASGIMiddleware(ok_asgi_app, metrics_exporter="otel")  # type: ignore[typeddict-item]
