"""The same behaviour, asserted with exact values, for every supported framework."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from middleware_apps import ASGI, BOOM_ERROR, FACTORIES, FRAMEWORKS, ROUTE
from middleware_fixtures import (
    SERVICE,
    Harness,
    call,
    call_asgi,
    call_wsgi,
    http_scope,
    make_harness,
)
from opentelemetry.trace import SpanKind, StatusCode

from toolkit import semconv
from toolkit.middleware import instrument

pytestmark = pytest.mark.filterwarnings("ignore::Warning")

INCOMING_TRACE = "0af7651916cd43dd8448eb211c80319c"
INCOMING_PARENT = "b7ad6b7169203331"
TRACEPARENT = f"00-{INCOMING_TRACE}-{INCOMING_PARENT}-01"


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


def instrumented(framework: str, harness: Harness, **extra: Any) -> Any:
    return instrument(FACTORIES[framework](), configure_logging=False, **harness.options(**extra))


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_matched_route_gets_template_span_metrics_log(
    framework: str, harness: Harness
) -> None:
    """A matched request: span named by template, exact attributes, one series, one log."""
    app = instrumented(framework, harness)
    response = await call(
        app,
        framework in ASGI,
        "/items/42?x=1",
        {"X-Request-ID": "req-1", "traceparent": TRACEPARENT},
    )
    route = ROUTE[framework]

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-1"
    assert response.json() == {
        "item_id": "42",
        "correlation_id": "req-1",
        "trace_id": INCOMING_TRACE,
    }
    (span,) = harness.spans()
    assert span.name == f"GET {route}"
    assert span.kind is SpanKind.SERVER
    assert format(span.context.trace_id, "032x") == INCOMING_TRACE
    assert span.parent is not None and format(span.parent.span_id, "016x") == INCOMING_PARENT
    attributes = dict(span.attributes or {})
    assert attributes[semconv.SPAN_ATTR_HTTP_METHOD] == "GET"
    assert attributes[semconv.SPAN_ATTR_HTTP_ROUTE] == route
    assert attributes[semconv.SPAN_ATTR_HTTP_STATUS_CODE] == 200
    assert attributes[semconv.SPAN_ATTR_URL_PATH] == "/items/42"
    assert attributes[semconv.SPAN_ATTR_URL_QUERY] == "x=1"
    assert attributes[semconv.SPAN_ATTR_URL_SCHEME] == "http"
    assert attributes[semconv.SPAN_ATTR_CORRELATION_ID] == "req-1"
    assert semconv.SPAN_ATTR_ERROR_TYPE not in attributes
    assert span.status.status_code is StatusCode.UNSET
    assert harness.duration_count("GET", route, 200) == 1.0
    labels = {
        semconv.LABEL_METHOD: "GET",
        semconv.LABEL_ROUTE: route,
        semconv.LABEL_STATUS_CODE: "200",
        semconv.LABEL_ERROR_TYPE: "",
    }
    body_sum = harness.sample(semconv.HTTP_SERVER_RESPONSE_BODY_SIZE + "_sum", labels)
    assert body_sum == float(len(response.content))
    active = {semconv.LABEL_METHOD: "GET", semconv.LABEL_URL_SCHEME: "http"}
    assert harness.sample(semconv.HTTP_SERVER_ACTIVE_REQUESTS, active) == 0.0
    (access,) = harness.access_logs()
    span_id = format(span.context.span_id, "016x")
    assert {k: access[k] for k in access if k not in ("timestamp", "duration_ms")} == {
        "event": semconv.ACCESS_LOG_EVENT,
        "level": "info",
        "logger": "toolkit.access",
        semconv.LOG_SERVICE: SERVICE,
        semconv.LOG_CORRELATION_ID: "req-1",
        semconv.LOG_TRACE_ID: INCOMING_TRACE,
        semconv.LOG_SPAN_ID: span_id,
        semconv.LOG_METHOD: "GET",
        semconv.LOG_ROUTE: route,
        semconv.LOG_PATH: "/items/42",
        semconv.LOG_STATUS: 200,
        semconv.LOG_RESPONSE_BYTES: len(response.content),
    }
    assert access[semconv.LOG_DURATION_MS] >= 0.0
    (app_line,) = [line for line in harness.logs() if line.get("logger") == "app"]
    assert app_line[semconv.LOG_CORRELATION_ID] == "req-1"
    assert app_line[semconv.LOG_TRACE_ID] == INCOMING_TRACE
    assert app_line[semconv.LOG_SPAN_ID] == span_id


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_unmatched_paths_share_one_series(framework: str, harness: Harness) -> None:
    """Distinct unmatched paths: one fixed route label, span named by method only."""
    app = instrumented(framework, harness)
    for index in range(20):
        response = await call(app, framework in ASGI, f"/nope/{index}")
        assert response.status_code == 404

    assert harness.duration_count("GET", semconv.UNMATCHED_ROUTE, 404) == 20.0
    spans = harness.spans()
    assert {span.name for span in spans} == {"GET"}
    assert all(semconv.SPAN_ATTR_HTTP_ROUTE not in (s.attributes or {}) for s in spans)
    routes = {line[semconv.LOG_ROUTE] for line in harness.access_logs()}
    assert routes == {semconv.UNMATCHED_ROUTE}


@pytest.mark.parametrize("framework", ["starlette", "fastapi", "flask"])
async def test_a_method_the_route_does_not_allow_keeps_its_template(
    framework: str, harness: Harness
) -> None:
    """A 405 (the path matched a route, the method did not): the route's template, as
    on a match, not ``__unmatched__``; on every router that answers 405 itself."""
    app = instrumented(framework, harness)
    response = await call(app, framework in ASGI, "/items/42", method="DELETE")

    assert response.status_code == 405
    assert harness.duration_count("DELETE", ROUTE[framework], 405) == 1.0
    (span,) = harness.spans()
    assert span.name == f"DELETE {ROUTE[framework]}"
    (line,) = harness.access_logs()
    assert line[semconv.LOG_ROUTE] == ROUTE[framework]


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_unhandled_exception_is_a_500_with_correlation_id(
    framework: str, harness: Harness
) -> None:
    """The app raises: 500 in metrics, span ERROR with error.type, header still echoed."""
    app = instrumented(framework, harness)
    response = await call(app, framework in ASGI, "/boom", {"X-Request-ID": "boom-1"})
    error = BOOM_ERROR[framework]

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "boom-1"
    assert harness.duration_count("GET", "/boom", 500, error) == 1.0
    (span,) = harness.spans()
    assert span.name == "GET /boom"
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})[semconv.SPAN_ATTR_ERROR_TYPE] == error
    assert (span.attributes or {})[semconv.SPAN_ATTR_HTTP_STATUS_CODE] == 500
    if error == "RuntimeError":
        assert [event.name for event in span.events] == ["exception"]
    (access,) = harness.access_logs()
    assert access[semconv.LOG_STATUS] == 500
    assert access[semconv.LOG_CORRELATION_ID] == "boom-1"


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_streaming_response_counts_all_chunks(framework: str, harness: Harness) -> None:
    """A streamed body: every chunk reaches the client and is counted in bytes."""
    app = instrumented(framework, harness)
    response = await call(app, framework in ASGI, "/stream")

    assert response.content == b"abbccc"
    (access,) = harness.access_logs()
    assert access[semconv.LOG_ROUTE] == "/stream"
    assert access[semconv.LOG_RESPONSE_BYTES] == 6
    assert harness.duration_count("GET", "/stream", 200) == 1.0


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("x" * 10_240, False),
        ("abc\r\nX-Evil: 1", False),
        ("naïve", False),
        ("", False),
        ("0af7651916cd43dd8448eb211c80319c", True),
        (str(uuid.UUID(int=7, version=1)), True),
    ],
    ids=["10KB", "CRLF", "non-ascii", "empty", "hex", "uuid1"],
)
async def test_bad_correlation_ids_are_replaced(
    framework: str, incoming: str, kept: bool, harness: Harness
) -> None:
    """Invalid X-Request-ID values are replaced by a fresh uuid4 hex; valid ones kept."""
    app = instrumented(framework, harness)
    raw = [(b"x-request-id", incoming.encode("utf-8"))]
    response = await call(app, framework in ASGI, "/items/1", raw)  # type: ignore[arg-type]

    echoed = response.headers["x-request-id"]
    if kept:
        assert echoed == incoming
    else:
        assert echoed != incoming
        assert uuid.UUID(hex=echoed).version == 4
        assert echoed == uuid.UUID(hex=echoed).hex
    assert response.json()["correlation_id"] == echoed
    (access,) = harness.access_logs()
    assert access[semconv.LOG_CORRELATION_ID] == echoed


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_alias_header_and_malformed_traceparent(framework: str, harness: Harness) -> None:
    """X-Correlation-ID is accepted; a malformed traceparent starts a new trace."""
    app = instrumented(framework, harness)
    headers = {"X-Correlation-ID": "alias-7", "traceparent": "00-zzzz-not-a-trace-01"}
    response = await call(app, framework in ASGI, "/items/1", headers)

    assert response.headers["x-request-id"] == "alias-7"
    (span,) = harness.spans()
    assert span.parent is None
    assert span.context.trace_id != 0
    assert response.json()["trace_id"] == format(span.context.trace_id, "032x")


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_metrics_endpoint_is_served_and_not_measured(
    framework: str, harness: Harness
) -> None:
    """/metrics renders the injected registry and gets no span, series or access log."""
    app = instrumented(framework, harness)
    await call(app, framework in ASGI, "/items/1")
    response = await call(app, framework in ASGI, "/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert (
        f'{semconv.HTTP_SERVER_REQUEST_DURATION}_count{{error_type="",http_request_method="GET",'
        f'http_response_status_code="200",http_route="{ROUTE[framework]}"}} 1.0'
    ) in response.text
    assert len(harness.spans()) == 1
    assert len(harness.access_logs()) == 1


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_unknown_method_is_other(framework: str, harness: Harness) -> None:
    """A method outside the known set is labelled _OTHER and the span is named HTTP."""
    app = instrumented(framework, harness)
    await call(app, framework in ASGI, "/items/1", method="PURGE")

    (span,) = harness.spans()
    assert span.name.split(" ")[0] == semconv.SPAN_NAME_OTHER_METHOD
    attributes = dict(span.attributes or {})
    assert attributes[semconv.SPAN_ATTR_HTTP_METHOD] == semconv.OTHER_METHOD
    assert attributes[semconv.SPAN_ATTR_HTTP_METHOD_ORIGINAL] == "PURGE"
    (access,) = harness.access_logs()
    assert access[semconv.LOG_METHOD] == "PURGE"
    series = [
        s.labels
        for metric in harness.registry.collect()
        if metric.name == semconv.HTTP_SERVER_REQUEST_DURATION
        for s in metric.samples
        if s.name.endswith("_count")
    ]
    assert [labels[semconv.LABEL_METHOD] for labels in series] == [semconv.OTHER_METHOD]


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_ten_thousand_unmatched_paths_keep_series_bounded(
    framework: str, harness: Harness
) -> None:
    """10,000 distinct raw paths that match no route add exactly one duration series."""
    # Django's ASGI handler runs each request through a thread: 1,000 keep the suite fast
    # and prove the same (its route hook is the WSGI one's).
    count = 1_000 if framework == "django_asgi" else 10_000
    app = instrumented(framework, harness, access_log=False, tracing=False)
    for index in range(count):
        path = f"/random/{index}/x{index * 7919}"
        if framework in ASGI:
            sent = await call_asgi(app, http_scope(path))
            assert sent[0]["status"] == 404
        else:
            assert call_wsgi(app, path).status_code == 404

    series = [
        sample.labels
        for metric in harness.registry.collect()
        for sample in metric.samples
        if sample.name == semconv.HTTP_SERVER_REQUEST_DURATION + "_count"
    ]
    assert series == [
        {
            semconv.LABEL_METHOD: "GET",
            semconv.LABEL_ROUTE: semconv.UNMATCHED_ROUTE,
            semconv.LABEL_STATUS_CODE: "404",
            semconv.LABEL_ERROR_TYPE: "",
        }
    ]
    assert harness.duration_count("GET", semconv.UNMATCHED_ROUTE, 404) == float(count)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_concurrent_requests_never_share_state(framework: str, harness: Harness) -> None:
    """50 overlapping requests (tasks for ASGI, threads for WSGI): each one's response,
    span and access-log line carry its own correlation and trace IDs."""
    app = instrumented(framework, harness)
    ids = [f"conc-{n}" for n in range(50)]
    if framework in ASGI:
        responses = await asyncio.gather(
            *(call(app, True, f"/items/{cid}", {"X-Request-ID": cid}) for cid in ids)
        )
    else:
        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(
                pool.map(lambda cid: call_wsgi(app, f"/items/{cid}", {"X-Request-ID": cid}), ids)
            )

    spans = {(s.attributes or {})[semconv.SPAN_ATTR_CORRELATION_ID]: s for s in harness.spans()}
    assert sorted(spans) == sorted(ids)
    for cid, response in zip(ids, responses, strict=True):
        trace_id = format(spans[cid].context.trace_id, "032x")
        assert response.headers["x-request-id"] == cid
        assert response.json() == {"item_id": cid, "correlation_id": cid, "trace_id": trace_id}
    for line in harness.access_logs():
        span = spans[line[semconv.LOG_CORRELATION_ID]]
        assert line[semconv.LOG_PATH] == "/items/" + line[semconv.LOG_CORRELATION_ID]
        assert line[semconv.LOG_TRACE_ID] == format(span.context.trace_id, "032x")
        assert line[semconv.LOG_SPAN_ID] == format(span.context.span_id, "016x")
    assert len(harness.access_logs()) == 50


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(
    ("headers", "address", "port"),
    [
        ({"Host": "shop.example:8443"}, "shop.example", 8443),
        ({"Host": "shop.example"}, "shop.example", 80),
        ({"Host": "shop.example", "X-Forwarded-Host": "public.example"}, "public.example", 80),
        (
            {"Host": "shop.example", "Forwarded": 'for=192.0.2.60;host="edge.example:443"'},
            "edge.example",
            443,
        ),
    ],
    ids=["host-with-port", "host", "x-forwarded-host", "forwarded"],
)
async def test_server_address_and_port_come_from_the_host_headers(
    framework: str, harness: Harness, headers: dict[str, str], address: str, port: int
) -> None:
    """server.address/server.port are the host the client asked for (Forwarded host,
    X-Forwarded-Host, then Host; the scheme's port when none is given), not the socket."""
    app = instrumented(framework, harness)
    response = await call(app, framework in ASGI, "/items/42", headers)
    assert response.status_code == 200
    (span,) = harness.spans()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.SPAN_ATTR_SERVER_ADDRESS] == address
    assert attributes[semconv.SPAN_ATTR_SERVER_PORT] == port


