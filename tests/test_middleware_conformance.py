"""What each framework's users (and the peers' test suites) expect of a server
middleware: span end, integer statuses, root paths, the ID the app sees, websocket
method, suppression, client hang-ups."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from fastapi import BackgroundTasks  # a module-level name: FastAPI resolves annotations
from middleware_fixtures import Harness, call_asgi, call_wsgi, http_scope, make_harness
from opentelemetry import trace
from opentelemetry.instrumentation.utils import (
    suppress_http_instrumentation,
    suppress_instrumentation,
)

from toolkit import get_correlation_id, semconv
from toolkit.middleware import ToolkitASGIMiddleware, ToolkitWSGIMiddleware

SLEEP_AFTER_BODY = 0.3


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


def span_seconds(span: Any) -> float:
    """A finished span's duration in seconds."""
    return float(span.end_time - span.start_time) / 1e9


@pytest.mark.parametrize("framework", ["starlette", "fastapi"])
async def test_background_work_does_not_stretch_the_span(harness: Harness, framework: str) -> None:
    """A BackgroundTask sleeping 0.3 s after the body: the server span, the histogram and
    the access line all end with the response; the task's own child span carries the
    work."""
    tracer = harness.provider.get_tracer("app")
    done = asyncio.Event()

    async def background() -> None:
        with tracer.start_as_current_span("cleanup"):
            await asyncio.sleep(SLEEP_AFTER_BODY)
        done.set()

    if framework == "starlette":
        from starlette.applications import Starlette
        from starlette.background import BackgroundTask
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route

        async def endpoint(request: Any) -> Any:
            return PlainTextResponse("ok", background=BackgroundTask(background))

        app: Any = Starlette(routes=[Route("/orders/{order_id}", endpoint)])
    else:
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/orders/{order_id}")
        async def endpoint(order_id: str, tasks: BackgroundTasks) -> str:
            tasks.add_task(background)
            return "ok"

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    messages = await call_asgi(middleware, http_scope("/orders/7"))
    assert done.is_set()
    assert messages[0]["status"] == 200
    spans = {span.name: span for span in harness.spans()}
    server = spans["GET /orders/{order_id}"]
    cleanup = spans["cleanup"]
    assert span_seconds(server) < SLEEP_AFTER_BODY / 2
    assert span_seconds(cleanup) >= SLEEP_AFTER_BODY * 0.9
    assert cleanup.parent is not None
    assert cleanup.parent.span_id == server.context.span_id
    (access,) = harness.access_logs()
    assert access[semconv.LOG_DURATION_MS] < SLEEP_AFTER_BODY * 1000 / 2
    total = harness.sample(
        semconv.HTTP_SERVER_REQUEST_DURATION + "_sum",
        {
            semconv.LABEL_METHOD: "GET",
            semconv.LABEL_ROUTE: "/orders/{order_id}",
            semconv.LABEL_STATUS_CODE: "200",
            semconv.LABEL_ERROR_TYPE: "",
        },
    )
    assert total is not None and total < SLEEP_AFTER_BODY / 2


@pytest.mark.parametrize(
    ("status", "label", "error"),
    [(HTTPStatus.OK, "200", ""), (HTTPStatus.SERVICE_UNAVAILABLE, "503", "503")],
)
async def test_an_httpstatus_member_is_an_integer_status(
    harness: Harness, status: HTTPStatus, label: str, error: str
) -> None:
    """An ``HTTPStatus`` member as the ASGI status (Starlette passes it through): labels,
    error type, span attribute and access line carry the number, on every Python."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"x"})

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    await call_asgi(middleware, http_scope("/x"))
    assert harness.duration_count("GET", semconv.UNROUTED_ROUTE, int(label), error) == 1.0
    (span,) = harness.spans()
    attributes = dict(span.attributes or {})
    code = attributes[semconv.SPAN_ATTR_HTTP_STATUS_CODE]
    assert (type(code), code) == (int, int(label))
    assert attributes.get(semconv.SPAN_ATTR_ERROR_TYPE, "") == error
    (access,) = harness.access_logs()
    assert type(access[semconv.LOG_STATUS]) is int


def starlette_items_app() -> Any:
    """A Starlette app with one templated route, echoing the ID it is given."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def item(request: Any) -> Any:
        return JSONResponse(
            {
                "header": request.headers.get("x-request-id"),
                "context": get_correlation_id(),
            }
        )

    return Starlette(routes=[Route("/items/{item_id}", item), Route("/health", item)])


