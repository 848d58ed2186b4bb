"""Decisions shared by the ASGI and WSGI middleware: key, fingerprint, replay, problems.

Nothing here does I/O; the middleware call the store (sync or async) and hand the result
to :class:`IdempotencyGate`, which holds configuration only, never per-request state.
Both middleware take their options through :class:`IdempotencyMiddlewareBase`.

Over 300 lines and kept whole: the middleware for both protocols must take exactly
the same decisions, so they live in one place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

import structlog

from toolkit import semconv
from toolkit.resilience.idempotency._metrics import IdempotencyMetrics, idempotency_metrics
from toolkit.resilience.idempotency.stores.base import (
    Acquired,
    BeginResult,
    IdempotencyStore,
    StoredResponse,
)

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

AppT = TypeVar("AppT")

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://toolkit.dev/problems/idempotency/"
MAX_KEY_LENGTH = 255
DEFAULT_METHODS = frozenset({"POST", "PATCH"})
# Statuses that ask the client to retry later: storing them would make the retry useless.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})
# Headers that describe this connection or this exchange, not the result: not replayed.
_NOT_REPLAYED = frozenset(
    {
        "connection",
        "date",
        "keep-alive",
        "server",
        "transfer-encoding",
        "traceparent",
        "tracestate",
        semconv.IDEMPOTENCY_REPLAYED_HEADER.lower(),
        semconv.CORRELATION_HEADER.lower(),
        *(alias.lower() for alias in semconv.CORRELATION_HEADER_ALIASES),
    }
)

logger = structlog.stdlib.get_logger("toolkit.idempotency")


def default_should_store(status: int) -> bool:
    """Store every result the app produced except 5xx and "retry later" 4xx (408/425/429).

    A 5xx says the server failed, most often transiently: the key is released so the
    client's retry runs again (handlers must commit atomically, which they must anyway).
    """
    return status < 500 and status not in RETRYABLE_CLIENT_ERRORS


@dataclass(frozen=True)
class IdempotencyOptions:
    """Everything the middleware can be told; see docs/resilience.md for each field."""

    methods: frozenset[str] = DEFAULT_METHODS
    path_filter: Callable[[str], bool] | None = None
    required: bool = False
    header: str = semconv.IDEMPOTENCY_KEY_HEADER
    scope_headers: tuple[str, ...] = ()
    lock_ttl: float = 60.0
    retention: float = 24 * 3600.0
    max_body_bytes: int = 1024 * 1024
    fail_open: bool = False
    wait_for_in_progress: float = 0.0
    poll_interval: float = 0.05
    should_store: Callable[[int], bool] = default_should_store

    def __post_init__(self) -> None:
        if self.lock_ttl <= 0 or self.retention <= 0 or self.max_body_bytes <= 0:
            raise ValueError("lock_ttl, retention and max_body_bytes must be positive")
        if self.wait_for_in_progress < 0 or self.poll_interval <= 0:
            raise ValueError("wait_for_in_progress must be >= 0 and poll_interval > 0")


@dataclass(frozen=True)
class KeyedRequest:
    """A request that carries a valid key: where it is stored and what it must match."""

    storage_key: str
    fingerprint: str


@dataclass(frozen=True)
class Execute:
    """Run the app; then complete (or release) with ``token``."""

    token: str


@dataclass(frozen=True)
class Respond:
    """Answer with ``response`` without running the app."""

    response: StoredResponse


class Wait:
    """The key is in progress and the caller may still wait: ask the store again."""


WAIT = Wait()


def problem(status: int, slug: str, title: str, detail: str) -> StoredResponse:
    """An RFC 9457 problem+json response."""
    body = json.dumps(
        {"type": PROBLEM_TYPE_BASE + slug, "title": title, "status": status, "detail": detail},
        separators=(",", ":"),
    ).encode()
    headers = (("content-type", PROBLEM_CONTENT_TYPE), ("content-length", str(len(body))))
    return StoredResponse(status, headers, body)


def parse_key(raw: str) -> str | None:
    """The key of an ``Idempotency-Key`` header value, or ``None`` when it is invalid.

    The IETF draft sends a Structured Field string (``"abc"``), Stripe a bare token: both
    are accepted. A key is 1 to 255 visible ASCII characters.
    """
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not 0 < len(value) <= MAX_KEY_LENGTH:
        return None
    if not all(" " <= ch <= "~" for ch in value):
        return None
    return value


def request_fingerprint(method: str, target: str, body: bytes) -> str:
    """sha256 over method, path with query string and the body's own sha256."""
    digest = hashlib.sha256()
    digest.update(method.encode("ascii", "replace"))
    digest.update(b"\n")
    digest.update(target.encode("utf-8", "surrogateescape"))
    digest.update(b"\n")
    digest.update(hashlib.sha256(body).digest())
    return digest.hexdigest()


