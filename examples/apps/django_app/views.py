"""Views: a parameterised route, one that raises, one that streams."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse

import toolkit

log = logging.getLogger("django_app")


def read_item(request: HttpRequest, item_id: int) -> JsonResponse:
    """A route pattern with a parameter: metrics say /items/<int:item_id>."""
    log.info("reading item %s", item_id)
    return JsonResponse({"item_id": item_id, "correlation_id": toolkit.get_correlation_id()})


def boom(request: HttpRequest) -> HttpResponse:
    """An unhandled exception: Django answers 500, which still carries X-Request-ID."""
    raise RuntimeError("boom")


def stream(request: HttpRequest) -> StreamingHttpResponse:
    """A streamed body: the duration ends when the last chunk is sent."""

    def chunks() -> Iterator[bytes]:
        for number in range(5):
            yield f"chunk {number}\n".encode()
            time.sleep(0.1)

    return StreamingHttpResponse(chunks(), content_type="text/plain")
