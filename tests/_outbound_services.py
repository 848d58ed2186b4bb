"""Two real services for the outbound tests: ``orders`` calls ``stock`` over HTTP.

Run as ``python tests/_outbound_services.py NAME PORT [DOWNSTREAM_URL]``; serves under
uvicorn on 127.0.0.1:PORT, JSON logs on stdout, spans exported over OTLP/HTTP when
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

- ``stock``: ``GET /stock/{item_id}`` logs a line and answers the correlation ID it saw.
- ``orders``: ``GET /orders/{order_id}`` calls stock with httpx (AsyncTransport);
  ``GET /orders-sync/{order_id}`` (a sync endpoint, run in a thread) with requests
  (instrument_session).
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _processes import free_port, running, wait_until_http_ok

SCRIPT = Path(__file__)
STARTUP_SECONDS = 20.0
SHUTDOWN_MARK = "tracer provider shut down"


def build(name: str, downstream: str) -> Any:
    """The app of service ``name``."""
    import requests
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    import toolkit
    from toolkit.outbound import AsyncTransport, instrument_session

    log = logging.getLogger("app")

    async def stock(request: Request) -> JSONResponse:
        log.info("stock checked")
        return JSONResponse(
            {"item": request.path_params["item_id"], "seen": toolkit.get_correlation_id()}
        )

    client = httpx.AsyncClient(transport=AsyncTransport())
    session = instrument_session(requests.Session())

    async def order(request: Request) -> JSONResponse:
        answer = await client.get(f"{downstream}/stock/{request.path_params['order_id']}")
        log.info("order placed")
        return JSONResponse({"stock": answer.json()})

    def order_sync(request: Request) -> JSONResponse:
        answer = session.get(f"{downstream}/stock/{request.path_params['order_id']}", timeout=5)
        log.info("order placed")
        return JSONResponse({"stock": answer.json()})

    routes = (
        [Route("/stock/{item_id}", stock)]
        if name == "stock"
        else [Route("/orders/{order_id}", order), Route("/orders-sync/{order_id}", order_sync)]
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        # What a service should do at exit: flush its spans and, when it pushes them over
        # OTLP, its metrics (both bounded by toolkit).
        from opentelemetry import metrics, trace

        getattr(trace.get_tracer_provider(), "shutdown", lambda: None)()
        getattr(metrics.get_meter_provider(), "shutdown", lambda: None)()
        print(SHUTDOWN_MARK, flush=True)

    return toolkit.instrument(Starlette(routes=routes, lifespan=lifespan), service=name)


@dataclass(frozen=True)
class Service:
    """A running service: its URL, the file its logs go to, its process."""

    url: str
    log_file: Path
    process: subprocess.Popen[bytes]


@contextmanager
def run_service(
    name: str,
    log_file: Path,
    otlp_endpoint: str,
    downstream: str = "",
    extra_env: dict[str, str] | None = None,
) -> Iterator[Service]:
    """Serve ``name`` on a free port until the block ends (or the test stops it)."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
        **(extra_env or {}),
    }
    command = [sys.executable, str(SCRIPT), name, str(port), downstream]
    with running(command, log_file, env=env) as started:
        url = f"http://127.0.0.1:{port}"
        wait_until_http_ok(
            url + "/metrics", started=started, timeout=STARTUP_SECONDS, any_status=True
        )
        yield Service(url, log_file, started.process)


def main() -> None:
    """Serve ``NAME`` on 127.0.0.1:``PORT``."""
    import uvicorn

    name, port = sys.argv[1], int(sys.argv[2])
    downstream = sys.argv[3] if len(sys.argv) > 3 else ""
    uvicorn.run(
        build(name, downstream), host="127.0.0.1", port=port, log_config=None, access_log=False
    )


if __name__ == "__main__":
    main()
