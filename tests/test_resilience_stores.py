"""One conformance suite for every idempotency store, through its sync and async methods."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from _processes import free_port
from _resilience_support import FakeClock, redis_server

from toolkit.resilience.idempotency.stores import (
    Acquired,
    Existing,
    IdempotencyStore,
    MemoryStore,
    SQLiteStore,
    StoredResponse,
    StoreError,
)
from toolkit.resilience.idempotency.stores.redis import RedisStore

RESPONSE = StoredResponse(
    201, (("content-type", "application/json"), ("location", "/orders/7")), b'{"id":7}\x00\xff'
)
FP = "f" * 64
OTHER_FP = "e" * 64


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store_and_clock(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[IdempotencyStore, FakeClock]]:
    clock = FakeClock()
    if request.param == "memory":
        yield MemoryStore(clock=clock), clock
    elif request.param == "sqlite":
        yield SQLiteStore(tmp_path / "idem.db", clock=clock), clock
    else:
        url = request.getfixturevalue("redis_url")
        store = RedisStore(url, prefix=f"test:{request.node.name}:", clock=clock)
        yield store, clock
        await store.aclose()


class Ops:
    """Calls a store through its sync or its async methods with one awaitable interface."""

    def __init__(self, store: IdempotencyStore, mode: str) -> None:
        self.store = store
        self.mode = mode

    async def begin(self, key: str, fp: str, lock_ttl: float = 60.0) -> Any:
        if self.mode == "sync":
            return self.store.begin(key, fp, lock_ttl=lock_ttl)
        return await self.store.abegin(key, fp, lock_ttl=lock_ttl)

    async def complete(self, key: str, token: str, retention: float = 3600.0) -> bool:
        if self.mode == "sync":
            return self.store.complete(key, token, RESPONSE, retention=retention)
        return await self.store.acomplete(key, token, RESPONSE, retention=retention)

    async def release(self, key: str, token: str) -> bool:
        if self.mode == "sync":
            return self.store.release(key, token)
        return await self.store.arelease(key, token)


@pytest.fixture(params=["sync", "async"])
def ops(store_and_clock: tuple[IdempotencyStore, FakeClock], request: pytest.FixtureRequest) -> Ops:
    return Ops(store_and_clock[0], request.param)


@pytest.fixture
def clock(store_and_clock: tuple[IdempotencyStore, FakeClock]) -> FakeClock:
    return store_and_clock[1]


async def test_first_begin_acquires_and_second_sees_in_progress(ops: Ops) -> None:
    """A free key is acquired; a repeat while it runs sees the fingerprint, no response."""
    first = await ops.begin("k1", FP)
    assert isinstance(first, Acquired)
    assert await ops.begin("k1", FP) == Existing(FP, None)


async def test_completed_key_returns_the_stored_response(ops: Ops) -> None:
    """After complete, begin returns the response byte for byte (status, headers, body)."""
    first = await ops.begin("k1", FP)
    assert await ops.complete("k1", first.token) is True
    assert await ops.begin("k1", FP) == Existing(FP, RESPONSE)


async def test_other_fingerprint_reports_the_original_one(ops: Ops) -> None:
    """A different request with the same key learns the first request's fingerprint."""
    first = await ops.begin("k1", FP)
    assert await ops.begin("k1", OTHER_FP) == Existing(FP, None)
    await ops.complete("k1", first.token)
    assert await ops.begin("k1", OTHER_FP) == Existing(FP, RESPONSE)


async def test_release_frees_the_key_for_a_retry(ops: Ops) -> None:
    """A released key is acquired again by the next request, with a new token."""
    first = await ops.begin("k1", FP)
    assert await ops.release("k1", first.token) is True
    second = await ops.begin("k1", OTHER_FP)
    assert isinstance(second, Acquired)
    assert second.token != first.token


async def test_expired_lock_is_taken_over_and_old_token_is_powerless(
    ops: Ops, clock: FakeClock
) -> None:
    """A crashed request's lock expires after lock_ttl; its late complete/release do nothing."""
    first = await ops.begin("k1", FP, lock_ttl=10)
    clock.advance(9.9)
    assert await ops.begin("k1", FP, lock_ttl=10) == Existing(FP, None)
    clock.advance(0.2)
    second = await ops.begin("k1", FP, lock_ttl=10)
    assert isinstance(second, Acquired)
    assert await ops.complete("k1", first.token) is False
    assert await ops.release("k1", first.token) is False
    assert await ops.complete("k1", second.token) is True


async def test_slow_request_still_completes_when_nobody_took_over(
    ops: Ops, clock: FakeClock
) -> None:
    """Past lock_ttl but not yet taken over, the owner still stores its result."""
    first = await ops.begin("k1", FP, lock_ttl=10)
    clock.advance(11)
    assert await ops.complete("k1", first.token) is True
    assert await ops.begin("k1", FP) == Existing(FP, RESPONSE)


async def test_completed_response_expires_after_retention(ops: Ops, clock: FakeClock) -> None:
    """After the retention period the key is free again."""
    first = await ops.begin("k1", FP)
    await ops.complete("k1", first.token, retention=100)
    clock.advance(99)
    assert await ops.begin("k1", FP) == Existing(FP, RESPONSE)
    clock.advance(2)
    assert isinstance(await ops.begin("k1", FP), Acquired)


