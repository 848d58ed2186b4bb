"""Run readiness checks concurrently, each with a timeout, from async or sync code.

A sync check runs in a daemon thread of its own; while a run of it is still going
(slow or hung), later readiness calls wait on that same run instead of starting
another, so a hung check holds one thread, never one per probe, and never blocks
process exit. An async check runs on the caller's event loop (ASGI) or, for WSGI, in
such a thread under ``asyncio.run``. Timeouts and exceptions make the check fail; the
runner itself never raises.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import Awaitable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timezone
from time import perf_counter
from typing import TYPE_CHECKING, Any

from toolkit.health._metrics import health_metrics
from toolkit.health._model import (
    FAIL,
    PASS,
    WARN,
    CheckFunction,
    CheckOutcome,
    CheckReport,
    CheckResult,
    CheckSpec,
    HealthCheck,
    HealthReport,
    overall,
)

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

_log = logging.getLogger("toolkit.health")

DEFAULT_TIMEOUT = 1.0


def _is_async(function: Any) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class _Check:
    """One registered check, with the run of it that is in flight (sync checks)."""

    __slots__ = ("critical", "function", "is_async", "lock", "name", "running", "timeout")

    def __init__(self, name: str, spec: CheckSpec, default_timeout: float) -> None:
        check = spec if isinstance(spec, HealthCheck) else HealthCheck(spec)
        if not callable(check.check):
            raise TypeError(f"health check {name!r} is not callable: {check.check!r}")
        self.name = name
        self.function: CheckFunction = check.check
        self.timeout = default_timeout if check.timeout is None else check.timeout
        self.critical = check.critical
        self.is_async = _is_async(check.check)
        self.running: Future[CheckOutcome] | None = None
        self.lock = threading.Lock()

    def in_thread(self) -> Future[CheckOutcome]:
        """The run in flight, or a new one in a daemon thread."""
        with self.lock:
            if self.running is not None and not self.running.done():
                return self.running
            future: Future[CheckOutcome] = Future()
            self.running = future
        thread = threading.Thread(
            target=self._run_into, args=(future,), name=f"toolkit-health-{self.name}", daemon=True
        )
        thread.start()
        return future

    def _run_into(self, future: Future[CheckOutcome]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            if self.is_async:
                result: Any = asyncio.run(self._bounded())
            else:
                result = self.function()
                if inspect.isawaitable(result):
                    result = asyncio.run(_await(result, self.timeout))
            future.set_result(result)
        except BaseException as exc:
            future.set_exception(exc)

    async def _bounded(self) -> CheckOutcome:
        return await _await(self.function(), self.timeout)  # type: ignore[arg-type]


async def _await(awaitable: Awaitable[CheckOutcome], timeout: float) -> CheckOutcome:
    return await asyncio.wait_for(awaitable, timeout)


class HealthRunner:
    """The registered checks; ``await run_async()`` (ASGI) or ``run_sync()`` (WSGI).

    ``checks`` maps a name to a callable or a :class:`HealthCheck`; ``timeout`` is the
    default per check, in seconds. Each run sets ``toolkit_health_check_status{check}``
    in ``registry`` (default prometheus-client's) to 1 (pass/warn) or 0 (fail).
    """

    def __init__(
        self,
        checks: Mapping[str, CheckSpec],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        registry: CollectorRegistry | None = None,
        metrics: bool = True,
    ) -> None:
        """Validate the checks; register the gauge once per registry."""
        if timeout <= 0:
            raise ValueError(f"health check timeout must be positive, got {timeout!r}")
        self.checks = tuple(_Check(name, spec, timeout) for name, spec in checks.items())
        self._gauge = health_metrics(registry).status if metrics and self.checks else None

    async def run_async(self) -> HealthReport:
        """Run every check concurrently on the running loop (sync ones in threads)."""
        reports = await asyncio.gather(*(self._one_async(check) for check in self.checks))
        return self._report(reports)

    def run_sync(self) -> HealthReport:
        """Run every check concurrently in threads; return when all finished or timed out."""
        started = [(check, perf_counter(), check.in_thread()) for check in self.checks]
        reports = []
        for check, start, future in started:
            moment = datetime.now(timezone.utc)
            remaining = check.timeout - (perf_counter() - start)
            try:
                outcome = future.result(timeout=max(0.0, remaining))
            except FutureTimeout as exc:
                # The same class as a TimeoutError the check itself raised (3.11+).
                if future.done():
                    reports.append(self._raised(check, start, moment, exc))
                else:
                    reports.append(self._timed_out(check, start, moment))
                continue
            except BaseException as exc:
                reports.append(self._raised(check, start, moment, exc))
                continue
            reports.append(self._judge(check, start, moment, outcome))
        return self._report(reports)

    async def _one_async(self, check: _Check) -> CheckReport:
        moment = datetime.now(timezone.utc)
        start = perf_counter()
        try:
            if check.is_async:
                running: asyncio.Future[Any] = asyncio.ensure_future(check.function())  # type: ignore[arg-type]
            else:
                running = asyncio.wrap_future(check.in_thread())
            # asyncio.wait, not wait_for: a TimeoutError the check raises is not a timeout.
            done, _ = await asyncio.wait({running}, timeout=check.timeout)
            if not done:
                if check.is_async:
                    running.cancel()
                return self._timed_out(check, start, moment)
            outcome = running.result()
        except Exception as exc:
            return self._raised(check, start, moment, exc)
        return self._judge(check, start, moment, outcome)

    def _judge(self, check: _Check, start: float, moment: datetime, outcome: Any) -> CheckReport:
        duration = perf_counter() - start
        if isinstance(outcome, CheckResult):
            status = outcome.status
            if status not in (PASS, WARN, FAIL):
                return self._failed(check, duration, moment, f"unknown status {status!r}")
            if status == FAIL and not check.critical:
                status = WARN
            return CheckReport(
                check.name,
                status,
                moment,
                duration,
                outcome.observed_value,
                outcome.observed_unit,
                outcome.output,
            )
        if outcome is None or outcome is True:
            return CheckReport(check.name, PASS, moment, duration)
        if outcome is False:
            return self._failed(check, duration, moment, "check returned False")
        return self._failed(check, duration, moment, f"check returned {outcome!r}")

    def _timed_out(self, check: _Check, start: float, moment: datetime) -> CheckReport:
        return self._failed(
            check, perf_counter() - start, moment, f"timed out after {check.timeout:g} s"
        )

    def _raised(
        self, check: _Check, start: float, moment: datetime, exc: BaseException
    ) -> CheckReport:
        _log.debug("health check %s raised", check.name, exc_info=exc)
        return self._failed(check, perf_counter() - start, moment, _error(exc))

    def _failed(self, check: _Check, duration: float, moment: datetime, why: str) -> CheckReport:
        status = FAIL if check.critical else WARN
        return CheckReport(check.name, status, moment, duration, output=why)

    def _report(self, reports: list[CheckReport]) -> HealthReport:
        gauge = self._gauge
        if gauge is not None:
            for report in reports:
                try:
                    gauge.labels(report.name).set(0.0 if report.status == FAIL else 1.0)
                except Exception:  # pragma: no cover - a gauge that cannot be set
                    _log.debug("cannot set the health gauge", exc_info=True)
        return HealthReport(overall({r.name: r.status for r in reports}), tuple(reports))
