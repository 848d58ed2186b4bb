"""SQLite store: the default for one machine; survives restarts, safe across processes."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from toolkit.resilience.idempotency.stores.base import (
    Acquired,
    BeginResult,
    Existing,
    StoredResponse,
    StoreError,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    token TEXT NOT NULL,
    expires_at REAL NOT NULL,
    response TEXT
)
"""


class SQLiteStore:
    """One row per key in a table of a SQLite file.

    ``begin`` runs in a ``BEGIN IMMEDIATE`` transaction (the write lock is taken before the
    read), so two processes on the same file can never both acquire a key. ``complete`` and
    ``release`` are single conditional statements. Each call opens its own connection, so
    one store may be shared by threads; the async methods run the sync ones in a worker
    thread and never block the event loop. The table is created on first use.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        table: str = "idempotency_keys",
        busy_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not table.isidentifier():
            raise ValueError(f"table name must be an identifier, got {table!r}")
        self._path = str(path)
        self._table = table
        self._busy_timeout = busy_timeout
        self._clock = clock
        self._ready = False
        self._ready_lock = threading.Lock()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self._path, timeout=self._busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite store {self._path!r}: {exc}") from exc
        try:
            if not self._ready:
                self._create_schema(conn)
            yield conn
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite store {self._path!r} failed: {exc}") from exc
        finally:
            conn.close()

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        with self._ready_lock:
            if self._ready:
                return
            # WAL lets readers proceed while one writer holds the lock; it is a property
            # of the file, so whichever process sets it first wins and the rest are no-ops.
            _switch_to_wal(conn, self._busy_timeout)
            conn.execute(_SCHEMA.format(table=self._table))
            self._ready = True

    def begin(self, key: str, fingerprint: str, *, lock_ttl: float) -> BeginResult:
        """Lock ``key`` for this request or report the existing record."""
        now = self._clock()
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    f"SELECT fingerprint, expires_at, response FROM {self._table} WHERE key = ?",
                    (key,),
                ).fetchone()
                if row is not None and row[1] > now:
                    conn.execute("COMMIT")
                    response = None if row[2] is None else StoredResponse.from_json(row[2])
                    return Existing(row[0], response)
                token = uuid.uuid4().hex
                conn.execute(
                    f"INSERT INTO {self._table} (key, fingerprint, token, expires_at, response)"
                    " VALUES (?, ?, ?, ?, NULL) ON CONFLICT(key) DO UPDATE SET"
                    " fingerprint = excluded.fingerprint, token = excluded.token,"
                    " expires_at = excluded.expires_at, response = NULL",
                    (key, fingerprint, token, now + lock_ttl),
                )
                conn.execute("COMMIT")
                return Acquired(token)
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def complete(self, key: str, token: str, response: StoredResponse, *, retention: float) -> bool:
        """Store ``response`` for ``retention`` seconds; ``False`` if ``token`` lost the lock."""
        now = self._clock()
        with self._connection() as conn:
            cursor = conn.execute(
                f"UPDATE {self._table} SET response = ?, expires_at = ?"
                " WHERE key = ? AND token = ? AND response IS NULL",
                (response.to_json(), now + retention, key, token),
            )
            return cursor.rowcount == 1

    def release(self, key: str, token: str) -> bool:
        """Forget the in-progress record so a retry runs; ``False`` if ``token`` lost it."""
        with self._connection() as conn:
            cursor = conn.execute(
                f"DELETE FROM {self._table} WHERE key = ? AND token = ? AND response IS NULL",
                (key, token),
            )
            return cursor.rowcount == 1

    def purge_expired(self) -> int:
        """Delete expired rows (run it from a periodic job); returns how many."""
        with self._connection() as conn:
            cursor = conn.execute(
                f"DELETE FROM {self._table} WHERE expires_at <= ?", (self._clock(),)
            )
            return cursor.rowcount

    async def abegin(self, key: str, fingerprint: str, *, lock_ttl: float) -> BeginResult:
        """:meth:`begin` in a worker thread."""
        return await asyncio.to_thread(self.begin, key, fingerprint, lock_ttl=lock_ttl)

    async def acomplete(
        self, key: str, token: str, response: StoredResponse, *, retention: float
    ) -> bool:
        """:meth:`complete` in a worker thread."""
        return await asyncio.to_thread(self.complete, key, token, response, retention=retention)

    async def arelease(self, key: str, token: str) -> bool:
        """:meth:`release` in a worker thread."""
        return await asyncio.to_thread(self.release, key, token)


def _switch_to_wal(conn: sqlite3.Connection, timeout: float) -> None:
    # Workers that open a new file at the same moment all ask for WAL; SQLite may answer
    # "database is locked" to the losers without waiting. The winner's switch is all any
    # of them needs, so retry until the file is in WAL mode or the busy timeout is spent.
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            mode = conn.execute("PRAGMA journal_mode").fetchone()
            if mode is not None and str(mode[0]).lower() == "wal":
                return
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)
