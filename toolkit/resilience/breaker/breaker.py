"""The circuit breaker: decorator, context manager, sync and async calls, fallbacks.

Over 300 lines and kept whole: the sync, async, decorator and context-manager entry
points are thin faces of one state machine call sequence.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ParamSpec, TypeVar, cast

import structlog
from opentelemetry import trace
from prometheus_client import CollectorRegistry

from toolkit import semconv
from toolkit.context import get_correlation_id
from toolkit.resilience.breaker._backend import BreakerBackend, LocalBackend, SharedState
from toolkit.resilience.breaker._metrics import BreakerMetrics, breaker_metrics
from toolkit.resilience.breaker._state import (
    BreakerConfig,
    Outcome,
    Permit,
    Rates,
    State,
    Transition,
    WindowType,
)

P = ParamSpec("P")
R = TypeVar("R")

logger = structlog.stdlib.get_logger("toolkit.breaker")

# A permit handed out when the shared state store is unreachable: the call goes ahead
# (the breaker protects from the dependency, not from its own store) and is not recorded.
_UNTRACKED = Permit(-1, State.CLOSED)


class CallNotPermitted(Exception):
    """The breaker is open (or half-open with every trial slot taken): the call did not run."""

    def __init__(self, name: str, state: State, retry_after: float) -> None:
        self.name = name
        self.state = state
        self.retry_after = retry_after
        super().__init__(
            f"circuit breaker {name!r} is {state.value}; calls not permitted"
            + (f" for another {retry_after:.1f}s" if retry_after > 0 else "")
        )


@dataclass(frozen=True)
class _Ticket:
    permit: Permit
    started: float


class CircuitBreaker:
    """A breaker for one dependency (``name`` is the ``name`` label of its metrics).

    Thresholds and windows follow resilience4j (see :class:`BreakerConfig`). What counts
    as a failure: any ``Exception`` except ``ignore_exceptions`` (those count as neither)
    for which ``record_failure(exc)`` is true (default: all), and any result for which
    ``failure_result(result)`` is true (default: none). Cancellation and
    ``BaseException`` (KeyboardInterrupt, GeneratorExit) are ignored.

    State is local to the process unless ``shared_state`` (e.g. ``RedisSharedState``) is
    given. ``clock`` defaults to ``time.monotonic`` locally and ``time.time`` when shared.
    """

    def __init__(
        self,
        name: str,
        *,
        failure_rate_threshold: float = 50.0,
        slow_call_rate_threshold: float = 100.0,
        slow_call_duration: float | None = None,
        window_type: WindowType | str = WindowType.COUNT,
        window_size: int = 100,
        minimum_calls: int = 20,
        wait_duration_in_open: float = 60.0,
        permitted_calls_in_half_open: int = 10,
        ignore_exceptions: tuple[type[BaseException], ...] = (),
        record_failure: Callable[[BaseException], bool] | None = None,
        failure_result: Callable[[Any], bool] | None = None,
        shared_state: SharedState | None = None,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.name = name
        self.config = BreakerConfig(
            failure_rate_threshold=failure_rate_threshold,
            slow_call_rate_threshold=slow_call_rate_threshold,
            slow_call_duration=slow_call_duration,
            window_type=WindowType(window_type),
            window_size=window_size,
            minimum_calls=minimum_calls,
            wait_duration_in_open=wait_duration_in_open,
            permitted_calls_in_half_open=permitted_calls_in_half_open,
        )
        self._ignore = ignore_exceptions
        self._record_failure = record_failure
        self._failure_result = failure_result
        self._backend: BreakerBackend = (
            LocalBackend(self.config)
            if shared_state is None
            else shared_state.backend(name, self.config)
        )
        self._clock = clock or (time.monotonic if shared_state is None else time.time)
        self._metrics: BreakerMetrics = breaker_metrics(registry)
        self._shown_state: State | None = None
        self._show_state(State.CLOSED)
        self._metrics.failure_rate.labels(name).set(-1)
        self._metrics.slow_call_rate.labels(name).set(-1)
        for kind in semconv.CIRCUITBREAKER_KINDS:
            self._metrics.calls.labels(name, kind)  # export zeros from the start

    @property
    def state(self) -> State:
        """The state as this process knows it."""
        return self._backend.state()

    # --- public call styles -------------------------------------------------------------
    def call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``fn(*args, **kwargs)`` through the breaker."""
        if inspect.iscoroutinefunction(fn):
            # It would "succeed" at once by returning an un-awaited coroutine.
            raise TypeError(f"{fn.__qualname__} is async: use `await breaker.acall(...)`")
        ticket = self._acquire()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._finish(ticket, self.classify(exc))
            raise
        self._finish(ticket, self.classify_result(result))
        return result

    async def acall(self, fn: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        """Await ``fn(*args, **kwargs)`` through the breaker."""
        ticket = await self._aacquire()
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            await self._afinish(ticket, self.classify(exc))
            raise
        await self._afinish(ticket, self.classify_result(result))
        return result

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Use the breaker as a decorator, on plain and ``async def`` functions alike."""
        return self.decorate()(fn)

    def decorate(
        self, *, fallback: Callable[..., Any] | None = None
    ) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """A decorator; ``fallback(exc, *args, **kwargs)`` answers instead of raising when
        the call is not permitted or fails (ignored exceptions are always re-raised)."""

        def decorator(fn: Callable[P, R]) -> Callable[P, R]:
            if inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                    try:
                        return await self.acall(fn, *args, **kwargs)
                    except Exception as exc:
                        if fallback is None or not self._falls_back(exc):
                            raise
                        answer = fallback(exc, *args, **kwargs)
                        return await answer if inspect.isawaitable(answer) else answer

                return cast(Callable[P, R], async_wrapper)

            @functools.wraps(fn)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                try:
                    return self.call(fn, *args, **kwargs)
                except Exception as exc:
                    if fallback is None or not self._falls_back(exc):
                        raise
                    return cast(R, fallback(exc, *args, **kwargs))

            return wrapper

        return decorator

    def guard(self) -> Guard:
        """A fresh context manager for one call: ``with breaker.guard():`` or
        ``async with breaker.guard():``; ``mark_failure()`` flags a failure without raising."""
        return Guard(self)

    # --- classification -----------------------------------------------------------------
    def classify(self, exc: BaseException) -> Outcome:
        """How a call that raised ``exc`` counts."""
        if isinstance(exc, self._ignore) or not isinstance(exc, Exception):
            return Outcome.IGNORED
        if self._record_failure is None or self._record_failure(exc):
            return Outcome.FAILURE
        return Outcome.SUCCESS

    def classify_result(self, result: object) -> Outcome:
        """How a call that returned ``result`` counts."""
        if self._failure_result is not None and self._failure_result(result):
            return Outcome.FAILURE
        return Outcome.SUCCESS

    def _falls_back(self, exc: Exception) -> bool:
        return isinstance(exc, CallNotPermitted) or self.classify(exc) is Outcome.FAILURE

    # --- permits and results ------------------------------------------------------------
    def _acquire(self) -> _Ticket:
        now = self._clock()
        try:
            permit, transition, retry_after = self._backend.acquire(now)
        except Exception as exc:
            self._state_store_failed("acquire", exc)
            return _Ticket(_UNTRACKED, now)
        return self._admit(permit, transition, retry_after, now)

    async def _aacquire(self) -> _Ticket:
        now = self._clock()
        try:
            permit, transition, retry_after = await self._backend.aacquire(now)
        except Exception as exc:
            self._state_store_failed("acquire", exc)
            return _Ticket(_UNTRACKED, now)
        return self._admit(permit, transition, retry_after, now)

    def _admit(
        self, permit: Permit | None, transition: Transition | None, retry_after: float, now: float
    ) -> _Ticket:
        if transition is not None:
            self._announce(transition, None)
        self._show_state(self._backend.state())
        if permit is None:
            self._metrics.calls.labels(self.name, "not_permitted").inc()
            raise CallNotPermitted(self.name, self._backend.state(), retry_after)
        return _Ticket(permit, now)

    def _finish(self, ticket: _Ticket, outcome: Outcome) -> None:
        now = self._clock()
        self._metrics.calls.labels(self.name, outcome.value).inc()
        if ticket.permit is _UNTRACKED:
            return
        try:
            transition, rates = self._backend.record(
                ticket.permit, outcome, now - ticket.started, now
            )
        except Exception as exc:
            self._state_store_failed("record", exc)
            return
        self._after_record(transition, rates)

    async def _afinish(self, ticket: _Ticket, outcome: Outcome) -> None:
        now = self._clock()
        self._metrics.calls.labels(self.name, outcome.value).inc()
        if ticket.permit is _UNTRACKED:
            return
        try:
            transition, rates = await self._backend.arecord(
                ticket.permit, outcome, now - ticket.started, now
            )
        except Exception as exc:
            self._state_store_failed("record", exc)
            return
        self._after_record(transition, rates)

    def _after_record(self, transition: Transition | None, rates: Rates) -> None:
        if transition is not None:
            self._announce(transition, rates)
        elif rates.calls:
            self._metrics.failure_rate.labels(self.name).set(rates.failure_rate)
            self._metrics.slow_call_rate.labels(self.name).set(rates.slow_call_rate)
        self._show_state(self._backend.state())

    # --- telemetry ----------------------------------------------------------------------
    def _show_state(self, state: State) -> None:
        if state is self._shown_state:
            return
        self._shown_state = state
        for candidate in State:
            self._metrics.state.labels(self.name, candidate.value).set(
                1 if candidate is state else 0
            )

    def _announce(self, transition: Transition, rates: Rates | None) -> None:
        """Metrics, one log line with the correlation ID, and a span event."""
        self._show_state(transition.to_state)
        # As resilience4j: an open breaker keeps showing the rates that opened it; a
        # half-open one starts a new window whose rates are unknown (-1).
        known = rates is not None and transition.to_state is State.OPEN
        failure_rate = rates.failure_rate if rates is not None and known else -1.0
        slow_call_rate = rates.slow_call_rate if rates is not None and known else -1.0
        self._metrics.failure_rate.labels(self.name).set(failure_rate)
        self._metrics.slow_call_rate.labels(self.name).set(slow_call_rate)
        fields: dict[str, Any] = {
            semconv.LOG_BREAKER_NAME: self.name,
            semconv.LOG_BREAKER_FROM_STATE: transition.from_state.value,
            semconv.LOG_BREAKER_TO_STATE: transition.to_state.value,
            semconv.LOG_CORRELATION_ID: get_correlation_id(),
        }
        if rates is not None and rates.failure_rate >= 0:
            fields["failure_rate"] = round(rates.failure_rate, 2)
            fields["slow_call_rate"] = round(rates.slow_call_rate, 2)
        try:
            level = "warning" if transition.to_state is State.OPEN else "info"
            getattr(logger, level)(semconv.CIRCUITBREAKER_STATE_CHANGE_EVENT, **fields)
            trace.get_current_span().add_event(
                semconv.CIRCUITBREAKER_STATE_CHANGE_EVENT,
                {
                    semconv.SPAN_ATTR_BREAKER_NAME: self.name,
                    semconv.SPAN_ATTR_BREAKER_FROM_STATE: transition.from_state.value,
                    semconv.SPAN_ATTR_BREAKER_TO_STATE: transition.to_state.value,
                },
            )
        except Exception:  # telemetry must never break the call
            pass

    def _state_store_failed(self, operation: str, exc: Exception) -> None:
        with contextlib.suppress(Exception):
            logger.error(
                "circuit breaker state store failed; call not tracked",
                **{semconv.LOG_BREAKER_NAME: self.name},
                operation=operation,
                error=repr(exc),
            )


class Guard:
    """One call through a breaker as a (sync or async) context manager."""

    def __init__(self, breaker: CircuitBreaker) -> None:
        self._breaker = breaker
        self._ticket: _Ticket | None = None
        self._failed = False

    def mark_failure(self) -> None:
        """Count this call as failed even if the block does not raise."""
        self._failed = True

    def _outcome(self, exc: BaseException | None) -> Outcome:
        if exc is not None:
            return self._breaker.classify(exc)
        return Outcome.FAILURE if self._failed else Outcome.SUCCESS

    def __enter__(self) -> Guard:
        self._ticket = self._breaker._acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ticket is not None:
            self._breaker._finish(self._ticket, self._outcome(exc))

    async def __aenter__(self) -> Guard:
        self._ticket = await self._breaker._aacquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ticket is not None:
            await self._breaker._afinish(self._ticket, self._outcome(exc))
