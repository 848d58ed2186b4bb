"""The per-request core: telemetry failures never reach the request; names and labels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from middleware_apps import ok_asgi_app, ok_wsgi_app
from middleware_fixtures import Harness, call_asgi, call_wsgi, http_scope, make_harness

from toolkit import semconv
from toolkit._http import error_type_of, normalize_method
from toolkit.middleware import ROUTE_KEY, ToolkitASGIMiddleware, ToolkitWSGIMiddleware


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


class BrokenTracerProvider:
    """A tracer provider whose tracer fails to start spans."""

    def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
        class Tracer:
            def start_span(self, *args: Any, **kwargs: Any) -> Any:
                raise RuntimeError("exporter exploded")

        return Tracer()


def raising_generator() -> str:
    raise RuntimeError("generator broke")


def raising_validator(value: str) -> bool:
    raise RuntimeError("validator broke")


async def asgi_ok(scope: Any, receive: Any, send: Any) -> None:
    scope[ROUTE_KEY] = "/ok"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def wsgi_ok(environ: dict[str, Any], start_response: Any) -> Any:
    environ[ROUTE_KEY] = "/ok"
    start_response("200 OK", [])
    return [b"ok"]


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
@pytest.mark.parametrize(
    ("options", "component"),
    [
        ({"tracer_provider": BrokenTracerProvider()}, "tracing"),
        ({"correlation_generator": raising_generator}, "correlation"),
        ({"correlation_validator": raising_validator}, "correlation"),
    ],
    ids=["tracer", "generator", "validator"],
)
async def test_telemetry_failure_is_counted_logged_once_and_harmless(
    harness: Harness, asgi: bool, options: dict[str, Any], component: str
) -> None:
    """A failing part of the telemetry: both requests succeed with a (generated)
    correlation ID, the failure is counted per request and logged once."""
    wired = harness.options(**options)
    middleware: Any = (
        ToolkitASGIMiddleware(asgi_ok, **wired) if asgi else ToolkitWSGIMiddleware(wsgi_ok, **wired)
    )
    for _ in range(2):
        if asgi:
            sent = await call_asgi(middleware, http_scope("/ok", [(b"x-request-id", b"bad id")]))
            status, echoed = sent[0]["status"], dict(sent[0]["headers"])[b"x-request-id"]
        else:
            response = call_wsgi(middleware, "/ok", {"X-Request-ID": "bad id"})
            status, echoed = response.status_code, response.headers["x-request-id"].encode()
        assert status == 200
        assert len(echoed) == 32

    errors = harness.sample(semconv.TELEMETRY_ERRORS, {semconv.LABEL_COMPONENT: component})
    assert errors == 2.0
    reports = [line for line in harness.logs() if line["logger"] == "toolkit.middleware"]
    assert len(reports) == 1
    assert reports[0]["level"] == "error"
    assert len(harness.access_logs()) == 2
    assert harness.duration_count("GET", "/ok", 200) == 2.0


async def test_failing_access_log_sink_is_counted(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An access logger that raises: the request goes on, the failure is counted."""

    class Broken:
        def log(self, fields: dict[str, Any]) -> None:
            raise OSError("disk full")

    middleware = ToolkitASGIMiddleware(asgi_ok, **harness.options())
    monkeypatch.setattr(middleware.telemetry, "access_logger", Broken())
    sent = await call_asgi(middleware, http_scope("/ok"))

    assert sent[0]["status"] == 200
    labels = {semconv.LABEL_COMPONENT: "access_log"}
    assert harness.sample(semconv.TELEMETRY_ERRORS, labels) == 1.0


@pytest.mark.parametrize(
    ("method", "expected"),
    [("GET", "GET"), ("PATCH", "PATCH"), ("PURGE", "_OTHER"), ("get", "_OTHER"), ("", "_OTHER")],
)
def test_normalize_method(method: str, expected: str) -> None:
    """Known methods (case-sensitive, as the conventions say) pass; others are _OTHER."""
    assert normalize_method(method) == expected


