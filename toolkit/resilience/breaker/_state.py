"""The circuit breaker's state machine: pure, clock-driven, no locks and no I/O.

The local backend wraps it in a lock; the Redis backend runs the same rules in Lua.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum


class State(str, Enum):
    """Where a breaker is; the values are the ``state`` label of ``circuitbreaker_state``."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class WindowType(str, Enum):
    """Count-based: the last ``window_size`` calls. Time-based: the last ``window_size`` s."""

    COUNT = "count"
    TIME = "time"


class Outcome(str, Enum):
    """How one call counts."""

    SUCCESS = "successful"
    FAILURE = "failed"
    IGNORED = "ignored"


@dataclass(frozen=True)
class BreakerConfig:
    """Thresholds in percent, durations in seconds (resilience4j's model and names)."""

    failure_rate_threshold: float = 50.0
    slow_call_rate_threshold: float = 100.0
    slow_call_duration: float | None = None  # None: slow calls are not tracked
    window_type: WindowType = WindowType.COUNT
    window_size: int = 100
    minimum_calls: int = 20
    wait_duration_in_open: float = 60.0
    permitted_calls_in_half_open: int = 10

    def __post_init__(self) -> None:
        problems = []
        if not 0 < self.failure_rate_threshold <= 100:
            problems.append("failure_rate_threshold must be in (0, 100]")
        if not 0 < self.slow_call_rate_threshold <= 100:
            problems.append("slow_call_rate_threshold must be in (0, 100]")
        if self.slow_call_duration is not None and self.slow_call_duration <= 0:
            problems.append("slow_call_duration must be positive")
        if self.window_size < 1 or self.minimum_calls < 1:
            problems.append("window_size and minimum_calls must be at least 1")
        if self.wait_duration_in_open < 0:
            problems.append("wait_duration_in_open must not be negative")
        if self.permitted_calls_in_half_open < 1:
            problems.append("permitted_calls_in_half_open must be at least 1")
        if problems:
            raise ValueError("; ".join(problems))

    def is_slow(self, duration: float) -> bool:
        """Whether a call that took ``duration`` seconds counts as slow."""
        return self.slow_call_duration is not None and duration >= self.slow_call_duration


@dataclass(frozen=True)
class Permit:
    """Leave to make one call, issued in state generation ``generation``."""

    generation: int
    state: State


@dataclass(frozen=True)
class Transition:
    """A state change, reported once by whoever caused it."""

    from_state: State
    to_state: State


@dataclass(frozen=True)
class Rates:
    """Failure and slow-call rate in percent; -1 while fewer than ``minimum_calls`` ran."""

    failure_rate: float
    slow_call_rate: float
    calls: int


NO_RATES = Rates(-1.0, -1.0, 0)


def rates(calls: int, failures: int, slow: int, minimum_calls: int) -> Rates:
    """The rates of a window, or -1 until it holds ``minimum_calls`` calls."""
    if calls < minimum_calls or calls == 0:
        return Rates(-1.0, -1.0, calls)
    return Rates(100.0 * failures / calls, 100.0 * slow / calls, calls)


class _CountWindow:
    def __init__(self, size: int) -> None:
        self._calls: deque[tuple[bool, bool]] = deque(maxlen=size)
        self.failures = 0
        self.slow = 0

    def add(self, failed: bool, slow: bool, now: float) -> None:
        maxlen = self._calls.maxlen
        if maxlen is not None and len(self._calls) == maxlen:
            old_failed, old_slow = self._calls[0]
            self.failures -= old_failed
            self.slow -= old_slow
        self._calls.append((failed, slow))
        self.failures += failed
        self.slow += slow

    def totals(self, now: float) -> tuple[int, int, int]:
        return len(self._calls), self.failures, self.slow


