"""Breaker state shared by every process through Redis: one hash and one window per breaker.

Each decision is one Lua script, so the rules of :class:`BreakerCore` hold across
processes: in particular, exactly ``permitted_calls_in_half_open`` trial calls are let
through cluster-wide. Times are the callers' wall clocks in milliseconds (keep them in
sync with NTP).
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio

from toolkit.resilience._redis import RedisScripts, text
from toolkit.resilience.breaker._state import (
    BreakerConfig,
    Outcome,
    Permit,
    Rates,
    State,
    Transition,
    WindowType,
)

_MOVE = """
local function move(to, now)
  local gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)
  redis.call('HSET', KEYS[1], 'st', to, 'issued', 0, 'tc', 0, 'tf', 0, 'ts', 0)
  if to == 'open' then redis.call('HSET', KEYS[1], 'opened', tostring(now)) end
  redis.call('DEL', KEYS[2])
  return gen
end
"""

# ARGV: now_ms, wait_ms, permitted_in_half_open
# -> {permitted 0/1, generation, state, moved_from ('' if none), retry_after_ms}
_ACQUIRE = (
    _MOVE
    + """
local now = tonumber(ARGV[1])
local st = redis.call('HGET', KEYS[1], 'st') or 'closed'
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
local moved = ''
if st == 'open' then
  local reopen = tonumber(redis.call('HGET', KEYS[1], 'opened') or '0') + tonumber(ARGV[2])
  if now < reopen then return {0, gen, st, '', tostring(reopen - now)} end
  gen = move('half_open', now)
  moved = 'open'
  st = 'half_open'
end
if st == 'half_open' then
  local issued = tonumber(redis.call('HGET', KEYS[1], 'issued') or '0')
  if issued >= tonumber(ARGV[3]) then return {0, gen, st, moved, '0'} end
  redis.call('HINCRBY', KEYS[1], 'issued', 1)
end
return {1, gen, st, moved, '0'}
"""
)

# ARGV: now_ms, generation, outcome (s/f/i), slow (0/1), window type, window size,
#       minimum calls, failure threshold, slow threshold, permitted_in_half_open
# -> {moved_from ('' if none), state now, failure rate, slow rate, calls}
_RECORD = (
    _MOVE
    + """
local now = tonumber(ARGV[1])
local st = redis.call('HGET', KEYS[1], 'st') or 'closed'
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
if tonumber(ARGV[2]) ~= gen then return {'', st, '-1', '-1', 0} end
if ARGV[3] == 'i' then
  if st == 'half_open' then redis.call('HINCRBY', KEYS[1], 'issued', -1) end
  return {'', st, '-1', '-1', 0}
end
local failed = (ARGV[3] == 'f') and 1 or 0
local slow = tonumber(ARGV[4])
local fail_thr, slow_thr = tonumber(ARGV[8]), tonumber(ARGV[9])
if st == 'closed' then
  local size = tonumber(ARGV[6])
  local calls, fails, slows = 0, 0, 0
  if ARGV[5] == 'count' then
    redis.call('LPUSH', KEYS[2], failed + 2 * slow)
    redis.call('LTRIM', KEYS[2], 0, size - 1)
    for _, code in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
      local c = tonumber(code)
      calls = calls + 1
      fails = fails + (c % 2)
      slows = slows + math.floor(c / 2)
    end
  else
    local second = math.floor(now / 1000)
    redis.call('HINCRBY', KEYS[2], second .. ':c', 1)
    redis.call('HINCRBY', KEYS[2], second .. ':f', failed)
    redis.call('HINCRBY', KEYS[2], second .. ':s', slow)
    local oldest = second - size + 1
    local flat = redis.call('HGETALL', KEYS[2])
    for i = 1, #flat, 2 do
      local sec, kind = string.match(flat[i], '^(%d+):(%a)$')
      if tonumber(sec) < oldest then
        redis.call('HDEL', KEYS[2], flat[i])
      elseif kind == 'c' then calls = calls + tonumber(flat[i + 1])
      elseif kind == 'f' then fails = fails + tonumber(flat[i + 1])
      else slows = slows + tonumber(flat[i + 1]) end
    end
  end
  if calls < tonumber(ARGV[7]) then return {'', st, '-1', '-1', calls} end
  local fr, sr = 100 * fails / calls, 100 * slows / calls
  if fr >= fail_thr or sr >= slow_thr then
    move('open', now)
    return {'closed', 'open', tostring(fr), tostring(sr), calls}
  end
  return {'', st, tostring(fr), tostring(sr), calls}
end
if st == 'half_open' then
  local tc = redis.call('HINCRBY', KEYS[1], 'tc', 1)
  local tf = redis.call('HINCRBY', KEYS[1], 'tf', failed)
  local ts = redis.call('HINCRBY', KEYS[1], 'ts', slow)
  local fr, sr = 100 * tf / tc, 100 * ts / tc
  if tc >= tonumber(ARGV[10]) then
    local to = 'closed'
    if fr >= fail_thr or sr >= slow_thr then to = 'open' end
    move(to, now)
    return {'half_open', to, tostring(fr), tostring(sr), tc}
  end
  return {'', st, tostring(fr), tostring(sr), tc}
