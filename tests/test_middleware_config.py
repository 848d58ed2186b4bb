"""Option resolution: keyword argument > environment variable > default."""

from __future__ import annotations

from typing import Any

import pytest

from toolkit._otel_env import sdk_disabled
from toolkit.middleware.config import DEFAULT_SERVICE, Options, resolve_settings
from toolkit.middleware.correlation import is_valid_correlation_id, new_correlation_id


def test_defaults_without_arguments_or_environment() -> None:
    """Nothing given: documented defaults."""
    settings = resolve_settings({}, environ={})

    assert settings.service == DEFAULT_SERVICE == "unknown_service"
    assert settings.correlation_header == "X-Request-ID"
    assert settings.correlation_validator is is_valid_correlation_id
    assert settings.correlation_generator is new_correlation_id
    assert settings.metrics_path == "/metrics"
    assert settings.excluded_paths == frozenset()
    assert settings.excluded_urls is None
    assert (settings.tracing, settings.metrics, settings.access_log) == (True, True, True)
    assert (settings.tracer_provider, settings.registry, settings.propagator) == (None,) * 3


ENVIRON = {
    "OTEL_SERVICE_NAME": "from-env",
    "OTEL_SDK_DISABLED": "true",
    "OTEL_PYTHON_EXCLUDED_URLS": "^/static/, healthz",
    "TOOLKIT_CORRELATION_HEADER": "X-Trace-Token",
    "TOOLKIT_METRICS_PATH": "/internal/metrics",
    "TOOLKIT_EXCLUDED_PATHS": "/livez, /readyz",
    "TOOLKIT_ACCESS_LOG": "off",
    "TOOLKIT_METRICS": "0",
}


def test_environment_applies_when_no_keyword() -> None:
    """Each environment variable sets its option."""
    settings = resolve_settings({}, environ=ENVIRON)

    assert settings.service == "from-env"
    assert settings.tracing is False
    assert settings.excluded_urls is not None
    assert settings.excluded_urls.pattern == "(?:^/static/)|(?:healthz)"
    assert settings.correlation_header == "X-Trace-Token"
    assert settings.metrics_path == "/internal/metrics"
    assert settings.excluded_paths == frozenset({"/livez", "/readyz"})
    assert settings.access_log is False
    assert settings.metrics is False


@pytest.mark.parametrize(
    ("value", "tracing"),
    [("true", False), ("TRUE", False), (" True ", False), ("1", True), ("yes", True), ("", True)],
)
def test_sdk_disabled_is_read_as_the_sdk_reads_it(value: str, tracing: bool) -> None:
    """OTEL_SDK_DISABLED turns the server spans off exactly when the SDK turns itself off
    (``true``, any case): ``1`` or ``yes`` leave the SDK on, and the middleware too."""
    settings = resolve_settings({}, environ={"OTEL_SDK_DISABLED": value})
    assert settings.tracing is tracing
    assert sdk_disabled({"OTEL_SDK_DISABLED": value}) is not tracing


@pytest.mark.parametrize(
    ("options", "attribute", "expected"),
    [
        ({"service": "orders"}, "service", "orders"),
        ({"tracing": True}, "tracing", True),
        ({"correlation_header": "X-Req"}, "correlation_header", "X-Req"),
        ({"metrics_path": None}, "metrics_path", None),
        ({"metrics_path": "/m"}, "metrics_path", "/m"),
        ({"excluded_paths": ["/a"]}, "excluded_paths", frozenset({"/a"})),
        ({"excluded_urls": []}, "excluded_urls", None),
        ({"access_log": True}, "access_log", True),
        ({"metrics": True}, "metrics", True),
    ],
)
def test_keyword_wins_over_environment(
    options: dict[str, Any], attribute: str, expected: object
) -> None:
    """An explicit keyword argument beats the environment variable."""
    typed: Options = options  # type: ignore[assignment]
    assert getattr(resolve_settings(typed, environ=ENVIRON), attribute) == expected


def test_empty_metrics_path_variable_disables_endpoint() -> None:
    """TOOLKIT_METRICS_PATH set to an empty string turns the endpoint off."""
    assert resolve_settings({}, environ={"TOOLKIT_METRICS_PATH": ""}).metrics_path is None
