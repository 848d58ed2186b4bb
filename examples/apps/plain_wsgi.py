"""A bare WSGI callable, instrumented with one line.

Run:  gunicorn --chdir examples/apps --bind 127.0.0.1:8000 plain_wsgi:app

Without a framework there is no router for the middleware to ask, so the app names its
route template itself under ``toolkit.middleware.ROUTE_KEY`` in the environ.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import toolkit
from toolkit.middleware import ROUTE_KEY


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Routes: /items/{item_id}, /boom, /stream; anything else is a 404."""
    path = environ.get("PATH_INFO", "/")
    if path.startswith("/items/"):
        environ[ROUTE_KEY] = "/items/{item_id}"
        body = {
            "item_id": path.removeprefix("/items/"),
            "correlation_id": toolkit.get_correlation_id(),
        }
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]
    if path == "/boom":
        environ[ROUTE_KEY] = "/boom"
        raise RuntimeError("boom")
    if path == "/stream":
        environ[ROUTE_KEY] = "/stream"
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _chunks()
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]


def _chunks() -> Iterator[bytes]:
    for number in range(5):
        yield f"chunk {number}\n".encode()
        time.sleep(0.1)


app = toolkit.instrument(app, service="plain-wsgi-example")  # the one line