end
return {'', st, '-1', '-1', 0}
"""
)


class RedisSharedState:
    """Shares breakers through one Redis; pass it as ``CircuitBreaker(shared_state=...)``.

    Keys: ``<prefix>{<name>}`` (a hash: state, generation, open time, half-open trial
    counters) and ``<prefix>{<name>}:window``; the braces keep both in one cluster slot.
    The sync client serves sync calls and the asyncio client async ones; both are built
    from ``url`` on first use unless given (an asyncio client belongs to one event loop),
    each with a blocking pool of ``max_connections`` (a burst waits, up to 20 s).
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        client: redis.Redis | None = None,
        async_client: redis.asyncio.Redis | None = None,
        max_connections: int = 50,
        prefix: str = "toolkit:breaker:",
    ) -> None:
        self._redis = RedisScripts(
            url, client=client, async_client=async_client, max_connections=max_connections
        )
        self.prefix = prefix

    def backend(self, name: str, config: BreakerConfig) -> RedisBackend:
        """The backend of breaker ``name``."""
        return RedisBackend(self, name, config)

    def script(self, source: str) -> Any:
        """The sync script object for ``source`` (registered once)."""
        return self._redis.script(source)

    def async_script(self, source: str) -> Any:
        """The asyncio script object for ``source`` (registered once)."""
        return self._redis.async_script(source)

    async def aclose(self) -> None:
        """Close the asyncio client and its pool if this object built them."""
        await self._redis.aclose()


class RedisBackend:
    """One breaker's state in Redis. Errors (``redis.RedisError``) propagate to the caller:
    the breaker treats an unreachable state store as "permit" (see ``CircuitBreaker``)."""

    def __init__(self, shared: RedisSharedState, name: str, config: BreakerConfig) -> None:
        self._shared = shared
        self._config = config
        state_key = f"{shared.prefix}{{{name}}}"
        self._keys = [state_key, state_key + ":window"]
        self._last_state = State.CLOSED

    def _acquire_args(self, now: float) -> list[Any]:
        return [
            _ms(now),
            _ms(self._config.wait_duration_in_open),
            self._config.permitted_calls_in_half_open,
        ]

    def _record_args(
        self, permit: Permit, outcome: Outcome, duration: float, now: float
    ) -> list[Any]:
        config = self._config
        code = {Outcome.SUCCESS: "s", Outcome.FAILURE: "f", Outcome.IGNORED: "i"}[outcome]
        return [
            _ms(now),
            permit.generation,
            code,
            int(config.is_slow(duration)),
            "time" if config.window_type is WindowType.TIME else "count",
            config.window_size,
            config.minimum_calls,
            config.failure_rate_threshold,
            config.slow_call_rate_threshold,
            config.permitted_calls_in_half_open,
        ]

    def _acquired(self, reply: list[Any]) -> tuple[Permit | None, Transition | None, float]:
        allowed, generation, state, moved, retry_ms = reply
        current = State(text(state))
        self._last_state = current
        transition = Transition(State(text(moved)), current) if text(moved) else None
        permit = Permit(int(generation), current) if int(allowed) else None
        return permit, transition, float(text(retry_ms)) / 1000

    def _recorded(self, reply: list[Any]) -> tuple[Transition | None, Rates]:
        moved, state, failure_rate, slow_rate, calls = reply
        current = State(text(state))
        self._last_state = current
        transition = Transition(State(text(moved)), current) if text(moved) else None
        return transition, Rates(float(text(failure_rate)), float(text(slow_rate)), int(calls))

    def acquire(self, now: float) -> tuple[Permit | None, Transition | None, float]:
        """A permit or ``None``, decided by Redis."""
        reply = self._shared.script(_ACQUIRE)(keys=self._keys, args=self._acquire_args(now))
        return self._acquired(reply)

    def record(
        self, permit: Permit, outcome: Outcome, duration: float, now: float
    ) -> tuple[Transition | None, Rates]:
        """Count a finished call in Redis."""
        args = self._record_args(permit, outcome, duration, now)
        return self._recorded(self._shared.script(_RECORD)(keys=self._keys, args=args))

    async def aacquire(self, now: float) -> tuple[Permit | None, Transition | None, float]:
        """:meth:`acquire` on the asyncio client."""
        script = self._shared.async_script(_ACQUIRE)
        return self._acquired(await script(keys=self._keys, args=self._acquire_args(now)))

    async def arecord(
        self, permit: Permit, outcome: Outcome, duration: float, now: float
    ) -> tuple[Transition | None, Rates]:
        """:meth:`record` on the asyncio client."""
        args = self._record_args(permit, outcome, duration, now)
        script = self._shared.async_script(_RECORD)
        return self._recorded(await script(keys=self._keys, args=args))

    def state(self) -> State:
        """The state this process saw last."""
        return self._last_state


def _ms(seconds: float) -> int:
    return int(seconds * 1000)
