"""``toolkit.instrument(app, service=...)``: one line that makes any ASGI or WSGI app observable."""

from __future__ import annotations

import inspect
import logging
import sys
from typing import TYPE_CHECKING, Any

from toolkit.metrics._endpoint import record_metrics_token
from toolkit.metrics._otlp import PROMETHEUS
from toolkit.middleware.asgi import ToolkitASGIMiddleware
from toolkit.middleware.autoinstrumented import step_aside
from toolkit.middleware.config import resolve_settings
from toolkit.middleware.routes import RouteResolver
from toolkit.middleware.telemetry import LOG_SINK_COMPONENT, Telemetry
from toolkit.middleware.wsgi import ToolkitWSGIMiddleware

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from toolkit.middleware.config import Options

_log = logging.getLogger("toolkit.middleware")


def is_asgi_app(app: Any) -> bool:
    """Whether ``app`` is an ASGI callable (a coroutine function or object with one)."""
    if inspect.iscoroutinefunction(app):
        return True
    call = getattr(app, "__call__", None)  # noqa: B004 - we want the bound method itself
    return call is not None and inspect.iscoroutinefunction(call)


def _is_instance(app: Any, module: str, name: str) -> bool:
    # Only look at frameworks that are already imported: never import one ourselves.
    loaded = sys.modules.get(module)
    cls = getattr(loaded, name, None) if loaded is not None else None
    return cls is not None and isinstance(app, cls)


def _ensure_tracer_provider(options: Options) -> None:
    from opentelemetry import trace

    if "tracer_provider" in options or not options.get("tracing", True):
        return
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return  # the app (or an OpenTelemetry distro) already set one up: use it
    from toolkit.tracing import build_tracer_provider

    service = resolve_settings(options).service
    provider = build_tracer_provider(service, registry=options.get("registry"))
    trace.set_tracer_provider(provider)


def _ensure_meter_provider(options: Options) -> None:
    settings = resolve_settings(options)
    if "meter_provider" in options or not settings.metrics:
        return
    if settings.metrics_exporter == PROMETHEUS:
        return
    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider

    if isinstance(metrics.get_meter_provider(), MeterProvider):
        return  # the app (or an OpenTelemetry distro) already set one up: use it
    from toolkit.metrics import build_meter_provider

    provider = build_meter_provider(settings.service, registry=options.get("registry"))
    metrics.set_meter_provider(provider)
    if metrics.get_meter_provider() is not provider:
        provider.shutdown()  # another kind of provider was set first: that one is used


class StructlogAlreadyConfigured(RuntimeError):
    """The app configured structlog itself; ``instrument`` will not replace that silently."""

    def __init__(self, processors: list[Any]) -> None:
        """Name the app's processors and the two ways out."""
        names = ", ".join(_processor_name(p) for p in processors) or "none"
        self.processors = processors
        super().__init__(
            "structlog is already configured by the app (processors: "
            f"{names}); toolkit.instrument(configure_logging=True) would replace that "
            "configuration and drop them. Either pass configure_logging=False to keep "
            "yours (access lines still carry correlation_id and trace_id; add "
            "toolkit.logs.shared_processors(service) to your chain to put them on every "
            "line), or remove your structlog.configure() call to use toolkit's."
        )


def _processor_name(processor: Any) -> str:
    return getattr(processor, "__qualname__", None) or type(processor).__qualname__


def _check_structlog_untouched() -> None:
    import structlog

    from toolkit.logs import configured_by_toolkit

    if structlog.is_configured() and not configured_by_toolkit():
        raise StructlogAlreadyConfigured(list(structlog.get_config()["processors"]))


class _SinkErrorCounter:
    """Counts unwritable log lines into the middleware's registry, once it exists."""

    def __init__(self) -> None:
        self.telemetry: Telemetry | None = None

    def __call__(self, exc: BaseException) -> None:
        if self.telemetry is not None:
            self.telemetry.count_error(LOG_SINK_COMPONENT)


def _configure_logging(app: Any, service: str, on_write_error: _SinkErrorCounter) -> None:
    from toolkit.logs import configure_logging

    # A line that cannot be written is counted, never logged (that would loop).
    configure_logging(service=service, on_write_error=on_write_error)
    if _is_instance(app, "flask", "Flask"):
        # Flask gives app.logger a stderr handler when it is first touched (many apps do
        # at import): every error would be written twice, JSON on stdout and text on
        # stderr. Its records reach toolkit's handler on the root logger instead.
        from flask.logging import default_handler

        app.logger.removeHandler(default_handler)


