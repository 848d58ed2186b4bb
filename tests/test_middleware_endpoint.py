"""render_metrics(): the registry in the format the scraper asks for."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter

from toolkit.metrics._endpoint import render_metrics


@pytest.mark.parametrize(
    ("accept", "content_type", "ends_with_eof"),
    [
        (None, "text/plain; version=0.0.4; charset=utf-8", False),
        ("*/*", "text/plain; version=0.0.4; charset=utf-8", False),
        (
            "application/openmetrics-text; version=1.0.0",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            True,
        ),
    ],
)
def test_format_follows_accept(accept: str | None, content_type: str, ends_with_eof: bool) -> None:
    """Prometheus text by default, OpenMetrics (ending in # EOF) when asked for. (Newer
    prometheus-client releases append their name-escaping scheme to the type.)"""
    registry = CollectorRegistry()
    Counter("jobs", "Jobs done.", registry=registry).inc(3)

    body, served_type = render_metrics(registry, accept)

    assert served_type == content_type or served_type.startswith(content_type + "; escaping=")
    assert b"jobs_total 3.0\n" in body
    assert body.endswith(b"# EOF\n") is ends_with_eof
