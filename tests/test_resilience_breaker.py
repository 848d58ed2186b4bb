"""CircuitBreaker: call styles, classification, fallbacks, telemetry and concurrency."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _processes import free_port
from _resilience_support import FakeClock, redis_server
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from toolkit.context import correlation_id_var
from toolkit.resilience.breaker import CallNotPermitted, CircuitBreaker, State
from toolkit.resilience.breaker.redis_state import RedisSharedState


class Boom(Exception):
    """A dependency failure."""


class NotFound(Exception):
    """A business outcome that says nothing about the dependency's health."""


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make(registry: CollectorRegistry, clock: FakeClock) -> Callable[..., CircuitBreaker]:
    def factory(**options: Any) -> CircuitBreaker:
        settings: dict[str, Any] = {
            "minimum_calls": 2,
            "window_size": 2,
            "wait_duration_in_open": 30,
            "permitted_calls_in_half_open": 2,
            "registry": registry,
            "clock": clock,
        }
        settings.update(options)
        return CircuitBreaker(settings.pop("name", "payments"), **settings)

    return factory


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, {"name": "payments", **labels})


def fail() -> None:
    raise Boom("down")


async def afail() -> None:
    raise Boom("down")


def trip(breaker: CircuitBreaker) -> None:
    for _ in range(2):
        with pytest.raises(Boom):
            breaker.call(fail)
    assert breaker.state is State.OPEN


def test_new_breaker_exports_closed_state_and_zero_counts(
    make: Callable[..., CircuitBreaker], registry: CollectorRegistry
) -> None:
    """Before any call the dashboard already sees state=closed and zero counters."""
    make()
    assert sample(registry, "circuitbreaker_state", state="closed") == 1.0
    assert sample(registry, "circuitbreaker_state", state="open") == 0.0
    assert sample(registry, "circuitbreaker_state", state="half_open") == 0.0
    assert sample(registry, "circuitbreaker_calls_total", kind="not_permitted") == 0.0
    assert sample(registry, "circuitbreaker_failure_rate") == -1.0


def test_decorated_sync_function_counts_success(
    make: Callable[..., CircuitBreaker], registry: CollectorRegistry
) -> None:
    """A decorated function returns its result and counts as successful."""
    breaker = make()

    @breaker
    def add(a: int, b: int) -> int:
        return a + b

    assert add(2, 3) == 5
    assert add.__name__ == "add"
    assert sample(registry, "circuitbreaker_calls_total", kind="successful") == 1.0


async def test_decorated_async_function_counts_failure(
    make: Callable[..., CircuitBreaker], registry: CollectorRegistry
) -> None:
    """A decorated coroutine function stays a coroutine function; its failures count."""
    breaker = make(minimum_calls=5, window_size=5)
    decorated = breaker(afail)
    assert asyncio.iscoroutinefunction(decorated)
    with pytest.raises(Boom):
        await decorated()
    assert sample(registry, "circuitbreaker_calls_total", kind="failed") == 1.0


def test_sync_call_refuses_coroutine_functions(make: Callable[..., CircuitBreaker]) -> None:
    """call() on an async function is a TypeError, not a silent "success"."""
    with pytest.raises(TypeError, match=r"afail is async: use `await breaker.acall\(...\)`"):
        make().call(afail)


def test_open_breaker_refuses_without_calling(
    make: Callable[..., CircuitBreaker], registry: CollectorRegistry, clock: FakeClock
) -> None:
    """Once open, calls raise CallNotPermitted (with retry_after) and never run."""
    breaker = make()
    trip(breaker)
    clock.advance(10)
    ran: list[str] = []
    with pytest.raises(CallNotPermitted) as info:
        breaker.call(ran.append, "x")
    assert ran == []
    assert (info.value.name, info.value.state, info.value.retry_after) == (
        "payments",
        State.OPEN,
        20.0,
    )
    assert (
        str(info.value)
        == "circuit breaker 'payments' is open; calls not permitted for another 20.0s"
    )
    assert sample(registry, "circuitbreaker_calls_total", kind="not_permitted") == 1.0
    assert sample(registry, "circuitbreaker_calls_total", kind="failed") == 2.0
    assert sample(registry, "circuitbreaker_state", state="open") == 1.0
    assert sample(registry, "circuitbreaker_state", state="closed") == 0.0
    assert sample(registry, "circuitbreaker_failure_rate") == 100.0


