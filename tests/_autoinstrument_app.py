"""A FastAPI app with ``toolkit.instrument``, for ``opentelemetry-instrument`` to run.

``opentelemetry-instrument uvicorn _autoinstrument_app:app``: the FastAPI instrumentor
instruments the app as it is created, before toolkit wraps it.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

import toolkit

app = FastAPI()


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, int]:
    """A templated route that logs one line."""
    logging.getLogger("app").info("item served")
    return {"item_id": item_id}


app = toolkit.instrument(app, service="orders")
