"""Redis store: several processes or machines share one set of keys."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import redis
import redis.asyncio

from toolkit.resilience._redis import RedisScripts, text
from toolkit.resilience.idempotency.stores.base import (
    Acquired,
    BeginResult,
    Existing,
    StoredResponse,
    StoreError,
)

# Each record is a hash {fp, token, exp, resp?}; ``exp`` (ms, the caller's clock) is the lock
# expiry while in progress and the retention expiry once ``resp`` is set. The key's own
# PEXPIRE only collects garbage; decisions compare ``exp`` so a clock can be injected.
_BEGIN = """
local rec = redis.call('HMGET', KEYS[1], 'fp', 'exp', 'resp')
if rec[1] and tonumber(rec[2]) > tonumber(ARGV[1]) then
  return {0, rec[1], rec[3] or ''}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'fp', ARGV[2], 'token', ARGV[3],
           'exp', tostring(tonumber(ARGV[1]) + tonumber(ARGV[4])))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) + tonumber(ARGV[5]))
return {1}
"""
_COMPLETE = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1]
   and redis.call('HEXISTS', KEYS[1], 'resp') == 0 then
  redis.call('HSET', KEYS[1], 'resp', ARGV[2],
             'exp', tostring(tonumber(ARGV[3]) + tonumber(ARGV[4])))
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1]
   and redis.call('HEXISTS', KEYS[1], 'resp') == 0 then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisStore:
    """Keys in Redis under ``prefix``; every decision is one Lua script, hence atomic.

    Sync methods use ``client`` (``redis.Redis``), async methods ``async_client``
    (``redis.asyncio.Redis``): both are built from ``url`` on first use unless given. An
    asyncio client belongs to the event loop it first ran on: use one store per loop, or
    pass your own ``async_client``. Clients built from ``url`` use a blocking pool of
    ``max_connections``: a burst waits up to 20 s for a free connection instead of failing.
    Expiry compares the callers' clocks (injectable for tests), so the machines sharing a
    store need roughly synchronised clocks (NTP). An in-progress record whose lock expired
    is collected ``in_progress_grace`` seconds later; until then its (slow) owner may still
    store the result, as with the other stores.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        client: redis.Redis | None = None,
        async_client: redis.asyncio.Redis | None = None,
        max_connections: int = 50,
        prefix: str = "toolkit:idempotency:",
        in_progress_grace: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = RedisScripts(
            url, client=client, async_client=async_client, max_connections=max_connections
        )
        self._prefix = prefix
        self._grace_ms = _ms(in_progress_grace)
        self._clock = clock

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _begin_args(
        self, key: str, fingerprint: str, lock_ttl: float
    ) -> tuple[list[str], list[Any]]:
        token = uuid.uuid4().hex
        args = [self._now_ms(), fingerprint, token, _ms(lock_ttl), self._grace_ms]
        return [self._prefix + key], args

    def begin(self, key: str, fingerprint: str, *, lock_ttl: float) -> BeginResult:
        """Lock ``key`` for this request or report the existing record."""
        keys, args = self._begin_args(key, fingerprint, lock_ttl)
        try:
            reply = self._redis.script(_BEGIN)(keys=keys, args=args)
        except redis.RedisError as exc:
            raise StoreError(f"Redis store failed on begin: {exc}") from exc
        return _begin_result(reply, token=args[2])

    def complete(self, key: str, token: str, response: StoredResponse, *, retention: float) -> bool:
        """Store ``response`` for ``retention`` seconds; ``False`` if ``token`` lost the lock."""
        args = [token, response.to_json(), self._now_ms(), _ms(retention)]
        try:
            reply = self._redis.script(_COMPLETE)(keys=[self._prefix + key], args=args)
        except redis.RedisError as exc:
            raise StoreError(f"Redis store failed on complete: {exc}") from exc
        return int(reply) == 1

    def release(self, key: str, token: str) -> bool:
        """Forget the in-progress record so a retry runs; ``False`` if ``token`` lost it."""
        try:
            reply = self._redis.script(_RELEASE)(keys=[self._prefix + key], args=[token])
        except redis.RedisError as exc:
            raise StoreError(f"Redis store failed on release: {exc}") from exc
        return int(reply) == 1

    async def abegin(self, key: str, fingerprint: str, *, lock_ttl: float) -> BeginResult:
        """:meth:`begin` on the asyncio client."""
        keys, args = self._begin_args(key, fingerprint, lock_ttl)
        try:
            reply = await self._redis.async_script(_BEGIN)(keys=keys, args=args)
        except redis.RedisError as exc:
            raise StoreError(f"Redis store failed on begin: {exc}") from exc
        return _begin_result(reply, token=args[2])

    async def acomplete(
        self, key: str, token: str, response: StoredResponse, *, retention: float
    ) -> bool:
        """:meth:`complete` on the asyncio client."""
        args = [token, response.to_json(), self._now_ms(), _ms(retention)]
        try:
            script = self._redis.async_script(_COMPLETE)
            reply = await script(keys=[self._prefix + key], args=args)
        except redis.RedisError as exc:
            raise StoreError(f"Redis store failed on complete: {exc}") from exc
        return int(reply) == 1

    async def arelease(self, key: str, token: str) -> bool:
        """:meth:`release` on the asyncio client."""
        try:
            script = self._redis.async_script(_RELEASE)
            reply = await script(keys=[self._prefix + key], args=[token])
        except redis.RedisError as exc:
            raise StoreError(f"Redis store failed on release: {exc}") from exc
        return int(reply) == 1

    async def aclose(self) -> None:
        """Close the asyncio client and its pool if this object built them."""
        await self._redis.aclose()


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _begin_result(reply: list[Any], *, token: str) -> BeginResult:
    if int(reply[0]) == 1:
        return Acquired(token)
    fingerprint = text(reply[1])
    raw = text(reply[2])
    return Existing(fingerprint, StoredResponse.from_json(raw) if raw else None)
