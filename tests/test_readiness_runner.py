"""Tests for toolkit.readiness.probe.runner: the live probe against real uvicorn processes.

One good fake service passes every live check; each broken one lacks one signal, and the
probe must fail exactly the checks of that signal (dependent checks are skipped) and
name the fix.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests._processes import free_port
from tests._readiness_apps import PROBE_TOKEN
from tests._readiness_support import run_app
from toolkit.readiness import Status
from toolkit.readiness.checks import LIVE_CHECKS
from toolkit.readiness.model import Check
from toolkit.readiness.probe import FileLogSource, ProbeOptions, SpanReceiver, probe_service
from toolkit.readiness.probe.runner import GIVE_LOGS

OPTIONS = ProbeOptions(wait_seconds=3.0)
WITH_TOKEN = ProbeOptions(wait_seconds=3.0, metrics_token=PROBE_TOKEN)
OPEN_METRICS = {"metrics.protected"}  # every kind but good_token serves /metrics to anyone


@pytest.fixture(scope="module")
def receiver() -> Iterator[SpanReceiver]:
    """One OTLP receiver for the module's services, on a free port."""
    with SpanReceiver(port=0) as running:
        yield running


def _probe(
    kind: str, receiver: SpanReceiver, tmp_path: Path, options: ProbeOptions = OPTIONS
) -> dict[str, Check]:
    with run_app(kind, tmp_path / f"{kind}.log", receiver.endpoint) as app:
        checks = probe_service(
            app.url, receiver=receiver, logs=FileLogSource(app.log_file), options=options
        )
    return {check.id: check for check in checks}


def _by_status(checks: dict[str, Check], status: Status) -> set[str]:
    return {check_id for check_id, check in checks.items() if check.status is status}


@pytest.mark.parametrize("kind", ["good", "good_fastapi"])
def test_good_service_passes_every_live_check(
    receiver: SpanReceiver, tmp_path: Path, kind: str
) -> None:
    """An instrumented app with health endpoints passes 14 of the 15 live checks, and
    warns that its /metrics answers without a token (toolkit's default).

    On FastAPI too, which exports a second server span (without the correlation ID).
    """
    checks = _probe(kind, receiver, tmp_path)
    assert set(checks) == {spec.id for spec in LIVE_CHECKS}
    failing = {cid: c.reason for cid, c in checks.items() if c.status is not Status.PASS}
    assert list(failing) == ["metrics.protected"]
    assert failing["metrics.protected"].startswith("GET /metrics answered 200 without a token")
    assert checks["metrics.protected"].status is Status.WARN
    assert checks["metrics.protected"].fix == (
        "require a bearer token for /metrics (toolkit.instrument(app, metrics_token=...) or "
        "TOOLKIT_METRICS_TOKEN), or serve metrics on a port the public cannot reach "
        "(metrics_port=...)"
    )
    assert checks["metrics.counts"].reason == "+2 requests counted for the probe's 2"


def test_service_with_a_metrics_token_passes_every_live_check(
    receiver: SpanReceiver, tmp_path: Path
) -> None:
    """/metrics behind a token, the probe given it: all 15 live checks pass; the probe's
    unauthenticated GET was refused (metrics.protected) and its scrapes were not."""
    checks = _probe("good_token", receiver, tmp_path, WITH_TOKEN)
    failing = {cid: c.reason for cid, c in checks.items() if c.status is not Status.PASS}
    assert failing == {}
    assert checks["metrics.protected"].reason == "GET /metrics without a token: 401"
    assert checks["metrics.counts"].reason == "+2 requests counted for the probe's 2"