def _wrap(app: Any, options: Options) -> ToolkitASGIMiddleware | ToolkitWSGIMiddleware:
    """Wrap ``app``; for Flask, wrap ``app.wsgi_app`` in place and return that wrapper."""
    if _is_instance(app, "flask", "Flask"):
        from toolkit.middleware.flask import record_route_on as record_flask_route

        record_flask_route(app)
        if not isinstance(app.wsgi_app, ToolkitWSGIMiddleware):
            app.wsgi_app = ToolkitWSGIMiddleware(app.wsgi_app, **options)
        wrapper: ToolkitWSGIMiddleware = app.wsgi_app
        return wrapper
    if _is_instance(app, "django.core.handlers.wsgi", "WSGIHandler"):
        from toolkit.middleware.django import record_route_on

        return ToolkitWSGIMiddleware(record_route_on(app), **options)
    if _is_instance(app, "django.core.handlers.asgi", "ASGIHandler"):
        from toolkit.middleware.django import record_route_on

        return ToolkitASGIMiddleware(record_route_on(app), **options)
    if is_asgi_app(app):
        return ToolkitASGIMiddleware(app, **options)
    return ToolkitWSGIMiddleware(app, **options)


def instrument(app: Any, *, configure_logging: bool = True, **options: Unpack[Options]) -> Any:
    """Wrap ``app`` with the toolkit middleware and return what the server should run.

    - Flask: ``app.wsgi_app`` is wrapped and the same Flask object is returned.
    - Django ``WSGIHandler``/``ASGIHandler`` (``get_wsgi_application()`` /
      ``get_asgi_application()``): route patterns are recorded, the wrapped handler is
      returned.
    - Any other ASGI app (FastAPI, Starlette, plain callables): a
      :class:`ToolkitASGIMiddleware` around it. Call after the routes are declared.
    - Any other WSGI callable: a :class:`ToolkitWSGIMiddleware` around it.

    Unless a ``tracer_provider`` is given (or one is set globally already), an SDK
    provider is built and set globally; it exports only when ``OTEL_TRACES_EXPORTER`` or
    an OTLP endpoint variable asks for it. With ``metrics_exporter="otlp"`` or ``"both"``
    (or ``OTEL_METRICS_EXPORTER=otlp``) and no ``meter_provider``, a global SDK meter
    provider is used if one is set, else one pushing over OTLP is built
    (:func:`toolkit.metrics.build_meter_provider`) and set. ``configure_logging=False``
    leaves logging alone; otherwise ``toolkit.logs.configure_logging(service=...)`` is
    called, with log lines that cannot be written counted in
    ``toolkit_telemetry_errors_total``, and Flask's own stderr handler is removed. If the
    app configured structlog itself, :class:`StructlogAlreadyConfigured` is raised before
    anything changes.
    A ``metrics_token`` protects the registry's metrics on the app's port and on the
    metrics port: ``start_metrics_server`` in this process requires it too. Under
    ``opentelemetry-instrument`` an active FastAPI instrumentor's middleware is removed
    from the app, so that a request has one server span, toolkit's
    (``toolkit.middleware.autoinstrumented``).
    Instrumenting an instrumented app changes nothing.
    """
    if isinstance(app, (ToolkitASGIMiddleware, ToolkitWSGIMiddleware)):
        return app
    counter = _SinkErrorCounter()
    # Bad options fail here, before anything (logging, the tracer provider) changes.
    RouteResolver(resolve_settings(options).routes)
    if configure_logging:
        _check_structlog_untouched()
        # First, so that what building the middleware logs (which fast paths it uses,
        # and why) is already a JSON line of the service.
        _configure_logging(app, resolve_settings(options).service, counter)
    _ensure_tracer_provider(options)
    _ensure_meter_provider(options)
    if options.get("tracing", True):
        # Under opentelemetry-instrument: one server span per request, toolkit's.
        step_aside(app)
    token = options.get("metrics_token")
    if token:
        # One token for the registry's /metrics, on the app's port and the metrics port.
        record_metrics_token(options.get("registry"), token)
    wrapped = _wrap(app, options)
    counter.telemetry = wrapped.telemetry
    return app if wrapped is getattr(app, "wsgi_app", None) else wrapped
