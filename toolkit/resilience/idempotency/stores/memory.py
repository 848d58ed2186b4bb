"""In-memory store: one process, tests and single-worker apps."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from toolkit.resilience.idempotency.stores.base import (
    Acquired,
    BeginResult,
    Existing,
    StoredResponse,
)


@dataclass
class _Record:
    fingerprint: str
    token: str
    expires_at: float  # lock expiry while in progress, retention expiry once completed
    response: StoredResponse | None


class MemoryStore:
    """A dict behind a ``threading.Lock``; critical sections are a few dict operations,
    so the async methods call the sync ones directly without blocking the loop."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}

    def begin(self, key: str, fingerprint: str, *, lock_ttl: float) -> BeginResult:
        """Lock ``key`` for this request or report the existing record."""
        now = self._clock()
        with self._lock:
            record = self._records.get(key)
            if record is not None and record.expires_at > now:
                return Existing(record.fingerprint, record.response)
            token = uuid.uuid4().hex
            self._records[key] = _Record(fingerprint, token, now + lock_ttl, None)
            return Acquired(token)

    def complete(self, key: str, token: str, response: StoredResponse, *, retention: float) -> bool:
        """Store ``response`` for ``retention`` seconds; ``False`` if ``token`` lost the lock."""
        now = self._clock()
        with self._lock:
            record = self._records.get(key)
            if record is None or not _owns(record, token):
                return False
            record.response = response
            record.expires_at = now + retention
            return True

    def release(self, key: str, token: str) -> bool:
        """Forget the in-progress record so a retry runs; ``False`` if ``token`` lost it."""
        with self._lock:
            record = self._records.get(key)
            if record is None or not _owns(record, token):
                return False
            del self._records[key]
            return True

    def purge_expired(self) -> int:
        """Drop expired records; returns how many."""
        now = self._clock()
        with self._lock:
            stale = [k for k, r in self._records.items() if r.expires_at <= now]
            for k in stale:
                del self._records[k]
            return len(stale)

    async def abegin(self, key: str, fingerprint: str, *, lock_ttl: float) -> BeginResult:
        """:meth:`begin`; safe in async code (no I/O, microsecond critical section)."""
        return self.begin(key, fingerprint, lock_ttl=lock_ttl)

    async def acomplete(
        self, key: str, token: str, response: StoredResponse, *, retention: float
    ) -> bool:
        """:meth:`complete`; safe in async code."""
        return self.complete(key, token, response, retention=retention)

    async def arelease(self, key: str, token: str) -> bool:
        """:meth:`release`; safe in async code."""
        return self.release(key, token)


def _owns(record: _Record, token: str) -> bool:
    # An expired lock still belongs to its token until another request takes the key over
    # (which replaces the token): a slow request may still store its result.
    return record.response is None and record.token == token
