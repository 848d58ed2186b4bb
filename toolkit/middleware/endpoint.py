"""The ``/metrics`` endpoint: the registry rendered in the format the scraper asks for."""

from __future__ import annotations

import hmac

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


UNAUTHORIZED_BODY = b"Unauthorized"
# RFC 6750: the challenge a client without (or with a wrong) bearer token gets.
WWW_AUTHENTICATE = 'Bearer realm="metrics"'


def is_authorized(token: str | None, authorization: str | None) -> bool:
    """Whether ``authorization`` (the header) carries ``token``; always true without one.

    The comparison takes the same time wherever the first wrong byte is.
    """
    if token is None:
        return True
    if authorization is None:
        return False
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(credentials.strip().encode(), token.encode())
