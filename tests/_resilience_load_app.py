"""The app the idempotency load test runs under uvicorn (ASGI) and gunicorn (WSGI) workers.

Configured by environment variables because the servers import it in their own processes:
``IDEM_STORE`` (``sqlite:<path>`` or a ``redis://`` URL) and ``IDEM_EXECUTIONS`` (a file that
gets one line per handler execution).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from typing import Any

from toolkit.resilience.idempotency import (
    IdempotencyMiddleware,
    IdempotencyStore,
    IdempotencyWSGIMiddleware,
    SQLiteStore,
)
from toolkit.resilience.idempotency.stores.redis import RedisStore

HANDLER_SECONDS = 0.3  # long enough for every duplicate to arrive while the first runs


def _store() -> IdempotencyStore:
    spec = os.environ["IDEM_STORE"]
    if spec.startswith("sqlite:"):
        return SQLiteStore(spec.removeprefix("sqlite:"))
    return RedisStore(spec)


def _record_execution() -> bytes:
    # O_APPEND writes of one short line are atomic across processes.
    with open(os.environ["IDEM_EXECUTIONS"], "a") as log:
        log.write(f"{os.getpid()}\n")
    return f'{{"order":"{uuid.uuid4()}","pid":{os.getpid()}}}'.encode()


async def _asgi_orders(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["method"] == "GET":  # readiness probe
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    while (await receive()).get("more_body"):
        pass
    body = _record_execution()
    await asyncio.sleep(HANDLER_SECONDS)
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_asgi_app() -> Any:
    """The uvicorn factory."""
    return IdempotencyMiddleware(
        _asgi_orders, store=_store(), wait_for_in_progress=60.0, poll_interval=0.02
    )


def _wsgi_orders(environ: Any, start_response: Any) -> list[bytes]:
    if environ["REQUEST_METHOD"] == "GET":
        start_response("200 OK", [])
        return [b"ok"]
    environ["wsgi.input"].read()
    body = _record_execution()
    time.sleep(HANDLER_SECONDS)
    start_response("201 Created", [("Content-Type", "application/json")])
    return [body]


def create_wsgi_app() -> Any:
    """The gunicorn factory."""
    return IdempotencyWSGIMiddleware(
        _wsgi_orders, store=_store(), wait_for_in_progress=60.0, poll_interval=0.02
    )