class IdempotencyGate:
    """The decisions of the Idempotency-Key protocol, free of I/O and of per-request state."""

    def __init__(self, options: IdempotencyOptions, metrics: IdempotencyMetrics) -> None:
        self.options = options
        self.metrics = metrics

    def applies(self, method: str, path: str) -> bool:
        """Whether requests with this method and path take part at all."""
        if method.upper() not in self.options.methods:
            return False
        return self.options.path_filter is None or self.options.path_filter(path)

    def key_of(
        self, headers: Mapping[str, str], method: str, target: str
    ) -> KeyedRequest | Respond | None:
        """Validate the key header: ``None`` runs the app untouched, ``Respond`` is a 400.

        ``headers`` has lower-case names. The fingerprint is completed by :meth:`keyed`
        once the body is read; here only the key and its client scope are known.
        """
        raw = headers.get(self.options.header)
        if raw is None:
            if not self.options.required:
                return None
            return Respond(
                problem(
                    400,
                    "key-missing",
                    "Idempotency-Key header missing",
                    f"{method} {target} requires an Idempotency-Key header.",
                )
            )
        key = parse_key(raw)
        if key is None:
            return Respond(
                problem(
                    400,
                    "key-invalid",
                    "Idempotency-Key header invalid",
                    f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} visible ASCII characters.",
                )
            )
        return KeyedRequest(self._scoped(key, headers), "")

    def _scoped(self, key: str, headers: Mapping[str, str]) -> str:
        if not self.options.scope_headers:
            return key
        digest = hashlib.sha256()
        for name in self.options.scope_headers:
            digest.update(headers.get(name, "").encode("latin-1", "replace"))
            digest.update(b"\0")
        # The key comes last and whole: a scope hash never collides with a user's key.
        return f"{digest.hexdigest()[:32]}:{key}"

    def too_large(self) -> Respond:
        """413 for a body over ``max_body_bytes``."""
        return Respond(
            problem(
                413,
                "body-too-large",
                "Request body too large for an idempotent request",
                f"Requests with an Idempotency-Key may carry at most "
                f"{self.options.max_body_bytes} bytes.",
            )
        )

    def resolve(
        self, request: KeyedRequest, result: BeginResult, *, may_wait: bool
    ) -> Execute | Respond | Wait:
        """Turn the store's answer into what the middleware does next."""
        if isinstance(result, Acquired):
            return Execute(result.token)
        if result.fingerprint != request.fingerprint:
            self.metrics.conflicts.inc()
            return Respond(
                problem(
                    422,
                    "key-reused",
                    "Idempotency-Key reused for a different request",
                    "This key was first used with another method, path or body; "
                    "use a new key for a new request.",
                )
            )
        if result.response is None:
            if may_wait:
                return WAIT
            self.metrics.in_progress.inc()
            return Respond(
                problem(
                    409,
                    "request-in-progress",
                    "A request with this Idempotency-Key is in progress",
                    "Retry after the first request has finished to get its response.",
                )
            )
        self.metrics.replays.inc()
        return Respond(replayed(result.response))

    def store_failed(self, operation: str, error: BaseException) -> Respond | None:
        """Count and log a store failure on ``begin``: ``None`` to fail open, else a 503."""
        action = "fail_open" if self.options.fail_open else "fail_closed"
        self.metrics.store_errors.labels(operation, action).inc()
        logger.error(
            "idempotency store failed", operation=operation, action=action, error=repr(error)
        )
        if self.options.fail_open:
            return None
        return Respond(
            problem(
                503,
                "store-unavailable",
                "Idempotency store unavailable",
                "The request was not run because its Idempotency-Key cannot be checked; "
                "retry later with the same key.",
            )
        )

    def store_failed_after(self, operation: str, error: BaseException) -> None:
        """Count and log a failure to complete/release: the lock then expires by itself."""
        self.metrics.store_errors.labels(operation, "none").inc()
        logger.error(
            "idempotency store failed after the request ran; the key stays locked until "
            "lock_ttl expires",
            operation=operation,
            error=repr(error),
        )

    def to_store(
        self, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> StoredResponse | None:
        """The response to keep for replays, or ``None`` when it must not be stored."""
        if not self.options.should_store(status):
            return None
        kept = tuple((k.lower(), v) for k, v in headers if k.lower() not in _NOT_REPLAYED)
        return StoredResponse(status, kept, body)


def with_fingerprint(request: KeyedRequest, method: str, target: str, body: bytes) -> KeyedRequest:
    """``request`` with the fingerprint of its method, target and body filled in."""
    return KeyedRequest(request.storage_key, request_fingerprint(method, target, body))


def replayed(response: StoredResponse) -> StoredResponse:
    """``response`` marked with ``Idempotent-Replayed: true``."""
    marker = (semconv.IDEMPOTENCY_REPLAYED_HEADER.lower(), "true")
    return StoredResponse(response.status, (*response.headers, marker), response.body)


class IdempotencyMiddlewareBase(Generic[AppT]):
    """The constructor the ASGI and WSGI middleware share: ``app``, ``store``, the options.

    Method names are matched upper-case and header names lower-case, whatever the caller
    wrote; see docs/resilience.md for each option.
    """

    def __init__(
        self,
        app: AppT,
        *,
        store: IdempotencyStore,
        methods: Collection[str] = DEFAULT_METHODS,
        path_filter: Callable[[str], bool] | None = None,
        required: bool = False,
        header: str = semconv.IDEMPOTENCY_KEY_HEADER,
        scope_headers: Collection[str] = (),
        lock_ttl: float = 60.0,
        retention: float = 24 * 3600.0,
        max_body_bytes: int = 1024 * 1024,
        fail_open: bool = False,
        wait_for_in_progress: float = 0.0,
        poll_interval: float = 0.05,
        should_store: Callable[[int], bool] = default_should_store,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.app = app
        self.store = store
        options = IdempotencyOptions(
            methods=frozenset(m.upper() for m in methods),
            path_filter=path_filter,
            required=required,
            header=header.lower(),
            scope_headers=tuple(h.lower() for h in scope_headers),
            lock_ttl=lock_ttl,
            retention=retention,
            max_body_bytes=max_body_bytes,
            fail_open=fail_open,
            wait_for_in_progress=wait_for_in_progress,
            poll_interval=poll_interval,
            should_store=should_store,
        )
        self._gate = IdempotencyGate(options, idempotency_metrics(registry))
