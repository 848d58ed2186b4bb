"""toolkit.outbound's shared per-call logic: URL redaction and option resolution."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from prometheus_client import CollectorRegistry

from toolkit.context import correlation_id_var
from toolkit.outbound import OutboundTelemetry, client_metrics
from toolkit.outbound._telemetry import redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://billing/x?a=1", "http://billing/x?a=1"),
        ("https://u:p@billing:8443/x", "https://REDACTED:REDACTED@billing:8443/x"),
        ("http://token@billing/x", "http://REDACTED:REDACTED@billing/x"),
        ("http://u:p@[::1]:8080/", "http://REDACTED:REDACTED@[::1]:8080/"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    """url.full keeps everything but credentials, which become REDACTED."""
    assert redact_url(urlsplit(url)) == expected


@pytest.mark.parametrize(
    ("keyword", "environ", "expected"),
    [
        (None, {}, "X-Request-ID"),
        (None, {"TOOLKIT_CORRELATION_HEADER": "X-Corr"}, "X-Corr"),
        ("X-Mine", {"TOOLKIT_CORRELATION_HEADER": "X-Corr"}, "X-Mine"),
    ],
)
def test_correlation_header_resolution(
    keyword: str | None, environ: dict[str, str], expected: str
) -> None:
    """The header is keyword > TOOLKIT_CORRELATION_HEADER > X-Request-ID, and is sent."""
    options = {} if keyword is None else {"correlation_header": keyword}
    telemetry = OutboundTelemetry(
        registry=CollectorRegistry(), tracing=False, environ=environ, **options
    )
    headers: dict[str, str] = {}
    token = correlation_id_var.set("cid-1")
    try:
        telemetry.start("GET", urlsplit("http://billing/"), headers, None).finish(200)
    finally:
        correlation_id_var.reset(token)
    assert headers[expected] == "cid-1"


def test_metrics_off_registers_nothing() -> None:
    """metrics=False registers no collector in the registry."""
    registry = CollectorRegistry()
    OutboundTelemetry(registry=registry, metrics=False, tracing=False)
    assert list(registry.collect()) == []


def test_client_metrics_once_per_registry() -> None:
    """Two transports on one registry share one histogram."""
    registry = CollectorRegistry()
    assert client_metrics(registry) is client_metrics(registry)
    assert OutboundTelemetry(registry=registry).metrics is client_metrics(registry)
