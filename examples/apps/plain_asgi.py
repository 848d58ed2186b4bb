"""A bare ASGI callable, instrumented with one line.

Run:  uvicorn plain_asgi:app --app-dir examples/apps --port 8000

Without a framework there is no router for the middleware to ask, so the app names its
route template itself under ``toolkit.middleware.ROUTE_KEY`` in the scope.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import toolkit
from toolkit.middleware import ROUTE_KEY


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Routes: /items/{item_id}, /boom, /stream; anything else is a 404."""
    if scope["type"] == "lifespan":  # the middleware passes lifespan through untouched
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path.startswith("/items/"):
        scope[ROUTE_KEY] = "/items/{item_id}"
        body = {
            "item_id": path.removeprefix("/items/"),
            "correlation_id": toolkit.get_correlation_id(),
        }
        await _respond(send, 200, [json.dumps(body).encode()], b"application/json")
    elif path == "/boom":
        scope[ROUTE_KEY] = "/boom"
        raise RuntimeError("boom")
    elif path == "/stream":
        scope[ROUTE_KEY] = "/stream"
        await _respond(send, 200, [f"chunk {n}\n".encode() for n in range(5)], b"text/plain")
    else:
        await _respond(send, 404, [b"not found\n"], b"text/plain")


async def _respond(send: Any, status: int, chunks: list[bytes], content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type)],
        }
    )
    for index, chunk in enumerate(chunks):
        await send(
            {"type": "http.response.body", "body": chunk, "more_body": index < len(chunks) - 1}
        )
        await asyncio.sleep(0)


app = toolkit.instrument(app, service="plain-asgi-example")  # the one line
