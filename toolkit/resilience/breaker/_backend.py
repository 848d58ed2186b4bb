"""Where a breaker keeps its state: in this process (default) or shared (Redis)."""

from __future__ import annotations

import threading
from typing import Protocol

from toolkit.resilience.breaker._state import (
    BreakerConfig,
    BreakerCore,
    Outcome,
    Permit,
    Rates,
    State,
    Transition,
)


class BreakerBackend(Protocol):
    """The state of one breaker; every method is atomic with respect to every caller."""

    def acquire(self, now: float) -> tuple[Permit | None, Transition | None, float]:
        """A permit or ``None``, the transition this caused, seconds until retry makes sense."""
        ...

    def record(
        self, permit: Permit, outcome: Outcome, duration: float, now: float
    ) -> tuple[Transition | None, Rates]:
        """Count a finished call; the transition it caused and the window's rates."""
        ...

    async def aacquire(self, now: float) -> tuple[Permit | None, Transition | None, float]:
        """:meth:`acquire` for async callers."""
        ...

    async def arecord(
        self, permit: Permit, outcome: Outcome, duration: float, now: float
    ) -> tuple[Transition | None, Rates]:
        """:meth:`record` for async callers."""
        ...

    def state(self) -> State:
        """The state as last known to this process."""
        ...


class SharedState(Protocol):
    """Makes the backend of each named breaker (e.g. ``RedisSharedState``)."""

    def backend(self, name: str, config: BreakerConfig) -> BreakerBackend:
        """The backend of breaker ``name``."""
        ...


class LocalBackend:
    """A :class:`BreakerCore` behind a ``threading.Lock``.

    The lock guards a few arithmetic operations and is never held across an ``await`` or
    any I/O, so async callers take it directly: it cannot stall the event loop for longer
    than those operations, and it is the one lock that also orders threads against tasks
    when a breaker is shared by both (an ``asyncio.Lock`` would not).
    """

    def __init__(self, config: BreakerConfig) -> None:
        self._core = BreakerCore(config)
        self._lock = threading.Lock()

    def acquire(self, now: float) -> tuple[Permit | None, Transition | None, float]:
        """A permit or ``None``, the transition this caused, seconds until retry."""
        with self._lock:
            permit, transition = self._core.acquire(now)
            return permit, transition, self._core.retry_after(now)

    def record(
        self, permit: Permit, outcome: Outcome, duration: float, now: float
    ) -> tuple[Transition | None, Rates]:
        """Count a finished call."""
        with self._lock:
            return self._core.record(permit, outcome, duration, now)

    async def aacquire(self, now: float) -> tuple[Permit | None, Transition | None, float]:
        """:meth:`acquire`; no I/O, so no thread hop."""
        return self.acquire(now)

    async def arecord(
        self, permit: Permit, outcome: Outcome, duration: float, now: float
    ) -> tuple[Transition | None, Rates]:
        """:meth:`record`; no I/O, so no thread hop."""
        return self.record(permit, outcome, duration, now)

    def state(self) -> State:
        """The current state."""
        return self._core.state
