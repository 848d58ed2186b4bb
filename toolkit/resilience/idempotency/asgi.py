"""Idempotency-Key middleware for ASGI apps (Starlette, FastAPI, Django's ASGI handler)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from toolkit.resilience.idempotency._core import (
    Execute,
    IdempotencyMiddlewareBase,
    KeyedRequest,
    Respond,
    Wait,
    with_fingerprint,
)
from toolkit.resilience.idempotency.stores.base import StoredResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class IdempotencyMiddleware(IdempotencyMiddlewareBase[ASGIApp]):
    """Run each keyed request once; replay its stored response to every repeat.

    The request body is buffered (at most ``max_body_bytes``, else 413) to fingerprint it
    and replayed to the app through a wrapped ``receive``; the response streams to the
    client unchanged while a wrapped ``send`` keeps a copy to store. All store calls are
    awaited on the store's async methods, so the event loop never blocks on I/O.

    Arguments: ``app``, ``store`` and the options of :class:`IdempotencyMiddlewareBase`.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection; anything but an applicable HTTP request passes."""
        if scope["type"] != "http" or not self._gate.applies(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        method = scope["method"].upper()
        target = _target(scope)
        keyed = self._gate.key_of(_headers(scope), method, target)
        if keyed is None:
            await self.app(scope, receive, send)
            return
        if isinstance(keyed, Respond):
            await _send_response(send, keyed.response)
            return
        body = await _read_body(receive, self._gate.options.max_body_bytes)
        if isinstance(body, _Disconnected):
            return  # the client left before its body arrived: nothing to run, no one to answer
        if body is None:
            await _send_response(send, self._gate.too_large().response)
            return
        keyed = with_fingerprint(keyed, method, target, body)
        outcome = await self._begin(keyed)
        replay = _replaying(body, receive)
        if outcome is None:  # store down and configured to fail open
            await self.app(scope, replay, send)
        elif isinstance(outcome, Respond):
            await _send_response(send, outcome.response)
        else:
            await self._execute(scope, replay, send, keyed, outcome.token)

    async def _begin(self, keyed: KeyedRequest) -> Execute | Respond | None:
        options = self._gate.options
        deadline = time.monotonic() + options.wait_for_in_progress
        while True:
            try:
                result = await self.store.abegin(
                    keyed.storage_key, keyed.fingerprint, lock_ttl=options.lock_ttl
                )
            except Exception as exc:
                return self._gate.store_failed("begin", exc)
            outcome = self._gate.resolve(keyed, result, may_wait=time.monotonic() < deadline)
            if not isinstance(outcome, Wait):
                return outcome
            await asyncio.sleep(options.poll_interval)

    async def _execute(
        self, scope: Scope, receive: Receive, send: Send, keyed: KeyedRequest, token: str
    ) -> None:
        capture = _ResponseCapture(send, self._gate.options.max_body_bytes)
        try:
            await self.app(scope, receive, capture.send)
        except BaseException:
            # A response that was complete before sending it failed is still the result.
            # Shielded: under a level-triggered (anyio) cancel scope every await of a
            # cancelled request is cancelled again, and the key would stay locked.
            await asyncio.shield(self._finish(keyed, token, capture))
            raise
        await self._finish(keyed, token, capture)

    async def _finish(self, keyed: KeyedRequest, token: str, capture: _ResponseCapture) -> None:
        stored = None
        if capture.complete and not capture.overflow:
            stored = self._gate.to_store(capture.status, capture.headers, b"".join(capture.body))
        key = keyed.storage_key
        if stored is None:
            try:
                await self.store.arelease(key, token)
            except Exception as exc:
                self._gate.store_failed_after("release", exc)
            return
        try:
            await self.store.acomplete(key, token, stored, retention=self._gate.options.retention)
        except Exception as exc:
            self._gate.store_failed_after("complete", exc)


class _ResponseCapture:
    """Forwards every message to ``send`` and keeps a bounded copy of the response."""

    def __init__(self, send: Send, limit: int) -> None:
        self._send = send
        self._limit = limit
        self._size = 0
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.complete = False
        self.overflow = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
            ]
        elif message["type"] == "http.response.body":
            chunk = bytes(message.get("body", b""))
            self._size += len(chunk)
            if self._size > self._limit:
                self.overflow = True
                self.body.clear()
            elif not self.overflow:
                self.body.append(chunk)
            if not message.get("more_body", False):
                self.complete = True
        await self._send(message)


class _Disconnected:
    """The client went away before its whole body arrived."""


_DISCONNECTED = _Disconnected()


async def _read_body(receive: Receive, limit: int) -> bytes | _Disconnected | None:
    """The whole request body, ``None`` once it exceeds ``limit`` bytes, or
    ``_DISCONNECTED`` when the client went away before sending all of it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return _DISCONNECTED
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that first hands the buffered body to the app, then delegates."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _send_response(send: Send, response: StoredResponse) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers],
        }
    )
    await send({"type": "http.response.body", "body": response.body, "more_body": False})


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


def _target(scope: Scope) -> str:
    path = str(scope["path"])
    query = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path
