"""FastAPI, instrumented with one line.

Run:  uvicorn fastapi_app:app --app-dir examples/apps --port 8000
Try:  curl -i localhost:8000/items/42 ; curl localhost:8000/metrics
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

import toolkit

log = logging.getLogger("fastapi_app")
app = FastAPI()


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, object]:
    """A route template with a parameter: metrics say /items/{item_id}."""
    log.info("reading item %s", item_id)
    return {"item_id": item_id, "correlation_id": toolkit.get_correlation_id()}


@app.get("/boom")
async def boom() -> None:
    """An unhandled exception: a 500 that still carries X-Request-ID."""
    raise RuntimeError("boom")


@app.get("/stream")
async def stream() -> StreamingResponse:
    """A streamed body: the duration ends with the last chunk."""

    async def chunks() -> AsyncIterator[bytes]:
        for number in range(5):
            yield f"chunk {number}\n".encode()
            await asyncio.sleep(0.1)

    return StreamingResponse(chunks(), media_type="text/plain")


app = toolkit.instrument(app, service="fastapi-example")  # the one line