class _TimeWindow:
    """One bucket per whole second; buckets older than ``size`` seconds drop out."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._buckets: deque[list[int]] = deque()  # [second, calls, failures, slow]

    def _evict(self, now: float) -> None:
        oldest = int(now) - self._size + 1
        while self._buckets and self._buckets[0][0] < oldest:
            self._buckets.popleft()

    def add(self, failed: bool, slow: bool, now: float) -> None:
        second = int(now)
        self._evict(now)
        if not self._buckets or self._buckets[-1][0] != second:
            self._buckets.append([second, 0, 0, 0])
        bucket = self._buckets[-1]
        bucket[1] += 1
        bucket[2] += failed
        bucket[3] += slow

    def totals(self, now: float) -> tuple[int, int, int]:
        self._evict(now)
        return (
            sum(b[1] for b in self._buckets),
            sum(b[2] for b in self._buckets),
            sum(b[3] for b in self._buckets),
        )


class BreakerCore:
    """CLOSED → OPEN on a failure (or slow-call) rate over the window once ``minimum_calls``
    ran; OPEN → HALF_OPEN after ``wait_duration_in_open``; HALF_OPEN issues exactly
    ``permitted_calls_in_half_open`` permits and closes or re-opens on their results.

    Every state change starts a new generation: results of calls permitted in an older
    generation are counted in metrics by the caller but no longer move the state.
    """

    def __init__(self, config: BreakerConfig) -> None:
        self.config = config
        self.state = State.CLOSED
        self.generation = 0
        self._opened_at = 0.0
        self._window = self._new_window()
        self._trials_issued = 0
        self._trials = _CountWindow(config.permitted_calls_in_half_open)

    def _new_window(self) -> _CountWindow | _TimeWindow:
        if self.config.window_type is WindowType.TIME:
            return _TimeWindow(self.config.window_size)
        return _CountWindow(self.config.window_size)

    def _move(self, to_state: State, now: float) -> Transition:
        transition = Transition(self.state, to_state)
        self.state = to_state
        self.generation += 1
        self._window = self._new_window()
        self._trials_issued = 0
        self._trials = _CountWindow(self.config.permitted_calls_in_half_open)
        if to_state is State.OPEN:
            self._opened_at = now
        return transition

    def acquire(self, now: float) -> tuple[Permit | None, Transition | None]:
        """A permit for one call, or ``None`` when the breaker does not allow it."""
        transition = None
        if self.state is State.OPEN:
            if now < self._opened_at + self.config.wait_duration_in_open:
                return None, None
            transition = self._move(State.HALF_OPEN, now)
        if self.state is State.HALF_OPEN:
            if self._trials_issued >= self.config.permitted_calls_in_half_open:
                return None, transition
            self._trials_issued += 1
        return Permit(self.generation, self.state), transition

    def retry_after(self, now: float) -> float:
        """Seconds until an open breaker lets trial calls through (0 otherwise)."""
        if self.state is not State.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.config.wait_duration_in_open - now)

    def record(
        self, permit: Permit, outcome: Outcome, duration: float, now: float
    ) -> tuple[Transition | None, Rates]:
        """Count a finished call: the state change it caused and the rates it was decided on
        (``calls == 0`` when the call did not count: stale permit or ignored outcome)."""
        if permit.generation != self.generation:
            return None, NO_RATES
        if outcome is Outcome.IGNORED:
            if self.state is State.HALF_OPEN:
                self._trials_issued -= 1  # the trial slot goes back to the next caller
            return None, NO_RATES
        failed = outcome is Outcome.FAILURE
        slow = self.config.is_slow(duration)
        if self.state is State.CLOSED:
            self._window.add(failed, slow, now)
            current = self.rates(now)
            return (self._move(State.OPEN, now) if self._tripped(current) else None), current
        # HALF_OPEN: decide once every trial has reported.
        self._trials.add(failed, slow, now)
        current = rates(*self._trials.totals(now), 1)
        if current.calls < self.config.permitted_calls_in_half_open:
            return None, current
        return self._move(State.OPEN if self._tripped(current) else State.CLOSED, now), current

    def _tripped(self, current: Rates) -> bool:
        if current.failure_rate < 0:
            return False
        return (
            current.failure_rate >= self.config.failure_rate_threshold
            or current.slow_call_rate >= self.config.slow_call_rate_threshold
        )

    def rates(self, now: float) -> Rates:
        """The rates of the current window (the trial calls while half-open)."""
        if self.state is State.HALF_OPEN:
            return rates(*self._trials.totals(now), 1)
        return rates(*self._window.totals(now), self.config.minimum_calls)