def test_half_open_trials_close_the_breaker(
    make: Callable[..., CircuitBreaker], registry: CollectorRegistry, clock: FakeClock
) -> None:
    """After the wait, successful trials close the breaker and the gauges follow."""
    breaker = make()
    trip(breaker)
    clock.advance(30)
    assert breaker.call(lambda: "ok") == "ok"
    assert breaker.state is State.HALF_OPEN
    assert sample(registry, "circuitbreaker_state", state="half_open") == 1.0
    assert breaker.call(lambda: "ok") == "ok"
    assert breaker.state is State.CLOSED
    assert sample(registry, "circuitbreaker_state", state="closed") == 1.0
    assert sample(registry, "circuitbreaker_failure_rate") == -1.0


def test_ignored_exceptions_count_as_neither(
    make: Callable[..., CircuitBreaker], registry: CollectorRegistry
) -> None:
    """ignore_exceptions propagate, are counted as ignored and never open the breaker."""
    breaker = make(ignore_exceptions=(NotFound,))

    def missing() -> None:
        raise NotFound

    for _ in range(5):
        with pytest.raises(NotFound):
            breaker.call(missing)
    assert breaker.state is State.CLOSED
    assert sample(registry, "circuitbreaker_calls_total", kind="ignored") == 5.0


def test_record_failure_predicate_decides(
    make: Callable[..., CircuitBreaker], registry: CollectorRegistry
) -> None:
    """Exceptions the predicate rejects count as successful calls."""
    breaker = make(record_failure=lambda exc: "timeout" in str(exc))

    def bad_input() -> None:
        raise ValueError("bad input")

    for _ in range(3):
        with pytest.raises(ValueError):
            breaker.call(bad_input)
    assert breaker.state is State.CLOSED
    assert sample(registry, "circuitbreaker_calls_total", kind="successful") == 3.0


def test_failure_result_predicate_counts_returned_values(
    make: Callable[..., CircuitBreaker],
) -> None:
    """A result the predicate flags is a failure although nothing was raised."""
    breaker = make(failure_result=lambda result: result == 503)
    assert [breaker.call(lambda: 503) for _ in range(2)] == [503, 503]
    assert breaker.state is State.OPEN


def test_slow_calls_open_the_breaker(make: Callable[..., CircuitBreaker], clock: FakeClock) -> None:
    """Calls at or over slow_call_duration count as slow; the slow rate can open it."""
    breaker = make(slow_call_duration=2.0, slow_call_rate_threshold=100)

    def slow() -> str:
        clock.advance(2.5)
        return "late"

    assert [breaker.call(slow), breaker.call(slow)] == ["late", "late"]
    assert breaker.state is State.OPEN


def test_sync_fallback_answers_failures_and_refusals(make: Callable[..., CircuitBreaker]) -> None:
    """fallback(exc, *args) replaces the raise for failures and CallNotPermitted alike."""
    breaker = make()

    @breaker.decorate(fallback=lambda exc, user: f"cached {user} ({type(exc).__name__})")
    def profile(user: str) -> str:
        raise Boom(user)

    assert profile("ada") == "cached ada (Boom)"
    assert profile("ada") == "cached ada (Boom)"
    assert profile("bob") == "cached bob (CallNotPermitted)"


async def test_async_fallback_may_be_a_coroutine(make: Callable[..., CircuitBreaker]) -> None:
    """An async function's fallback may be sync or async; ignored errors still raise."""
    breaker = make(ignore_exceptions=(NotFound,))

    async def cached(exc: BaseException, user: str) -> str:
        return f"cached {user}"

    @breaker.decorate(fallback=cached)
    async def profile(user: str) -> str:
        if user == "ghost":
            raise NotFound(user)
        raise Boom(user)

    assert await profile("ada") == "cached ada"
    with pytest.raises(NotFound):
        await profile("ghost")


def test_guard_counts_raised_and_marked_failures(
    make: Callable[..., CircuitBreaker], registry: CollectorRegistry
) -> None:
    """with breaker.guard(): exceptions and mark_failure() are failures; the block's
    exception is never swallowed."""
    breaker = make(minimum_calls=10, window_size=10)
    with pytest.raises(Boom), breaker.guard():
        raise Boom
    with breaker.guard() as guard:
        guard.mark_failure()
    with breaker.guard():
        pass
    assert sample(registry, "circuitbreaker_calls_total", kind="failed") == 2.0
    assert sample(registry, "circuitbreaker_calls_total", kind="successful") == 1.0


