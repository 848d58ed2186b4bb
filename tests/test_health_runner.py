"""toolkit.health runner: concurrent checks, timeouts, failures, gauge, sync and async."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from toolkit import semconv
from toolkit.health import CheckResult, HealthCheck, HealthReport, HealthRunner


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """An event hung checks wait on; set at teardown so no thread outlives the test."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture(params=["async", "sync"])
def run(request: pytest.FixtureRequest) -> Callable[[HealthRunner], HealthReport]:
    """Run a runner the ASGI way (on a loop) or the WSGI way (threads)."""
    if request.param == "async":
        return lambda runner: asyncio.run(runner.run_async())
    return lambda runner: runner.run_sync()


def statuses(report: HealthReport) -> dict[str, str]:
    return {check.name: check.status for check in report.checks}


def outputs(report: HealthReport) -> dict[str, str | None]:
    return {check.name: check.output for check in report.checks}


async def async_ok() -> None:
    return None


def test_no_checks_pass(run: Callable[[HealthRunner], HealthReport]) -> None:
    """Without checks readiness passes with 200."""
    report = run(HealthRunner({}, registry=CollectorRegistry()))
    assert (report.status, report.http_status, report.checks) == ("pass", 200, ())


def test_outcomes(run: Callable[[HealthRunner], HealthReport]) -> None:
    """None/True pass, False fails, CheckResult says its own status; worst one wins."""
    registry = CollectorRegistry()
    checks: dict[str, Any] = {
        "none": lambda: None,
        "true": lambda: True,
        "async": async_ok,
        "false": lambda: False,
        "warn": lambda: CheckResult("warn", observed_value=87, observed_unit="%", output="disk"),
    }
    report = run(HealthRunner(checks, registry=registry))
    assert statuses(report) == {
        "none": "pass",
        "true": "pass",
        "async": "pass",
        "false": "fail",
        "warn": "warn",
    }
    assert outputs(report)["false"] == "check returned False"
    assert (report.status, report.http_status) == ("fail", 503)
    warn = next(c for c in report.checks if c.name == "warn")
    assert warn.document()["observedValue"] == 87
    assert warn.document()["observedUnit"] == "%"
    assert warn.document()["output"] == "disk"


def test_raising_check_fails_with_its_error(run: Callable[[HealthRunner], HealthReport]) -> None:
    """A check that raises is a failed check whose output names the error."""

    def db() -> None:
        raise ConnectionError("db down")

    async def cache() -> None:
        raise TimeoutError

    report = run(HealthRunner({"db": db, "cache": cache}, registry=CollectorRegistry()))
    assert statuses(report) == {"db": "fail", "cache": "fail"}
    assert outputs(report) == {"db": "ConnectionError: db down", "cache": "TimeoutError"}


def test_hanging_checks_time_out(
    run: Callable[[HealthRunner], HealthReport], release: threading.Event
) -> None:
    """A sync check blocked forever and an async one that never returns fail by timeout;
    the run returns."""

    async def never() -> None:
        await asyncio.Event().wait()

    checks = {"blocked": release.wait, "never": never, "ok": lambda: None}
    report = run(HealthRunner(checks, timeout=0.2, registry=CollectorRegistry()))
    assert statuses(report) == {"blocked": "fail", "never": "fail", "ok": "pass"}
    assert outputs(report)["blocked"] == "timed out after 0.2 s"
    assert outputs(report)["never"] == "timed out after 0.2 s"


def test_checks_run_concurrently(run: Callable[[HealthRunner], HealthReport]) -> None:
    """Two sync checks that each wait for the other both pass: they run at the same time."""
    barrier = threading.Barrier(2, timeout=5)

    def meet() -> None:
        barrier.wait()

    checks = {"a": meet, "b": meet}
    report = run(HealthRunner(checks, timeout=10, registry=CollectorRegistry()))
    assert statuses(report) == {"a": "pass", "b": "pass"}


def test_async_checks_run_concurrently() -> None:
    """Two async checks that each wait for the other both pass."""
    first, second = asyncio.Event(), asyncio.Event()

    async def a() -> None:
        first.set()
        await second.wait()

    async def b() -> None:
        second.set()
        await first.wait()

    runner = HealthRunner({"a": a, "b": b}, timeout=5, registry=CollectorRegistry())
    report = asyncio.run(runner.run_async())
    assert statuses(report) == {"a": "pass", "b": "pass"}


def test_hung_check_holds_one_thread(
    run: Callable[[HealthRunner], HealthReport], release: threading.Event
) -> None:
    """While a sync check hangs, later runs wait on the same run: it is called once."""
    calls: list[int] = []

    def hung() -> None:
        calls.append(1)
        release.wait()

    runner = HealthRunner({"hung": hung}, timeout=0.1, registry=CollectorRegistry())
    for _ in range(3):
        assert statuses(run(runner)) == {"hung": "fail"}
    assert calls == [1]
    release.set()


def test_per_check_timeout_and_non_critical(
    run: Callable[[HealthRunner], HealthReport], release: threading.Event
) -> None:
    """HealthCheck(timeout=...) overrides the default; critical=False turns fail into warn."""
    checks = {
        "cache": HealthCheck(release.wait, timeout=0.1, critical=False),
        "db": HealthCheck(lambda: False, critical=False),
    }
    report = run(HealthRunner(checks, timeout=30, registry=CollectorRegistry()))
    assert statuses(report) == {"cache": "warn", "db": "warn"}
    assert outputs(report)["cache"] == "timed out after 0.1 s"
    assert (report.status, report.http_status) == ("warn", 200)


def test_gauge_per_check(run: Callable[[HealthRunner], HealthReport]) -> None:
    """Each run sets toolkit_health_check_status{check} to 1 (pass/warn) or 0 (fail)."""
    registry = CollectorRegistry()
    state = {"db": True}
    checks: dict[str, Any] = {
        "db": lambda: state["db"],
        "disk": lambda: CheckResult("warn"),
    }
    runner = HealthRunner(checks, registry=registry)

    def gauge(check: str) -> float | None:
        return registry.get_sample_value(semconv.HEALTH_CHECK_STATUS, {semconv.LABEL_CHECK: check})

    run(runner)
    assert (gauge("db"), gauge("disk")) == (1.0, 1.0)
    state["db"] = False
    run(runner)
    assert (gauge("db"), gauge("disk")) == (0.0, 1.0)


def test_two_runners_share_one_gauge() -> None:
    """Two runners on one registry (two middlewares) do not register the gauge twice."""
    registry = CollectorRegistry()
    HealthRunner({"a": lambda: None}, registry=registry)
    HealthRunner({"b": lambda: None}, registry=registry).run_sync()
    assert registry.get_sample_value(semconv.HEALTH_CHECK_STATUS, {"check": "b"}) == 1.0


@pytest.mark.parametrize(
    ("checks", "timeout", "message"),
    [
        ({"db": "not callable"}, 1.0, "health check 'db' is not callable: 'not callable'"),
        ({}, 0.0, "health check timeout must be positive, got 0.0"),
    ],
)
def test_bad_configuration(checks: dict[str, Any], timeout: float, message: str) -> None:
    """Mistakes are refused when the runner is built, not at the first probe."""
    with pytest.raises((TypeError, ValueError)) as info:
        HealthRunner(checks, timeout=timeout, registry=CollectorRegistry())
    assert str(info.value) == message
