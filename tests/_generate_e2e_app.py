"""The app the generator's end-to-end test runs under uvicorn: fast, slow and failing routes."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

import toolkit

SERVICE = "shop"
SLOW_SECONDS = 0.3  # above the e2e catalog's 250 ms latency threshold


async def read_item(request: Request) -> JSONResponse:
    """Fast and fine."""
    return JSONResponse({"item_id": request.path_params["item_id"]})


async def create_item(request: Request) -> PlainTextResponse:
    """Takes a body and answers with one: the body-size histograms fill."""
    body = await request.body()
    return PlainTextResponse("x" * len(body), status_code=201)


async def slow(request: Request) -> JSONResponse:
    """Slower than the latency objective."""
    await asyncio.sleep(SLOW_SECONDS)
    return JSONResponse({"slow": True})


async def unavailable(request: Request) -> JSONResponse:
    """A handled failure: a 503."""
    return JSONResponse({"error": "try later"}, status_code=503)


async def boom(request: Request) -> JSONResponse:
    """An unhandled exception: a 500."""
    raise RuntimeError("boom")


app = toolkit.instrument(
    Starlette(
        routes=[
            Route("/items/{item_id}", read_item),
            Route("/items", create_item, methods=["POST"]),
            Route("/slow", slow),
            Route("/unavailable", unavailable),
            Route("/boom", boom),
        ]
    ),
    service=SERVICE,
    tracing=False,
    configure_logging=False,
    health_checks={"database": lambda: True},  # /readyz feeds the readiness-checks panel
)