async def test_async_guard_refuses_when_open(
    make: Callable[..., CircuitBreaker], registry: CollectorRegistry
) -> None:
    """async with breaker.guard(): same rules; an open breaker raises on entry."""
    breaker = make()
    for _ in range(2):
        with pytest.raises(Boom):
            async with breaker.guard():
                raise Boom
    ran = False
    with pytest.raises(CallNotPermitted):
        async with breaker.guard():
            ran = True
    assert ran is False


async def test_cancelled_trial_returns_its_slot(
    make: Callable[..., CircuitBreaker], registry: CollectorRegistry, clock: FakeClock
) -> None:
    """A half-open trial whose task is cancelled counts as ignored and frees its slot."""
    breaker = make(permitted_calls_in_half_open=1)
    trip(breaker)
    clock.advance(30)
    started = asyncio.Event()

    async def hang() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(breaker.acall(hang))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sample(registry, "circuitbreaker_calls_total", kind="ignored") == 1.0
    assert await breaker.acall(asyncio.sleep, 0, "ok") == "ok"
    assert breaker.state is State.CLOSED


def test_state_change_is_logged_with_correlation_id(make: Callable[..., CircuitBreaker]) -> None:
    """Every transition logs one line with breaker, states, rates and correlation_id."""
    breaker = make()
    token = correlation_id_var.set("req-42")
    try:
        with capture_logs() as logs:
            trip(breaker)
    finally:
        correlation_id_var.reset(token)
    assert logs == [
        {
            "event": "circuitbreaker.state_change",
            "breaker": "payments",
            "from_state": "closed",
            "to_state": "open",
            "correlation_id": "req-42",
            "failure_rate": 100.0,
            "slow_call_rate": 0.0,
            "log_level": "warning",
        }
    ]