async def test_root_path_apps_serve_metrics_health_and_exclusions(harness: Harness) -> None:
    """Behind ``root_path="/api"`` (the path includes it, as uvicorn and Starlette 0.33+
    give it): /api/metrics, /api/livez and /api/readyz are served, /api/health is
    excluded, and a route keeps its template."""
    middleware = ToolkitASGIMiddleware(
        starlette_items_app(), **harness.options(excluded_paths=["/health"])
    )
    transport = httpx.ASGITransport(app=middleware, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        item = await client.get("/api/items/1")
        health = await client.get("/api/health")
        metrics = await client.get("/api/metrics")
        livez = await client.get("/api/livez")
        readyz = await client.get("/api/readyz")
    assert [r.status_code for r in (item, health, metrics, livez, readyz)] == [200] * 5
    assert "http_server_request_duration_seconds" in metrics.text
    assert "x-request-id" in health.headers  # excluded: correlation ID only
    assert harness.duration_count("GET", "/items/{item_id}", 200) == 1.0
    routes = {
        sample.labels[semconv.LABEL_ROUTE]
        for family in harness.registry.collect()
        for sample in family.samples
        if sample.name == semconv.HTTP_SERVER_REQUEST_DURATION + "_count"
    }
    assert routes == {"/items/{item_id}"}


@pytest.mark.parametrize(
    "headers",
    [
        [(b"x-request-id", b"x" * 10_000)],
        [(b"x-request-id", b"bad\r\nvalue")],
        [],
    ],
    ids=["10-kb", "crlf", "missing"],
)
async def test_asgi_app_sees_the_id_that_is_logged(
    harness: Harness, headers: list[tuple[bytes, bytes]]
) -> None:
    """A generated or replacing ID is what the app reads from its request headers, once."""
    middleware = ToolkitASGIMiddleware(starlette_items_app(), **harness.options())
    messages = await call_asgi(middleware, http_scope("/items/1", headers))
    echoed = dict(messages[0]["headers"])[b"x-request-id"].decode()
    seen = __import__("json").loads(messages[1]["body"])
    assert seen == {"header": echoed, "context": echoed}
    (access,) = harness.access_logs()
    assert access[semconv.LOG_CORRELATION_ID] == echoed


async def test_asgi_alias_header_reaches_the_app_under_the_main_name(harness: Harness) -> None:
    """An ID accepted from an alias header (X-Correlation-ID) is also X-Request-ID for the
    app; a valid X-Request-ID is left untouched."""
    middleware = ToolkitASGIMiddleware(starlette_items_app(), **harness.options())
    scope = http_scope("/items/1", [(b"x-correlation-id", b"alias-1")])
    messages = await call_asgi(middleware, scope)
    seen = __import__("json").loads(messages[1]["body"])
    assert seen == {"header": "alias-1", "context": "alias-1"}
    kept = http_scope("/items/1", [(b"x-request-id", b"good-1")])
    headers_before = list(kept["headers"])
    await call_asgi(middleware, kept)
    assert kept["headers"] == headers_before


@pytest.mark.parametrize(
    "value", ["x" * 10_000, "bad value", None], ids=["10-kb", "space", "missing"]
)
def test_wsgi_app_sees_the_id_that_is_logged(harness: Harness, value: str | None) -> None:
    """The same for WSGI: ``HTTP_X_REQUEST_ID`` in the environ is the logged ID."""
    seen: list[str | None] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ.get("HTTP_X_REQUEST_ID"))
        start_response("200 OK", [])
        return [b"ok"]

    middleware = ToolkitWSGIMiddleware(app, **harness.options())
    response = call_wsgi(middleware, "/items/1", {} if value is None else {"X-Request-ID": value})
    assert seen == [response.headers["x-request-id"]]
    (access,) = harness.access_logs()
    assert access[semconv.LOG_CORRELATION_ID] == seen[0]


