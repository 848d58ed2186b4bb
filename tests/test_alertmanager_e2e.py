"""The generated Alertmanager configuration against the real amtool and Alertmanager.

amtool accepts it and routes every team and severity of a catalog to its receiver. End
to end: a real Prometheus loads the generated rules and scrapes an instrumented app, a
real Alertmanager runs the generated configuration (a webhook added to each receiver,
group_wait shortened); an outage of a critical service pages its team exactly once, and
the ticket of the same objective, firing too, is inhibited.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
import yaml
from _generate_support import (
    EXAMPLE_CATALOG,
    evaluate_every_group_often,
    make_service,
    varied_catalog,
)
from _processes import (
    PROMETHEUS,
    free_port,
    run_prometheus,
    running,
    uvicorn_command,
    wait_until,
    wait_until_http_ok,
)

from toolkit.catalog import Catalog, load_catalog
from toolkit.catalog.model import Tier
from toolkit.generate import generate, write_output
from toolkit.generate.alertmanager import SEVERITIES, matcher, receiver_name
from toolkit.generate.plan import build_plan
from toolkit.generate.promql import SERVER_COUNT
from toolkit.generate.promql import quote as quote_label

AMTOOL = shutil.which("amtool")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
CONFIG = "alert-rules/alertmanager.yaml"
TESTS = Path(__file__).resolve().parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.prometheus,
    pytest.mark.skipif(
        AMTOOL is None, reason="amtool not installed (Debian package prometheus-alertmanager)"
    ),
]


def _catalog(name: str) -> Catalog:
    if name == "example":
        return load_catalog(EXAMPLE_CATALOG)
    varied = varied_catalog()
    if name == "varied":
        return varied
    # Team names Alertmanager's matcher syntax needs quoted and escaped.
    teams = ('storefront "web", eu', "back\\slash {x}", " two\nlines ")
    services = tuple(replace(s, team=t) for s, t in zip(varied.services, teams, strict=True))
    return Catalog(varied.path, services)


CATALOGS = ["example", "varied", "awkward-teams"]


def _amtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert AMTOOL is not None
    return subprocess.run([AMTOOL, *args], capture_output=True, text=True, timeout=60, check=False)


def _written_config(name: str, directory: Path) -> Path:
    path = directory / "alertmanager.yaml"
    path.write_text(generate(_catalog(name))[CONFIG], encoding="utf-8")
    return path


@pytest.mark.parametrize("name", CATALOGS)
def test_amtool_check_config_accepts_it(name: str, tmp_path: Path) -> None:
    """`amtool check-config` passes on the generated file: one route tree, two inhibit
    rules, a receiver per team and severity plus `default`."""
    catalog = _catalog(name)
    teams = {service.team for service in catalog.services}
    result = _amtool("check-config", str(_written_config(name, tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert " - 2 inhibit rules\n" in result.stdout
    assert f" - {1 + 3 * len(teams)} receivers\n" in result.stdout


@pytest.mark.parametrize("name", CATALOGS)
def test_amtool_routes_every_team_and_severity_to_its_receiver(name: str, tmp_path: Path) -> None:
    """`amtool config routes test team=<team> severity=<severity>` prints
    `<team>-<severity>` for every team and severity; an unknown team or severity falls
    to `default`."""
    config = f"--config.file={_written_config(name, tmp_path)}"
    teams = sorted({service.team for service in _catalog(name).services})
    cases = [
        (matcher("team", team), f"severity={severity}", receiver_name(team, severity))
        for team in teams
        for severity in SEVERITIES
    ]
    cases += [
        ("team=nobody", "severity=critical", "default"),
        (matcher("team", teams[0]), "severity=unknown", "default"),
    ]
    for team, severity, expected in cases:
        result = _amtool("config", "routes", "test", config, team, severity)
        assert (result.returncode, result.stdout) == (0, f"{expected}\n"), (team, severity)


# --- end to end: Prometheus -> Alertmanager -> webhook ---------------------------------

SERVICE = "shop"
TEAM = 'storefront "web"'  # quoted in the routes: proves the matcher matches the label
GROUP_WAIT_SECONDS = 2
PAGE_DEADLINE = 30.0  # seconds from the first 5xx to the page at the webhook
QUIET_SECONDS = 5 * GROUP_WAIT_SECONDS  # after the page: long enough for the ticket to come
HEALTHY_REQUESTS = 30


class _Webhook(ThreadingHTTPServer):
    """Records each POSTed notification by the receiver its path names."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _WebhookHandler)
        self.lock = threading.Lock()
        self.received: list[tuple[str, dict[str, Any]]] = []

    @property
    def url(self) -> str:
        """Where Alertmanager posts, plus ``/<receiver>``."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def notifications(self, receiver: str) -> list[dict[str, Any]]:
        """The notifications posted for ``receiver`` so far."""
        with self.lock:
            return [body for path, body in self.received if path == receiver]

    def everything(self) -> list[tuple[str, list[str]]]:
        """(receiver, alert names) of every notification so far, for failure messages."""
        with self.lock:
            return [
                (path, [a["labels"]["alertname"] for a in body["alerts"]])
                for path, body in self.received
            ]


class _WebhookHandler(BaseHTTPRequestHandler):
    server: _Webhook

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.received.append((unquote(self.path.lstrip("/")), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: pytest shows the assertions


@contextlib.contextmanager
def _webhook() -> Iterator[_Webhook]:
    server = _Webhook()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _test_config(generated: str, webhook: str) -> dict[str, Any]:
    """The generated configuration, each receiver given a webhook at
    ``<webhook>/<receiver>`` and the route a short group_wait."""
    config: dict[str, Any] = yaml.safe_load(generated)
    config["route"]["group_wait"] = f"{GROUP_WAIT_SECONDS}s"
    for receiver in config["receivers"]:
        url = f"{webhook}/{quote(receiver['name'], safe='')}"
        receiver["webhook_configs"] = [{"url": url, "send_resolved": False}]
    return config


@contextlib.contextmanager
def _alertmanager(root: Path, config: dict[str, Any]) -> Iterator[str]:
    assert ALERTMANAGER is not None
    config_file = root / "alertmanager.yml"
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    command = [
        ALERTMANAGER,
        f"--config.file={config_file}",
        f"--storage.path={root / 'alertmanager-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # no clustering: no other port, no peers
    ]
    with running(command, root / "alertmanager.log") as started:
        url = f"http://127.0.0.1:{port}"
        wait_until_http_ok(f"{url}/-/ready", started=started, timeout=30.0)
        yield url


def _query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "success", f"{expr}: {body}"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def _alertmanager_alert(alertmanager: str, name: str) -> dict[str, Any] | None:
    """The alert ``name`` as Alertmanager holds it (with its status), if it has it."""
    params = {"filter": f'alertname="{name}"', "silenced": "true", "inhibited": "true"}
    alerts = httpx.get(f"{alertmanager}/api/v2/alerts", params=params, timeout=10).json()
    return alerts[0] if alerts else None


@contextlib.contextmanager
def _outage(base: str) -> Iterator[None]:
    """Every request the app gets answers 503, a few a second, until the block ends."""
    stop = threading.Event()

    def fail() -> None:
        with httpx.Client(base_url=base, timeout=5) as client:
            for _ in range(50):  # a burst: the error ratio jumps from 0 to most requests
                client.get("/unavailable")
            while not stop.wait(0.2):
                client.get("/unavailable")

    thread = threading.Thread(target=fail, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@pytest.mark.skipif(ALERTMANAGER is None, reason="prometheus-alertmanager not installed")
@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed (Debian package)")
def test_an_outage_pages_its_team_once_and_the_ticket_is_inhibited(tmp_path: Path) -> None:
    """A critical service whose every request fails after some healthy traffic: the
    availability FastBurn page (severity critical) reaches `<team>-critical` once within
    PAGE_DEADLINE; the SlowBurn ticket of the same SLO fires too, but Alertmanager holds
    it inhibited, and nothing reaches `<team>-warning` for QUIET_SECONDS after the page."""
    service = replace(make_service(SERVICE, tier=Tier.CRITICAL, labels={}), team=TEAM)
    catalog = Catalog(tmp_path / "services.yaml", (service,))
    files = generate(catalog)
    write_output(tmp_path, files)
    rules = sorted((tmp_path / "alert-rules").glob("*.rules.yaml"))
    for path in rules:
        evaluate_every_group_often(path)
    plan = build_plan(service)
    page, ticket = plan.availability.burn_alerts
    prefix = f"{plan.alert_prefix}Availability"
    fast, slow = f"{prefix}FastBurn", f"{prefix}SlowBurn"

    app_port = free_port()
    app = uvicorn_command(
        "_generate_e2e_app:app", app_port, app_dir=TESTS, options=["--log-level", "warning"]
    )
    with contextlib.ExitStack() as stack:
        webhook = stack.enter_context(_webhook())
        config = _test_config(files[CONFIG], webhook.url)
        alertmanager = stack.enter_context(_alertmanager(tmp_path, config))
        started = stack.enter_context(running(app, tmp_path / "app.log"))
        base = f"http://127.0.0.1:{app_port}"
        wait_until_http_ok(f"{base}/items/1", started=started, timeout=30.0)
        am_address = alertmanager.removeprefix("http://")
        prometheus = stack.enter_context(
            run_prometheus(
                tmp_path,
                {SERVICE: f"127.0.0.1:{app_port}"},
                rule_files=rules,
                alertmanagers=[am_address],
            )
        )

        # Healthy traffic, until the page's low-traffic guard is met. Few requests: the
        # first 5xx scraped then lifts the error ratio past the page's threshold, so the
        # page and the ticket start firing in the same evaluation.
        with httpx.Client(base_url=base, timeout=5) as client:
            for number in range(HEALTHY_REQUESTS):
                assert client.get(f"/items/{number}").status_code == 200
        check = page.checks[0]
        guard = f"{check.long_requests} >= {check.min_requests}"
        wait_until(lambda: _query(prometheus, guard), timeout=30.0)
        requests = _query(prometheus, f"sum({SERVER_COUNT}{plan.queries.selector()})")
        healthy = Decimal(requests[0]["value"][1])
        assert healthy * check.threshold < 1, f"{healthy} healthy requests: one 5xx is too few"
        assert webhook.everything() == []

        critical = receiver_name(TEAM, "critical")
        warning = receiver_name(TEAM, ticket.severity)
        assert (page.severity, ticket.severity) == ("critical", "warning")
        with _outage(base):
            outage = time.monotonic()
            wait_until(lambda: webhook.notifications(critical), timeout=PAGE_DEADLINE)
            paged = time.monotonic() - outage
            # The ticket fires too, and Alertmanager holds it inhibited by the page.
            held = wait_until(lambda: _alertmanager_alert(alertmanager, slow), timeout=10.0)
            assert held["status"]["state"] == "suppressed", held["status"]
            inhibitor = _alertmanager_alert(alertmanager, fast)
            assert inhibitor is not None
            assert held["status"]["inhibitedBy"] == [inhibitor["fingerprint"]]
            time.sleep(QUIET_SECONDS)

        notes = webhook.notifications(critical)
        assert len(notes) == 1, webhook.everything()
        assert paged < PAGE_DEADLINE
        (alert,) = notes[0]["alerts"]
        assert notes[0]["receiver"] == critical
        assert alert["status"] == "firing"
        labels = ("alertname", "severity", "service", "slo", "team")
        assert {label: alert["labels"][label] for label in labels} == {
            "alertname": fast,
            "severity": "critical",
            "service": SERVICE,
            "slo": "availability",
            "team": TEAM,
        }
        assert webhook.notifications(warning) == [], webhook.everything()
        assert webhook.everything() == [(critical, [fast])]
        firing = _query(prometheus, f'ALERTS{{alertstate="firing",service={quote_label(SERVICE)}}}')
        assert {s["metric"]["alertname"] for s in firing} >= {fast, slow}
