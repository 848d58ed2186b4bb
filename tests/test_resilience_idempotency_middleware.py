"""The Idempotency-Key protocol end to end, for the ASGI and the WSGI middleware alike."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import flask
import httpx
import pytest
import werkzeug.test
from _resilience_support import FakeClock
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from structlog.testing import capture_logs

from toolkit.resilience.idempotency import (
    IdempotencyMiddleware,
    IdempotencyWSGIMiddleware,
    MemoryStore,
    StoreError,
)
from toolkit.resilience.idempotency._core import request_fingerprint
from toolkit.resilience.idempotency.stores import Acquired, BeginResult, StoredResponse

PROBLEM = "application/problem+json"


def starlette_app(calls: list[bytes]) -> Starlette:
    async def orders(request: Request) -> Response:
        body = await request.body()
        calls.append(body)
        return JSONResponse(
            {"n": len(calls), "echo": body.decode()},
            status_code=201,
            headers={"Location": f"/orders/{len(calls)}"},
        )

    async def boom(request: Request) -> Response:
        calls.append(await request.body())
        raise RuntimeError("boom")

    async def fail(request: Request) -> Response:
        calls.append(await request.body())
        return PlainTextResponse("down", status_code=500)

    async def invalid(request: Request) -> Response:
        calls.append(await request.body())
        return JSONResponse({"n": len(calls)}, status_code=400)

    async def limited(request: Request) -> Response:
        calls.append(await request.body())
        return PlainTextResponse("slow down", status_code=429)

    return Starlette(
        routes=[
            Route("/orders", orders, methods=["POST", "GET", "PUT"]),
            Route("/boom", boom, methods=["POST"]),
            Route("/fail", fail, methods=["POST"]),
            Route("/invalid", invalid, methods=["POST"]),
            Route("/limited", limited, methods=["POST"]),
        ]
    )


def flask_app(calls: list[bytes]) -> flask.Flask:
    app = flask.Flask("idempotency-test")

    @app.route("/orders", methods=["POST", "GET", "PUT"])
    def orders() -> Any:
        body = flask.request.get_data()
        calls.append(body)
        payload = {"n": len(calls), "echo": body.decode()}
        return payload, 201, {"Location": f"/orders/{len(calls)}"}

    @app.post("/boom")
    def boom() -> Any:
        calls.append(flask.request.get_data())
        raise RuntimeError("boom")

    @app.post("/fail")
    def fail() -> Any:
        calls.append(flask.request.get_data())
        return "down", 500

    @app.post("/invalid")
    def invalid() -> Any:
        calls.append(flask.request.get_data())
        return {"n": len(calls)}, 400

    @app.post("/limited")
    def limited() -> Any:
        calls.append(flask.request.get_data())
        return "slow down", 429

    return app


class Harness:
    """One app behind the middleware, a client, the handler's call log and the registry."""

    def __init__(self, kind: str, **options: Any) -> None:
        self.kind = kind
        self.calls: list[bytes] = []
        self.registry = CollectorRegistry()
        self.store = options.pop("store", None) or MemoryStore()
        self._sync: httpx.Client | None = None
        self._async: httpx.AsyncClient | None = None
        if kind == "asgi":
            app = IdempotencyMiddleware(
                starlette_app(self.calls), store=self.store, registry=self.registry, **options
            )
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            self._async = httpx.AsyncClient(transport=transport, base_url="http://test")
        else:
            wsgi = IdempotencyWSGIMiddleware(
                flask_app(self.calls).wsgi_app, store=self.store, registry=self.registry, **options
            )
            self._sync = httpx.Client(
                transport=httpx.WSGITransport(app=wsgi), base_url="http://test"
            )

    async def send(
        self,
        path: str = "/orders",
        *,
        key: str | None = "key-1",
        body: bytes = b'{"amount": 10}',
        method: str = "POST",
        headers: dict[str, str | bytes] | None = None,
    ) -> httpx.Response:
        all_headers: dict[str, str | bytes] = dict(headers or {})
        if key is not None:
            all_headers["Idempotency-Key"] = key
        if self._async is not None:
            return await self._async.request(method, path, content=body, headers=all_headers)
        assert self._sync is not None
        return await asyncio.to_thread(
            self._sync.request, method, path, content=body, headers=all_headers
        )

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        return self.registry.get_sample_value(name, labels or {})

    async def close(self) -> None:
        if self._async is not None:
            await self._async.aclose()
        if self._sync is not None:
            self._sync.close()


