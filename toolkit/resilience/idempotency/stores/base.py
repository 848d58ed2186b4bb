"""What every idempotency store offers: one Protocol, its result types and its error."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Protocol, TypeAlias, runtime_checkable


class StoreError(Exception):
    """The store could not be reached or answered nonsense; the middleware decides what next."""


@dataclass(frozen=True)
class StoredResponse:
    """A response as it is replayed: status, headers (latin-1 text pairs) and body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def to_json(self) -> str:
        """Serialise for stores that keep text."""
        return json.dumps(
            {
                "status": self.status,
                "headers": [list(pair) for pair in self.headers],
                "body": base64.b64encode(self.body).decode("ascii"),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> StoredResponse:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        return cls(
            status=int(data["status"]),
            headers=tuple((str(k), str(v)) for k, v in data["headers"]),
            body=base64.b64decode(data["body"]),
        )


@dataclass(frozen=True)
class Acquired:
    """The key was free (or its lock had expired): the caller runs the request, then completes."""

    token: str


@dataclass(frozen=True)
class Existing:
    """The key is taken; ``response`` is ``None`` while the first request is still running."""

    fingerprint: str
    response: StoredResponse | None


BeginResult: TypeAlias = Acquired | Existing


@runtime_checkable
class IdempotencyStore(Protocol):
    """Atomic key bookkeeping, sync and async, shared by every store.

    ``begin`` either locks a free key for ``lock_ttl`` seconds (returning a token) or
    reports what is stored. ``complete`` and ``release`` only act when the token still owns
    the lock: a request whose lock expired and was taken over cannot overwrite the new
    owner. Every method raises :class:`StoreError` when the backend fails.
    """

    def begin(self, key: str, fingerprint: str, *, lock_ttl: float) -> BeginResult:
        """Lock ``key`` for this request or report the existing record."""
        ...

    def complete(self, key: str, token: str, response: StoredResponse, *, retention: float) -> bool:
        """Store ``response`` for ``retention`` seconds; ``False`` if ``token`` lost the lock."""
        ...

    def release(self, key: str, token: str) -> bool:
        """Forget the in-progress record so a retry runs; ``False`` if ``token`` lost it."""
        ...

    async def abegin(self, key: str, fingerprint: str, *, lock_ttl: float) -> BeginResult:
        """:meth:`begin` without blocking the event loop."""
        ...

    async def acomplete(
        self, key: str, token: str, response: StoredResponse, *, retention: float
    ) -> bool:
        """:meth:`complete` without blocking the event loop."""
        ...

    async def arelease(self, key: str, token: str) -> bool:
        """:meth:`release` without blocking the event loop."""
        ...
