"""200 concurrent identical requests with one key across 3 worker processes run once.

Real servers (uvicorn for ASGI, gunicorn with threads for WSGI) on 127.0.0.1 share one
SQLite file or one real redis-server. Duplicates wait for the first request
(``wait_for_in_progress``), so every client receives the same response.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _resilience_support import free_port, redis_server

pytestmark = pytest.mark.slow

TESTS = Path(__file__).parent
REQUESTS = 200


def server_command(kind: str, port: int) -> list[str]:
    bin_dir = Path(sys.executable).parent
    if kind == "asgi":
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "_resilience_load_app:create_asgi_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "3",
            "--log-level",
            "warning",
            "--app-dir",
            str(TESTS),
        ]
    return [
        str(bin_dir / "gunicorn"), "--chdir", str(TESTS), "--workers", "3", "--threads", "70",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
        "_resilience_load_app:create_wsgi_app()",
    ]  # fmt: skip


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
    process = subprocess.Popen(server_command(kind, port), env=env, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{kind} server did not start")
            time.sleep(0.1)
        yield url, executions
    finally:
        process.terminate()
        process.wait(timeout=30)


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
