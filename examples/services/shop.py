"""The example shop of examples/services.yaml as five small FastAPI services.

``orders`` (the monolith) calls ``users``, ``inventory``, ``payments`` and
``notifications``. Every app is made observable by one line,
``toolkit.instrument(app, service=...)``; what a split needs from day one is here too:

- every service-to-service call goes through ``toolkit.outbound.AsyncTransport`` (the
  correlation ID and trace context go along; a CLIENT span and the client metrics the
  dashboards' dependency panels read) behind a circuit breaker per dependency;
- the write endpoints (``POST /orders``, ``POST /payments``) take an ``Idempotency-Key``,
  so a retried checkout never charges twice (SQLite store, in ``SHOP_STATE_DIR``).

Run one: ``python examples/services/shop.py orders 8001`` (uvicorn on 127.0.0.1:8001).
``SHOP_<NAME>_URL`` (``SHOP_USERS_URL=http://127.0.0.1:8002``) tells ``orders`` where
the others are.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, HTTPException

import toolkit
from toolkit.outbound import AsyncTransport
from toolkit.resilience.breaker import CallNotPermitted, CircuitBreaker
from toolkit.resilience.breaker.httpx_transport import AsyncBreakerTransport
from toolkit.resilience.idempotency import IdempotencyMiddleware, SQLiteStore

SERVICES = ("orders", "payments", "users", "inventory", "notifications")
log = logging.getLogger("shop")


def with_idempotency(app: FastAPI, name: str, path: str) -> Any:
    """Make ``POST path`` idempotent under an ``Idempotency-Key`` (kept 24 h)."""
    state = Path(os.environ.get("SHOP_STATE_DIR") or tempfile.gettempdir())
    return IdempotencyMiddleware(
        app,
        store=SQLiteStore(state / f"{name}-idempotency.db"),
        path_filter=lambda request_path: request_path == path,
        wait_for_in_progress=10.0,  # a concurrent retry gets the first one's response
    )


def dependency_client(service: str) -> httpx.AsyncClient:
    """A client for one dependency: traced and measured, behind its own circuit breaker."""
    base_url = os.environ.get(f"SHOP_{service.upper()}_URL", "")
    breaker = CircuitBreaker(service, wait_duration_in_open=10)
    transport = AsyncBreakerTransport(breaker, transport=AsyncTransport())
    return httpx.AsyncClient(base_url=base_url, transport=transport, timeout=5)


def index_app(name: str, **options: Any) -> FastAPI:
    """An app with ``GET /`` (what the readiness probe calls)."""
    app = FastAPI(title=name, **options)

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"service": name}

    return app


def orders_app() -> Any:
    """Orders: reads fan out to users and inventory, a checkout to payments and notifications."""
    clients = {name: dependency_client(name) for name in SERVICES if name != "orders"}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await asyncio.gather(*(client.aclose() for client in clients.values()))

    app = index_app("orders", lifespan=lifespan)

    async def call(method: str, service: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await clients[service].request(method, path, **kwargs)
        except CallNotPermitted as refused:
            retry_after = {"Retry-After": str(int(refused.retry_after) + 1)}
            raise HTTPException(503, f"{service} is unavailable", headers=retry_after) from None
        if response.status_code == 404:
            raise HTTPException(status_code=404, detail=f"{service}: {path} not found")
        response.raise_for_status()
        return response.json()

    @app.get("/orders/{order_id}")
    async def read_order(order_id: int) -> dict[str, Any]:
        user, stock = await asyncio.gather(
            call("GET", "users", f"/users/{order_id % 7}"),
            call("GET", "inventory", f"/stock/sku-{order_id % 5}"),
        )
        log.info("order read", extra={"order_id": order_id})
        return {"order_id": order_id, "user": user, "stock": stock}

    @app.post("/orders", status_code=201)
    async def checkout() -> dict[str, Any]:
        # The order's own key goes on to payments: a retried checkout is charged once.
        payment_key = {"Idempotency-Key": f"pay-{toolkit.get_correlation_id()}"}
        payment = await call("POST", "payments", "/payments", headers=payment_key)
        await call("POST", "notifications", "/notifications")
        log.info("order placed", extra={"payment": payment["id"]})
        return {"status": "placed", "payment": payment}

    return with_idempotency(app, "orders", "/orders")


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


def payments_app() -> Any:
    """Payments: authorises a card once per key (Stripe is simulated by a short wait)."""
    app = index_app("payments")
    counter = {"next": 0}

    @app.post("/payments", status_code=201)
    async def authorise() -> dict[str, Any]:
        await asyncio.sleep(0.02)
        counter["next"] += 1
        return {"id": f"pay_{counter['next']}", "status": "authorised"}

    return with_idempotency(app, "payments", "/payments")


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
