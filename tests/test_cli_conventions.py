"""Tests for toolkit.cli: what every command shares (colour, progress, I/O errors,
standard input, shell completion)."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from toolkit import _terminal
from toolkit.cli import main

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "services.yaml"
ASSESS = ["assess", "--team-size", "40", "--peak-rps", "8000", "--capacity-rps", "9000"]
ASSESS += ["--deploys-automated", "--observability-level", "3", "--timeline", "Q4: 5x"]
ANSI = "\x1b["


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stream counts as a terminal (as when run interactively)."""
    monkeypatch.setattr(_terminal, "is_terminal", lambda stream: True)


@pytest.fixture(autouse=True)
def no_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's own environment does not decide colour."""
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.mark.parametrize(
    ("flags", "env", "colored"),
    [
        (["--color", "always"], {}, True),
        (["--color", "never"], {}, False),
        ([], {}, True),
        (["--color", "auto"], {"NO_COLOR": "1"}, False),
        (["--color", "always"], {"NO_COLOR": "1"}, True),
    ],
    ids=["always", "never", "auto-on-a-terminal", "no-color", "always-beats-no-color"],
)
@pytest.mark.usefixtures("terminal")
def test_color_follows_the_flag_then_no_color_then_the_terminal(
    flags: list[str], env: dict[str, str], colored: bool
) -> None:
    """The report is coloured exactly when --color, NO_COLOR and the terminal say so."""
    result = CliRunner().invoke(main, [*flags, *ASSESS], env=env, color=True)
    assert result.exit_code == 0, result.output
    assert (ANSI in result.stdout) is colored


def test_color_auto_is_off_when_piped() -> None:
    """Piped (not a terminal): no colour codes, even where colour would be kept."""
    result = CliRunner().invoke(main, ASSESS, color=True)
    assert result.exit_code == 0
    assert ANSI not in result.stdout


def test_color_always_keeps_colour_in_a_pipe() -> None:
    """--color always: colour codes reach a pipe too (click would strip them otherwise)."""
    result = CliRunner().invoke(main, ["--color", "always", *ASSESS], color=False)
    assert ANSI in result.stdout


def test_an_unhandled_io_error_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A file that cannot be written (under a regular file): one line, exit 2, no traceback."""
    regular = tmp_path / "file"
    regular.write_text("x")
    result = CliRunner().invoke(main, [*ASSESS, "--junit", str(regular / "report.xml")])
    assert (result.exit_code, type(result.exception)) == (2, SystemExit)
    assert result.stderr == f"toolkit: {regular}: file exists\n"


def test_assess_reads_the_catalog_from_stdin() -> None:
    """`-` reads the catalog from standard input, for assess as for every command."""
    result = CliRunner().invoke(
        main, ["assess", "-", "--observability-level", "3"], input=EXAMPLE.read_bytes()
    )
    assert result.exit_code == 1
    assert result.stdout.startswith("Split assessment: not yet: 6 engineers")


def test_a_bad_catalog_on_stdin_is_named_stdin() -> None:
    """Problems of a catalog from standard input name `<stdin>`."""
    result = CliRunner().invoke(main, ["check", "-"], input="services: 1\n")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "<stdin>:1: services: expected a list of services, found the number 1\n"
        "toolkit check: <stdin>: 1 problem — invalid\n"
    )


def test_bash_completion_script_and_commands() -> None:
    """`_TOOLKIT_COMPLETE=bash_source toolkit` prints the script the docs tell users to
    source, and completing `toolkit ca` offers `catalog`."""
    runner = CliRunner()
    script = runner.invoke(main, [], prog_name="toolkit", env={"_TOOLKIT_COMPLETE": "bash_source"})
    assert script.exit_code == 0
    assert "_toolkit_completion()" in script.stdout
    env = {"_TOOLKIT_COMPLETE": "bash_complete", "COMP_WORDS": "toolkit ca", "COMP_CWORD": "1"}
    words = runner.invoke(main, [], prog_name="toolkit", env=env)
    assert words.stdout == "plain,catalog\n"


def _slow_promtool(directory: Path) -> str:
    """A promtool that takes half a second and passes: PATH with it first."""
    promtool = directory / "promtool"
    promtool.write_text("#!/bin/sh\nsleep 0.5\necho SUCCESS\n")
    promtool.chmod(promtool.stat().st_mode | stat.S_IXUSR)
    return f"{directory}{os.pathsep}{os.environ.get('PATH', '')}"


def _check(tmp_path: Path) -> Any:
    catalog = tmp_path / "services.yaml"
    catalog.write_text("services:\n  - {name: orders, team: checkout, slo: {availability: 99.9}}\n")
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["generate", str(catalog), "--out", str(out)]).exit_code == 0
    env = {"PATH": _slow_promtool(tmp_path)}
    return CliRunner().invoke(main, ["check", str(catalog), "--generated", str(out)], env=env)


def test_check_shows_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    """Captured stderr: the promtool wait leaves no trace in it."""
    result = _check(tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


@pytest.mark.usefixtures("terminal")
def test_check_shows_progress_while_promtool_runs(tmp_path: Path) -> None:
    """On a terminal, stderr shows what check waits for, then the line is blanked."""
    result = _check(tmp_path)
    assert result.exit_code == 0, result.output
    assert "\r| running promtool for 1 service (0s)" in result.stderr
    assert result.stderr.endswith(" \r")


def _probe(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Probe a closed port, the probe taking half a second longer than it would."""
    from toolkit.cli import probe

    real = probe.probe_service

    def slow_probe(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(probe, "probe_service", slow_probe)
    args = ["probe", "http://127.0.0.1:9", "--service", "orders", "--no-otlp", "--wait", "0"]
    return CliRunner().invoke(main, args)


def test_probe_shows_no_progress_when_stderr_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Captured stderr: nothing from the wait (the service is unreachable: exit 1)."""
    result = _probe(monkeypatch)
    assert result.exit_code == 1, result.output
    assert result.stderr == ""


@pytest.mark.usefixtures("terminal")
def test_probe_shows_progress_while_it_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal, stderr says what the probe waits for."""
    result = _probe(monkeypatch)
    assert result.exit_code == 1, result.output
    assert (
        "probing http://127.0.0.1:9; waiting up to 0s for its span and log line (0s)"
        in result.stderr
    )
