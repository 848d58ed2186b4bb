"""Tests for toolkit.readiness.output: required level precedence and exit status."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from toolkit.readiness.model import Report, ServiceReport
from toolkit.readiness.output import exit_status, generated_option, required_level


@pytest.mark.parametrize(
    ("flag", "gate", "level"),
    [(2, 3, 2), (None, 1, 1), (None, None, 3), (1, None, 1)],
)
def test_flag_beats_gate_beats_level_three(flag: int | None, gate: int | None, level: int) -> None:
    """``--require-level`` wins over the catalog's gate, which wins over 3."""
    assert required_level(flag, gate) == level


def test_exit_status_is_zero_only_when_every_service_is_ready() -> None:
    """0 all ready, 1 otherwise."""
    ready = ServiceReport("a", (), 3, 3)
    assert exit_status(Report((ready,))) == 0
    assert exit_status(Report((ready, ServiceReport("b", (), 1, 2)))) == 1


@pytest.mark.parametrize(("args", "expected"), [([], "."), (["--generated", "out"], "out")])
def test_generated_option_gives_a_path_defaulting_to_the_current_directory(
    args: list[str], expected: str
) -> None:
    """``--generated DIR`` reaches the command as ``generated_dir``, ``Path(".")`` if absent."""
    seen: list[Path] = []

    @click.command()
    @generated_option
    def command(generated_dir: Path) -> None:
        seen.append(generated_dir)

    result = CliRunner().invoke(command, args)
    assert result.exit_code == 0
    assert seen == [Path(expected)]