class QuotaExceeded(Exception):
    """An application exception."""


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (RuntimeError("x"), "RuntimeError"),
        (TimeoutError(), "TimeoutError"),
        (QuotaExceeded(), f"{__name__}.QuotaExceeded"),
    ],
)
def test_error_type_is_qualified_class_name(exc: BaseException, expected: str) -> None:
    """Built-ins by bare name, everything else module-qualified."""
    assert error_type_of(exc) == expected


async def test_disabled_parts_record_nothing(harness: Harness) -> None:
    """tracing/metrics/access_log off: no span, no series, no line; header still echoed."""
    middleware = ToolkitASGIMiddleware(
        asgi_ok, **harness.options(tracing=False, metrics=False, access_log=False)
    )
    sent = await call_asgi(middleware, http_scope("/ok", [(b"x-request-id", b"off-1")]))

    assert dict(sent[0]["headers"])[b"x-request-id"] == b"off-1"
    assert harness.spans() == []
    assert harness.access_logs() == []
    assert harness.duration_count("GET", "/ok", 200) == 0.0


@pytest.mark.parametrize(
    ("options", "incoming", "expected"),
    [
        ({"correlation_validator": lambda value: True}, "evil\r\nSet-Cookie: x=1", None),
        ({"correlation_validator": lambda value: True}, "naïve", None),
        ({"correlation_validator": lambda value: True}, "any thing", "any thing"),
        ({"correlation_generator": lambda: "line\nbreak"}, "", None),
        ({"correlation_generator": lambda: "custom-7"}, "", "custom-7"),
    ],
    ids=["crlf-accepted", "non-ascii-accepted", "permissive", "unsafe-generated", "custom"],
)
async def test_custom_strategies_cannot_put_unsafe_values_in_headers(
    harness: Harness, options: dict[str, Any], incoming: str, expected: str | None
) -> None:
    """Custom validators and generators are plain callables, but a value with control
    characters or non-ASCII never reaches a header: a uuid4 hex replaces it."""
    middleware = ToolkitASGIMiddleware(asgi_ok, **harness.options(**options))
    headers = [(b"x-request-id", incoming.encode())] if incoming else []
    sent = await call_asgi(middleware, http_scope("/ok", headers))

    echoed = dict(sent[0]["headers"])[b"x-request-id"].decode()
    if expected is None:
        assert len(echoed) == 32
        assert echoed.isalnum()
    else:
        assert echoed == expected


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_server_span_parent_comes_from_the_request_only(harness: Harness, asgi: bool) -> None:
    """A span left current in the server's context does not become the parent of the
    next request's server span: without a traceparent the server span is a root."""
    from opentelemetry import context, trace

    leftover = harness.provider.get_tracer("test").start_span("leftover")
    token = context.attach(trace.set_span_in_context(leftover))
    try:
        if asgi:
            await call_asgi(ToolkitASGIMiddleware(asgi_ok, **harness.options()), http_scope("/ok"))
        else:
            call_wsgi(ToolkitWSGIMiddleware(wsgi_ok, **harness.options()), "/ok")
    finally:
        context.detach(token)

    (span,) = harness.spans()
    assert span.parent is None
    assert span.context.trace_id != leftover.get_span_context().trace_id


