"""Tests for toolkit.readiness.levels: the highest level whose checks all hold."""

from __future__ import annotations

import pytest

from toolkit.readiness.levels import order_checks, service_level, service_report
from toolkit.readiness.model import Check, Status

P, F, W, S, N = Status.PASS, Status.FAIL, Status.WARN, Status.SKIPPED, Status.NOT_MEASURED


def _checks(*per_level: tuple[Status, ...]) -> list[Check]:
    return [
        Check(f"l{level}.{index}", level, "t", status, "r")
        for level, statuses in enumerate(per_level, start=1)
        for index, status in enumerate(statuses)
    ]


@pytest.mark.parametrize(
    ("statuses", "level"),
    [
        (((P, P), (P,), (P, P)), 3),
        (((P, W), (S, P), (W,)), 3),  # warnings and skips never lower the level
        (((P,), (P, F), (P,)), 1),
        (((F,), (P,), (P,)), 0),
        (((P,), (P,), (N,)), 2),  # not measured is no evidence
        (((P,), (F,), (P,)), 1),  # a pass at 3 does not count above a failure at 2
        (((P,), (P,)), 2),  # no level-3 checks run: level 3 is not reached
        ((), 0),
    ],
)
def test_level_is_the_highest_whose_checks_and_those_below_hold(
    statuses: tuple[tuple[Status, ...], ...], level: int
) -> None:
    """Levels are climbed from 1; the first blocking check (or empty level) stops the climb."""
    assert service_level(_checks(*statuses)) == level


def test_checks_are_ordered_by_level_then_catalogue_order() -> None:
    """``order_checks`` puts live checks of level 1 first and static ones last."""
    checks = [
        Check("ownership", 3, "t", P, "r"),
        Check("metrics.names", 2, "t", P, "r"),
        Check("logs.json", 1, "t", P, "r"),
        Check("correlation.echo", 1, "t", P, "r"),
    ]
    assert [c.id for c in order_checks(checks)] == [
        "correlation.echo",
        "logs.json",
        "metrics.names",
        "ownership",
    ]


def test_static_only_report_has_no_level() -> None:
    """``static_only`` leaves the level unknown; otherwise it is computed."""
    checks = _checks((P,), (P,), (P,))
    assert service_report("a", checks, 3, static_only=True).level is None
    assert service_report("a", checks, 3).level == 3
