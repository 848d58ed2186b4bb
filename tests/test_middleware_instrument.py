"""toolkit.instrument(): detection per framework, providers, logging, lazy imports."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from middleware_apps import FACTORIES
from prometheus_client import CollectorRegistry

from toolkit.middleware import ToolkitASGIMiddleware, ToolkitWSGIMiddleware, instrument
from toolkit.middleware.instrument import is_asgi_app

pytestmark = pytest.mark.filterwarnings("ignore::Warning")


def options() -> dict[str, Any]:
    from opentelemetry.sdk.trace import TracerProvider

    return {
        "service": "orders",
        "registry": CollectorRegistry(),
        "tracer_provider": TracerProvider(),
        "configure_logging": False,
    }


@pytest.mark.parametrize(
    ("framework", "wrapper"),
    [
        ("starlette", ToolkitASGIMiddleware),
        ("fastapi", ToolkitASGIMiddleware),
        ("django_wsgi", ToolkitWSGIMiddleware),
        ("django_asgi", ToolkitASGIMiddleware),
        ("plain_asgi", ToolkitASGIMiddleware),
        ("plain_wsgi", ToolkitWSGIMiddleware),
    ],
)
def test_wraps_in_the_right_middleware(framework: str, wrapper: type) -> None:
    """ASGI apps get the ASGI middleware, WSGI apps the WSGI one."""
    app = FACTORIES[framework]()
    wrapped = instrument(app, **options())

    assert type(wrapped) is wrapper
    assert wrapped.app is app


def test_flask_app_is_returned_with_wsgi_app_wrapped() -> None:
    """Flask: the same object comes back (flask run, test_client keep working)."""
    app = FACTORIES["flask"]()
    original = app.wsgi_app

    assert instrument(app, **options()) is app
    assert type(app.wsgi_app) is ToolkitWSGIMiddleware
    assert app.wsgi_app.app == original
    assert app._toolkit_route_hook is True


def test_django_handler_gets_route_hook() -> None:
    """Django handlers get the route hook installed."""
    handler = FACTORIES["django_wsgi"]()
    instrument(handler, **options())

    assert handler._toolkit_route_hook is True


def test_is_asgi_app() -> None:
    """Coroutine functions and objects with an async __call__ are ASGI; others are not."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        return None

    class AsgiObject:
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            return None

    def wsgi(environ: Any, start_response: Any) -> Any:
        return []

    assert is_asgi_app(asgi) is True
    assert is_asgi_app(AsgiObject()) is True
    assert is_asgi_app(wsgi) is False


def test_configure_logging_is_called_with_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """configure_logging=True (the default) configures toolkit.logs for the service;
    False leaves logging alone."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("toolkit.logs.configure_logging", lambda **kw: calls.append(kw))
    wired = options()
    del wired["configure_logging"]

    instrument(FACTORIES["plain_wsgi"](), **wired)
    instrument(FACTORIES["plain_wsgi"](), **options())

    assert [call["service"] for call in calls] == ["orders"]
    assert callable(calls[0]["on_write_error"])


def run_python(code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter (global providers are once per process)."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=60,
    )
    return result.stdout.strip()


def test_import_toolkit_imports_no_framework() -> None:
    """``import toolkit`` and ``toolkit.middleware`` load no web framework."""
    out = run_python(
        "import sys, toolkit, toolkit.middleware; toolkit.instrument;"
        "print(sorted(m for m in ('flask','django','starlette','fastapi','werkzeug')"
        " if m in sys.modules))"
    )
    assert out == "[]"


def test_instrument_sets_up_an_sdk_provider_when_none_exists() -> None:
    """No provider given or set: an SDK provider named after the service becomes global,
    with no span processor when no exporter is configured."""
    out = run_python(
        "import toolkit\n"
        "from opentelemetry import trace\n"
        "def app(environ, start_response): return []\n"
        "toolkit.instrument(app, service='orders', configure_logging=False)\n"
        "provider = trace.get_tracer_provider()\n"
        "print(type(provider).__name__, provider.resource.attributes['service.name'],"
        " len(provider._active_span_processor._span_processors))",
    )
    assert out == "TracerProvider orders 0"


def test_instrument_keeps_an_existing_global_provider() -> None:
    """A provider the app (or a distro) set globally is used, not replaced."""
    out = run_python(
        "import toolkit\n"
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "mine = TracerProvider()\n"
        "trace.set_tracer_provider(mine)\n"
        "def app(environ, start_response): return []\n"
        "toolkit.instrument(app, service='orders', configure_logging=False)\n"
        "print(trace.get_tracer_provider() is mine)",
    )
    assert out == "True"


def test_service_name_from_environment() -> None:
    """OTEL_SERVICE_NAME names the service when no keyword does."""
    out = run_python(
        "import toolkit\n"
        "from opentelemetry import trace\n"
        "def app(environ, start_response): return []\n"
        "m = toolkit.instrument(app, configure_logging=False)\n"
        "resource = trace.get_tracer_provider().resource\n"
        "print(m.telemetry.service, resource.attributes['service.name'])",
        OTEL_SERVICE_NAME="billing",
    )
    assert out == "billing billing"


@pytest.mark.parametrize("framework", ["flask", "plain_asgi", "plain_wsgi"])
def test_instrumenting_twice_wraps_once(framework: str) -> None:
    """A second instrument() call on the result changes nothing."""
    once = instrument(FACTORIES[framework](), **options())
    inner = once.wsgi_app if framework == "flask" else once

    twice = instrument(once, **options())

    assert twice is once
    assert (twice.wsgi_app if framework == "flask" else twice) is inner


def test_log_lines_that_cannot_be_written_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """With configure_logging on, a log sink that fails is counted per line in
    toolkit_telemetry_errors_total{component="log_sink"}, and requests go on."""
    import io
    import logging

    import structlog
    from middleware_fixtures import call_wsgi

    from toolkit import semconv
    from toolkit.logs import JSONLinesHandler

    class FullDisk(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("No space left on device")

    monkeypatch.setattr("sys.stdout", FullDisk())
    wired = options()
    del wired["configure_logging"]
    try:
        app = instrument(FACTORIES["plain_wsgi"](), **wired)
        responses = [call_wsgi(app, "/items/1") for _ in range(3)]
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if isinstance(h, JSONLinesHandler)]:
            root.removeHandler(handler)
        structlog.reset_defaults()

    assert [r.status_code for r in responses] == [200, 200, 200]
    labels = {semconv.LABEL_COMPONENT: "log_sink"}
    # per request: the app's own log line and the access-log line
    assert wired["registry"].get_sample_value(semconv.TELEMETRY_ERRORS, labels) == 6.0