async def test_asgi_without_a_host_header_uses_the_listening_socket(harness: Harness) -> None:
    """An ASGI request that names no host: the server's socket address and port."""
    app = instrumented("starlette", harness)
    scope = http_scope("/items/42")
    scope["headers"] = [(name, value) for name, value in scope["headers"] if name != b"host"]
    scope["server"] = ("10.0.0.5", 8001)
    await call_asgi(app, scope)
    (span,) = harness.spans()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.SPAN_ATTR_SERVER_ADDRESS] == "10.0.0.5"
    assert attributes[semconv.SPAN_ATTR_SERVER_PORT] == 8001


def test_wsgi_with_an_invalid_host_header_uses_the_listening_socket(harness: Harness) -> None:
    """A WSGI request whose Host is not a host: SERVER_NAME and SERVER_PORT."""
    app = instrumented("flask", harness)
    response = call_wsgi(app, "/items/42", {"Host": "not a host"})
    assert response.status_code == 200
    (span,) = harness.spans()
    attributes = dict(span.attributes or {})
    assert attributes[semconv.SPAN_ATTR_SERVER_ADDRESS] == "testserver"
    assert attributes[semconv.SPAN_ATTR_SERVER_PORT] == 80


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_head_counts_no_body_bytes(framework: str, harness: Harness) -> None:
    """HEAD: the server sends no body, so the response-size metric and the access line
    count 0 bytes, whatever body the framework built for it (FastAPI answers a GET-only
    route's HEAD with a 405 and a JSON body: 0 bytes too)."""
    app = instrumented(framework, harness)
    response = await call(app, framework in ASGI, "/items/42", method="HEAD")
    assert response.status_code == (405 if framework == "fastapi" else 200)
    sizes = {
        sample.name: sample.value
        for metric in harness.registry.collect()
        if metric.name == semconv.HTTP_SERVER_RESPONSE_BODY_SIZE
        for sample in metric.samples
        if sample.labels.get(semconv.LABEL_METHOD) == "HEAD"
        and sample.name.endswith(("_count", "_sum"))
    }
    assert sizes == {
        semconv.HTTP_SERVER_RESPONSE_BODY_SIZE + "_count": 1.0,
        semconv.HTTP_SERVER_RESPONSE_BODY_SIZE + "_sum": 0.0,
    }
    (access,) = harness.access_logs()
    assert access[semconv.LOG_RESPONSE_BYTES] == 0
