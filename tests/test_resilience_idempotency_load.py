"""200 concurrent identical requests with one key across 3 worker processes run once.

Real servers (uvicorn for ASGI, gunicorn with threads for WSGI) on 127.0.0.1 share one
SQLite file or one real redis-server. Duplicates wait for the first request
(``wait_for_in_progress``), so every client receives the same response.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _processes import free_port, gunicorn_command, running, uvicorn_command, wait_until_http_ok
from _resilience_support import redis_server

pytestmark = pytest.mark.slow

TESTS = Path(__file__).parent
REQUESTS = 200


def server_command(kind: str, port: int) -> list[str]:
    if kind == "asgi":
        return uvicorn_command(
            "_resilience_load_app:create_asgi_app",
            port,
            app_dir=TESTS,
            options=["--factory", "--workers", "3", "--log-level", "warning"],
        )
    return gunicorn_command(
        "_resilience_load_app:create_wsgi_app()",
        port,
        chdir=TESTS,
        options=["--workers", "3", "--threads", "70", "--log-level", "warning"],
    )


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    kind, store = request.param
    executions = tmp_path / "executions.log"
    executions.touch()
    spec = (
        f"sqlite:{tmp_path / 'idem.db'}"
        if store == "sqlite"
        else request.getfixturevalue("redis_url")
    )
    port = free_port()
    env = {**os.environ, "IDEM_STORE": spec, "IDEM_EXECUTIONS": str(executions)}
    log = tmp_path / "server.log"
    with running(
        server_command(kind, port), log, env=env, cwd=tmp_path, stop_seconds=30
    ) as started:
        url = f"http://127.0.0.1:{port}"
        wait_until_http_ok(url + "/", started=started)
        yield url, executions


@pytest.mark.parametrize(
    "server",
    [("asgi", "sqlite"), ("asgi", "redis"), ("wsgi", "sqlite"), ("wsgi", "redis")],
    indirect=True,
    ids=["uvicorn-sqlite", "uvicorn-redis", "gunicorn-sqlite", "gunicorn-redis"],
)
async def test_concurrent_duplicates_execute_once_and_get_one_response(
    server: tuple[str, Path],
) -> None:
    """200 simultaneous POSTs with one key: one execution, 200 identical 201 responses,
    exactly one of them not marked Idempotent-Replayed."""
    url, executions = server
    key = f"load-{uuid.uuid4()}"  # the Redis server is shared by the parametrized cases
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=90) as client:
        responses = await asyncio.gather(
            *(
                client.post("/orders", content=b'{"amount": 10}', headers={"Idempotency-Key": key})
                for _ in range(REQUESTS)
            )
        )
    assert executions.read_text().count("\n") == 1
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    replayed = [r.headers.get("idempotent-replayed") for r in responses]
    assert replayed.count("true") == REQUESTS - 1
    assert replayed.count(None) == 1