async def test_websocket_span_carries_the_get_method(harness: Harness) -> None:
    """A websocket's server span has ``http.request.method`` GET, as the conventions and
    OpenTelemetry's ASGI middleware give it."""
    from middleware_apps import starlette_app

    middleware = ToolkitASGIMiddleware(starlette_app(), **harness.options())
    scope = http_scope("/ws/lobby")
    scope.update(type="websocket", scheme="ws", subprotocols=[])
    del scope["method"]
    inbox = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]

    async def receive() -> Any:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        pass

    await middleware(scope, receive, send)
    (span,) = harness.spans()
    assert span.name == "WEBSOCKET /ws/{room}"
    assert dict(span.attributes or {})[semconv.SPAN_ATTR_HTTP_METHOD] == "GET"


@pytest.mark.parametrize("suppress", [suppress_instrumentation, suppress_http_instrumentation])
@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_suppression_context_is_honoured(harness: Harness, asgi: bool, suppress: Any) -> None:
    """Under OpenTelemetry's suppression context no server span, metric or access line is
    recorded; the correlation ID still flows."""
    if asgi:
        middleware: Any = ToolkitASGIMiddleware(starlette_items_app(), **harness.options())
        with suppress():
            messages = await call_asgi(middleware, http_scope("/items/1"))
        headers = dict(messages[0]["headers"])
        assert b"x-request-id" in headers
    else:

        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            start_response("200 OK", [])
            return [b"ok"]

        middleware = ToolkitWSGIMiddleware(app, **harness.options())
        with suppress():
            response = call_wsgi(middleware, "/items/1")
        assert "x-request-id" in response.headers
    assert harness.spans() == []
    assert harness.access_logs() == []
    assert harness.duration_count("GET", "/items/{item_id}", 200) == 0.0
    assert harness.duration_count("GET", semconv.UNROUTED_ROUTE, 200) == 0.0
    assert not trace.get_current_span().get_span_context().is_valid


async def test_a_client_hang_up_reports_what_got_out(harness: Harness) -> None:
    """As uvicorn does: after ``http.disconnect`` later sends are dropped silently. The
    request reports the bytes sent before, a duration that ends at the hang-up, and
    ``error_type="client_aborted"``; nothing stays active."""
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    async def feed(request: Any) -> Any:
        async def chunks() -> Any:
            for _ in range(8):
                yield b"0123456789"
                await asyncio.sleep(0.01)

        return StreamingResponse(chunks())

    app = Starlette(routes=[Route("/feed", feed)])
    middleware = ToolkitASGIMiddleware(app, **harness.options())
    delivered: list[bytes] = []
    gone = asyncio.Event()
    left_at = 0.0

    async def receive() -> Any:
        nonlocal left_at
        await gone.wait()
        left_at = time.perf_counter()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if gone.is_set():
            return  # uvicorn: the client is gone, the send is dropped
        if message["type"] == "http.response.body":
            delivered.append(message.get("body", b""))
            gone.set()

    scope = http_scope("/feed")
    scope["asgi"] = {"version": "3.0", "spec_version": "2.3"}
    await middleware(scope, receive, send)

    (access,) = harness.access_logs()
    assert access[semconv.LOG_STATUS] == 200
    assert access[semconv.LOG_RESPONSE_BYTES] == sum(map(len, delivered)) == 10
    assert harness.duration_count("GET", "/feed", 200, semconv.ERROR_CLIENT_ABORTED) == 1.0
    (span,) = harness.spans()
    assert dict(span.attributes or {})[semconv.SPAN_ATTR_ERROR_TYPE] == "client_aborted"
    active = {semconv.LABEL_METHOD: "GET", semconv.LABEL_URL_SCHEME: "http"}
    assert harness.sample(semconv.HTTP_SERVER_ACTIVE_REQUESTS, active) == 0.0


