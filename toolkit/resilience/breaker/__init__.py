"""An instrumented circuit breaker (resilience4j's model), local or shared through Redis.

``RedisSharedState`` is imported on first access so ``redis`` stays optional; the httpx
and requests integrations live in ``httpx_transport`` and ``requests_adapter``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.resilience.breaker._backend import BreakerBackend, LocalBackend, SharedState
from toolkit.resilience.breaker._state import BreakerConfig, Outcome, State, WindowType
from toolkit.resilience.breaker.breaker import CallNotPermitted, CircuitBreaker, Guard

if TYPE_CHECKING:
    from toolkit.resilience.breaker.redis_state import RedisSharedState

__all__ = [
    "BreakerBackend",
    "BreakerConfig",
    "CallNotPermitted",
    "CircuitBreaker",
    "Guard",
    "LocalBackend",
    "Outcome",
    "RedisSharedState",
    "SharedState",
    "State",
    "WindowType",
]


def __getattr__(name: str) -> Any:
    if name == "RedisSharedState":
        from toolkit.resilience.breaker.redis_state import RedisSharedState

        return RedisSharedState
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
