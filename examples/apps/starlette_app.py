"""Starlette, instrumented with one line.

Run:  uvicorn starlette_app:app --app-dir examples/apps --port 8000
Try:  curl -i localhost:8000/items/42 ; curl localhost:8000/metrics
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

import toolkit

log = logging.getLogger("starlette_app")


async def read_item(request: Request) -> JSONResponse:
    """A route template with a parameter: metrics say /items/{item_id}."""
    item_id = request.path_params["item_id"]
    log.info("reading item %s", item_id)
    return JSONResponse({"item_id": item_id, "correlation_id": toolkit.get_correlation_id()})


async def boom(request: Request) -> JSONResponse:
    """An unhandled exception: a 500 that still carries X-Request-ID."""
    raise RuntimeError("boom")


async def stream(request: Request) -> StreamingResponse:
    """A streamed body: the duration ends with the last chunk."""

    async def chunks() -> AsyncIterator[bytes]:
        for number in range(5):
            yield f"chunk {number}\n".encode()
            await asyncio.sleep(0.1)

    return StreamingResponse(chunks(), media_type="text/plain")


async def echo(websocket: WebSocket) -> None:
    """A websocket: it gets a correlation ID and a span, no HTTP metrics."""
    await websocket.accept()
    await websocket.send_json({"correlation_id": toolkit.get_correlation_id()})
    await websocket.close()


app = Starlette(
    routes=[
        Route("/items/{item_id}", read_item),
        Route("/boom", boom),
        Route("/stream", stream),
        WebSocketRoute("/ws", echo),
    ]
)
app = toolkit.instrument(app, service="starlette-example")  # the one line
