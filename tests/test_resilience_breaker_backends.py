"""The breaker's state rules, run against the local backend and the Redis-shared one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from _resilience_support import redis_server

from toolkit.resilience.breaker import BreakerBackend, BreakerConfig, LocalBackend, State
from toolkit.resilience.breaker._state import Outcome, Permit, Rates, Transition, WindowType
from toolkit.resilience.breaker.redis_state import RedisSharedState

T0 = 1_800_000_000.0
S, F, IGN = Outcome.SUCCESS, Outcome.FAILURE, Outcome.IGNORED


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


class Driver:
    """Drives a backend through its sync or async methods at explicit times."""

    def __init__(self, backend: BreakerBackend, mode: str) -> None:
        self.backend = backend
        self.mode = mode
        self.now = T0

    async def acquire(self) -> tuple[Permit | None, Transition | None, float]:
        if self.mode == "sync":
            return self.backend.acquire(self.now)
        return await self.backend.aacquire(self.now)

    async def record(
        self, permit: Permit, outcome: Outcome, duration: float = 0.01
    ) -> tuple[Transition | None, Rates]:
        if self.mode == "sync":
            return self.backend.record(permit, outcome, duration, self.now)
        return await self.backend.arecord(permit, outcome, duration, self.now)

    async def call(self, outcome: Outcome, duration: float = 0.01) -> Transition | None:
        permit, moved, _ = await self.acquire()
        assert permit is not None, "call was not permitted"
        transition, _ = await self.record(permit, outcome, duration)
        return transition or moved

    async def calls(self, *outcomes: Outcome) -> list[Transition | None]:
        return [await self.call(o) for o in outcomes]


@pytest.fixture(params=["local", "redis"])
async def make(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    shared: list[RedisSharedState] = []

    def factory(mode: str = "sync", **config: Any) -> Driver:
        cfg = BreakerConfig(**config)
        if request.param == "local":
            return Driver(LocalBackend(cfg), mode)
        state = RedisSharedState(request.getfixturevalue("redis_url"))
        shared.append(state)
        return Driver(state.backend(f"b-{uuid.uuid4()}", cfg), mode)

    yield factory
    for state in shared:
        await state.aclose()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


OPENED = Transition(State.CLOSED, State.OPEN)
HALF = Transition(State.OPEN, State.HALF_OPEN)
CLOSED_AGAIN = Transition(State.HALF_OPEN, State.CLOSED)
REOPENED = Transition(State.HALF_OPEN, State.OPEN)


async def test_no_decision_before_minimum_calls(make: Any, mode: str) -> None:
    """Failures below minimum_calls never open the breaker; the rate reads -1."""
    d = make(mode, minimum_calls=5, window_size=10)
    assert await d.calls(F, F, F) == [None] * 3
    permit, _, _ = await d.acquire()
    assert permit is not None
    transition, rates = await d.record(permit, F)
    assert (transition, rates.failure_rate) == (None, -1.0)
    assert d.backend.state() is State.CLOSED


async def test_opens_when_failure_rate_reaches_threshold(make: Any, mode: str) -> None:
    """At minimum_calls, a failure rate equal to the threshold opens the breaker."""
    d = make(mode, minimum_calls=4, window_size=10, failure_rate_threshold=50)
    assert await d.calls(S, F, S, F) == [None, None, None, OPENED]
    assert d.backend.state() is State.OPEN


async def test_stays_closed_below_threshold(make: Any, mode: str) -> None:
    """25% failures against a 50% threshold: closed, and the rate is reported exactly."""
    d = make(mode, minimum_calls=4, window_size=4)
    await d.calls(S, S, S)
    permit, _, _ = await d.acquire()
    transition, rates = await d.record(permit, F)
    assert transition is None
    assert (rates.failure_rate, rates.calls) == (25.0, 4)


async def test_count_window_forgets_old_calls(make: Any, mode: str) -> None:
    """Only the last window_size calls count: early failures slide out."""
    d = make(mode, minimum_calls=4, window_size=4, failure_rate_threshold=75)
    await d.calls(F, F, S, S)  # 50%
    await d.calls(S, S)  # window is now S S S S
    permit, _, _ = await d.acquire()
    _, rates = await d.record(permit, F)
    assert rates.failure_rate == 25.0


async def test_time_window_forgets_old_seconds(make: Any, mode: str) -> None:
    """A time window of 10 s counts only calls of the last 10 seconds."""
    d = make(
        mode,
        window_type=WindowType.TIME,
        window_size=10,
        minimum_calls=2,
        failure_rate_threshold=60,
    )
    await d.calls(F)
    d.now += 5
    permit, _, _ = await d.acquire()
    _, rates = await d.record(permit, S)
    assert rates.failure_rate == 50.0
    d.now += 6  # the failure's second has left the window
    permit, _, _ = await d.acquire()
    _, rates = await d.record(permit, S)
    assert (rates.failure_rate, rates.calls) == (0.0, 2)


async def test_time_window_opens_on_rate(make: Any, mode: str) -> None:
    """The time window trips like the count window once minimum_calls is reached."""
    d = make(mode, window_type=WindowType.TIME, window_size=10, minimum_calls=3)
    assert await d.calls(F, S, F) == [None, None, OPENED]


async def test_open_rejects_until_wait_duration_passes(make: Any, mode: str) -> None:
    """While open, no permit; retry_after counts down; after the wait, half-open."""
    d = make(mode, minimum_calls=2, window_size=2, wait_duration_in_open=30)
    await d.calls(F, F)
    d.now += 10
    permit, moved, retry_after = await d.acquire()
    assert (permit, moved) == (None, None)
    assert retry_after == pytest.approx(20.0)
    d.now += 20
    permit, moved, _ = await d.acquire()
    assert permit is not None
    assert moved == HALF
    assert d.backend.state() is State.HALF_OPEN


async def trip_and_wait(d: Driver) -> None:
    await d.calls(F, F)
    d.now += 60


async def test_half_open_issues_exactly_the_permitted_trials(make: Any, mode: str) -> None:
    """Half-open hands out permitted_calls_in_half_open permits and refuses the rest."""
    d = make(mode, minimum_calls=2, window_size=2, permitted_calls_in_half_open=3)
    await trip_and_wait(d)
    permits = [(await d.acquire())[0] for _ in range(5)]
    assert [p is not None for p in permits] == [True, True, True, False, False]


async def test_successful_trials_close_the_breaker(make: Any, mode: str) -> None:
    """Trials under the threshold close it; the state is reported by the last trial."""
    d = make(mode, minimum_calls=2, window_size=2, permitted_calls_in_half_open=3)
    await trip_and_wait(d)
    permits = [(await d.acquire())[0] for _ in range(3)]
    results = [await d.record(p, o) for p, o in zip(permits, (S, F, S), strict=True)]
    assert [t for t, _ in results] == [None, None, CLOSED_AGAIN]
    assert d.backend.state() is State.CLOSED
    permit, _, _ = await d.acquire()
    assert permit is not None


async def test_failing_trials_reopen_the_breaker(make: Any, mode: str) -> None:
    """Trials at or over the threshold open it again for another wait."""
    d = make(mode, minimum_calls=2, window_size=2, permitted_calls_in_half_open=2)
    await trip_and_wait(d)
    permits = [(await d.acquire())[0] for _ in range(2)]
    await d.record(permits[0], S)
    transition, _ = await d.record(permits[1], F)
    assert transition == REOPENED
    assert (await d.acquire())[0] is None


async def test_ignored_trial_gives_its_slot_back(make: Any, mode: str) -> None:
    """An ignored outcome in half-open frees the permit for another trial."""
    d = make(mode, minimum_calls=2, window_size=2, permitted_calls_in_half_open=1)
    await trip_and_wait(d)
    permit, _, _ = await d.acquire()
    assert (await d.acquire())[0] is None
    await d.record(permit, IGN)
    assert (await d.acquire())[0] is not None


async def test_results_from_an_older_state_do_not_count(make: Any, mode: str) -> None:
    """A call permitted while closed that ends after the breaker opened changes nothing."""
    d = make(mode, minimum_calls=2, window_size=2, permitted_calls_in_half_open=1)
    late, _, _ = await d.acquire()
    await d.calls(F, F)
    d.now += 60
    trial, _, _ = await d.acquire()
    transition, _ = await d.record(late, F)
    assert transition is None
    assert d.backend.state() is State.HALF_OPEN
    transition, _ = await d.record(trial, S)
    assert transition == CLOSED_AGAIN


async def test_slow_calls_open_the_breaker(make: Any, mode: str) -> None:
    """With slow_call_duration set, a slow-call rate at its threshold opens the breaker."""
    d = make(
        mode, minimum_calls=2, window_size=2, slow_call_duration=1.0, slow_call_rate_threshold=50
    )
    assert await d.call(S, duration=0.1) is None
    assert await d.call(S, duration=1.5) == OPENED


def test_config_rejects_nonsense() -> None:
    """Every invalid setting is named in one ValueError."""
    with pytest.raises(ValueError) as info:
        BreakerConfig(failure_rate_threshold=0, permitted_calls_in_half_open=0, window_size=0)
    assert str(info.value) == (
        "failure_rate_threshold must be in (0, 100]; "
        "window_size and minimum_calls must be at least 1; "
        "permitted_calls_in_half_open must be at least 1"
    )
