"""A service's level: the highest whose checks (and every lower level's) all hold."""

from __future__ import annotations

from collections.abc import Iterable

from toolkit.readiness.checks import LIVE_CHECKS, READY_LEVEL, STATIC_CHECKS, CheckSpec
from toolkit.readiness.model import Check, ServiceReport


def service_level(checks: Iterable[Check], max_level: int = READY_LEVEL) -> int:
    """The highest level N such that no check of level 1..N blocks (fails, not measured).

    Warnings and skips never lower the level. A level whose checks were not run at all
    is not reached: pass "not measured" results for checks you could not run.
    """
    checks = list(checks)
    level = 0
    for candidate in range(1, max_level + 1):
        at_level = [check for check in checks if check.level == candidate]
        if not at_level or any(check.status.blocks_level for check in at_level):
            break
        level = candidate
    return level


def not_measured(specs: Iterable[CheckSpec], reason: str, fix: str) -> list[Check]:
    """``specs`` reported as not measured, with one ``reason`` and ``fix``."""
    return [spec.not_measured(reason, fix) for spec in specs]


def order_checks(checks: Iterable[Check]) -> tuple[Check, ...]:
    """``checks`` in canonical order: by level, then as ``toolkit.readiness.checks`` lists them."""
    order = {spec.id: index for index, spec in enumerate(LIVE_CHECKS + STATIC_CHECKS)}
    return tuple(sorted(checks, key=lambda c: (c.level, order.get(c.id, len(order)), c.id)))


def service_report(
    service: str,
    checks: Iterable[Check],
    required_level: int,
    url: str | None = None,
    *,
    static_only: bool = False,
) -> ServiceReport:
    """A :class:`ServiceReport`, its level computed from ``checks`` (none if ``static_only``)."""
    ordered = order_checks(checks)
    level = None if static_only else service_level(ordered)
    return ServiceReport(service, ordered, level, required_level, url)
