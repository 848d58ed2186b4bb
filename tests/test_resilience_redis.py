"""The shared Redis clients and script registration behind the breaker and the Redis store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
import redis.asyncio
from _resilience_support import redis_server

from toolkit.resilience._redis import RedisScripts, text

_ECHO = "return ARGV[1]"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def test_sync_client_built_from_url_registers_each_source_once(redis_url: str) -> None:
    """A client is built from the URL on first use; one source gives one script object."""
    scripts = RedisScripts(redis_url, client=None, async_client=None, max_connections=2)
    first = scripts.script(_ECHO)
    assert scripts.script(_ECHO) is first
    assert first(keys=[], args=["hello"]) == b"hello"


def test_given_sync_client_is_used(redis_url: str) -> None:
    """A given client serves the scripts (here one that decodes replies)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    scripts = RedisScripts(
        "redis://unused:1/0", client=client, async_client=None, max_connections=2
    )
    assert scripts.script(_ECHO)(keys=[], args=["hello"]) == "hello"
    client.close()


async def test_async_client_built_from_url_is_closed_by_aclose(redis_url: str) -> None:
    """The asyncio client built from the URL runs scripts and ``aclose`` forgets it."""
    scripts = RedisScripts(redis_url, client=None, async_client=None, max_connections=2)
    first = scripts.async_script(_ECHO)
    assert scripts.async_script(_ECHO) is first
    assert await first(keys=[], args=["hello"]) == b"hello"
    await scripts.aclose()
    rebuilt = scripts.async_script(_ECHO)
    assert rebuilt is not first
    assert await rebuilt(keys=[], args=["again"]) == b"again"
    await scripts.aclose()


async def test_aclose_leaves_a_given_async_client_open(redis_url: str) -> None:
    """``aclose`` does not close an asyncio client the caller passed in."""
    client = redis.asyncio.Redis.from_url(redis_url)
    scripts = RedisScripts(redis_url, client=None, async_client=client, max_connections=2)
    await scripts.async_script(_ECHO)(keys=[], args=["x"])
    await scripts.aclose()
    assert await client.ping() is True
    await client.aclose()


@pytest.mark.parametrize(("value", "expected"), [(b"half_open", "half_open"), ("open", "open")])
def test_text_decodes_bytes_and_keeps_str(value: str | bytes, expected: str) -> None:
    """Script replies come as bytes or str depending on the client; both read as str."""
    assert text(value) == expected
