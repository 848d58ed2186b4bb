"""A real uvicorn service exporting to a black hole: requests fine, exit bounded."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx

from tests._faults_support import BlackHole
from tests._outbound_services import SHUTDOWN_MARK, run_service

EXIT_BOUND = 15.0  # SIGTERM to exit, with the SDK's export hanging on the black hole


def test_black_hole_collector(tmp_path: Path) -> None:
    """With a collector that accepts and never answers (export timeout 60 s), every
    request succeeds while the export hangs, and on SIGTERM the app's lifespan shutdown
    (provider.shutdown()) returns and the process exits within the bound."""
    hole = BlackHole()
    try:
        with run_service(
            "stock",
            tmp_path / "stock.log",
            f"http://127.0.0.1:{hole.port}",
            extra_env={"OTEL_EXPORTER_OTLP_TIMEOUT": "60"},
        ) as stock:
            with httpx.Client(base_url=stock.url, timeout=5.0) as client:
                first = [client.get(f"/stock/{i}").status_code for i in range(10)]
                assert hole.accepted.acquire(timeout=20.0)  # an export now hangs
                then = [client.get(f"/stock/{i}").status_code for i in range(10)]
            assert first + then == [200] * 20
            os.killpg(stock.process.pid, signal.SIGTERM)
            try:
                code = stock.process.wait(timeout=EXIT_BOUND)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"still running {EXIT_BOUND} s after SIGTERM") from None
            assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled
            assert SHUTDOWN_MARK in stock.log_file.read_text()
    finally:
        hole.close()
