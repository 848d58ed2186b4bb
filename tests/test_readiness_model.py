"""Tests for toolkit.readiness.model: statuses and what makes a service ready."""

from __future__ import annotations

import pytest

from toolkit.readiness.model import Check, Report, ServiceReport, Status


@pytest.mark.parametrize(
    ("status", "blocks"),
    [
        (Status.PASS, False),
        (Status.WARN, False),
        (Status.SKIPPED, False),
        (Status.FAIL, True),
        (Status.NOT_MEASURED, True),
    ],
)
def test_only_fail_and_not_measured_block_a_level(status: Status, blocks: bool) -> None:
    """A level is claimed on evidence: failures and unmeasured checks block it."""
    assert status.blocks_level is blocks


def _check(level: int, status: Status) -> Check:
    return Check(f"c{level}", level, "t", status, "r")


@pytest.mark.parametrize(
    ("level", "required", "ready"), [(3, 3, True), (2, 3, False), (1, 1, True)]
)
def test_service_with_a_level_is_ready_at_its_required_level(
    level: int, required: int, ready: bool
) -> None:
    """``ready`` compares the measured level with the required one."""
    assert ServiceReport("orders", (), level, required).ready is ready


@pytest.mark.parametrize(
    ("status", "required", "ready"),
    [
        (Status.PASS, 3, True),
        (Status.FAIL, 3, False),
        (Status.NOT_MEASURED, 3, False),
        (Status.FAIL, 2, True),  # the static checks are level 3: a gate of 2 ignores them
    ],
)
def test_static_only_service_is_ready_when_no_static_check_blocks(
    status: Status, required: int, ready: bool
) -> None:
    """Without a level (static checks only), a blocking level-3 check fails a gate of 3."""
    report = ServiceReport("orders", (_check(3, Status.PASS), _check(3, status)), None, required)
    assert report.ready is ready


def test_report_is_ready_when_every_service_is() -> None:
    """One service below its level makes the whole report not ready."""
    ok = ServiceReport("a", (), 3, 3)
    low = ServiceReport("b", (), 1, 2)
    assert Report((ok,)).ready is True
    assert Report((ok, low)).ready is False


def test_check_is_found_by_id() -> None:
    """``ServiceReport.check`` finds a check by id and raises ``KeyError`` otherwise."""
    check = _check(1, Status.PASS)
    report = ServiceReport("a", (check,), 1, 1)
    assert report.check("c1") is check
    with pytest.raises(KeyError):
        report.check("nope")
