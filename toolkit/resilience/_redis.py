"""Redis clients built on first use, with Lua scripts registered once per source.

Shared by the breaker's ``RedisSharedState`` and the idempotency ``RedisStore``; imports
``redis``, so import it only from modules that need Redis.
"""

from __future__ import annotations

import threading
from typing import Any

import redis
import redis.asyncio


class RedisScripts:
    """A sync and an asyncio Redis client, each with its registered scripts.

    Each client is built from ``url`` on first use unless given (an asyncio client belongs
    to one event loop), with a blocking pool of ``max_connections``: a burst waits, up to
    20 s, for a free connection instead of failing.
    """

    def __init__(
        self,
        url: str,
        *,
        client: redis.Redis | None,
        async_client: redis.asyncio.Redis | None,
        max_connections: int,
    ) -> None:
        self._url = url
        self._client = client
        self._async_client = async_client
        self._owns_async_client = async_client is None
        self._max_connections = max_connections
        self._scripts: dict[str, Any] = {}
        self._async_scripts: dict[str, Any] = {}
        self._init_lock = threading.Lock()  # threads may race to build the sync client

    def script(self, source: str) -> Any:
        """The sync script object for ``source`` (registered once)."""
        if source not in self._scripts:
            with self._init_lock:
                if self._client is None:
                    self._client = redis.Redis(
                        connection_pool=redis.BlockingConnectionPool.from_url(
                            self._url, max_connections=self._max_connections
                        )
                    )
                self._scripts[source] = self._client.register_script(source)
        return self._scripts[source]

    def async_script(self, source: str) -> Any:
        """The asyncio script object for ``source`` (registered once)."""
        if source not in self._async_scripts:
            if self._async_client is None:
                self._async_client = redis.asyncio.Redis(
                    connection_pool=redis.asyncio.BlockingConnectionPool.from_url(
                        self._url, max_connections=self._max_connections
                    )
                )
            self._async_scripts[source] = self._async_client.register_script(source)
        return self._async_scripts[source]

    async def aclose(self) -> None:
        """Close the asyncio client and its pool if this object built them."""
        if self._async_client is not None and self._owns_async_client:
            await self._async_client.aclose(close_connection_pool=True)
            self._async_client = None
            self._async_scripts.clear()


def text(value: str | bytes) -> str:
    """A script's reply item as ``str`` (clients without ``decode_responses`` give bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)
