"""Health checks and their results, as draft-inadarei-api-health-check describes them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, TypeAlias

Status = Literal["pass", "warn", "fail"]
PASS: Status = "pass"
WARN: Status = "warn"
FAIL: Status = "fail"
_RANK = {PASS: 0, WARN: 1, FAIL: 2}


@dataclass(frozen=True)
class CheckResult:
    """What a check may return to say more than pass/fail.

    ``observed_value``/``observed_unit`` become the draft's ``observedValue``/
    ``observedUnit`` (default: the check's own duration in ms); ``output`` explains a
    warn or fail.
    """

    status: Status = PASS
    observed_value: Any = None
    observed_unit: str | None = None
    output: str | None = None


CheckOutcome: TypeAlias = CheckResult | bool | None
"""``None``/``True``: pass; ``False``: fail; a :class:`CheckResult`: as it says."""
CheckFunction: TypeAlias = Callable[[], CheckOutcome | Awaitable[CheckOutcome]]
"""A sync or async callable without arguments; raising means fail."""


@dataclass(frozen=True)
class HealthCheck:
    """A check with its own options: ``HealthCheck(ping_cache, timeout=0.5, critical=False)``.

    ``timeout`` (seconds) overrides the endpoint's; a non-critical check that fails
    makes the readiness ``warn`` (HTTP 200) instead of ``fail`` (HTTP 503).
    """

    check: CheckFunction
    timeout: float | None = None
    critical: bool = True


CheckSpec: TypeAlias = CheckFunction | HealthCheck
"""What ``health_checks={"name": ...}`` accepts."""


@dataclass(frozen=True)
class CheckReport:
    """One check's outcome in one readiness run."""

    name: str
    status: Status
    time: datetime
    duration: float
    observed_value: Any = None
    observed_unit: str | None = None
    output: str | None = None

    def document(self) -> dict[str, Any]:
        """The draft's check object (one element of ``checks[name]``)."""
        doc: dict[str, Any] = {"status": self.status, "time": rfc3339(self.time)}
        if self.observed_value is not None:
            doc["observedValue"] = self.observed_value
            if self.observed_unit is not None:
                doc["observedUnit"] = self.observed_unit
        else:
            doc["observedValue"] = round(self.duration * 1000.0, 3)
            doc["observedUnit"] = "ms"
        if self.output:
            doc["output"] = self.output
        return doc


@dataclass(frozen=True)
class HealthReport:
    """All checks of one run and the overall status."""

    status: Status
    checks: tuple[CheckReport, ...] = field(default=())

    @property
    def http_status(self) -> int:
        """200 for pass and warn, 503 for fail."""
        return 503 if self.status == FAIL else 200

    def document(self, service: str | None = None) -> dict[str, Any]:
        """The ``application/health+json`` body."""
        doc: dict[str, Any] = {"status": self.status}
        if service:
            doc["serviceId"] = service
        if self.checks:
            doc["checks"] = {c.name: [c.document()] for c in self.checks}
        return doc


def overall(statuses: Mapping[str, Status]) -> Status:
    """The worst of ``statuses`` (pass when there are none)."""
    worst = PASS
    for status in statuses.values():
        if _RANK[status] > _RANK[worst]:
            worst = status
    return worst


def rfc3339(moment: datetime) -> str:
    """``2026-11-27T15:30:11.123Z``: UTC, milliseconds."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
