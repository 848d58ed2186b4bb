"""The ``/metrics`` endpoint: the registry rendered in the format the scraper asks for."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder


def render_metrics(registry: CollectorRegistry | None, accept: str | None) -> tuple[bytes, str]:
    """Return ``(body, content_type)``: OpenMetrics if ``accept`` asks for it, else text."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(REGISTRY if registry is None else registry), content_type
