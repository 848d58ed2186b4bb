"""httpx transports that send every request through a circuit breaker."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from toolkit.resilience.breaker.breaker import CircuitBreaker


def server_error(status: int) -> bool:
    """The default failure test for responses: any 5xx."""
    return status >= 500


class BreakerTransport(httpx.BaseTransport):
    """Wraps a sync transport: ``httpx.Client(transport=BreakerTransport(breaker))``.

    Transport errors and responses for which ``is_failure(status)`` holds (default: 5xx)
    count as failures; a 5xx response is still returned to the caller. When the breaker
    does not permit the call, :class:`CallNotPermitted` is raised and nothing is sent.
    Slow-call time runs until the response headers arrive.
    """

    def __init__(
        self,
        breaker: CircuitBreaker,
        transport: httpx.BaseTransport | None = None,
        *,
        is_failure: Callable[[int], bool] = server_error,
    ) -> None:
        self.breaker = breaker
        self._transport = transport if transport is not None else httpx.HTTPTransport()
        self._is_failure = is_failure

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` if the breaker permits it."""
        with self.breaker.guard() as guard:
            response = self._transport.handle_request(request)
            if self._is_failure(response.status_code):
                guard.mark_failure()
            return response

    def close(self) -> None:
        """Close the wrapped transport."""
        self._transport.close()


class AsyncBreakerTransport(httpx.AsyncBaseTransport):
    """Wraps an async transport: ``httpx.AsyncClient(transport=AsyncBreakerTransport(b))``.

    Same rules as :class:`BreakerTransport`; the breaker is used through its async path.
    """

    def __init__(
        self,
        breaker: CircuitBreaker,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        is_failure: Callable[[int], bool] = server_error,
    ) -> None:
        self.breaker = breaker
        self._transport = transport if transport is not None else httpx.AsyncHTTPTransport()
        self._is_failure = is_failure

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` if the breaker permits it."""
        async with self.breaker.guard() as guard:
            response = await self._transport.handle_async_request(request)
            if self._is_failure(response.status_code):
                guard.mark_failure()
            return response

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._transport.aclose()
