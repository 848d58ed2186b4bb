"""Tests for toolkit.catalog.readiness: a service's ``gate`` and the ``assessment`` section."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.catalog import CatalogError, SplitAnswers, load_catalog

SERVICE = """\
services:
  - name: orders
    team: checkout
    slo: {availability: 99.9}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "services.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize("gate", [1, 2, 3])
def test_gate_is_read_as_a_level(tmp_path: Path, gate: int) -> None:
    """``gate: N`` becomes ``Service.gate == N``."""
    catalog = load_catalog(_write(tmp_path, SERVICE + f"    gate: {gate}\n"))
    assert catalog.service("orders").gate == gate


def test_gate_defaults_to_none(tmp_path: Path) -> None:
    """A service without ``gate`` has ``gate is None`` (the command decides the level)."""
    assert load_catalog(_write(tmp_path, SERVICE)).service("orders").gate is None


@pytest.mark.parametrize(
    ("value", "found"),
    [("0", "0"), ("4", "4"), ("'3'", "the string '3'"), ("2.5", "the number 2.5")],
)
def test_gate_outside_one_to_three_is_a_problem(tmp_path: Path, value: str, found: str) -> None:
    """A gate that is not a whole level from 1 to 3 names the line and what was found."""
    path = _write(tmp_path, SERVICE + f"    gate: {value}\n")
    assert _problems(path) == [
        f"{path}:5: services[0].gate: expected a readiness level from 1 to 3, found {found}"
    ]


def test_assessment_is_read_in_full(tmp_path: Path) -> None:
    """Every key of ``assessment`` lands in ``Catalog.assessment``."""
    text = SERVICE + (
        "assessment:\n"
        "  team_size: 6\n"
        "  peak_rps: 800\n"
        "  capacity_rps: 9000\n"
        "  deploys_automated: true\n"
        "  scaling_timeline: 5x traffic by Black Friday 2027\n"
    )
    catalog = load_catalog(_write(tmp_path, text))
    assert catalog.assessment == SplitAnswers(
        team_size=6,
        peak_rps=800.0,
        capacity_rps=9000.0,
        deploys_automated=True,
        scaling_timeline="5x traffic by Black Friday 2027",
    )


def test_assessment_is_optional(tmp_path: Path) -> None:
    """No ``assessment`` section: ``None``; an empty one: every answer ``None``."""
    assert load_catalog(_write(tmp_path, SERVICE)).assessment is None
    catalog = load_catalog(_write(tmp_path, SERVICE + "assessment: {}\n"))
    assert catalog.assessment == SplitAnswers()


def test_bad_assessment_answers_are_problems(tmp_path: Path) -> None:
    """Wrong types and values are reported, one problem each, in line order."""
    text = SERVICE + (
        "assessment:\n"
        "  team_size: 0\n"
        "  peak_rps: -5\n"
        "  capacity_rps: lots\n"
        "  deploys_automated: sometimes\n"
        "  scaling: soon\n"
    )
    path = _write(tmp_path, text)
    assert _problems(path) == [
        f"{path}:6: assessment.team_size: expected a whole number above 0, found 0",
        f"{path}:7: assessment.peak_rps: expected requests per second, a number above 0, found -5",
        f"{path}:8: assessment.capacity_rps: expected requests per second, a number above 0, "
        "found the string 'lots'",
        f"{path}:9: assessment.deploys_automated: expected true or false, "
        "found the string 'sometimes'",
        f"{path}:10: assessment: unknown key 'scaling' — did you mean 'scaling_timeline'?",
    ]
