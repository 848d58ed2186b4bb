"""Readiness results as values: a check's status, reason and fix; a service's report."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Status(str, Enum):
    """The outcome of one check."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIPPED = "skipped"
    NOT_MEASURED = "not_measured"

    @property
    def blocks_level(self) -> bool:
        """Whether this outcome keeps a service below the check's level.

        A failure does; so does "not measured": a level is only claimed on evidence.
        Warnings and skips (a check that does not apply, or whose prerequisite already
        failed) never do.
        """
        return self in (Status.FAIL, Status.NOT_MEASURED)


@dataclass(frozen=True)
class Check:
    """One check's result: ``id`` (``metrics.routes``), its level, status, reason and fix.

    ``reason`` is one line saying what was found; ``fix`` one line saying what to do
    about it (empty when there is nothing to do).
    """

    id: str
    level: int
    title: str
    status: Status
    reason: str
    fix: str = ""


@dataclass(frozen=True)
class ServiceReport:
    """Every check run for one service, its level and the level it must reach.

    ``level`` is ``None`` when only the static checks ran (``toolkit check``): they are
    level-3 prerequisites, and a level needs the live probe's evidence too.
    """

    service: str
    checks: tuple[Check, ...]
    level: int | None
    required_level: int
    url: str | None = None

    @property
    def ready(self) -> bool:
        """Whether the service meets its requirement.

        With a level: it reached ``required_level``. Static checks only: none of them
        blocks, when the requirement includes them (level 3).
        """
        if self.level is not None:
            return self.level >= self.required_level
        highest = max((check.level for check in self.checks), default=0)
        if self.required_level < highest:
            return True
        return not any(check.status.blocks_level for check in self.checks)

    def check(self, check_id: str) -> Check:
        """The check called ``check_id``; ``KeyError`` if it was not run."""
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)


@dataclass(frozen=True)
class Report:
    """The readiness of several services, and optionally the split assessment."""

    services: tuple[ServiceReport, ...]
    title: str = "Readiness report"
    assessment: Assessment | None = None

    @property
    def ready(self) -> bool:
        """Whether every service reached its required level."""
        return all(service.ready for service in self.services)


@dataclass(frozen=True)
class Sign:
    """One question of the split assessment: its answer and what it says."""

    question: str
    answer: str
    early: bool | None  # True: a sign of splitting too early; None: not answered
    reason: str


@dataclass(frozen=True)
class Assessment:
    """The "are we distributing too early?" verdict and the signs behind it."""

    verdict: str  # one of VERDICTS
    summary: str
    signs: tuple[Sign, ...] = field(default_factory=tuple)


VERDICT_READY = "split"
VERDICT_NOT_YET = "not yet"
VERDICT_UNKNOWN = "unknown"
VERDICTS = (VERDICT_READY, VERDICT_NOT_YET, VERDICT_UNKNOWN)
