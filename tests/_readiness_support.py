"""Start the fake services of ``_readiness_apps.py`` under uvicorn for the live probe tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _processes import free_port, running, wait_until_http_ok

APPS = Path(__file__).parent / "_readiness_apps.py"
STARTUP_SECONDS = 20.0


@dataclass(frozen=True)
class RunningApp:
    """A fake service: its URL and the file its logs go to."""

    url: str
    log_file: Path


@contextmanager
def run_app(kind: str, log_file: Path, otlp_endpoint: str | None) -> Iterator[RunningApp]:
    """Serve the fake service ``kind`` on a free port until the block ends."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OTEL_BSP_SCHEDULE_DELAY": "50"}
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    if otlp_endpoint is not None:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_endpoint
    command = [sys.executable, str(APPS), kind, str(port)]
    with running(command, log_file, env=env) as started:
        url = f"http://127.0.0.1:{port}"
        # /metrics makes no span (the middleware leaves it out): nothing is exported
        # before the test's receiver is listening.
        wait_until_http_ok(
            url + "/metrics", started=started, timeout=STARTUP_SECONDS, any_status=True
        )
        yield RunningApp(url, log_file)