def test_exemplar_due_once_per_bucket_and_interval() -> None:
    """Each bucket of each series takes a new exemplar at most once per EXEMPLAR_INTERVAL."""
    from prometheus_client import CollectorRegistry

    from toolkit.middleware.config import resolve_settings
    from toolkit.middleware.telemetry import EXEMPLAR_INTERVAL, Telemetry

    core = Telemetry(resolve_settings({"registry": CollectorRegistry(), "tracing": False}))
    ok = ("GET", "/ok", "200", "")
    assert core.exemplar_due(ok, 0.001, now=100.0) is True
    assert core.exemplar_due(ok, 0.002, now=100.5) is False  # same bucket (le=0.005)
    assert core.exemplar_due(ok, 0.005, now=100.5) is False  # the bound is in the bucket
    assert core.exemplar_due(ok, 0.3, now=100.5) is True  # another bucket
    assert core.exemplar_due(ok, 99.0, now=100.5) is True  # +Inf
    assert core.exemplar_due(("GET", "/other", "200", ""), 0.001, now=100.5) is True
    assert core.exemplar_due(ok, 0.001, now=100.0 + EXEMPLAR_INTERVAL) is True


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_exemplar_is_kept_within_the_interval(
    harness: Harness, asgi: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second sampled request in the same bucket within the interval leaves the first's
    trace ID as the exemplar; once the interval is over, the newer one replaces it."""
    from toolkit.middleware import telemetry as core

    options = harness.options()
    app = (
        ToolkitASGIMiddleware(asgi_ok, **options)
        if asgi
        else ToolkitWSGIMiddleware(wsgi_ok, **options)
    )

    async def request() -> None:
        if asgi:
            await call_asgi(app, http_scope("/ok"))
        else:
            call_wsgi(app, "/ok")

    def exemplar() -> str | None:
        bucket = f"{semconv.HTTP_SERVER_REQUEST_DURATION}_bucket"
        found = [
            sample.exemplar.labels[semconv.EXEMPLAR_TRACE_ID]
            for family in options["registry"].collect()
            for sample in family.samples
            if sample.name == bucket and sample.exemplar is not None
        ]
        assert len(found) == 1
        return found[0]

    await request()
    await request()
    first, second = (format(s.context.trace_id, "032x") for s in harness.spans())
    assert first != second
    assert exemplar() == first
    monkeypatch.setattr(core, "EXEMPLAR_INTERVAL", 0.0)
    app.telemetry._exemplar_due.clear()
    await request()
    third = format(harness.spans()[2].context.trace_id, "032x")
    assert exemplar() == third


def _touch_current_span() -> None:
    """What app code does with the request's span: attributes (one to be cleaned), an
    event, and a child span."""
    from opentelemetry import trace

    span = trace.get_current_span()
    span.set_attribute("app.items", [1, 2])
    span.set_attributes({"app.tenant": "t1"})
    span.add_event("app.checkpoint", {"step": 1})
    trace.get_tracer("app").start_span("child").end()


async def asgi_touching(scope: Any, receive: Any, send: Any) -> None:
    _touch_current_span()
    await asgi_ok(scope, receive, send)


def wsgi_touching(environ: dict[str, Any], start_response: Any) -> Any:
    _touch_current_span()
    return wsgi_ok(environ, start_response)


class ForwardingTracerProvider:
    """The harness's SDK provider behind another class: the middleware cannot start
    spans itself and calls ``start_span``."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
        tracer = self.provider.get_tracer(*args, **kwargs)

        class Tracer:
            def start_span(self, *args: Any, **kwargs: Any) -> Any:
                return tracer.start_span(*args, **kwargs)

        return Tracer()


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_app_code_sees_the_same_span_with_or_without_the_fast_start(
    harness: Harness, asgi: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server span toolkit starts itself (ServerSpan) and the one the SDK's
    start_span makes export the same fields when app code sets attributes (cleaned:
    a list becomes a tuple), adds an event and starts a child span."""
    from opentelemetry import trace

    from toolkit.tracing._sdk_gate import ServerSpan

    monkeypatch.setattr(trace, "get_tracer", harness.provider.get_tracer)
    exported = []
    for provider in (harness.provider, ForwardingTracerProvider(harness.provider)):
        harness.exporter.clear()
        options = harness.options(tracer_provider=provider)
        if asgi:
            await call_asgi(ToolkitASGIMiddleware(asgi_touching, **options), http_scope("/ok"))
        else:
            call_wsgi(ToolkitWSGIMiddleware(wsgi_touching, **options), "/ok")
        child, server = harness.spans()
        assert child.parent is not None and child.parent.span_id == server.context.span_id
        exported.append(server)
    fast, slow = exported
    assert type(fast) is ServerSpan and type(slow) is not ServerSpan

    def fields(span: Any) -> tuple[Any, ...]:
        attributes = dict(span.attributes)
        del attributes[semconv.SPAN_ATTR_CORRELATION_ID]  # a new ID per request
        return (
            span.name,
            span.kind,
            attributes,
            [(event.name, dict(event.attributes)) for event in span.events],
            span.status.status_code,
            span.dropped_attributes,
        )

    assert fields(fast) == fields(slow)
    assert dict(fast.attributes)["app.items"] == (1, 2)


@pytest.mark.parametrize("length", ["²", "١٢", "-1", "12a", ""])
@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_a_content_length_that_is_no_number_balances_the_request(
    harness: Harness, asgi: bool, length: str
) -> None:
    """A Content-Length ``int()`` refuses (``"²"`` passes ``str.isdigit``) is ignored: the
    app answers, the active-requests gauge is back at 0, the span ended, no size."""
    app: Any
    if asgi:
        app = ToolkitASGIMiddleware(ok_asgi_app, **harness.options())
        headers = [(b"content-length", length.encode("utf-8"))]
        messages = await call_asgi(app, http_scope("/items/1", headers, method="POST"))
        status = messages[0]["status"]
    else:
        app = ToolkitWSGIMiddleware(ok_wsgi_app, **harness.options())
        response = call_wsgi(app, "/items/1", {"Content-Length": length}, method="POST")
        status = response.status_code
    assert status == 200
    active = {semconv.LABEL_METHOD: "POST", semconv.LABEL_URL_SCHEME: "http"}
    assert harness.sample(semconv.HTTP_SERVER_ACTIVE_REQUESTS, active) == 0.0
    assert [span.name for span in harness.spans()] == ["POST"]
    assert (
        harness.sample(
            semconv.HTTP_SERVER_REQUEST_BODY_SIZE + "_count",
            {
                semconv.LABEL_METHOD: "POST",
                semconv.LABEL_ROUTE: semconv.UNMATCHED_ROUTE,
                semconv.LABEL_STATUS_CODE: "200",
                semconv.LABEL_ERROR_TYPE: "",
            },
        )
        is None
    )


async def test_state_balances_when_the_request_hook_setup_raises(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever raises between the start of a request and the app (here the body-size
    parser itself), the gauge returns to 0 and the span ends: state lives in a context
    manager."""
    from toolkit.middleware import asgi as asgi_module

    def broken(value: str | None) -> int | None:
        raise ValueError("parser bug")

    monkeypatch.setattr(asgi_module, "parse_content_length", broken)
    app = ToolkitASGIMiddleware(ok_asgi_app, **harness.options())
    with pytest.raises(ValueError, match="parser bug"):
        await call_asgi(app, http_scope("/items/1"))
    active = {semconv.LABEL_METHOD: "GET", semconv.LABEL_URL_SCHEME: "http"}
    assert harness.sample(semconv.HTTP_SERVER_ACTIVE_REQUESTS, active) == 0.0
    assert [span.name for span in harness.spans()] == ["GET"]
    assert harness.spans()[0].end_time is not None


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_the_gauge_comes_down_when_an_observation_raises(
    harness: Harness, asgi: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An observation that raises (EMFILE opening a new multi-process file, say) is
    counted; the active-requests gauge still comes back to 0."""
    from prometheus_client import Histogram

    def broken(self: Any, amount: float, exemplar: Any = None) -> None:
        raise OSError("too many open files")

    monkeypatch.setattr(Histogram, "observe", broken)
    if asgi:
        app: Any = ToolkitASGIMiddleware(ok_asgi_app, **harness.options())
        await call_asgi(app, http_scope("/x"))
    else:
        app = ToolkitWSGIMiddleware(ok_wsgi_app, **harness.options())
        call_wsgi(app, "/x")
    active = {semconv.LABEL_METHOD: "GET", semconv.LABEL_URL_SCHEME: "http"}
    assert harness.sample(semconv.HTTP_SERVER_ACTIVE_REQUESTS, active) == 0.0
    errors = {semconv.LABEL_COMPONENT: "metrics"}
    assert harness.sample(semconv.TELEMETRY_ERRORS, errors) == 1.0
