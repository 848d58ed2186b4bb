"""The example shop of examples/services.yaml as five small FastAPI services.

``orders`` (the monolith) calls ``users``, ``inventory``, ``payments`` and
``notifications``; each passes the correlation ID and the trace context on. Every app
is made observable by one line, ``toolkit.instrument(app, service=...)``.

Run one: ``python examples/services/shop.py orders 8001`` (uvicorn on 127.0.0.1:8001).
``SHOP_<NAME>_URL`` (``SHOP_USERS_URL=http://127.0.0.1:8002``) tells ``orders`` where
the others are.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, HTTPException
from opentelemetry import propagate

import toolkit
from toolkit import semconv

SERVICES = ("orders", "payments", "users", "inventory", "notifications")
log = logging.getLogger("shop")


def downstream_headers() -> dict[str, str]:
    """The correlation ID and trace context of the current request, for an outbound call."""
    headers: dict[str, str] = {}
    correlation_id = toolkit.get_correlation_id()
    if correlation_id is not None:
        headers[semconv.CORRELATION_HEADER] = correlation_id
    propagate.inject(headers)
    return headers


def index_app(name: str) -> FastAPI:
    """An app with ``GET /`` (what the readiness probe calls)."""
    app = FastAPI(title=name)

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"service": name}

    return app


def orders_app() -> FastAPI:
    """Orders: reads fan out to users and inventory, a checkout to payments and notifications."""
    app = index_app("orders")
    urls = {name: os.environ.get(f"SHOP_{name.upper()}_URL", "") for name in SERVICES}

    async def call(client: httpx.AsyncClient, method: str, service: str, path: str) -> Any:
        response = await client.request(method, urls[service] + path, headers=downstream_headers())
        if response.status_code == 404:
            raise HTTPException(status_code=404, detail=f"{service}: {path} not found")
        response.raise_for_status()
        return response.json()

    @app.get("/orders/{order_id}")
    async def read_order(order_id: int) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            user, stock = await asyncio.gather(
                call(client, "GET", "users", f"/users/{order_id % 7}"),
                call(client, "GET", "inventory", f"/stock/sku-{order_id % 5}"),
            )
        log.info("order read", extra={"order_id": order_id})
        return {"order_id": order_id, "user": user, "stock": stock}

    @app.post("/orders", status_code=201)
    async def checkout() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            payment = await call(client, "POST", "payments", "/payments")
            await call(client, "POST", "notifications", "/notifications")
        log.info("order placed", extra={"payment": payment["id"]})
        return {"status": "placed", "payment": payment}

    return app


def users_app() -> FastAPI:
    """Users: accounts; user 0 does not exist."""
    app = index_app("users")

    @app.get("/users/{user_id}")
    async def read_user(user_id: int) -> dict[str, Any]:
        if user_id == 0:
            raise HTTPException(status_code=404, detail="no such user")
        return {"id": user_id, "name": f"user {user_id}"}

    return app


def inventory_app() -> FastAPI:
    """Inventory: stock per SKU."""
    app = index_app("inventory")

    @app.get("/stock/{sku}")
    async def stock(sku: str) -> dict[str, Any]:
        return {"sku": sku, "available": len(sku) * 3}

    return app


def payments_app() -> FastAPI:
    """Payments: authorises a card (Stripe is simulated by a short wait)."""
    app = index_app("payments")
    counter = {"next": 0}

    @app.post("/payments", status_code=201)
    async def authorise() -> dict[str, Any]:
        await asyncio.sleep(0.02)
        counter["next"] += 1
        return {"id": f"pay_{counter['next']}", "status": "authorised"}

    return app


def notifications_app() -> FastAPI:
    """Notifications: enqueues an email (SendGrid is not called in the demo)."""
    app = index_app("notifications")

    @app.post("/notifications", status_code=202)
    async def enqueue() -> dict[str, str]:
        return {"status": "queued"}

    return app


FACTORIES = {
    "orders": orders_app,
    "payments": payments_app,
    "users": users_app,
    "inventory": inventory_app,
    "notifications": notifications_app,
}


def main() -> None:
    """Serve ``NAME`` on 127.0.0.1:``PORT``, logging JSON lines to stdout."""
    name, port = sys.argv[1], int(sys.argv[2])
    app = toolkit.instrument(FACTORIES[name](), service=name)
    # log_config=None: uvicorn's own loggers go through toolkit's JSON lines too.
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
