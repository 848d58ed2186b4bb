"""ToolkitASGIMiddleware: scope types, streaming, disconnects, exceptions, context."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from middleware_fixtures import FakeClock, Harness, call_asgi, http_scope, make_harness

from toolkit import get_correlation_id, semconv
from toolkit.middleware import ROUTE_KEY, ToolkitASGIMiddleware


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


def histogram_series(harness: Harness, name: str) -> list[dict[str, str]]:
    """Label sets of a histogram's ``_count`` samples."""
    return [
        sample.labels
        for metric in harness.registry.collect()
        for sample in metric.samples
        if sample.name == name + "_count"
    ]


async def test_lifespan_passes_through_untouched(harness: Harness) -> None:
    """A lifespan scope reaches the app as the same objects, with no telemetry at all."""
    seen: list[tuple[Any, Any, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope, receive, send))

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}

    async def receive() -> Any:
        return {}

    async def send(message: Any) -> None:
        return None

    await middleware(scope, receive, send)

    assert seen == [(scope, receive, send)]
    assert harness.spans() == []
    assert harness.logs() == []


async def test_websocket_gets_span_and_correlation_id_but_no_http_metrics(
    harness: Harness,
) -> None:
    """A websocket: correlation ID in the accept headers and the app; a span; no series."""
    from middleware_apps import starlette_app

    middleware = ToolkitASGIMiddleware(starlette_app(), **harness.options())
    scope = http_scope("/ws/lobby", [(b"x-request-id", b"ws-1")])
    scope.update(type="websocket", scheme="ws", subprotocols=[])
    del scope["method"]
    inbox = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]
    sent: list[dict[str, Any]] = []

    async def receive() -> Any:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await middleware(scope, receive, send)

    accept = sent[0]
    assert accept["type"] == "websocket.accept"
    assert (b"x-request-id", b"ws-1") in accept["headers"]
    assert sent[1]["text"] == '{"correlation_id":"ws-1"}'
    (span,) = harness.spans()
    assert span.name == "WEBSOCKET /ws/{room}"
    attributes = dict(span.attributes or {})
    assert attributes[semconv.SPAN_ATTR_CORRELATION_ID] == "ws-1"
    assert attributes[semconv.SPAN_ATTR_HTTP_ROUTE] == "/ws/{room}"
    assert attributes[semconv.SPAN_ATTR_URL_SCHEME] == "ws"
    assert histogram_series(harness, semconv.HTTP_SERVER_REQUEST_DURATION) == []
    assert harness.access_logs() == []