def test_state_change_is_a_span_event(make: Callable[..., CircuitBreaker]) -> None:
    """The transition is added as an event to the span that is current when it happens."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    breaker = make()
    with provider.get_tracer("test").start_as_current_span("GET /checkout"):
        trip(breaker)
    (span,) = exporter.get_finished_spans()
    assert [(e.name, dict(e.attributes or {})) for e in span.events] == [
        (
            "circuitbreaker.state_change",
            {
                "circuitbreaker.name": "payments",
                "circuitbreaker.from_state": "closed",
                "circuitbreaker.to_state": "open",
            },
        )
    ]


def test_one_registry_serves_many_breakers(registry: CollectorRegistry) -> None:
    """Collectors are created once per registry: two breakers share them by label."""
    CircuitBreaker("a", registry=registry)
    CircuitBreaker("b", registry=registry)
    assert (
        registry.get_sample_value("circuitbreaker_state", {"name": "b", "state": "closed"}) == 1.0
    )


# --- concurrency: half-open admits exactly the permitted trials ---------------------------

TRIALS = 3
CALLERS = 60


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["local", "redis"])
async def breakers(
    request: pytest.FixtureRequest, registry: CollectorRegistry
) -> AsyncIterator[list[CircuitBreaker]]:
    """Three breakers named alike: one local object used thrice, or three processes' worth
    of Redis-shared breakers (each with its own clients)."""
    options: dict[str, Any] = {
        "minimum_calls": 2,
        "window_size": 2,
        "wait_duration_in_open": 0.05,
        "permitted_calls_in_half_open": TRIALS,
    }
    if request.param == "local":
        one = CircuitBreaker("payments", registry=registry, **options)
        yield [one, one, one]
        return
    name = f"payments-{uuid.uuid4()}"
    shared = [RedisSharedState(request.getfixturevalue("redis_url")) for _ in range(3)]
    yield [
        CircuitBreaker(name, shared_state=s, registry=CollectorRegistry(), **options)
        for s in shared
    ]
    for state in shared:
        await state.aclose()


def trip_and_half_open(breaker: CircuitBreaker) -> None:
    trip(breaker)
    # The wait is 50 ms of real time: the only sleep, so that Redis (wall clock) agrees.
    threading.Event().wait(0.06)


async def test_many_threads_get_exactly_the_permitted_trials(
    breakers: list[CircuitBreaker],
) -> None:
    """60 threads hit a half-open breaker at once: exactly 3 run, 57 are refused, and the
    3 successes close it."""
    trip_and_half_open(breakers[0])
    barrier = threading.Barrier(CALLERS)
    release = threading.Event()
    outcomes: list[str] = []
    lock = threading.Lock()

    def trial() -> str:
        release.wait(10)
        return "ran"

    def caller(index: int) -> None:
        barrier.wait()
        try:
            result = breakers[index % 3].call(trial)
        except CallNotPermitted:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(CALLERS)]

    def run() -> None:
        for thread in threads:
            thread.start()
        while True:  # release the trials once every refusal is in
            with lock:
                if len(outcomes) == CALLERS - TRIALS:
                    break
            threading.Event().wait(0.001)
        release.set()
        for thread in threads:
            thread.join()

    await asyncio.to_thread(run)
    assert outcomes.count("ran") == TRIALS
    assert outcomes.count("refused") == CALLERS - TRIALS
    assert breakers[0].call(lambda: "after") == "after"
    assert breakers[0].state is State.CLOSED


async def test_many_tasks_get_exactly_the_permitted_trials(
    breakers: list[CircuitBreaker],
) -> None:
    """60 asyncio tasks hit a half-open breaker at once: exactly 3 run."""
    trip_and_half_open(breakers[0])
    release = asyncio.Event()
    refused = 0

    async def trial() -> str:
        await release.wait()
        return "ran"

    async def caller(index: int) -> str:
        nonlocal refused
        try:
            return await breakers[index % 3].acall(trial)
        except CallNotPermitted:
            refused += 1
            if refused == CALLERS - TRIALS:
                release.set()
            return "refused"

    outcomes = await asyncio.gather(*(caller(i) for i in range(CALLERS)))
    assert outcomes.count("ran") == TRIALS
    assert outcomes.count("refused") == CALLERS - TRIALS
    # A Redis-shared breaker knows the state as of its own last call: make one.
    assert await breakers[0].acall(asyncio.sleep, 0, "after") == "after"
    assert breakers[0].state is State.CLOSED


async def test_shared_state_opens_every_process(redis_url: str) -> None:
    """Failures seen by one process open the breaker for another process too."""
    name = f"billing-{uuid.uuid4()}"
    first, second = RedisSharedState(redis_url), RedisSharedState(redis_url)
    a = CircuitBreaker(name, shared_state=first, minimum_calls=2, window_size=2,
                       registry=CollectorRegistry())  # fmt: skip
    b = CircuitBreaker(name, shared_state=second, minimum_calls=2, window_size=2,
                       registry=CollectorRegistry())  # fmt: skip
    for _ in range(2):
        with pytest.raises(Boom):
            await a.acall(afail)
    with pytest.raises(CallNotPermitted):
        b.call(lambda: None)
    await first.aclose()
    await second.aclose()


def test_unreachable_state_store_lets_calls_through(registry: CollectorRegistry) -> None:
    """If Redis is down the call runs (untracked) and the failure is logged, not raised."""
    shared = RedisSharedState(f"redis://127.0.0.1:{free_port()}/0")
    breaker = CircuitBreaker("payments", shared_state=shared, registry=registry)
    with capture_logs() as logs:
        assert breaker.call(lambda: "ran") == "ran"
    assert [(log["event"], log["operation"]) for log in logs] == [
        ("circuit breaker state store failed; call not tracked", "acquire")
    ]
    assert sample(registry, "circuitbreaker_calls_total", kind="successful") == 1.0


@pytest.mark.slow
def test_processes_share_exactly_the_permitted_trials(redis_url: str) -> None:
    """3 processes x 20 threads hit one Redis-shared half-open breaker: exactly 3 trials
    run cluster-wide, 57 calls are refused."""
    name = f"inventory-{uuid.uuid4()}"
    breaker = CircuitBreaker(
        name,
        shared_state=RedisSharedState(redis_url),
        minimum_calls=2,
        window_size=2,
        wait_duration_in_open=0.05,
        permitted_calls_in_half_open=TRIALS,
        registry=CollectorRegistry(),
    )
    trip_and_half_open(breaker)
    worker = Path(__file__).parent / "_resilience_breaker_worker.py"
    processes = [
        subprocess.Popen(
            [sys.executable, str(worker), redis_url, name, "20", str(CALLERS), str(TRIALS)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    totals = {"ran": 0, "refused": 0, "timeout": 0}
    for process in processes:
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        # The last line: structlog's default configuration prints state changes too.
        for kind, count in json.loads(out.strip().splitlines()[-1]).items():
            totals[kind] += count
    assert totals == {"ran": TRIALS, "refused": CALLERS - TRIALS, "timeout": 0}