def status_app(status: int) -> Any:
    """A raw ASGI app answering ``status``."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"x"})

    return app


@pytest.mark.parametrize(
    ("options", "status", "level"),
    [
        ({}, 200, "info"),
        ({}, 404, "info"),
        ({}, 503, "error"),
        ({"access_log_error_level": "WARNING"}, 500, "warning"),
        ({"access_log_error_level": "info"}, 500, "info"),
    ],
)
@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "public-path"])
async def test_access_lines_of_5xx_are_errors(
    harness: Harness, options: dict[str, str], status: int, level: str, fast: bool
) -> None:
    """A 5xx access line is logged at ``error`` by default (``access_log_error_level``
    changes it); others at ``info``: the same through either logging path."""
    from toolkit.logs import _structlog_gate

    _structlog_gate.STRUCTLOG_GATE.force(fast)
    try:
        middleware = ToolkitASGIMiddleware(status_app(status), **harness.options(**options))
        await call_asgi(middleware, http_scope("/x"))
    finally:
        _structlog_gate.STRUCTLOG_GATE.force(None)
    (access,) = harness.access_logs()
    assert access["level"] == level


def test_an_unknown_access_log_error_level_is_refused(harness: Harness) -> None:
    """A level name the access line cannot use fails at construction, naming it."""
    with pytest.raises(ValueError, match="'loud' is not one of debug, info, warning"):
        ToolkitASGIMiddleware(status_app(200), **harness.options(access_log_error_level="loud"))


async def test_access_log_error_level_from_the_environment(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``TOOLKIT_ACCESS_LOG_ERROR_LEVEL`` applies when no keyword is given."""
    monkeypatch.setenv("TOOLKIT_ACCESS_LOG_ERROR_LEVEL", "critical")
    middleware = ToolkitASGIMiddleware(status_app(502), **harness.options())
    await call_asgi(middleware, http_scope("/x"))
    (access,) = harness.access_logs()
    assert access["level"] == "critical"


async def test_a_client_gone_before_any_response_is_no_5xx(harness: Harness) -> None:
    """A long poll whose client leaves before anything was answered: status 499
    (nothing was sent), ``client_aborted``, no status code on the span, an info line."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    inbox = [{"type": "http.request", "body": b""}, {"type": "http.disconnect"}]
    sent: list[Any] = []

    async def receive() -> Any:
        return inbox.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    await middleware(http_scope("/poll"), receive, send)
    assert sent == []
    assert harness.duration_count("GET", semconv.UNROUTED_ROUTE, 499, "client_aborted") == 1.0
    (span,) = harness.spans()
    attributes = dict(span.attributes or {})
    assert semconv.SPAN_ATTR_HTTP_STATUS_CODE not in attributes
    assert attributes[semconv.SPAN_ATTR_ERROR_TYPE] == "client_aborted"
    (access,) = harness.access_logs()
    assert (access["status"], access["level"]) == (499, "info")


async def test_a_cancelled_app_before_any_response_is_no_5xx(harness: Harness) -> None:
    """The server cancels the app (a graceful-shutdown timeout): nothing was answered, so
    the request is 499 ``client_aborted``, not a 500 that would feed the alerts."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(10)

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    task = asyncio.ensure_future(call_asgi(middleware, http_scope("/slow")))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert harness.duration_count("GET", semconv.UNROUTED_ROUTE, 499, "client_aborted") == 1.0
    assert harness.duration_count("GET", semconv.UNROUTED_ROUTE, 500, "client_aborted") == 0.0


async def test_the_500_the_middleware_sends_counts_its_bytes(harness: Harness) -> None:
    """The middleware's own 500 body is in the response size and the access line."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    with pytest.raises(RuntimeError):
        await call_asgi(middleware, http_scope("/x"))
    (access,) = harness.access_logs()
    assert access[semconv.LOG_RESPONSE_BYTES] == len(b"Internal Server Error")


async def test_a_disconnect_while_the_last_chunk_goes_out_is_no_abort(harness: Harness) -> None:
    """A server whose ``send`` yields after writing the last chunk, and a disconnect seen
    meanwhile (Starlette's listener): the response was complete, nothing is aborted."""
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    async def feed(request: Any) -> Any:
        async def chunks() -> Any:
            yield b"abc"

        return StreamingResponse(chunks())

    app = Starlette(routes=[Route("/feed", feed)])
    middleware = ToolkitASGIMiddleware(app, **harness.options())
    last_written = asyncio.Event()

    async def receive() -> Any:
        await last_written.wait()
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            last_written.set()
            await asyncio.sleep(0.01)  # drain(): the listener runs now

    scope = http_scope("/feed")
    scope["asgi"] = {"version": "3.0", "spec_version": "2.3"}
    await middleware(scope, receive, send)
    assert harness.duration_count("GET", "/feed", 200) == 1.0