async def test_streaming_duration_ends_at_last_chunk(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work after the last body chunk (background tasks) is not part of the duration."""
    clock = FakeClock()
    monkeypatch.setattr("toolkit.middleware.request.perf_counter", clock)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope[ROUTE_KEY] = "/stream"
        clock.advance(0.25)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for chunk in (b"a", b"bb"):
            clock.advance(1.0)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        clock.advance(1.0)
        await send({"type": "http.response.body", "body": b"ccc", "more_body": False})
        clock.advance(30.0)  # a background task after the response

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    await call_asgi(middleware, http_scope("/stream"))

    labels = {
        semconv.LABEL_METHOD: "GET",
        semconv.LABEL_ROUTE: "/stream",
        semconv.LABEL_STATUS_CODE: "200",
        semconv.LABEL_ERROR_TYPE: "",
    }
    assert harness.sample(semconv.HTTP_SERVER_REQUEST_DURATION + "_sum", labels) == 3.25
    (access,) = harness.access_logs()
    assert access[semconv.LOG_DURATION_MS] == 3250.0
    assert access[semconv.LOG_RESPONSE_BYTES] == 6


@pytest.mark.parametrize("spec_version", ["2.4", "2.3"])
async def test_client_disconnect_mid_stream_is_recorded_once(
    harness: Harness, spec_version: str
) -> None:
    """The client goes away after the first chunk, seen as a failing send (ASGI spec 2.4)
    or as an ``http.disconnect`` message (older servers, and uvicorn, which then drops
    later sends silently): the request is recorded once, with the status that went out
    and the bytes that were sent, marked ``client_aborted`` when no exception says more;
    nothing stays active."""
    from starlette.applications import Starlette
    from starlette.requests import ClientDisconnect
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    async def endless(request: Any) -> Any:
        async def chunks() -> Any:
            while True:
                yield b"x"
                await asyncio.sleep(0)

        return StreamingResponse(chunks())

    app = Starlette(routes=[Route("/feed", endless)])
    middleware = ToolkitASGIMiddleware(app, **harness.options())
    sent: list[dict[str, Any]] = []
    gone = asyncio.Event()

    async def receive() -> Any:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if gone.is_set():
            raise OSError("connection reset by peer")
        sent.append(message)
        if len(sent) == 2:
            gone.set()

    scope = http_scope("/feed")
    scope["asgi"] = {"version": "3.0", "spec_version": spec_version}
    if spec_version == "2.4":
        with pytest.raises(ClientDisconnect):
            await middleware(scope, receive, send)
        error = "starlette.requests.ClientDisconnect"
    else:
        await middleware(scope, receive, send)
        error = semconv.ERROR_CLIENT_ABORTED

    (access,) = harness.access_logs()
    assert access[semconv.LOG_STATUS] == 200
    assert access[semconv.LOG_RESPONSE_BYTES] == 1
    assert access[semconv.LOG_ROUTE] == "/feed"
    (span,) = harness.spans()
    assert (span.attributes or {}).get(semconv.SPAN_ATTR_ERROR_TYPE, "") == error
    active = {semconv.LABEL_METHOD: "GET", semconv.LABEL_URL_SCHEME: "http"}
    assert harness.sample(semconv.HTTP_SERVER_ACTIVE_REQUESTS, active) == 0.0
    assert harness.duration_count("GET", "/feed", 200, error) == 1.0


async def test_exception_before_start_sends_500_with_header_and_reraises(
    harness: Harness,
) -> None:
    """The app raises before responding: a 500 with the correlation ID goes out, and the
    exception still reaches the server."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise KeyError("missing")

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with pytest.raises(KeyError):
        await middleware(http_scope("/x", [(b"x-request-id", b"e-1")]), None, send)  # type: ignore[arg-type]

    assert sent[0]["status"] == 500
    assert (b"x-request-id", b"e-1") in sent[0]["headers"]
    assert sent[1] == {"type": "http.response.body", "body": b"Internal Server Error"}
    assert harness.duration_count("GET", semconv.UNROUTED_ROUTE, 500, "KeyError") == 1.0


async def test_exception_after_start_sends_nothing_more(harness: Harness) -> None:
    """The app raises mid-response: no second response start, status kept, error recorded."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope[ROUTE_KEY] = "/half"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"par", "more_body": True})
        raise ValueError("half way")

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with pytest.raises(ValueError, match="half way"):
        await middleware(http_scope("/half"), None, send)  # type: ignore[arg-type]

    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert harness.duration_count("GET", "/half", 200, "ValueError") == 1.0


async def test_context_is_restored_and_app_context_survives(harness: Harness) -> None:
    """The app's own ContextVars and structlog contextvars pass in and out of the request;
    the correlation ID is reset afterwards."""
    user = contextvars.ContextVar[str]("user")
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["user"] = user.get()
        seen["bound"] = structlog.contextvars.get_contextvars()
        structlog.contextvars.bind_contextvars(tenant="t1")
        scope[ROUTE_KEY] = "/ctx"
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    user.set("alice")
    structlog.contextvars.bind_contextvars(request_origin="outer")
    await call_asgi(middleware, http_scope("/ctx", [(b"x-request-id", b"c-1")]))

    assert seen == {"user": "alice", "bound": {"request_origin": "outer"}}
    (access,) = harness.access_logs()
    assert access["tenant"] == "t1"
    assert access["request_origin"] == "outer"
    assert access[semconv.LOG_CORRELATION_ID] == "c-1"
    assert get_correlation_id() is None


async def test_log_values_cannot_inject_lines(harness: Harness) -> None:
    """CR/LF in the path and a header stay inside one JSON string: one line, exact value."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        user_agent = dict(scope["headers"])[b"user-agent"].decode()
        structlog.get_logger("app").info("ua", user_agent=user_agent)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    evil = b'x\r\n{"level": "critical", "event": "forged"}'
    await call_asgi(middleware, http_scope("/a\r\nb", [(b"user-agent", evil)]))

    lines = harness.stream.getvalue().split("\n")
    assert lines[-1] == ""
    assert len(lines) == 3
    app_line, access = harness.logs()
    assert app_line["user_agent"] == evil.decode()
    assert access[semconv.LOG_PATH] == "/a\r\nb"
    assert access["event"] == semconv.ACCESS_LOG_EVENT


@pytest.mark.parametrize(
    ("options", "path", "expected"),
    [
        ({}, "/metrics", "served"),
        ({"metrics_path": "/internal/metrics"}, "/internal/metrics", "served"),
        ({"metrics_path": None}, "/metrics", "app"),
        ({"excluded_paths": ["/health"]}, "/health", "excluded"),
        ({"excluded_urls": "^/static/,ping"}, "/static/app.js", "excluded"),
        ({"excluded_urls": ["^/static/", "ping"]}, "/api/ping", "excluded"),
        ({"excluded_urls": "^/static/"}, "/api/static/x", "measured"),
    ],
)
async def test_metrics_path_and_exclusions(
    harness: Harness, options: dict[str, Any], path: str, expected: str
) -> None:
    """/metrics is served from the registry; excluded paths keep only the correlation ID."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"app"})

    middleware = ToolkitASGIMiddleware(app, **harness.options(**options))
    sent = await call_asgi(middleware, http_scope(path, [(b"x-request-id", b"m-1")]))

    body = sent[-1]["body"]
    headers = dict(sent[0]["headers"])
    if expected == "served":
        assert headers[b"content-type"].startswith(b"text/plain; version=")
        assert b"# TYPE http_server_request_duration_seconds histogram" in body
        assert b"x-request-id" not in headers
    else:
        assert body == b"app"
        assert headers[b"x-request-id"] == b"m-1"
    measured = expected in ("app", "measured")
    assert len(harness.spans()) == (1 if measured else 0)
    assert len(harness.access_logs()) == (1 if measured else 0)


@pytest.mark.parametrize(
    ("method", "accept", "status", "content_type"),
    [
        ("GET", b"application/openmetrics-text; version=1.0.0", 200, b"application/openmetrics"),
        ("HEAD", b"*/*", 200, b"text/plain"),
        ("POST", b"*/*", 405, None),
    ],
)
async def test_metrics_endpoint_methods_and_formats(
    harness: Harness, method: str, accept: bytes, status: int, content_type: bytes | None
) -> None:
    """OpenMetrics when asked for, HEAD without a body, other methods 405."""
    middleware = ToolkitASGIMiddleware(None, **harness.options())  # type: ignore[arg-type]
    sent = await call_asgi(middleware, http_scope("/metrics", [(b"accept", accept)], method))

    assert sent[0]["status"] == status
    if content_type is not None:
        assert dict(sent[0]["headers"])[b"content-type"].startswith(content_type)
    if method != "GET":
        assert sent[1]["body"] == b""


async def test_concurrent_requests_keep_their_own_state(harness: Harness) -> None:
    """200 interleaved requests: each response, span and log line carries its own IDs."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope[ROUTE_KEY] = "/c/{n}"
        mine = get_correlation_id()
        for _ in range(3):
            await asyncio.sleep(0)
            assert get_correlation_id() == mine
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": (mine or "").encode()})

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    ids = [f"req-{n}" for n in range(200)]
    results = await asyncio.gather(
        *(
            call_asgi(middleware, http_scope(f"/c/{n}", [(b"x-request-id", cid.encode())]))
            for n, cid in enumerate(ids)
        )
    )

    for cid, sent in zip(ids, results, strict=True):
        assert dict(sent[0]["headers"])[b"x-request-id"] == cid.encode()
        assert sent[1]["body"] == cid.encode()
    spans = {s.attributes[semconv.SPAN_ATTR_CORRELATION_ID]: s for s in harness.spans()}  # type: ignore[index]
    assert sorted(spans) == sorted(ids)
    for line in harness.access_logs():
        span = spans[line[semconv.LOG_CORRELATION_ID]]
        assert line[semconv.LOG_PATH] == "/c/" + line[semconv.LOG_CORRELATION_ID][4:]
        assert line[semconv.LOG_SPAN_ID] == format(span.context.span_id, "016x")
        assert line[semconv.LOG_TRACE_ID] == format(span.context.trace_id, "032x")
    assert len({s.context.trace_id for s in spans.values()}) == 200


async def test_app_returning_without_response_counts_as_500(harness: Harness) -> None:
    """An app that returns without sending a response: the server answers 500, and so
    do the metrics and the access log."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope[ROUTE_KEY] = "/silent"

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    assert await call_asgi(middleware, http_scope("/silent")) == []

    assert harness.duration_count("GET", "/silent", 500, "500") == 1.0
    (access,) = harness.access_logs()
    assert access[semconv.LOG_STATUS] == 500


async def test_fastapi_native_tracing_yields_to_toolkit(harness: Harness) -> None:
    """FastAPI's own server span (FastAPI >= 0.16x) is not added beside toolkit's.

    FastAPI extracts its parent from the request headers, not from the current span, so
    both spans would be siblings and the handler's log lines would carry another trace.
    """
    from fastapi import FastAPI

    app = FastAPI(telemetry={"tracer_provider": harness.provider})

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        structlog.get_logger("app").info("handled", item_id=item_id)
        return {"id": item_id}

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    messages = await call_asgi(middleware, http_scope("/items/7"))

    assert messages[0]["status"] == 200
    assert [span.name for span in harness.spans()] == ["GET /items/{item_id}"]
    trace_id = format(harness.spans()[0].context.trace_id, "032x")
    assert [(line["event"], line["trace_id"]) for line in harness.logs()] == [
        ("handled", trace_id),
        (semconv.ACCESS_LOG_EVENT, trace_id),
    ]


async def test_add_middleware_after_instrumenting_goes_inside(harness: Harness) -> None:
    """``app.add_middleware`` on the middleware ``instrument`` returned reaches the wrapped
    FastAPI app: the added middleware runs inside toolkit's, so its own answer (an
    idempotent replay) still carries the correlation ID and is measured and logged."""
    from fastapi import FastAPI

    from toolkit.resilience.idempotency import IdempotencyMiddleware, MemoryStore

    app = FastAPI()
    runs: list[str] = []

    @app.post("/orders")
    async def create() -> dict[str, str]:
        runs.append("create")
        return {"id": "o-1"}

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    middleware.add_middleware(IdempotencyMiddleware, store=MemoryStore(), registry=harness.registry)
    headers = [(b"idempotency-key", b"k-1"), (b"x-request-id", b"req-2")]
    await call_asgi(middleware, http_scope("/orders", method="POST", headers=headers[:1]))
    replay = await call_asgi(middleware, http_scope("/orders", method="POST", headers=headers))

    replay_headers = dict(replay[0]["headers"])
    assert runs == ["create"]
    assert (replay[0]["status"], replay_headers[b"idempotent-replayed"]) == (200, b"true")
    assert replay_headers[b"x-request-id"] == b"req-2"
    assert harness.duration_count("POST", "__unrouted__", 200) == 1.0
    assert [line["correlation_id"] for line in harness.access_logs()][-1] == "req-2"


def test_add_middleware_needs_an_app_that_has_it(harness: Harness) -> None:
    """Around an app without ``add_middleware`` (a plain ASGI callable) the call fails
    with an AttributeError that says what to do instead."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    middleware = ToolkitASGIMiddleware(app, **harness.options())

    with pytest.raises(AttributeError, match=r"\(function\) has no add_middleware: wrap it"):
        middleware.add_middleware(object)
