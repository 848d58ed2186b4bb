"""Middleware options: keyword arguments, their environment variables and their defaults.

Resolution order for every option: the explicit keyword argument, then the environment
variable (OpenTelemetry's ``OTEL_*`` name where it defines one, ``TOOLKIT_*`` otherwise),
then the default. The environment is read when a middleware is constructed, never at
import time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from toolkit import semconv
from toolkit._http import ENV_CORRELATION_HEADER
from toolkit._otel_env import sdk_disabled
from toolkit.metrics._endpoint import (
    DEFAULT_METRICS_PATH,
    resolve_metrics_port,
    resolve_metrics_token,
)
from toolkit.metrics._otlp import OTLP, PROMETHEUS, MetricsExporter, resolve_metrics_exporter
from toolkit.middleware.correlation import (
    CorrelationGenerator,
    CorrelationValidator,
    is_valid_correlation_id,
    new_correlation_id,
)

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.propagators.textmap import TextMapPropagator
    from opentelemetry.trace import TracerProvider
    from prometheus_client import CollectorRegistry

    from toolkit.health import CheckSpec
    from toolkit.middleware.hooks import ServerRequestHook, ServerResponseHook

DEFAULT_SERVICE = "unknown_service"

ENV_SERVICE = "OTEL_SERVICE_NAME"
ENV_EXCLUDED_URLS = "OTEL_PYTHON_EXCLUDED_URLS"
ENV_METRICS_PATH = "TOOLKIT_METRICS_PATH"
ENV_EXCLUDED_PATHS = "TOOLKIT_EXCLUDED_PATHS"
ENV_ACCESS_LOG = "TOOLKIT_ACCESS_LOG"
ENV_ACCESS_LOG_ERROR_LEVEL = "TOOLKIT_ACCESS_LOG_ERROR_LEVEL"
ACCESS_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
"""Levels an access line of a 5xx response may be logged at."""
ENV_METRICS = "TOOLKIT_METRICS"

_FALSE = frozenset({"0", "false", "no", "off"})


class Options(TypedDict, total=False):
    """Keyword options accepted by both middlewares and by ``toolkit.instrument``."""

    service: str
    tracer_provider: TracerProvider
    propagator: TextMapPropagator
    registry: CollectorRegistry
    correlation_header: str
    correlation_validator: CorrelationValidator
    correlation_generator: CorrelationGenerator
    metrics_path: str | None
    metrics_token: str | None
    metrics_port: int | None
    excluded_paths: Iterable[str]
    excluded_urls: Iterable[str] | str
    tracing: bool
    metrics: bool
    # Where the HTTP metrics go: "prometheus" (default), "otlp" or "both" (toolkit.metrics._otlp).
    metrics_exporter: MetricsExporter
    meter_provider: MeterProvider
    access_log: bool
    access_log_error_level: str
    request_hook: ServerRequestHook | None
    response_hook: ServerResponseHook | None
    # Route templates of an app whose routing toolkit cannot see (toolkit.middleware.routes).
    routes: Iterable[str]
    # Health endpoints: resolved by toolkit.health.HealthEndpoints.from_options.
    livez_path: str | None
    readyz_path: str | None
    health_checks: Mapping[str, CheckSpec]
    health_timeout: float


@dataclass(frozen=True)
class Settings:
    """Options after resolution: what a middleware precomputes its hot path from."""

    service: str
    tracer_provider: TracerProvider | None
    propagator: TextMapPropagator | None
    registry: CollectorRegistry | None
    correlation_header: str
    correlation_validator: CorrelationValidator
    correlation_generator: CorrelationGenerator
    metrics_path: str | None
    metrics_token: str | None
    metrics_port: int | None
    excluded_paths: frozenset[str]
    excluded_urls: re.Pattern[str] | None
    tracing: bool
    metrics: bool
    access_log: bool
    access_log_error_level: str = "error"
    request_hook: ServerRequestHook | None = None
    response_hook: ServerResponseHook | None = None
    routes: tuple[str, ...] = ()
    metrics_exporter: MetricsExporter = PROMETHEUS
    meter_provider: MeterProvider | None = None


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    return raw.strip().lower() not in _FALSE


def _split(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _compile_excluded_urls(patterns: Iterable[str] | str | None) -> re.Pattern[str] | None:
    if patterns is None:
        return None
    items = _split(patterns) if isinstance(patterns, str) else [p for p in patterns if p]
    if not items:
        return None
    return re.compile("|".join(f"(?:{p})" for p in items))


def _routes(routes: Iterable[str]) -> tuple[str, ...]:
    # Checked when the middleware compiles them (RouteResolver); a lone string is not a list.
    if isinstance(routes, str):
        raise TypeError(f"routes must be an iterable of templates, not the string {routes!r}")
    return tuple(routes)


def _access_log_error_level(level: str) -> str:
    name = level.strip().lower()
    if name not in ACCESS_LOG_LEVELS:
        raise ValueError(
            f"access_log_error_level / {ENV_ACCESS_LOG_ERROR_LEVEL}: {level!r} is not one "
            f"of {', '.join(ACCESS_LOG_LEVELS)}"
        )
    return name


def resolve_settings(options: Options, environ: Mapping[str, str] | None = None) -> Settings:
    """Merge keyword ``options`` over ``environ`` (default ``os.environ``) over defaults."""
    env = os.environ if environ is None else environ
    service = options.get("service") or env.get(ENV_SERVICE) or DEFAULT_SERVICE
    metrics_port = resolve_metrics_port(options.get("metrics_port"), env)
    metrics_exporter = resolve_metrics_exporter(options.get("metrics_exporter"), env)
    if "metrics_path" in options:
        metrics_path = options["metrics_path"]
    elif metrics_port is not None:
        metrics_path = None  # served on its own port (start_metrics_server), not the app's
    elif metrics_exporter == OTLP:
        metrics_path = env.get(ENV_METRICS_PATH) or None  # pushed instead of scraped
    else:
        metrics_path = env.get(ENV_METRICS_PATH, DEFAULT_METRICS_PATH) or None
    if "excluded_paths" in options:
        excluded_paths = frozenset(options["excluded_paths"])
    else:
        excluded_paths = frozenset(_split(env.get(ENV_EXCLUDED_PATHS, "")))
    if "excluded_urls" in options:
        excluded_urls = _compile_excluded_urls(options["excluded_urls"])
    else:
        excluded_urls = _compile_excluded_urls(env.get(ENV_EXCLUDED_URLS))
    tracing = options.get("tracing", not sdk_disabled(env))
    return Settings(
        service=service,
        tracer_provider=options.get("tracer_provider"),
        propagator=options.get("propagator"),
        registry=options.get("registry"),
        correlation_header=(
            options.get("correlation_header")
            or env.get(ENV_CORRELATION_HEADER)
            or semconv.CORRELATION_HEADER
        ),
        correlation_validator=options.get("correlation_validator", is_valid_correlation_id),
        correlation_generator=options.get("correlation_generator", new_correlation_id),
        metrics_path=metrics_path,
        metrics_token=resolve_metrics_token(options.get("metrics_token"), env),
        metrics_port=metrics_port,
        excluded_paths=excluded_paths,
        excluded_urls=excluded_urls,
        tracing=tracing,
        metrics=options.get("metrics", _flag(env, ENV_METRICS, True)),
        access_log=options.get("access_log", _flag(env, ENV_ACCESS_LOG, True)),
        access_log_error_level=_access_log_error_level(
            options.get("access_log_error_level") or env.get(ENV_ACCESS_LOG_ERROR_LEVEL) or "error"
        ),
        request_hook=options.get("request_hook"),
        response_hook=options.get("response_hook"),
        routes=_routes(options.get("routes", ())),
        metrics_exporter=metrics_exporter,
        meter_provider=options.get("meter_provider"),
    )