async def test_complete_and_release_need_the_owning_token(ops: Ops) -> None:
    """Wrong tokens change nothing; a completed record can be neither completed nor released."""
    first = await ops.begin("k1", FP)
    assert await ops.complete("k1", "not-the-token") is False
    assert await ops.release("k1", "not-the-token") is False
    assert await ops.complete("k1", first.token) is True
    assert await ops.complete("k1", first.token) is False
    assert await ops.release("k1", first.token) is False
    assert await ops.begin("k1", FP) == Existing(FP, RESPONSE)


async def test_keys_are_independent(ops: Ops) -> None:
    """Two keys never see each other's records."""
    assert isinstance(await ops.begin("k1", FP), Acquired)
    assert isinstance(await ops.begin("k2", FP), Acquired)


async def test_many_threads_racing_acquire_exactly_once(
    store_and_clock: tuple[IdempotencyStore, FakeClock],
) -> None:
    """40 threads call begin on one key at once: exactly one acquires."""
    store = store_and_clock[0]
    barrier = threading.Barrier(40)
    results: list[object] = []

    def racer() -> None:
        barrier.wait()
        results.append(store.begin("race", FP, lock_ttl=60))

    def run_all() -> None:
        threads = [threading.Thread(target=racer) for _ in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    await asyncio.to_thread(run_all)
    assert sum(isinstance(r, Acquired) for r in results) == 1
    assert results.count(Existing(FP, None)) == 39


async def test_many_tasks_racing_acquire_exactly_once(
    store_and_clock: tuple[IdempotencyStore, FakeClock],
) -> None:
    """40 asyncio tasks call abegin on one key at once: exactly one acquires."""
    store = store_and_clock[0]
    results = await asyncio.gather(*(store.abegin("race", FP, lock_ttl=60) for _ in range(40)))
    assert sum(isinstance(r, Acquired) for r in results) == 1
    assert results.count(Existing(FP, None)) == 39


def test_stored_response_survives_json() -> None:
    """Binary bodies and header order survive the text serialisation the stores use."""
    assert StoredResponse.from_json(RESPONSE.to_json()) == RESPONSE


def test_sqlite_store_reports_an_unusable_file_as_store_error(tmp_path: Path) -> None:
    """A path that cannot be opened raises StoreError, not sqlite3.Error."""
    store = SQLiteStore(tmp_path / "missing-dir" / "idem.db")
    with pytest.raises(StoreError):
        store.begin("k", FP, lock_ttl=1)


async def test_redis_store_reports_a_dead_server_as_store_error() -> None:
    """Nothing listening: both sync and async calls raise StoreError."""
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StoreError):
        store.begin("k", FP, lock_ttl=1)
    with pytest.raises(StoreError):
        await store.abegin("k", FP, lock_ttl=1)
    await store.aclose()


def test_sqlite_purge_drops_only_expired_rows(tmp_path: Path) -> None:
    """purge_expired deletes rows past their expiry and keeps the rest."""
    clock = FakeClock()
    store = SQLiteStore(tmp_path / "idem.db", clock=clock)
    store.begin("old", FP, lock_ttl=1)
    store.begin("new", FP, lock_ttl=100)
    clock.advance(2)
    assert store.purge_expired() == 1
    assert store.begin("new", FP, lock_ttl=100) == Existing(FP, None)


def test_memory_purge_drops_only_expired_records() -> None:
    """purge_expired deletes records past their expiry and keeps the rest."""
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    store.begin("old", FP, lock_ttl=1)
    store.begin("new", FP, lock_ttl=100)
    clock.advance(2)
    assert store.purge_expired() == 1
    assert store.begin("new", FP, lock_ttl=100) == Existing(FP, None)


class _LosingConnection:
    """A connection whose WAL switch loses the race; ``winner_mode`` is what the file has."""

    def __init__(self, winner_mode: str) -> None:
        self.winner_mode = winner_mode
        self.switches = 0

    def execute(self, sql: str) -> Any:
        import sqlite3

        if sql == "PRAGMA journal_mode=WAL":
            self.switches += 1
            raise sqlite3.OperationalError("database is locked")
        return self

    def fetchone(self) -> tuple[str]:
        return (self.winner_mode,)


def test_sqlite_wal_switch_lost_to_another_process_is_fine() -> None:
    """A worker whose WAL switch is refused goes on when another worker already switched."""
    from toolkit.resilience.idempotency.stores.sqlite import _switch_to_wal

    conn = _LosingConnection("wal")

    _switch_to_wal(conn, timeout=0.0)  # type: ignore[arg-type]

    assert conn.switches == 1


def test_sqlite_wal_switch_that_never_happens_raises() -> None:
    """If no one manages to switch the file to WAL, the error comes out once time is up."""
    import sqlite3

    from toolkit.resilience.idempotency.stores.sqlite import _switch_to_wal

    conn = _LosingConnection("delete")

    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        _switch_to_wal(conn, timeout=0.0)  # type: ignore[arg-type]
    assert conn.switches == 1
