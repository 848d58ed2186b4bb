"""Idempotency stores: in-memory, SQLite and Redis, all behind :class:`IdempotencyStore`.

``RedisStore`` is imported on first access so that ``redis`` stays an optional dependency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.resilience.idempotency.stores.base import (
    Acquired,
    BeginResult,
    Existing,
    IdempotencyStore,
    StoredResponse,
    StoreError,
)
from toolkit.resilience.idempotency.stores.memory import MemoryStore
from toolkit.resilience.idempotency.stores.sqlite import SQLiteStore

if TYPE_CHECKING:
    from toolkit.resilience.idempotency.stores.redis import RedisStore

__all__ = [
    "Acquired",
    "BeginResult",
    "Existing",
    "IdempotencyStore",
    "MemoryStore",
    "RedisStore",
    "SQLiteStore",
    "StoreError",
    "StoredResponse",
]


def __getattr__(name: str) -> Any:
    if name == "RedisStore":
        from toolkit.resilience.idempotency.stores.redis import RedisStore

        return RedisStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