@pytest.fixture(params=["asgi", "wsgi"])
async def make(request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def factory(**options: Any) -> Harness:
        harness = Harness(request.param, **options)
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        await harness.close()


def problem_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == PROBLEM
    return dict(json.loads(response.content))


async def test_first_request_runs_and_repeat_is_replayed(make: Callable[..., Harness]) -> None:
    """Same key, same request: the handler runs once; the repeat gets status, headers and
    body of the first response plus Idempotent-Replayed: true."""
    h = make()
    first = await h.send()
    second = await h.send()
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["location"] == "/orders/1"
    assert second.content == first.content
    assert json.loads(second.content) == {"n": 1, "echo": '{"amount": 10}'}
    assert h.calls == [b'{"amount": 10}']
    assert h.metric("idempotency_replays_total") == 1.0


async def test_same_key_other_body_is_422(make: Callable[..., Harness]) -> None:
    """Reusing a key for a different body is refused with a 422 problem, handler not run."""
    h = make()
    await h.send(body=b'{"amount": 10}')
    response = await h.send(body=b'{"amount": 99}')
    assert response.status_code == 422
    assert problem_of(response) == {
        "type": "https://toolkit.dev/problems/idempotency/key-reused",
        "title": "Idempotency-Key reused for a different request",
        "status": 422,
        "detail": "This key was first used with another method, path or body; "
        "use a new key for a new request.",
    }
    assert len(h.calls) == 1
    assert h.metric("idempotency_conflicts_total") == 1.0


async def test_same_key_other_method_is_422(make: Callable[..., Harness]) -> None:
    """The method is part of the fingerprint."""
    h = make(methods=("POST", "PUT"))
    await h.send(method="POST")
    response = await h.send(method="PUT")
    assert response.status_code == 422


async def test_same_key_while_first_runs_is_409(make: Callable[..., Harness]) -> None:
    """A duplicate arriving while the first request holds the key gets a 409 problem."""
    h = make()
    body = b'{"amount": 10}'
    h.store.begin("key-1", request_fingerprint("POST", "/orders", body), lock_ttl=60)
    response = await h.send(body=body)
    assert response.status_code == 409
    assert problem_of(response)["title"] == "A request with this Idempotency-Key is in progress"
    assert h.calls == []
    assert h.metric("idempotency_in_progress_total") == 1.0


async def test_waiting_duplicate_gets_the_first_response(make: Callable[..., Harness]) -> None:
    """With wait_for_in_progress, a duplicate polls until the first completes, then replays."""
    h = make(wait_for_in_progress=10.0, poll_interval=0.01)
    body = b'{"amount": 10}'
    held = h.store.begin("key-1", request_fingerprint("POST", "/orders", body), lock_ttl=60)
    stored = StoredResponse(201, (("content-type", "text/plain"),), b"made by the first")
    waiting = asyncio.create_task(h.send(body=body))
    await asyncio.sleep(0.05)
    assert isinstance(held, Acquired)
    h.store.complete("key-1", held.token, stored, retention=60)
    response = await waiting
    assert response.status_code == 201
    assert response.content == b"made by the first"
    assert response.headers["idempotent-replayed"] == "true"
    assert h.calls == []


async def test_lock_of_a_crashed_request_expires(make: Callable[..., Harness]) -> None:
    """A key locked by a worker that died runs again once lock_ttl has passed."""
    clock = FakeClock()
    h = make(store=MemoryStore(clock=clock), lock_ttl=30)
    body = b'{"amount": 10}'
    h.store.begin("key-1", request_fingerprint("POST", "/orders", body), lock_ttl=30)
    assert (await h.send(body=body)).status_code == 409
    clock.advance(31)
    assert (await h.send(body=body)).status_code == 201
    assert len(h.calls) == 1


@pytest.mark.parametrize("path", ["/boom", "/fail", "/limited"])
async def test_failed_requests_release_the_key(make: Callable[..., Harness], path: str) -> None:
    """Exceptions, 5xx and 429 are not stored: the retry with the same key runs again."""
    h = make()
    first = await h.send(path)
    second = await h.send(path)
    assert first.status_code == second.status_code
    assert first.status_code in (429, 500)
    assert "idempotent-replayed" not in second.headers
    assert len(h.calls) == 2


async def test_client_errors_are_stored_and_replayed(make: Callable[..., Harness]) -> None:
    """A 400 from the handler is a result like any other: replayed, not re-run."""
    h = make()
    first = await h.send("/invalid")
    second = await h.send("/invalid")
    assert (first.status_code, second.status_code) == (400, 400)
    assert second.headers["idempotent-replayed"] == "true"
    assert len(h.calls) == 1


async def test_missing_key_where_required_is_400(make: Callable[..., Harness]) -> None:
    """required=True refuses a keyless POST with a 400 problem and does not run it."""
    h = make(required=True)
    response = await h.send(key=None)
    assert response.status_code == 400
    assert problem_of(response) == {
        "type": "https://toolkit.dev/problems/idempotency/key-missing",
        "title": "Idempotency-Key header missing",
        "status": 400,
        "detail": "POST /orders requires an Idempotency-Key header.",
    }
    assert h.calls == []


async def test_missing_key_where_optional_runs_every_time(make: Callable[..., Harness]) -> None:
    """Without a key (and not required) every request runs, nothing is stored."""
    h = make()
    await h.send(key=None)
    await h.send(key=None)
    assert len(h.calls) == 2


@pytest.mark.parametrize("key", [b'""', b"x" * 256, b"a\x7fb", b"a\tb"])
async def test_invalid_key_is_400(make: Callable[..., Harness], key: bytes) -> None:
    """Keys must be 1..255 visible ASCII characters."""
    h = make()
    response = await h.send(key=None, headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert problem_of(response)["title"] == "Idempotency-Key header invalid"
    assert h.calls == []


async def test_structured_field_key_equals_bare_key(make: Callable[..., Harness]) -> None:
    """The draft's quoted form "abc" and Stripe's bare abc are the same key."""
    h = make()
    await h.send(key='"abc"')
    second = await h.send(key="abc")
    assert second.headers["idempotent-replayed"] == "true"


async def test_unconfigured_method_and_filtered_path_pass_through(
    make: Callable[..., Harness],
) -> None:
    """GET is not idempotency-managed by default; path_filter excludes other paths."""
    h = make(path_filter=lambda path: path != "/orders", required=True)
    await h.send(method="GET", key=None)
    await h.send(key="k")
    await h.send(key="k")
    assert len(h.calls) == 3


async def test_scope_headers_make_keys_per_client(make: Callable[..., Harness]) -> None:
    """With scope_headers=[Authorization], two clients may use the same key independently."""
    h = make(scope_headers=["Authorization"])
    alice = await h.send(headers={"Authorization": "Bearer alice"})
    bob = await h.send(headers={"Authorization": "Bearer bob"})
    alice_again = await h.send(headers={"Authorization": "Bearer alice"})
    assert "idempotent-replayed" not in bob.headers
    assert alice_again.content == alice.content
    assert alice_again.headers["idempotent-replayed"] == "true"
    assert len(h.calls) == 2


async def test_body_over_the_limit_is_413(make: Callable[..., Harness]) -> None:
    """Bodies larger than max_body_bytes are refused before the handler runs."""
    h = make(max_body_bytes=8)
    response = await h.send(body=b"123456789")
    assert response.status_code == 413
    assert problem_of(response)["status"] == 413
    assert h.calls == []


async def test_body_reaches_the_handler_unchanged(make: Callable[..., Harness]) -> None:
    """The middleware's buffering replays the exact body to the app."""
    h = make()
    response = await h.send(body=b"x" * 100_000)
    assert json.loads(response.content)["echo"] == "x" * 100_000


class BrokenStore(MemoryStore):
    """A store whose backend is down."""

    def begin(self, key: str, fingerprint: str, *, lock_ttl: float) -> BeginResult:
        raise StoreError("connection refused")


async def test_store_down_fails_closed_with_503(make: Callable[..., Harness]) -> None:
    """By default a store failure refuses the request (503) rather than risk running twice."""
    h = make(store=BrokenStore())
    with capture_logs() as logs:
        response = await h.send()
    assert logs == [
        {
            "event": "idempotency store failed",
            "operation": "begin",
            "action": "fail_closed",
            "error": "StoreError('connection refused')",
            "log_level": "error",
        }
    ]
    assert response.status_code == 503
    assert problem_of(response)["title"] == "Idempotency store unavailable"
    assert h.calls == []
    labels = {"operation": "begin", "action": "fail_closed"}
    assert h.metric("idempotency_store_errors_total", labels) == 1.0


async def test_store_down_fails_open_when_configured(make: Callable[..., Harness]) -> None:
    """fail_open=True runs the request without idempotency and counts it."""
    h = make(store=BrokenStore(), fail_open=True)
    response = await h.send()
    assert response.status_code == 201
    assert len(h.calls) == 1
    labels = {"operation": "begin", "action": "fail_open"}
    assert h.metric("idempotency_store_errors_total", labels) == 1.0


def test_wsgi_app_raising_releases_the_key() -> None:
    """A bare WSGI app that raises releases its key (and the exception propagates)."""
    calls: list[str] = []

    def app(environ: Any, start_response: Any) -> list[bytes]:
        calls.append("run")
        raise RuntimeError("boom")

    store = MemoryStore()
    wsgi = IdempotencyWSGIMiddleware(app, store=store, registry=CollectorRegistry())
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi), base_url="http://t") as client:
        for _ in range(2):
            with pytest.raises(RuntimeError, match="boom"):
                client.post("/x", content=b"{}", headers={"Idempotency-Key": "k"})
    assert calls == ["run", "run"]


