"""Tests for toolkit.cli.catalog (``toolkit catalog validate|show``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import main

ROOT = Path(__file__).parent.parent
CASES = Path("tests") / "catalog_cases"


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
