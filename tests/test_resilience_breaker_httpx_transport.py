"""httpx transports: outbound calls through a breaker, 5xx counted as failures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from toolkit.resilience.breaker import CallNotPermitted, CircuitBreaker, State
from toolkit.resilience.breaker.httpx_transport import AsyncBreakerTransport, BreakerTransport


class Upstream:
    """A mock dependency answering with a settable status; counts what reaches it."""

    def __init__(self) -> None:
        self.status = 200
        self.hits = 0
        self.error: Exception | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.hits += 1
        if self.error is not None:
            raise self.error
        return httpx.Response(self.status, text="upstream")


class Client:
    """Sync or async httpx client over the breaker transport, with one awaitable get."""

    def __init__(self, mode: str, breaker: CircuitBreaker, upstream: Upstream, **kw: Any) -> None:
        mock = httpx.MockTransport(upstream)
        self.mode = mode
        if mode == "sync":
            self.sync = httpx.Client(transport=BreakerTransport(breaker, mock, **kw))
        else:
            self.aio = httpx.AsyncClient(transport=AsyncBreakerTransport(breaker, mock, **kw))

    async def get(self) -> httpx.Response:
        if self.mode == "sync":
            return self.sync.get("http://billing.internal/invoices")
        return await self.aio.get("http://billing.internal/invoices")


@pytest.fixture(params=["sync", "async"])
def setup(request: pytest.FixtureRequest) -> Callable[..., tuple[Client, Upstream, CircuitBreaker]]:
    def factory(**kw: Any) -> tuple[Client, Upstream, CircuitBreaker]:
        breaker = CircuitBreaker(
            "billing", minimum_calls=2, window_size=2, registry=CollectorRegistry()
        )
        upstream = Upstream()
        return Client(request.param, breaker, upstream, **kw), upstream, breaker

    return factory


async def test_server_errors_open_the_breaker(setup: Callable[..., Any]) -> None:
    """5xx responses reach the caller, count as failures, and open the breaker; the next
    request raises CallNotPermitted and never reaches the dependency."""
    client, upstream, breaker = setup()
    upstream.status = 503
    assert [(await client.get()).status_code for _ in range(2)] == [503, 503]
    assert breaker.state is State.OPEN
    with pytest.raises(CallNotPermitted):
        await client.get()
    assert upstream.hits == 2


async def test_client_errors_are_successes(setup: Callable[..., Any]) -> None:
    """4xx says nothing about the dependency's health: the breaker stays closed."""
    client, upstream, breaker = setup()
    upstream.status = 404
    for _ in range(5):
        await client.get()
    assert breaker.state is State.CLOSED


async def test_transport_errors_are_failures(setup: Callable[..., Any]) -> None:
    """Connection errors propagate and count as failures."""
    client, upstream, breaker = setup()
    upstream.error = httpx.ConnectError("refused")
    for _ in range(2):
        with pytest.raises(httpx.ConnectError):
            await client.get()
    assert breaker.state is State.OPEN


async def test_failure_test_is_configurable(setup: Callable[..., Any]) -> None:
    """is_failure decides which statuses count: here 429 does."""
    client, upstream, breaker = setup(is_failure=lambda status: status == 429)
    upstream.status = 429
    for _ in range(2):
        await client.get()
    assert breaker.state is State.OPEN
