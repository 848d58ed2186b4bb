"""ToolkitWSGIMiddleware: response iterables, close(), exceptions, streaming timing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from middleware_fixtures import FakeClock, Harness, call_wsgi, make_harness
from opentelemetry.trace import StatusCode

from toolkit import get_correlation_id, semconv
from toolkit.middleware import ROUTE_KEY, ToolkitWSGIMiddleware


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


class Body:
    """A response iterable that records whether the server closed it."""

    def __init__(self, chunks: list[bytes], fail_at: int | None = None) -> None:
        self.chunks = chunks
        self.fail_at = fail_at
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(self.chunks):
            if index == self.fail_at:
                raise ConnectionError("upstream went away")
            yield chunk

    def close(self) -> None:
        self.closed = True


def test_duration_ends_when_the_body_is_closed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Time spent producing chunks counts; time after close() does not."""
    clock = FakeClock()
    monkeypatch.setattr("toolkit.middleware.request.perf_counter", clock)

    def chunks() -> Iterator[bytes]:
        for chunk in (b"a", b"bb", b"ccc"):
            clock.advance(0.5)
            yield chunk

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ[ROUTE_KEY] = "/stream"
        clock.advance(0.25)
        start_response("200 OK", [])
        return chunks()

    middleware = ToolkitWSGIMiddleware(app, **harness.options())
    response = call_wsgi(middleware, "/stream")
    clock.advance(10.0)

    assert response.content == b"abbccc"
    (access,) = harness.access_logs()
    assert access[semconv.LOG_DURATION_MS] == 1750.0
    assert access[semconv.LOG_RESPONSE_BYTES] == 6


def test_app_iterable_is_closed_and_request_recorded_once(harness: Harness) -> None:
    """close() reaches the app's iterable; a second close() records nothing more."""
    body = Body([b"x", b"y"])

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        return body

    middleware = ToolkitWSGIMiddleware(app, **harness.options())
    result = middleware({"PATH_INFO": "/b", "REQUEST_METHOD": "GET"}, lambda *a: None)
    assert b"".join(result) == b"xy"
    result.close()  # type: ignore[attr-defined]
    result.close()  # type: ignore[attr-defined]

    assert body.closed is True
    assert len(harness.access_logs()) == 1
    assert len(harness.spans()) == 1
    assert get_correlation_id() is None


def test_exception_while_iterating_is_recorded_and_reraised(harness: Harness) -> None:
    """An error from the body after the response started: re-raised, recorded once."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ[ROUTE_KEY] = "/feed"
        start_response("200 OK", [])
        return Body([b"one", b"two"], fail_at=1)

    middleware = ToolkitWSGIMiddleware(app, **harness.options())
    with pytest.raises(ConnectionError):
        call_wsgi(middleware, "/feed")

    error = "ConnectionError"
    assert harness.duration_count("GET", "/feed", 200, error) == 1.0
    (span,) = harness.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})[semconv.SPAN_ATTR_ERROR_TYPE] == error
    (access,) = harness.access_logs()
    assert access[semconv.LOG_RESPONSE_BYTES] == 3


def test_exception_before_start_becomes_500_with_header(harness: Harness) -> None:
    """The app raises before start_response: a 500 carrying the correlation ID, and the
    traceback is logged (as a server would) with the request's correlation ID."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        raise LookupError("nope")

    middleware = ToolkitWSGIMiddleware(app, **harness.options())
    response = call_wsgi(middleware, "/x", {"X-Request-ID": "w-500"})

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "w-500"
    assert response.content == b"Internal Server Error"
    assert harness.duration_count("GET", semconv.UNROUTED_ROUTE, 500, "LookupError") == 1.0
    (error_line,) = [line for line in harness.logs() if line["logger"] == "toolkit.middleware"]
    assert error_line["level"] == "error"
    assert error_line[semconv.LOG_CORRELATION_ID] == "w-500"
    assert "LookupError" in str(error_line["exception"])


