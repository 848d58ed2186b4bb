"""Idempotency-Key middleware (ASGI and WSGI) and the stores it keeps keys in."""

from __future__ import annotations

from toolkit.resilience.idempotency._core import IdempotencyOptions, default_should_store
from toolkit.resilience.idempotency.asgi import IdempotencyMiddleware
from toolkit.resilience.idempotency.stores import (
    IdempotencyStore,
    MemoryStore,
    SQLiteStore,
    StoredResponse,
    StoreError,
)
from toolkit.resilience.idempotency.wsgi import IdempotencyWSGIMiddleware

__all__ = [
    "IdempotencyMiddleware",
    "IdempotencyOptions",
    "IdempotencyStore",
    "IdempotencyWSGIMiddleware",
    "MemoryStore",
    "SQLiteStore",
    "StoreError",
    "StoredResponse",
    "default_should_store",
]