async def test_asgi_app_raising_releases_the_key() -> None:
    """A bare ASGI app that raises releases its key (and the exception propagates)."""
    calls: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        calls.append("run")
        raise RuntimeError("boom")

    store = MemoryStore()
    asgi = IdempotencyMiddleware(app, store=store, registry=CollectorRegistry())
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for _ in range(2):
            with pytest.raises(RuntimeError, match="boom"):
                await client.post("/x", content=b"{}", headers={"Idempotency-Key": "k"})
    assert calls == ["run", "run"]


async def test_lifespan_and_websocket_scopes_pass_through() -> None:
    """Scopes other than http reach the app untouched."""
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    asgi = IdempotencyMiddleware(app, store=MemoryStore(), registry=CollectorRegistry())

    async def never() -> Any:
        raise AssertionError("receive must not be called")

    async def ignore(message: Any) -> None:
        return None

    await asgi({"type": "lifespan"}, never, ignore)
    await asgi({"type": "websocket", "path": "/ws"}, never, ignore)
    assert seen == ["lifespan", "websocket"]


async def test_client_gone_before_body_runs_nothing() -> None:
    """A client that disconnects while sending its body: the app never runs, nothing sent."""
    ran: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        ran.append("run")

    store = MemoryStore()
    asgi = IdempotencyMiddleware(app, store=store, registry=CollectorRegistry())
    messages = iter(
        [
            {"type": "http.request", "body": b"{", "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[Any] = []

    async def receive() -> Any:
        return next(messages)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/orders",
        "query_string": b"",
        "headers": [(b"idempotency-key", b"k")],
    }
    await asgi(scope, receive, send)
    assert (ran, sent) == ([], [])
    assert isinstance(store.begin("k", "fp", lock_ttl=1), Acquired)


def test_wsgi_write_callable_output_is_stored() -> None:
    """Bytes sent through the legacy write() callable are part of the stored response."""
    calls: list[str] = []

    def app(environ: Any, start_response: Any) -> list[bytes]:
        calls.append("run")
        write = start_response("201 Created", [("Content-Type", "text/plain")])
        write(b"head-")
        return [b"tail"]

    wsgi = IdempotencyWSGIMiddleware(app, store=MemoryStore(), registry=CollectorRegistry())
    client = werkzeug.test.Client(wsgi)  # httpx's WSGITransport drops write() output
    first = client.post("/x", data=b"{}", headers={"Idempotency-Key": "k"})
    second = client.post("/x", data=b"{}", headers={"Idempotency-Key": "k"})
    assert (first.data, second.data) == (b"head-tail", b"head-tail")
    assert second.headers["Idempotent-Replayed"] == "true"
    assert calls == ["run"]


def test_middlewares_share_collectors_per_registry() -> None:
    """Several middleware instances on one registry reuse its collectors (no duplicate
    registration error) and count into the same series."""
    registry = CollectorRegistry()
    store = MemoryStore()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    IdempotencyMiddleware(app, store=store, registry=registry)
    IdempotencyWSGIMiddleware(flask_app([]).wsgi_app, store=store, registry=registry)
    assert registry.get_sample_value("idempotency_replays_total") == 0.0


class _Socket:
    """A ``wsgi.input`` over a live connection: reading past the request would block."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads: list[int] = []

    def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        if size < 0 or size > len(self.data):
            raise AssertionError("read past the available bytes: a real server blocks here")
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk


@pytest.mark.parametrize(("terminated", "expected"), [(False, b""), (True, b"chunked body")])
def test_wsgi_body_without_content_length(terminated: bool, expected: bytes) -> None:
    """No Content-Length: the body is empty (PEP 3333) unless the server says the input
    is terminated (``wsgi.input_terminated``, chunked requests), when it is read to EOF."""
    seen: list[bytes] = []

    def app(environ: Any, start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        seen.append(environ["wsgi.input"].read(length))
        start_response("201 Created", [("Content-Type", "text/plain")])
        return [b"ok"]

    stream: Any = io.BytesIO(b"chunked body") if terminated else _Socket(b"GET /next")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/x",
        "HTTP_IDEMPOTENCY_KEY": "k",
        "wsgi.input": stream,
    }
    if terminated:
        environ["wsgi.input_terminated"] = True
    wsgi = IdempotencyWSGIMiddleware(app, store=MemoryStore(), registry=CollectorRegistry())
    body = b"".join(wsgi(environ, lambda *args: None))
    assert (body, seen) == (b"ok", [expected])


def test_wsgi_client_gone_before_body_runs_nothing() -> None:
    """Fewer body bytes than Content-Length (the client went away mid-upload): the app
    never runs with the truncated body and the key stays free for the client's retry."""
    ran: list[bytes] = []

    def app(environ: Any, start_response: Any) -> list[bytes]:
        ran.append(environ["wsgi.input"].read())
        start_response("201 Created", [])
        return [b"ok"]

    store = MemoryStore()
    wsgi = IdempotencyWSGIMiddleware(app, store=store, registry=CollectorRegistry())
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/orders",
        "CONTENT_LENGTH": "10",
        "HTTP_IDEMPOTENCY_KEY": "k",
        "wsgi.input": io.BytesIO(b'{"a"'),
    }
    body = b"".join(wsgi(environ, lambda status, headers: statuses.append(status)))

    assert ran == []
    assert statuses == ["400 Bad Request"]
    assert json.loads(body)["type"].endswith("/body-incomplete")
    assert isinstance(store.begin("k", "fp", lock_ttl=1), Acquired)


class _SlowReleaseStore(MemoryStore):
    """A memory store whose release awaits, as a network store's does."""

    async def arelease(self, key: str, token: str) -> bool:
        await asyncio.sleep(0)
        return await super().arelease(key, token)


async def test_cancelled_request_still_releases_its_key() -> None:
    """A request cancelled by a level-triggered (anyio) cancel scope frees its key.

    Under anyio every await inside a cancelled scope is cancelled again, so the release
    after the app was cancelled must be shielded or the key stays locked for lock_ttl.
    """
    import anyio

    store = _SlowReleaseStore()
    started = anyio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        started.set()
        await anyio.sleep_forever()

    middleware = IdempotencyMiddleware(app, store=store, registry=CollectorRegistry())
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/orders",
        "query_string": b"",
        "headers": [(b"idempotency-key", b'"k-1"')],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Any) -> None:
        return None

    async with anyio.create_task_group() as group:
        group.start_soon(middleware, scope, receive, send)
        await started.wait()
        group.cancel_scope.cancel()
    for _ in range(3):  # let a shielded release finish
        await asyncio.sleep(0)

    assert isinstance(await store.abegin("k-1", "fp", lock_ttl=60.0), Acquired)
