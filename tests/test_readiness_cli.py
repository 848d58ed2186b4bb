"""Tests for toolkit.cli.check, toolkit.cli.probe and toolkit.cli.assess (exit codes, output)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests._processes import free_port
from tests._readiness_apps import PROBE_TOKEN
from tests._readiness_support import run_app
from toolkit._version import __version__
from toolkit.catalog import load_catalog
from toolkit.cli import main
from toolkit.generate import generate, write_output

CATALOG = """\
services:
  - name: orders
    team: checkout
    runbook: https://runbooks.example.com/orders
    slo: {availability: 99.9, latency: {threshold: 500ms, target: 99}}
    gate: GATE
assessment:
  team_size: 6
  peak_rps: 800
  capacity_rps: 9000
  deploys_automated: true
"""


def _catalog(tmp_path: Path, gate: int = 3) -> Path:
    path = tmp_path / "services.yaml"
    path.write_text(CATALOG.replace("GATE", str(gate)), encoding="utf-8")
    write_output(tmp_path, generate(load_catalog(path)))
    return path


def _run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def test_check_passes_fresh_output_and_writes_every_format(tmp_path: Path) -> None:
    """Exit 0; JSON on stdout; JUnit and HTML files written, the HTML with the assessment."""
    catalog = _catalog(tmp_path)
    junit, html = tmp_path / "out" / "junit.xml", tmp_path / "out" / "report.html"
    code, output = _run(
        "check",
        catalog,
        "--generated",
        tmp_path,
        "--format",
        "json",
        "--junit",
        junit,
        "--html",
        html,
    )
    assert code == 0
    document = json.loads(output[: output.rindex("}") + 1])
    assert [(s["service"], s["level"], s["ready"]) for s in document["services"]] == [
        ("orders", None, True)
    ]
    assert document["assessment"]["verdict"] == "not yet"
    assert junit.read_text().startswith('<?xml version="1.0" encoding="UTF-8"?>')
    page = html.read_text()
    assert "not yet: 6 engineers, peak 800 req/s" in page
    assert f"by toolkit {__version__}" in page


@pytest.mark.parametrize(
    ("gate", "flags", "code"),
    [(3, [], 1), (2, [], 0), (2, ["--require-level", "3"], 1), (3, ["--require-level", "1"], 0)],
)
def test_check_gate_decides_whether_stale_files_block(
    tmp_path: Path, gate: int, flags: list[str], code: int
) -> None:
    """A missing dashboard blocks a service gated at 3, not one gated lower; the flag wins."""
    catalog = _catalog(tmp_path, gate)
    (tmp_path / "dashboards" / "orders.json").unlink()
    assert _run("check", catalog, "--generated", tmp_path, *flags)[0] == code


def test_check_bad_input_exits_two(tmp_path: Path) -> None:
    """An invalid catalog, an unknown --service and a bad level are usage errors: exit 2."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("services: []\n")
    assert _run("check", bad)[0] == 2
    catalog = _catalog(tmp_path)
    code, output = _run("check", catalog, "--generated", tmp_path, "--service", "nope")
    assert (code, output.strip()) == (2, f"toolkit check: not in {catalog}: nope")
    assert _run("check", catalog, "--require-level", "4")[0] == 2


def test_probe_reports_a_running_service(tmp_path: Path) -> None:
    """The probe command starts its receiver, probes, adds the static checks, exits 1 < gate.

    The good fake service passes every live and static check (exit 0 at gate 3).
    """
    catalog = _catalog(tmp_path)
    port = free_port()
    with run_app("good", tmp_path / "app.log", f"http://127.0.0.1:{port}") as app:
        code, output = _run(
            "probe",
            app.url,
            "--service",
            "orders",
            "--catalog",
            catalog,
            "--generated",
            tmp_path,
            "--log-file",
            app.log_file,
            "--otlp-port",
            port,
            "--wait",
            "5",
            "--format",
            "json",
        )
    document = json.loads(output[: output.rindex("}") + 1])
    service = document["services"][0]
    failing = [c["id"] for c in service["checks"] if c["status"] in ("fail", "not_measured")]
    assert (failing, service["level"], code) == ([], 3, 0)
    assert len(service["checks"]) == 26


def test_probe_without_catalog_cannot_reach_level_three(tmp_path: Path) -> None:
    """Static checks are "not measured" without --catalog: level 2 at best, exit 1."""
    with run_app("good", tmp_path / "app.log", None) as app:
        code, output = _run(
            "probe", app.url, "--service", "orders", "--no-otlp", "--log-file", app.log_file
        )
    assert code == 1
    assert "orders  " + app.url + ": level 1 (logs and correlation) — NOT READY" in output
    assert "n/m  L3 ownership" in output
    assert (
        "fix: give the probe the service catalog to check dashboards, alerts and SLOs too "
        "(--catalog CATALOG)"
    ) in output


