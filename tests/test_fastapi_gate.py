"""The FastAPI gate: FastAPI's request state and included-router entries are read only
while its self-check finds, through them, the templates a FastAPI app declares; closed,
templates come from public Starlette API alone."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount

from tests.middleware_apps import prefixed_fastapi
from tests.middleware_fixtures import Harness, call_asgi, http_scope, make_harness
from toolkit import semconv
from toolkit.middleware import ToolkitASGIMiddleware
from toolkit.middleware import _fastapi_gate as fastapi_gate

GATE = fastapi_gate.GATE


def _includes_at_request_time() -> bool:
    app = FastAPI()
    app.include_router(APIRouter(prefix="/r"))
    return any(hasattr(route, "effective_candidates") for route in app.router.routes)


# Releases that keep included routers as entries of their own (earlier ones copy their
# routes with the prefixes): only then is there anything the gate reads.
needs_included_entries = pytest.mark.skipif(
    not _includes_at_request_time(), reason="FastAPI copies included routes: nothing to read"
)
needs_frontends = pytest.mark.skipif(
    not hasattr(FastAPI, "frontend"), reason="this FastAPI has no app.frontend()"
)


@pytest.fixture(autouse=True)
def undecided_gate() -> Iterator[None]:
    """The gate decides afresh in each test, and again after it."""
    GATE.force(None)
    yield
    GATE.force(None)


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


async def route_label(harness: Harness, app: Any, path: str) -> str:
    """The ``route`` of the access line for a GET ``path`` through the middleware."""
    middleware = ToolkitASGIMiddleware(app, **harness.options())
    await call_asgi(middleware, http_scope(path))
    (access,) = harness.access_logs()
    return str(access[semconv.LOG_ROUTE])


def test_the_gate_opens_on_the_installed_fastapi() -> None:
    """The installed FastAPI passes the self-check (within the tested range)."""
    status = GATE.status()
    assert (status.active, status.reason) == (
        True,
        f"fastapi {status.version} in the tested range, self-check passed",
    )


@pytest.mark.parametrize("mounted", [False, True], ids=["direct", "through a mount"])
async def test_open_the_include_prefixes_are_in_the_template(
    harness: Harness, mounted: bool
) -> None:
    """Routed directly (FastAPI's state) or matched again after a mount (its entries)."""
    app: Any = prefixed_fastapi()
    path = "/v1/orders/3/lines/9"
    if mounted:
        app, path = Starlette(routes=[Mount("/api", app=app)]), "/api" + path
    expected = "/api" * mounted + "/v1/orders/{order_id}/lines/{line}"
    assert await route_label(harness, app, path) == expected
    assert GATE.is_open()


@needs_included_entries
@pytest.mark.parametrize("mounted", [False, True], ids=["direct", "through a mount"])
async def test_closed_only_public_names_are_read(harness: Harness, mounted: bool) -> None:
    """Closed, the template is the route FastAPI leaves in the scope, as declared: its
    include prefixes are missing (what the gate is for), and nothing fails. Matched
    again after a mount, the included router's entry has no path of its own: the
    template is the mount's."""
    GATE.force(False)
    app: Any = prefixed_fastapi()
    path = "/v1/orders/3/lines/9"
    if mounted:
        app, path = Starlette(routes=[Mount("/api", app=app)]), "/api" + path
    label = await route_label(harness, app, path)
    assert label == ("/api" if mounted else "/orders/{order_id}/lines/{line}")


@needs_included_entries
def test_a_failed_self_check_closes_the_gate_and_says_why(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """FastAPI's state changed shape (simulated: the key read is no longer there): the
    self-check finds a template without the prefixes, the gate stays closed, one warning."""
    monkeypatch.setattr(fastapi_gate, "_CONTEXT", "no-such-key")
    with caplog.at_level(logging.WARNING, logger="toolkit.gate"):
        status = GATE.status()
    assert not status.active
    assert status.reason == (
        "self-check failed: AssertionError: /v1/orders/3: the route read is "
        "'/orders/{order_id}', not '/v1/orders/{order_id}'"
    )
    (record,) = caplog.records
    assert record.getMessage() == f"toolkit fastapi route templates: public API ({status.reason})"
    assert fastapi_gate.state_template({"fastapi": {"frontend_path": ""}}) is None


@needs_frontends
async def test_a_frontend_is_one_template(harness: Harness, tmp_path: Path) -> None:
    """``app.frontend("/app", ...)``: every path under it is ``/app/{path:path}``."""
    (tmp_path / "index.html").write_text("<html></html>\n")
    app = FastAPI()
    app.frontend("/app", directory=tmp_path)  # type: ignore[attr-defined]
    for path in ("/app/reports/7", "/app/index.html"):
        assert await route_label(harness, app, path) == "/app/{path:path}"
        harness.stream.truncate(0)
        harness.stream.seek(0)


def test_a_hanging_self_check_request_closes_the_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request of the self-check that never ends: the gate closes after the bound."""
    import asyncio

    monkeypatch.setattr(fastapi_gate, "_SELF_CHECK_SECONDS", 0.2)
    routed = fastapi_gate._routed

    async def stuck(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(60)

    monkeypatch.setattr(fastapi_gate, "_routed", lambda app, path: routed(stuck, path))
    status = GATE.status()
    assert (status.active, status.reason) == (
        False,
        "self-check failed: TimeoutError: a request to /v1/orders/3 took over 0.2 s",
    )


@needs_included_entries
async def test_a_read_that_raises_closes_the_gate_and_the_request_is_recorded(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """FastAPI's state read raising mid-request: the gate closes for good with one
    warning, and that request and the next get the public template."""
    assert GATE.active()

    def broken(scope: Any, state: Any) -> str | None:
        raise KeyError("effective_route_context")

    monkeypatch.setattr(fastapi_gate, "_state_template", broken)
    middleware = ToolkitASGIMiddleware(prefixed_fastapi(), **harness.options())
    with caplog.at_level(logging.WARNING, logger="toolkit.gate"):
        for _ in range(2):
            await call_asgi(middleware, http_scope("/v1/orders/3/lines/9"))
    labels = [access[semconv.LOG_ROUTE] for access in harness.access_logs()]
    assert labels == ["/orders/{order_id}/lines/{line}"] * 2
    assert not GATE.is_open()
    (warning,) = [r for r in caplog.records if r.name == "toolkit.gate"]
    assert "raised KeyError: 'effective_route_context'" in warning.getMessage()


async def test_one_router_included_at_two_prefixes_under_a_mount(harness: Harness) -> None:
    """FastAPI shares the route between the prefixes: each request gets its own."""
    router = APIRouter(prefix="/x")

    @router.get("/{item}")
    async def item(item: int) -> int:
        return item

    app = FastAPI()
    app.include_router(router, prefix="/v1")
    app.include_router(router, prefix="/v2")
    middleware = ToolkitASGIMiddleware(
        Starlette(routes=[Mount("/api", app=app)]), **harness.options()
    )
    for path in ("/api/v1/x/1", "/api/v2/x/1", "/api/v1/x/2", "/api/v2/x/2"):
        await call_asgi(middleware, http_scope(path))
    labels = [access[semconv.LOG_ROUTE] for access in harness.access_logs()]
    assert labels == ["/api/v1/x/{item}", "/api/v2/x/{item}"] * 2


def test_the_self_check_sends_no_telemetry(tmp_path: Path) -> None:
    """With global providers set (as instrument() sets them), FastAPI's own telemetry
    would record the self-check's requests: they are marked as instrumented, and the
    gate still opens (in a process of its own: providers are set once per process)."""
    script = tmp_path / "check.py"
    script.write_text(
        textwrap.dedent(
            """
            from opentelemetry import metrics, trace
            from opentelemetry.sdk.metrics import MeterProvider
            from opentelemetry.sdk.metrics.export import InMemoryMetricReader
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
                InMemorySpanExporter,
            )

            spans = InMemorySpanExporter()
            tracer_provider = TracerProvider()
            tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
            trace.set_tracer_provider(tracer_provider)
            reader = InMemoryMetricReader()
            metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))

            import fastapi  # noqa: F401
            from toolkit.middleware._fastapi_gate import GATE

            assert GATE.status().active, GATE.status()
            assert spans.get_finished_spans() == (), spans.get_finished_spans()
            data = reader.get_metrics_data()
            points = [
                metric.name
                for resource in (data.resource_metrics if data else [])
                for scope in resource.scope_metrics
                for metric in scope.metrics
            ]
            assert points == [], points
            print("ok")
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr


def test_the_gate_decides_when_an_app_is_instrumented(harness: Harness) -> None:
    """Instrumenting an ASGI app in a process that loaded FastAPI runs the self-check
    then: the first request does not wait for it."""
    assert not GATE.is_open()  # undecided
    ToolkitASGIMiddleware(prefixed_fastapi(), **harness.options())
    assert GATE.is_open()
