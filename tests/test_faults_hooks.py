"""User hooks and a log sink that raise: logged once, counted, the request unaffected."""

from __future__ import annotations

import io
from collections.abc import Iterator, MutableMapping
from typing import Any

import httpx
import pytest
from opentelemetry.trace import Span

from tests.middleware_apps import ok_asgi_app as asgi_app
from tests.middleware_apps import ok_wsgi_app as wsgi_app
from tests.middleware_fixtures import Harness, make_harness
from toolkit import semconv
from toolkit.middleware import ToolkitASGIMiddleware, ToolkitWSGIMiddleware, request_header

REQUESTS = 3


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


@pytest.fixture(params=["asgi", "wsgi"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def get_many(kind: str, **options: Any) -> list[httpx.Response]:
    """REQUESTS GETs through the ``kind`` middleware."""
    if kind == "asgi":
        transport = httpx.ASGITransport(app=ToolkitASGIMiddleware(asgi_app, **options))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.get("/items/1") for _ in range(REQUESTS)]
    wsgi = ToolkitWSGIMiddleware(wsgi_app, **options)
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi), base_url="http://test") as client:
        return [client.get("/items/1") for _ in range(REQUESTS)]


def hook_logs(harness: Harness) -> list[str]:
    return [
        line["event"]
        for line in harness.logs()
        if line.get("logger") == "toolkit.middleware" and "hook" in line["event"]
    ]


async def test_hooks_see_span_and_request(kind: str, harness: Harness) -> None:
    """request_hook gets the span and the scope/environ; response_hook also the status;
    attributes they set land on the server span."""
    seen: list[tuple[str, Any]] = []

    def request_hook(span: Span, carrier: MutableMapping[str, Any]) -> None:
        path = carrier.get("path") or carrier.get("PATH_INFO")
        seen.append(("request", path))
        span.set_attribute("app.tenant", "t1")

    def response_hook(span: Span, carrier: MutableMapping[str, Any], status: int) -> None:
        seen.append(("response", status))

    responses = await get_many(
        kind, request_hook=request_hook, response_hook=response_hook, **harness.options()
    )
    assert [r.status_code for r in responses] == [200] * REQUESTS
    assert seen == [("request", "/items/1"), ("response", 200)] * REQUESTS
    assert [(s.attributes or {})["app.tenant"] for s in harness.spans()] == ["t1"] * REQUESTS


async def test_one_hook_reads_a_header_under_both_middlewares(kind: str, harness: Harness) -> None:
    """The tenant hook of docs/production.md: ``request_header`` reads ``X-Tenant`` from
    the scope (ASGI) and from the environ (WSGI) alike; a request without it gets ''."""

    def tag_tenant(span: Span, scope_or_environ: MutableMapping[str, Any]) -> None:
        span.set_attribute("app.tenant", request_header(scope_or_environ, "x-tenant") or "")

    headers = [{"X-Tenant": "acme"}, {}]
    if kind == "asgi":
        app = ToolkitASGIMiddleware(asgi_app, request_hook=tag_tenant, **harness.options())
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            for extra in headers:
                await client.get("/items/1", headers=extra)
    else:
        wsgi = ToolkitWSGIMiddleware(wsgi_app, request_hook=tag_tenant, **harness.options())
        with httpx.Client(transport=httpx.WSGITransport(app=wsgi), base_url="http://test") as sync:
            for extra in headers:
                sync.get("/items/1", headers=extra)

    assert [(s.attributes or {})["app.tenant"] for s in harness.spans()] == ["acme", ""]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("X-Tenant", "acme"), ("x-tenant", "acme"), ("Content-Type", "text/plain"), ("X-None", None)],
)
def test_request_header_from_a_scope_or_an_environ(name: str, expected: str | None) -> None:
    """Any case of a name finds the header in a scope and in an environ (PEP 3333's
    unprefixed CONTENT_TYPE included); a missing header is None."""
    scope = {"type": "http", "headers": [(b"x-tenant", b"acme"), (b"content-type", b"text/plain")]}
    environ = {"REQUEST_METHOD": "GET", "HTTP_X_TENANT": "acme", "CONTENT_TYPE": "text/plain"}

    assert (request_header(scope, name), request_header(environ, name)) == (expected, expected)


def test_request_header_joins_a_repeated_asgi_header() -> None:
    """Two ``X-Tenant`` headers in a scope read as WSGI servers join them."""
    scope = {"type": "http", "headers": [(b"x-tenant", b"a"), (b"x-tenant", b"b")]}

    assert request_header(scope, "X-Tenant") == "a, b"


@pytest.mark.parametrize("which", ["request_hook", "response_hook"])
async def test_raising_hook(kind: str, harness: Harness, which: str) -> None:
    """A hook that raises on every request: every request still answers 200 with the
    app's body and a span; each failure is counted under component="hook"; one log line."""

    def broken(*args: Any) -> None:
        raise RuntimeError("hook bug")

    responses = await get_many(kind, **{which: broken}, **harness.options())
    assert [(r.status_code, r.text) for r in responses] == [(200, "app")] * REQUESTS
    assert len(harness.spans()) == REQUESTS
    assert len(harness.access_logs()) == REQUESTS
    assert harness.sample(semconv.TELEMETRY_ERRORS, {semconv.LABEL_COMPONENT: "hook"}) == float(
        REQUESTS
    )
    assert hook_logs(harness) == [
        "toolkit telemetry failed in hook; the request goes on (logged once)"
    ]


class FullDisk(io.StringIO):
    """A log stream that cannot be written."""

    def write(self, text: str) -> int:
        raise OSError("No space left on device")


async def test_raising_log_sink(
    kind: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through instrument() with stdout broken: requests succeed, every unwritable line is
    counted (component="log_sink"), and stderr says so once."""
    import logging

    import structlog
    from prometheus_client import CollectorRegistry

    import toolkit
    from toolkit.logs import JSONLinesHandler

    registry = CollectorRegistry()
    monkeypatch.setattr("sys.stdout", FullDisk())
    app = asgi_app if kind == "asgi" else wsgi_app
    try:
        wrapped = toolkit.instrument(app, service="orders", registry=registry, tracing=False)
        if kind == "asgi":
            transport = httpx.ASGITransport(app=wrapped)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                responses = [await client.get("/items/1") for _ in range(REQUESTS)]
        else:
            with httpx.Client(
                transport=httpx.WSGITransport(app=wrapped), base_url="http://test"
            ) as client:
                responses = [client.get("/items/1") for _ in range(REQUESTS)]
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if isinstance(h, JSONLinesHandler)]:
            root.removeHandler(handler)
        structlog.reset_defaults()
    assert [r.status_code for r in responses] == [200] * REQUESTS
    # Per request: the access-log line and httpx's own "HTTP Request" line.
    errors = registry.get_sample_value(
        semconv.TELEMETRY_ERRORS, {semconv.LABEL_COMPONENT: "log_sink"}
    )
    assert errors == float(2 * REQUESTS)
    reports = [line for line in capsys.readouterr().err.splitlines() if "cannot write" in line]
    assert len(reports) == 1
