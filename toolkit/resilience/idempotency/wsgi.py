"""Idempotency-Key middleware for WSGI apps (Flask, Django's WSGI handler)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from toolkit.resilience.idempotency._core import (
    Execute,
    IdempotencyMiddlewareBase,
    KeyedRequest,
    Respond,
    Wait,
    problem,
    with_fingerprint,
)
from toolkit.resilience.idempotency.stores.base import StoredResponse

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

# typeshed's WSGIApplication, spelled so that it exists at run time (it is a base's argument).
WSGIApp = Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]]


class IdempotencyWSGIMiddleware(IdempotencyMiddlewareBase[WSGIApp]):
    """Run each keyed request once; replay its stored response to every repeat.

    The request body is read (at most ``max_body_bytes``, else 413) and handed to the app
    as a fresh ``wsgi.input``. The app's response is collected to store it; a response
    larger than ``max_body_bytes`` is passed through and not stored (the key is released).

    Arguments: ``app``, ``store`` and the options of :class:`IdempotencyMiddlewareBase`.
    """

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Handle one WSGI request."""
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
        if not self._gate.applies(method, path):
            return self.app(environ, start_response)
        query = str(environ.get("QUERY_STRING", ""))
        target = f"{path}?{query}" if query else path
        keyed = self._gate.key_of(_headers(environ), method, target)
        if keyed is None:
            return self.app(environ, start_response)
        if isinstance(keyed, Respond):
            return _respond(start_response, keyed.response)
        body = _read_body(environ, self._gate.options.max_body_bytes)
        if body is None:
            return _respond(start_response, self._gate.too_large().response)
        if isinstance(body, _Incomplete):
            # The client went away mid-upload: never run (and store) a truncated request.
            return _respond(start_response, _INCOMPLETE_BODY)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        keyed = with_fingerprint(keyed, method, target, body)
        outcome = self._begin(keyed)
        if outcome is None:  # store down and configured to fail open
            return self.app(environ, start_response)
        if isinstance(outcome, Respond):
            return _respond(start_response, outcome.response)
        return self._execute(environ, start_response, keyed, outcome.token)

    def _begin(self, keyed: KeyedRequest) -> Execute | Respond | None:
        options = self._gate.options
        deadline = time.monotonic() + options.wait_for_in_progress
        while True:
            try:
                result = self.store.begin(
                    keyed.storage_key, keyed.fingerprint, lock_ttl=options.lock_ttl
                )
            except Exception as exc:
                return self._gate.store_failed("begin", exc)
            outcome = self._gate.resolve(keyed, result, may_wait=time.monotonic() < deadline)
            if not isinstance(outcome, Wait):
                return outcome
            time.sleep(options.poll_interval)

    def _execute(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        keyed: KeyedRequest,
        token: str,
    ) -> Iterable[bytes]:
        started: list[Any] = []
        limit = self._gate.options.max_body_bytes
        chunks: list[bytes] = []
        size = 0

        def capture_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            write = start_response(status, headers, exc_info)

            def capture_write(data: bytes) -> None:
                # Legacy write(): the server sends it at once, so keep a copy only.
                nonlocal size
                size += len(data)
                written.append(data)
                write(data)

            return capture_write

        written: list[bytes] = []
        try:
            result = self.app(environ, capture_start)
            iterator = iter(result)
            try:
                for chunk in iterator:
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        break
            finally:
                if size <= limit and hasattr(result, "close"):
                    result.close()
        except BaseException:
            self._release(keyed, token)
            raise
        if size > limit:
            # Too large to keep: stream the rest through and let a retry run again.
            self._release(keyed, token)
            return _chain(chunks, iterator, result)
        body = b"".join(chunks)
        stored = None
        if started:
            status = int(str(started[0]).split()[0])
            stored = self._gate.to_store(status, started[1], b"".join(written) + body)
        if stored is None:
            self._release(keyed, token)
        else:
            try:
                self.store.complete(
                    keyed.storage_key, token, stored, retention=self._gate.options.retention
                )
            except Exception as exc:
                self._gate.store_failed_after("complete", exc)
        return [body]

    def _release(self, keyed: KeyedRequest, token: str) -> None:
        try:
            self.store.release(keyed.storage_key, token)
        except Exception as exc:
            self._gate.store_failed_after("release", exc)


def _chain(head: list[bytes], tail: Iterator[bytes], result: Iterable[bytes]) -> Iterator[bytes]:
    try:
        yield from head
        yield from tail
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


class _Incomplete:
    """Fewer body bytes arrived than Content-Length announced."""


_INCOMPLETE = _Incomplete()
_INCOMPLETE_BODY = problem(
    400,
    "body-incomplete",
    "Request body incomplete",
    "The body ended before Content-Length bytes arrived; nothing was run.",
)


def _read_body(environ: WSGIEnvironment, limit: int) -> bytes | _Incomplete | None:
    """The request body, ``None`` when it is larger than ``limit`` bytes, or
    ``_INCOMPLETE`` when the stream ends before ``CONTENT_LENGTH`` bytes."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length_text = str(environ.get("CONTENT_LENGTH") or "")
    if length_text.isdigit():
        length = int(length_text)
        if length > limit:
            return None
        data = b""
        while len(data) < length:  # a stream may hand over less than asked before EOF
            chunk = bytes(stream.read(length - len(data)))
            if not chunk:
                return _INCOMPLETE
            data += chunk
        return data
    if not environ.get("wsgi.input_terminated"):
        # PEP 3333: no Content-Length means no body; reading would block on the socket.
        return b""
    # No length (chunked): read one byte past the limit to tell "too large" apart.
    data = bytes(stream.read(limit + 1))
    return None if len(data) > limit else data


def _respond(start_response: StartResponse, response: StoredResponse) -> list[bytes]:
    start_response(f"{response.status} {_reason(response.status)}", list(response.headers))
    return [response.body]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            headers[name[5:].replace("_", "-").lower()] = str(value)
    if "CONTENT_TYPE" in environ:
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    return headers