def test_write_callable_bytes_are_counted(harness: Harness) -> None:
    """Bytes written through start_response's write() count as response bytes."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        write = start_response("200 OK", [])
        write(b"legacy")
        return [b"!"]

    middleware = ToolkitWSGIMiddleware(app, **harness.options())
    call_wsgi(middleware, "/w")

    (access,) = harness.access_logs()
    assert access[semconv.LOG_RESPONSE_BYTES] == 7


def test_request_body_size_from_content_length(harness: Harness) -> None:
    """Content-Length feeds the request body size histogram."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ[ROUTE_KEY] = "/upload"
        start_response("201 Created", [])
        return [b""]

    middleware = ToolkitWSGIMiddleware(app, **harness.options())
    environ = {"PATH_INFO": "/upload", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": "1234"}
    middleware(environ, lambda *a: None)

    labels = {
        semconv.LABEL_METHOD: "POST",
        semconv.LABEL_ROUTE: "/upload",
        semconv.LABEL_STATUS_CODE: "201",
        semconv.LABEL_ERROR_TYPE: "",
    }
    assert harness.sample(semconv.HTTP_SERVER_REQUEST_BODY_SIZE + "_sum", labels) == 1234.0
    assert harness.sample(semconv.HTTP_SERVER_REQUEST_BODY_SIZE + "_count", labels) == 1.0


@pytest.mark.parametrize(
    ("method", "status", "body_start"),
    [("GET", 200, b"# HELP"), ("HEAD", 200, b""), ("DELETE", 405, b"")],
)
def test_metrics_endpoint(harness: Harness, method: str, status: int, body_start: bytes) -> None:
    """/metrics answers GET and HEAD from the injected registry, 405 otherwise."""
    middleware = ToolkitWSGIMiddleware(None, **harness.options())  # type: ignore[arg-type]
    response = call_wsgi(middleware, "/metrics", method=method)

    assert response.status_code == status
    assert response.content.startswith(body_start)
    assert harness.spans() == []


def test_excluded_path_keeps_only_correlation(harness: Harness) -> None:
    """An excluded path: correlation ID echoed and visible, no span, series or log."""
    seen: list[str | None] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(get_correlation_id())
        start_response("200 OK", [])
        return [b"ok"]

    middleware = ToolkitWSGIMiddleware(app, **harness.options(excluded_paths=["/healthz"]))
    response = call_wsgi(middleware, "/healthz", {"X-Request-ID": "h-1"})

    assert response.headers["x-request-id"] == "h-1"
    assert seen == ["h-1"]
    assert harness.spans() == []
    assert harness.access_logs() == []
    assert get_correlation_id() is None


def test_excluded_path_streaming_body_sees_correlation(harness: Harness) -> None:
    """An excluded path whose body is a generator: the correlation ID is still set while
    the server iterates and closes it, and gone afterwards."""
    seen: list[str | None] = []

    def chunks() -> Iterator[bytes]:
        try:
            seen.append(get_correlation_id())
            yield b"ok"
        finally:
            seen.append(get_correlation_id())

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        return chunks()

    middleware = ToolkitWSGIMiddleware(app, **harness.options(excluded_paths=["/stream"]))
    response = call_wsgi(middleware, "/stream", {"X-Request-ID": "s-1"})

    assert (response.content, response.headers["x-request-id"]) == (b"ok", "s-1")
    assert seen == ["s-1", "s-1"]
    assert get_correlation_id() is None


def test_client_gone_mid_body_is_recorded_once(harness: Harness) -> None:
    """The server stops iterating after one chunk (client gone) and closes the body: the
    request is recorded once with the bytes that got out; nothing stays active."""
    body = Body([b"one", b"two", b"three"])

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ[ROUTE_KEY] = "/feed"
        start_response("200 OK", [])
        return body

    middleware = ToolkitWSGIMiddleware(app, **harness.options())
    result: Any = middleware({"PATH_INFO": "/feed", "REQUEST_METHOD": "GET"}, lambda *a: None)
    chunks = iter(result)
    assert next(chunks) == b"one"
    result.close()

    assert body.closed is True
    (access,) = harness.access_logs()
    assert access[semconv.LOG_RESPONSE_BYTES] == 3
    assert access[semconv.LOG_STATUS] == 200
    active = {semconv.LABEL_METHOD: "GET", semconv.LABEL_URL_SCHEME: "http"}
    assert harness.sample(semconv.HTTP_SERVER_ACTIVE_REQUESTS, active) == 0.0
    assert get_correlation_id() is None


def test_app_context_survives(harness: Harness) -> None:
    """ContextVars the caller set are visible in the app; structlog contextvars the app
    binds appear on the access-log line but do not leak into the server thread's next
    request."""
    import contextvars

    import structlog

    tenant = contextvars.ContextVar[str]("tenant")
    seen: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(tenant.get())
        structlog.contextvars.bind_contextvars(user_id="u-9")
        start_response("200 OK", [])
        return iter([b"ok"])

    tenant.set("acme")
    middleware = ToolkitWSGIMiddleware(app, **harness.options())
    call_wsgi(middleware, "/ctx")

    assert seen == ["acme"]
    (access,) = harness.access_logs()
    assert access["user_id"] == "u-9"
    assert structlog.contextvars.get_contextvars() == {}


def test_exception_after_write_is_recorded_and_reraised(harness: Harness) -> None:
    """The app wrote bytes with write() and then raised: the headers are out, so the
    server's start_response re-raises (PEP 3333); the request is still recorded once,
    its span ended and the correlation ID restored."""
    sent: list[bytes] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        if exc_info is not None and sent:
            raise exc_info[1].with_traceback(exc_info[2])
        return sent.append

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ[ROUTE_KEY] = "/legacy"
        write = start_response("200 OK", [])
        write(b"partial")
        raise LookupError("half way")

    middleware = ToolkitWSGIMiddleware(app, **harness.options())
    with pytest.raises(LookupError):
        middleware({"PATH_INFO": "/legacy", "REQUEST_METHOD": "GET"}, start_response)

    assert sent == [b"partial"]
    assert harness.duration_count("GET", "/legacy", 200, "LookupError") == 1.0
    (span,) = harness.spans()
    assert span.status.status_code is StatusCode.ERROR
    (access,) = harness.access_logs()
    assert access[semconv.LOG_RESPONSE_BYTES] == 7
    assert get_correlation_id() is None


class Killed(BaseException):
    """What gevent's Timeout or GreenletExit look like to the middleware."""


def test_a_base_exception_still_balances_the_request(harness: Harness) -> None:
    """A BaseException that is no Exception leaves the app: the request is recorded, the
    gauge is back at 0, the span ended, and it goes on up to the server."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise Killed()

    middleware = ToolkitWSGIMiddleware(app, **harness.options())
    with pytest.raises(Killed):
        call_wsgi(middleware, "/x")
    active = {semconv.LABEL_METHOD: "GET", semconv.LABEL_URL_SCHEME: "http"}
    assert harness.sample(semconv.HTTP_SERVER_ACTIVE_REQUESTS, active) == 0.0
    (span,) = harness.spans()
    assert span.end_time is not None
    assert get_correlation_id() is None