def test_probe_reports_a_missing_log_file_by_its_path(tmp_path: Path) -> None:
    """``--log-file`` naming no file: the log checks say so (not measured), no traceback."""
    missing = tmp_path / "orders.log"
    with run_app("good", tmp_path / "app.log", None) as app:
        args = ["probe", app.url, "--service", "orders", "--no-otlp", "--wait", "0.5"]
        result = CliRunner().invoke(main, [*args, "--log-file", str(missing)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    logs = [line.split() for line in result.output.splitlines() if " L1 logs." in line]
    reason = f"log file {missing} does not exist".split()
    assert logs == [["n/m", "L1", "logs.json", *reason], ["n/m", "L1", "logs.correlation", *reason]]


def test_probe_takes_the_metrics_token_from_the_environment(tmp_path: Path) -> None:
    """TOOLKIT_METRICS_TOKEN (or --metrics-token) is sent with the probe's scrapes."""
    with run_app("good_token", tmp_path / "app.log", None) as app:
        result = CliRunner(env={"TOOLKIT_METRICS_TOKEN": PROBE_TOKEN}).invoke(
            main,
            ["probe", app.url, "--service", "orders", "--no-otlp", "--format", "json"],
        )
    checks = {c["id"]: c for c in json.loads(result.output)["services"][0]["checks"]}
    assert (checks["metrics.exposition"]["status"], checks["metrics.protected"]["reason"]) == (
        "pass",
        "GET /metrics without a token: 401",
    )


def test_probe_reads_logs_from_a_command(tmp_path: Path) -> None:
    """``--log-command`` runs the command and searches its stdout for the probe's IDs."""
    with run_app("good", tmp_path / "app.log", None) as app:
        code, output = _run(
            "probe",
            app.url,
            "--service",
            "orders",
            "--no-otlp",
            "--log-command",
            f"cat {app.log_file}",
            "--format",
            "json",
        )
    checks = {c["id"]: c for c in json.loads(output)["services"][0]["checks"]}
    assert (checks["logs.json"]["status"], checks["logs.correlation"]["status"]) == (
        "pass",
        "pass",
    )
    assert checks["logs.json"]["reason"].endswith(f"JSON lines from cat {app.log_file}")
    assert code == 1  # no catalog, no receiver: level 1 at most


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["127.0.0.1:1", "--service", "a"], "URL must start with http:// or https://"),
        (
            ["http://x", "--service", "a", "--metrics-url", "x:9464/metrics"],
            "--metrics-url must start with http:// or https://",
        ),
        (["http://x", "--service", "a", "--log-file", "f", "--log-command", "c"], "not both"),
    ],
)
def test_probe_usage_errors_exit_two(args: list[str], message: str) -> None:
    """Bad URLs and conflicting log sources are usage errors."""
    code, output = _run("probe", *args)
    assert code == 2
    assert message in output


def test_assess_from_flags_and_catalog(tmp_path: Path) -> None:
    """Flags override the catalog; "not yet" exits 1, "split" exits 0."""
    catalog = _catalog(tmp_path)
    code, output = _run("assess", catalog, "--observability-level", "3")
    assert code == 1
    assert output.splitlines()[0] == (
        "Split assessment: not yet: 6 engineers, peak 800 req/s on a server measured at "
        "9,000 req/s, no concrete scaling timeline"
    )
    code, _ = _run(
        "assess",
        catalog,
        "--team-size",
        "40",
        "--peak-rps",
        "8000",
        "--observability-level",
        "3",
        "--timeline",
        "Black Friday 2027: 5x",
    )
    assert code == 0


def test_assess_takes_the_level_from_a_json_report(tmp_path: Path) -> None:
    """``--report`` uses the lowest level among the report's services."""
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"services": [{"level": 3}, {"level": 1}, {"level": None}]}))
    code, output = _run("assess", "--report", report, "--format", "json")
    signs = json.loads(output)["assessment"]["signs"]
    assert (code, signs[2]["answer"]) == (1, "level 1")


THREE_SERVICES = """\
services:
  - {name: orders, team: checkout, slo: {availability: 99.9}}
  - {name: users, team: identity, slo: {availability: 99.9}}
  - {name: payments, team: payments, slo: {availability: 99.9}}
"""
READY_FLAGS = [
    "--team-size",
    "40",
    "--peak-rps",
    "8000",
    "--capacity-rps",
    "9000",
    "--deploys-automated",
    "--timeline",
    "Black Friday 2027: 5x",
]


@pytest.mark.parametrize(
    ("rated", "code", "summary"),
    [
        (
            {"orders": 3},
            1,
            "Split assessment: unknown: answer observability (no level for users, payments)",
        ),
        (
            {"orders": 3, "users": 3, "payments": None},
            1,
            "Split assessment: unknown: answer observability (no level for payments)",
        ),
        (
            {"orders": 3, "users": 3, "payments": 3},
            0,
            "Split assessment: split: 40 engineers, "
            "peak 8,000 req/s on a server measured at 9,000 req/s, observability at level 3 of 3, "
            "automated deploys, timeline: Black Friday 2027: 5x",
        ),
    ],
    ids=["one-of-three", "one-without-level", "all"],
)
def test_assess_names_the_services_a_report_leaves_out(
    tmp_path: Path, rated: dict[str, int | None], code: int, summary: str
) -> None:
    """A report rating fewer services than the catalog lists cannot make the verdict "split"."""
    catalog = tmp_path / "services.yaml"
    catalog.write_text(THREE_SERVICES, encoding="utf-8")
    report = tmp_path / "report.json"
    services = [{"service": name, "level": level} for name, level in rated.items()]
    report.write_text(json.dumps({"services": services}))
    result = CliRunner().invoke(
        main, ["assess", str(catalog), "--report", str(report), *READY_FLAGS]
    )
    assert (result.exit_code, result.output.splitlines()[0]) == (code, summary)


@pytest.mark.parametrize(
    ("document", "cause"),
    [
        ("[]", "list indices must be integers or slices, not str"),
        ('{"services": [1]}', "'int' object has no attribute 'get'"),
        ('{"services": [{"level": "3"}]}', "a level is not a whole number"),
        ('{"services": [{"service": "a"}]}', "'level'"),
        ("{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ],
)
def test_assess_rejects_a_report_that_is_not_one(tmp_path: Path, document: str, cause: str) -> None:
    """Bad ``--report`` content: one line naming the file and the cause, exit 2."""
    report = tmp_path / "report.json"
    report.write_text(document)
    result = CliRunner().invoke(main, ["assess", "--report", str(report)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"toolkit assess: {report}: not a readiness JSON report ({cause})\n"
