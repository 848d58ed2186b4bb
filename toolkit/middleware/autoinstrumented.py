"""Apps that OpenTelemetry's zero-code instrumentation (``opentelemetry-instrument``) also traces.

Under ``opentelemetry-instrument`` the FastAPI instrumentor puts its own ASGI middleware
inside every FastAPI app: next to toolkit's, one request made four spans (toolkit's server
span, the instrumentor's span and one per response message). toolkit's server span has
what the instrumentor's has and more (correlation ID, route template, the trace ID of the
access line and of the exemplars), so :func:`step_aside` takes the instrumentor's
middleware out of the app toolkit wraps, through the instrumentor's public
``uninstrument_app``. Every other instrumentation (HTTP clients, databases) stays on, its
spans children of toolkit's. Where no such call exists (Starlette, Flask, Django), a
warning, once, names the variable that turns the instrumentor off.

Only instrumentors already imported are looked at: toolkit never imports one.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

_log = logging.getLogger("toolkit.middleware")

ENV_DISABLED_INSTRUMENTATIONS = "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"


@dataclass(frozen=True)
class Instrumentor:
    """An OpenTelemetry instrumentor that starts server spans for one framework's apps."""

    name: str
    """Its name in ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` (its entry point's)."""
    module: str
    cls: str
    apps: tuple[tuple[str, str], ...]
    """The ``(module, class)`` of the apps it instruments."""
    removable: bool
    """Whether toolkit removes it from an app (``uninstrument_app``) or only warns."""


INSTRUMENTORS = (
    Instrumentor(
        "fastapi",
        "opentelemetry.instrumentation.fastapi",
        "FastAPIInstrumentor",
        (("fastapi", "FastAPI"),),
        removable=True,
    ),
    Instrumentor(
        "starlette",
        "opentelemetry.instrumentation.starlette",
        "StarletteInstrumentor",
        (("starlette.applications", "Starlette"),),
        removable=False,
    ),
    Instrumentor(
        "flask",
        "opentelemetry.instrumentation.flask",
        "FlaskInstrumentor",
        (("flask", "Flask"),),
        removable=False,
    ),
    Instrumentor(
        "django",
        "opentelemetry.instrumentation.django",
        "DjangoInstrumentor",
        (
            ("django.core.handlers.wsgi", "WSGIHandler"),
            ("django.core.handlers.asgi", "ASGIHandler"),
        ),
        removable=False,
    ),
)

_warned: set[str] = set()


def _loaded_class(module: str, name: str) -> Any:
    loaded = sys.modules.get(module)
    return getattr(loaded, name, None) if loaded is not None else None


def _active(instrumentor: Instrumentor) -> Any:
    """The instrumentor's (singleton) instance if it is imported and instrumenting, else None."""
    cls = _loaded_class(instrumentor.module, instrumentor.cls)
    if cls is None:
        return None
    try:
        found = cls()  # BaseInstrumentor: one instance per class
        return found if found.is_instrumented_by_opentelemetry else None
    except Exception:  # a broken instrumentation package must not stop the app
        _log.debug("cannot tell whether %s is active", instrumentor.cls, exc_info=True)
        return None


def _framework(instrumentor: Instrumentor, app: Any) -> str | None:
    """The class name of ``app`` among those ``instrumentor`` instruments, else None."""
    for module, name in instrumentor.apps:
        cls = _loaded_class(module, name)
        if isinstance(cls, type) and isinstance(app, cls):
            return name
    return None


def step_aside(app: Any) -> list[str]:
    """Keep one server span per request for ``app`` under ``opentelemetry-instrument``.

    Removes an active FastAPI instrumentor's middleware from ``app``; warns once per
    instrumentor that cannot be removed. Returns the names of the instrumentors found
    active for ``app``. Never raises.
    """
    found: list[str] = []
    for instrumentor in INSTRUMENTORS:
        active = _active(instrumentor)
        framework = None if active is None else _framework(instrumentor, app)
        if framework is None:
            continue
        found.append(instrumentor.name)
        if instrumentor.removable and _remove(active, app, instrumentor, framework):
            continue
        if instrumentor.name not in _warned:
            _warned.add(instrumentor.name)
            _log.warning(
                "this %s app is instrumented twice: by opentelemetry-instrumentation-%s "
                "(opentelemetry-instrument) and by toolkit, so every request gets two server "
                "spans; set %s=%s to keep toolkit's",
                framework,
                instrumentor.name,
                ENV_DISABLED_INSTRUMENTATIONS,
                instrumentor.name,
            )
    return found


def _remove(active: Any, app: Any, instrumentor: Instrumentor, framework: str) -> bool:
    try:
        active.uninstrument_app(app)
        # uninstrument_app builds the middleware stack at once; Starlette builds it on
        # the first request and refuses add_middleware() afterwards: keep it lazy.
        app.middleware_stack = None
    except Exception:
        _log.warning(
            "could not remove opentelemetry-instrumentation-%s from the app; set %s=%s",
            instrumentor.name,
            ENV_DISABLED_INSTRUMENTATIONS,
            instrumentor.name,
            exc_info=True,
        )
        return False
    _log.info(
        "this %s app was instrumented by opentelemetry-instrumentation-%s "
        "(opentelemetry-instrument): its middleware is removed from the app and toolkit "
        "records the server span; set %s=%s to skip this step",
        framework,
        instrumentor.name,
        ENV_DISABLED_INSTRUMENTATIONS,
        instrumentor.name,
    )
    return True