def test_metrics_on_their_own_port_are_scraped_there(
    receiver: SpanReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """metrics_port + start_metrics_server: the app's port serves no /metrics (so
    metrics.protected passes), and with metrics_url the probe scrapes the metrics port:
    every live check passes, the probe's 404 on the app's port not among its counts."""
    metrics_port = free_port()
    monkeypatch.setenv("PROBE_METRICS_PORT", str(metrics_port))
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    checks = _probe("metrics_port", receiver, tmp_path, replace(OPTIONS, metrics_url=metrics_url))
    failing = {cid: c.reason for cid, c in checks.items() if c.status is not Status.PASS}
    assert failing == {}
    assert checks["metrics.protected"].reason.startswith("/metrics is not served on http://")
    assert checks["metrics.exposition"].reason.startswith(f"GET {metrics_url}: ")
    assert checks["metrics.counts"].reason == "+2 requests counted for the probe's 2"


def test_probe_without_the_metrics_url_says_metrics_are_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same service probed on its app port alone: no /metrics there, exposition fails."""
    monkeypatch.setenv("PROBE_METRICS_PORT", str(free_port()))
    with run_app("metrics_port", tmp_path / "app.log", None) as app:
        checks = {
            c.id: c for c in probe_service(app.url, receiver=None, logs=None, options=OPTIONS)
        }
    exposition = checks["metrics.exposition"]
    assert (exposition.status, exposition.reason) == (Status.FAIL, "GET /metrics returned 404")


def test_probe_without_the_token_says_how_to_give_it(tmp_path: Path) -> None:
    """/metrics behind a token, the probe not given it: exposition fails naming the fix."""
    with run_app("good_token", tmp_path / "app.log", None) as app:
        checks = {
            c.id: c for c in probe_service(app.url, receiver=None, logs=None, options=OPTIONS)
        }
    assert checks["metrics.protected"].status is Status.PASS
    exposition = checks["metrics.exposition"]
    assert (exposition.status, exposition.reason) == (Status.FAIL, "GET /metrics returned 401")
    assert exposition.fix == (
        "give the probe the service's metrics token (--metrics-token or TOOLKIT_METRICS_TOKEN)"
    )


BROKEN = [
    (
        "no_echo",
        {"correlation.echo"},
        {"correlation.replace"},
        "wrap the app with toolkit.instrument(app, service=...)",
    ),
    (
        "no_span",
        {"trace.span"},
        {"trace.correlation"},
        "export spans over OTLP: set OTEL_EXPORTER_OTLP_ENDPOINT and extract W3C traceparent",
    ),
    (
        "wrong_metrics",
        {"metrics.names"},
        {"metrics.labels", "metrics.buckets", "metrics.routes", "metrics.counts"},
        "emit http_server_request_duration_seconds and friends (toolkit.instrument does)",
    ),
    (
        "raw_routes",
        {"metrics.routes"},
        set(),
        "label http_route with the route template (/items/{id}); unmatched paths get one value",
    ),
    (
        "text_logs",
        {"logs.json"},
        {"logs.correlation"},
        "call toolkit.logs.configure_logging(service=...); run uvicorn without its plain-text "
        "access lines and with toolkit's logging configuration "
        "(uvicorn --no-access-log --log-config FILE, FILE: toolkit.logs.UVICORN_LOG_CONFIG)",
    ),
    (
        "no_health",
        {"health.livez", "health.readyz"},
        set(),
        "enable health endpoints: /livez and /readyz answering application/health+json",
    ),
]


@pytest.mark.parametrize(("kind", "failing", "skipped", "fix"), BROKEN, ids=[b[0] for b in BROKEN])
def test_service_lacking_a_signal_fails_exactly_its_check(
    receiver: SpanReceiver,
    tmp_path: Path,
    kind: str,
    failing: set[str],
    skipped: set[str],
    fix: str,
) -> None:
    """The missing signal's checks fail with their fix; every other check passes or skips."""
    checks = _probe(kind, receiver, tmp_path)
    assert _by_status(checks, Status.FAIL) == failing
    assert _by_status(checks, Status.SKIPPED) == skipped
    assert _by_status(checks, Status.WARN) == OPEN_METRICS
    assert _by_status(checks, Status.PASS) == set(checks) - failing - skipped - OPEN_METRICS
    assert {checks[check_id].fix for check_id in failing} == {fix}


def test_raw_path_is_named_in_the_reason(receiver: SpanReceiver, tmp_path: Path) -> None:
    """The routes check quotes the raw path the probe sent."""
    reason = _probe("raw_routes", receiver, tmp_path)["metrics.routes"].reason
    assert reason.startswith("raw paths in http_route: '/__toolkit_probe__/")


def test_without_receiver_or_logs_those_checks_are_not_measured(tmp_path: Path) -> None:
    """No receiver and no log source: tracing and logs are "not measured", with the fix."""
    with run_app("good", tmp_path / "good.log", None) as app:
        checks = {
            c.id: c for c in probe_service(app.url, receiver=None, logs=None, options=OPTIONS)
        }
    assert _by_status(checks, Status.NOT_MEASURED) == {
        "trace.span",
        "trace.correlation",
        "logs.json",
        "logs.correlation",
    }
    assert checks["logs.json"].fix == (
        "tell the probe where the service's log lines go: the file it writes them to "
        "(--log-file PATH) or a command that prints them (--log-command CMD)"
    )


def test_unreachable_service_fails_every_live_check() -> None:
    """Nothing listening: every live check fails, saying the service cannot be reached."""
    url = f"http://127.0.0.1:{free_port()}"
    checks = probe_service(url, receiver=None, logs=None, options=OPTIONS)
    assert [c.id for c in checks] == [spec.id for spec in LIVE_CHECKS]
    assert {c.status for c in checks} == {Status.FAIL}
    assert {c.fix for c in checks} == {"start the service, or give the probe its URL"}
    assert checks[0].reason.startswith(f"cannot reach {url}: ")


class _Recorder(BaseHTTPRequestHandler):
    """Answers 404 to everything and records each request's probe marker."""

    markers: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        self.markers.append(self.headers.get("X-Toolkit-Probe"))
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def test_every_probe_request_carries_the_marker_header() -> None:
    """Each request the probe makes, raw socket ones included, has ``X-Toolkit-Probe: 1``."""
    _Recorder.markers = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        checks = probe_service(url, receiver=None, logs=None, options=OPTIONS)
    finally:
        server.shutdown()
        server.server_close()
    # /metrics (404, so no second scrape), main, unmatched, 3 malicious, 2 raw, 2 health
    assert _Recorder.markers == ["1"] * 10
    assert {c.id: c.status for c in checks}["correlation.echo"] is Status.FAIL


def test_a_missing_log_file_is_reported_by_its_path(tmp_path: Path) -> None:
    """A log file that never appears: both log checks are not measured, naming the path."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    missing = tmp_path / "orders.log"
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        options = ProbeOptions(wait_seconds=0.3)
        checks = {
            c.id: c
            for c in probe_service(url, receiver=None, logs=FileLogSource(missing), options=options)
        }
    finally:
        server.shutdown()
        server.server_close()
    expected = (Status.NOT_MEASURED, f"log file {missing} does not exist", GIVE_LOGS)
    for check_id in ("logs.json", "logs.correlation"):
        assert (checks[check_id].status, checks[check_id].reason, checks[check_id].fix) == expected
