"""toolkit.middleware.autoinstrumented: one server span when OpenTelemetry's
instrumentors are active too (``opentelemetry-instrument``; the real command is run by
tests/test_tracing_autoinstrument.py)."""

from __future__ import annotations

import logging
import types
from collections.abc import Collection, Iterator
from typing import Any

import pytest
from middleware_fixtures import Harness, call, make_harness
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import toolkit
from toolkit.middleware import ToolkitASGIMiddleware, autoinstrumented
from toolkit.middleware.autoinstrumented import step_aside

FASTAPI_INSTRUMENTATION = "opentelemetry.instrumentation.fastapi"


@pytest.fixture
def harness() -> Iterator[Harness]:
    """Fresh registry, in-memory spans, captured logs."""
    yield from make_harness()


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget which instrumentors were already warned about."""
    monkeypatch.setattr(autoinstrumented, "_warned", set())


def _fastapi_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    return app


async def test_active_fastapi_instrumentor_steps_aside(harness: Harness) -> None:
    """With the FastAPI instrumentor active (what opentelemetry-instrument does), an app it
    instrumented gives 4 spans a request next to toolkit's middleware; through
    toolkit.instrument, 1: toolkit's server span. The app's middleware stack stays lazy
    (add_middleware still works)."""
    fastapi_instrumentation = pytest.importorskip(FASTAPI_INSTRUMENTATION)
    instrumentor = fastapi_instrumentation.FastAPIInstrumentor()
    instrumentor.instrument(tracer_provider=harness.provider)
    try:
        # The middleware alone does not step aside: toolkit's span, the instrumentor's
        # and one per response message.
        doubled = ToolkitASGIMiddleware(_fastapi_app(), **harness.options())
        await call(doubled, True, "/items/1")
        assert len(harness.spans()) == 4
        harness.exporter.clear()

        app = _fastapi_app()
        wrapped = toolkit.instrument(app, configure_logging=False, **harness.options())
        app.add_middleware(_Passthrough)
        response = await call(wrapped, True, "/items/1")
    finally:
        instrumentor.uninstrument()
    assert response.status_code == 200
    assert [(s.name, s.kind) for s in harness.spans()] == [
        ("GET /items/{item_id}", SpanKind.SERVER)
    ]


class _Passthrough:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _fake_instrumentor(module: str, name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An instrumentor class registered under ``module``, as if its package were imported."""

    def instrumentation_dependencies(self: Any) -> Collection[str]:
        return ()

    def _instrument(self: Any, **kwargs: Any) -> None:
        pass

    def _uninstrument(self: Any, **kwargs: Any) -> None:
        pass

    cls = type(
        name,
        (BaseInstrumentor,),
        {
            "instrumentation_dependencies": instrumentation_dependencies,
            "_instrument": _instrument,
            "_uninstrument": _uninstrument,
        },
    )
    fake = types.ModuleType(module)
    fake.__dict__[name] = cls
    monkeypatch.setitem(__import__("sys").modules, module, fake)
    return cls


def _starlette_app() -> Starlette:
    return Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])


@pytest.mark.usefixtures("fresh_warnings")
def test_instrumentor_that_cannot_be_removed_is_named_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An active Starlette instrumentor (no removal toolkit relies on): one warning per
    process naming OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=starlette; the app is untouched."""
    cls = _fake_instrumentor(
        "opentelemetry.instrumentation.starlette", "StarletteInstrumentor", monkeypatch
    )
    cls().instrument()
    app = _starlette_app()
    with caplog.at_level(logging.INFO, logger="toolkit.middleware"):
        assert step_aside(app) == ["starlette"]
        assert step_aside(_starlette_app()) == ["starlette"]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            "this Starlette app is instrumented twice: by "
            "opentelemetry-instrumentation-starlette (opentelemetry-instrument) and by "
            "toolkit, so every request gets two server spans; set "
            "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=starlette to keep toolkit's",
        )
    ]
    assert app.middleware_stack is None


@pytest.mark.usefixtures("fresh_warnings")
def test_inactive_or_unrelated_instrumentors_change_nothing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An imported but inactive instrumentor (OTEL_PYTHON_DISABLED_INSTRUMENTATIONS), or an
    active one for another framework: nothing found, nothing logged."""
    _fake_instrumentor(
        "opentelemetry.instrumentation.starlette", "StarletteInstrumentor", monkeypatch
    )
    flask = _fake_instrumentor(
        "opentelemetry.instrumentation.flask", "FlaskInstrumentor", monkeypatch
    )
    flask().instrument()
    with caplog.at_level(logging.INFO, logger="toolkit.middleware"):
        assert step_aside(_starlette_app()) == []
        assert step_aside(Starlette(middleware=[Middleware(_Passthrough)])) == []
    assert caplog.records == []
