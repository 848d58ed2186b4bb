"""Tests for toolkit.readiness.output: required level precedence and exit status."""

from __future__ import annotations

import pytest

from toolkit.readiness.model import Report, ServiceReport
from toolkit.readiness.output import exit_status, required_level


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
