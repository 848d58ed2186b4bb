"""Tests for toolkit.cli.catalog (``toolkit catalog validate|show|example``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import main

ROOT = Path(__file__).parent.parent
CASES = Path("tests") / "catalog_cases"
ORDERS = "services:\n  - {name: orders, team: checkout, slo: {availability: 99}}\n"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI runner in the repository root, so paths print as the user typed them."""
    monkeypatch.chdir(ROOT)
    return CliRunner()


def test_validate_valid_catalog_prints_summary(runner: CliRunner) -> None:
    """A valid catalog: one summary line on stdout, exit 0."""
    result = runner.invoke(main, ["catalog", "validate", "examples/services.yaml"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "examples/services.yaml: 5 services, 2 externals — valid\n",
        "",
    )


def test_validate_bad_catalog_prints_every_problem_and_exits_2(runner: CliRunner) -> None:
    """Every problem on stderr, one a line, then a count; exit 2; nothing on stdout."""
    path = CASES / "unknown-tier.yaml"
    result = runner.invoke(main, ["catalog", "validate", str(path)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"{path}:4: services[0].tier: expected one of critical, standard, experimental, "
        "found 'gold' — the tier sets alert severity\n"
        f"{path}:8: services[1].tier: expected one of critical, standard, experimental, "
        "found 'Critical' — did you mean 'critical'?\n"
        f"{path}: 2 problems — invalid\n"
    )


def test_validate_missing_file_exits_2(runner: CliRunner) -> None:
    """A file that does not exist: a clear message and exit 2, no traceback."""
    result = runner.invoke(main, ["catalog", "validate", "nope.yaml"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "nope.yaml: cannot read the file: no such file or directory\n"
        "nope.yaml: 1 problem — invalid\n"
    )


def test_validate_counts_in_singular(runner: CliRunner, tmp_path: Path) -> None:
    """One service and no externals read correctly."""
    path = tmp_path / "one.yaml"
    path.write_text("services:\n  - {name: orders, team: checkout, slo: {availability: 99}}\n")
    result = runner.invoke(main, ["catalog", "validate", str(path)])
    assert (result.exit_code, result.stdout) == (0, f"{path}: 1 service, 0 externals — valid\n")


def test_show_prints_the_example_as_tables(runner: CliRunner) -> None:
    """`show` prints the services and externals of the example, aligned."""
    result = runner.invoke(main, ["catalog", "show", "examples/services.yaml"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "NAME           TEAM        TIER          AVAILABILITY  LATENCY      WINDOW  DEPENDENCIES\n"
        "orders         checkout    critical      99.9%         99% < 500ms  30d     "
        "users, payments, inventory, notifications\n"
        "payments       payments    critical      99.95%        99% < 1s     28d     stripe\n"
        "users          identity    standard      99.9%         99% < 250ms  30d     -\n"
        "inventory      fulfilment  standard      99.5%         95% < 500ms  30d     -\n"
        "notifications  growth      experimental  99%           -            30d     "
        "users, sendgrid\n"
        "\n"
        "EXTERNAL  ADDRESS           DESCRIPTION\n"
        "stripe    api.stripe.com    Card payments provider\n"
        "sendgrid  api.sendgrid.com  Transactional email provider\n"
    )


def test_show_bad_catalog_exits_2_without_a_table(runner: CliRunner) -> None:
    """`show` on a bad catalog prints the problems, no table, and exits 2."""
    path = CASES / "empty.yaml"
    result = runner.invoke(main, ["catalog", "show", str(path)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"{path}:1: expected a mapping with a 'services' list at the top level, "
        "found an empty document\n"
        f"{path}: 1 problem — invalid\n"
    )


def test_example_prints_the_bundled_catalog(runner: CliRunner) -> None:
    """`example` prints examples/services.yaml byte for byte, ready to redirect to a file."""
    result = runner.invoke(main, ["catalog", "example"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (ROOT / "examples" / "services.yaml").read_text(encoding="utf-8")


def test_validate_reads_standard_input(runner: CliRunner) -> None:
    """`-` reads the catalog from standard input; the summary names it `<stdin>`."""
    example = (ROOT / "examples" / "services.yaml").read_bytes()
    result = runner.invoke(main, ["catalog", "validate", "-"], input=example)
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "<stdin>: 5 services, 2 externals — valid\n",
        "",
    )


def test_stdin_problems_name_stdin_and_overlays_resolve_in_the_current_directory(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalog on standard input finds its overlay files from the current directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "orders.dashboard.yaml").write_text("panels: 1\n")
    catalog = (
        "services:\n"
        "  - {name: orders, team: checkout, slo: {availability: 99.9},\n"
        "     dashboard: orders.dashboard.yaml, tier: gold}\n"
    )
    result = runner.invoke(main, ["catalog", "validate", "-"], input=catalog)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "<stdin>:3: services[0].tier: expected one of critical, standard, experimental, "
        "found 'gold' — the tier sets alert severity\n"
        "orders.dashboard.yaml:1: services[0].dashboard.panels: expected a list of Grafana "
        "panels, found the number 1\n"
        "<stdin>: 2 problems — invalid\n"
    )


def test_validate_json_valid(runner: CliRunner) -> None:
    """--format json: one document with the counts and no problems; exit 0."""
    result = runner.invoke(
        main, ["catalog", "validate", "examples/services.yaml", "--format", "json"]
    )
    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "file": "examples/services.yaml",
        "valid": True,
        "services": 5,
        "externals": 2,
        "problems": [],
    }


def test_validate_json_lists_every_problem_with_its_location(runner: CliRunner) -> None:
    """--format json on a bad catalog: file, line, column, path, message and the rest of
    each problem; exit 2 and nothing on stderr."""
    path = CASES / "unknown-tier.yaml"
    result = runner.invoke(main, ["catalog", "validate", str(path), "--format", "json"])
    assert (result.exit_code, result.stderr) == (2, "")
    expected = "one of critical, standard, experimental"
    assert json.loads(result.stdout) == {
        "file": str(path),
        "valid": False,
        "services": None,
        "externals": None,
        "problems": [
            {
                "file": str(path),
                "line": 4,
                "column": 11,
                "path": "services[0].tier",
                "message": f"expected {expected}, found 'gold'",
                "expected": expected,
                "found": "'gold'",
                "hint": "the tier sets alert severity",
            },
            {
                "file": str(path),
                "line": 8,
                "column": 11,
                "path": "services[1].tier",
                "message": f"expected {expected}, found 'Critical'",
                "expected": expected,
                "found": "'Critical'",
                "hint": "did you mean 'critical'?",
            },
        ],
    }


def test_show_json_gives_every_service_and_external(runner: CliRunner) -> None:
    """`show --format json`: the table's facts as data, and a little more."""
    result = runner.invoke(main, ["catalog", "show", "examples/services.yaml", "--format", "json"])
    assert (result.exit_code, result.stderr) == (0, "")
    document = json.loads(result.stdout)
    assert (document["file"], document["valid"], document["problems"]) == (
        "examples/services.yaml",
        True,
        [],
    )
    assert [s["name"] for s in document["services"]] == [
        "orders",
        "payments",
        "users",
        "inventory",
        "notifications",
    ]
    assert document["services"][1] == {
        "name": "payments",
        "team": "payments",
        "tier": "critical",
        "description": "Authorises and captures card payments through Stripe.",
        "address": "payments.shop.internal",
        "runbook": "https://runbooks.example.com/payments",
        "gate": None,
        "dependencies": ["stripe"],
        "slo": {
            "availability": 99.95,
            "window": "28d",
            "window_seconds": 2419200,
            "latency": {"threshold": "1s", "threshold_seconds": 1.0, "target": 99.0},
        },
        "prometheus": {"job": "payments", "labels": {"env": "production"}},
        "alert_labels": {"region": "eu-west", "compliance": "pci"},
        "alerting": {"min_requests": 100, "expect_traffic": True, "page_targets_down": 100.0},
    }
    assert document["externals"][0] == {
        "name": "stripe",
        "address": "api.stripe.com",
        "description": "Card payments provider",
    }


def test_show_json_of_a_bad_catalog_is_the_problems_document(runner: CliRunner) -> None:
    """`show --format json` on a bad catalog: no services, the problems; exit 2."""
    path = CASES / "empty.yaml"
    result = runner.invoke(main, ["catalog", "show", str(path), "--format", "json"])
    assert (result.exit_code, result.stderr) == (2, "")
    document = json.loads(result.stdout)
    assert (document["valid"], document["services"], document["externals"]) == (False, [], [])
    assert [(p["line"], p["found"]) for p in document["problems"]] == [(1, "an empty document")]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "services:\n  - {name: orders, team: checkout,\n"
            "     slo: {availability: 99, window: " + "9" * 5000 + "d}}\n",
            "3: services[0].slo.window: expected a Prometheus duration from 1d to 90d, "
            "e.g. 30d, found '" + "9" * 40 + "'… (5001 characters) — too long for "
            "Prometheus (at most about 292 million years)",
        ),
        (
            "assessment:\n  team_size: " + "9" * 5000 + "\n" + ORDERS,
            "2: assessment.team_size: expected a whole number above 0, found a number of "
            "5000 digits — at most 18 digits",
        ),
        (
            ORDERS.replace("99}", "99}, gate: 0x2"),
            None,
        ),
        (
            "services:\n  - name: orders\n    team: " + "[" * 500 + "]" * 500 + "\n",
            "3: lists and mappings nested more than 64 levels deep",
        ),
        (
            "services:\n  - name: orders\n    x:\n"
            + "".join("  " * level + "  - \n" for level in range(3, 80)),
            "65: lists and mappings nested more than 64 levels deep",
        ),
        (
            ORDERS + '"a\\nb\\e[31m": 1\n',
            "3: unknown key 'a\\nb\\x1b[31m' — valid keys: version, defaults, externals, "
            "services, assessment, runbooks",
        ),
        (
            ORDERS
            + "x:\n  l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n"
            + "".join(
                f"  l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]\n" for n in range(1, 9)
            ),
            "9: more than 1,000,000 values, counting each alias as what it stands for",
        ),
        (
            ORDERS.replace("checkout", '"check\\udc00out"'),
            "2: not text: \\udc00 is half of a UTF-16 surrogate pair — write the character "
            "itself, or both halves of its pair (\\ud83d\\ude00)",
        ),
    ],
    ids=[
        "huge-window",
        "huge-team-size",
        "hex-gate",
        "deep-flow",
        "deep-block",
        "control",
        "alias-bomb",
        "surrogate",
    ],
)
def test_input_that_once_raised_is_one_problem_line(
    runner: CliRunner, tmp_path: Path, text: str, problem: str | None
) -> None:
    """Numbers over Python's 4,300-digit limit, nesting past the recursion limit, a gate
    in hex, control characters in a key, aliases standing for a billion values: a problem
    line (or a valid catalog), no traceback and no hang."""
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(main, ["catalog", "validate", str(path)])
    if problem is None:
        assert (result.exit_code, result.stderr) == (0, "")
        return
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"{path}:{problem}\n{path}: 1 problem — invalid\n"


def test_a_utf16_catalog_is_told_to_be_utf8(runner: CliRunner, tmp_path: Path) -> None:
    """A UTF-16 file (with or without its byte-order mark): one problem, with the fix."""
    for encoding, found in (("utf-16", "not UTF-8 text (byte 0xff)"), ("utf-16-be", None)):
        path = tmp_path / f"{encoding}.yaml"
        path.write_bytes("services: []\n".encode(encoding))
        result = runner.invoke(main, ["catalog", "validate", str(path)])
        assert result.exit_code == 2
        first = result.stderr.splitlines()[0]
        assert first.endswith("— the file looks like UTF-16: save it as UTF-8"), first
        if found:
            assert f"not valid YAML: {found}" in first
