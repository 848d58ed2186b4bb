"""The ``/metrics`` endpoint: the registry rendered in the format the scraper asks for."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder

from toolkit.middleware.multiprocess import multiprocess_directory, scrape_registry


def render_metrics(registry: CollectorRegistry | None, accept: str | None) -> tuple[bytes, str]:
    """Return ``(body, content_type)``: OpenMetrics if ``accept`` asks for it, else text.

    In multi-process mode (``PROMETHEUS_MULTIPROC_DIR`` set) the body is the sum over
    every worker's files (dead workers compacted first), not ``registry``.
    """
    encoder, content_type = choose_encoder(accept or "")
    directory = multiprocess_directory()
    if directory is not None:
        return encoder(scrape_registry(directory)), content_type
    return encoder(REGISTRY if registry is None else registry), content_type
