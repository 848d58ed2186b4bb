"""One worker process of the cross-process half-open test (run as a script).

Arguments: redis URL, breaker name, number of threads, total callers, trial count.
Every thread calls the Redis-shared breaker once. A permitted trial holds until every
refusal in every process has been counted in Redis, so all trials overlap all refusals.
Prints ``{"ran": n, "refused": m}``.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import redis
from prometheus_client import CollectorRegistry

from toolkit.resilience.breaker import CallNotPermitted, CircuitBreaker
from toolkit.resilience.breaker.redis_state import RedisSharedState


def main() -> None:
    url, name, threads, callers, trials = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
    client = redis.Redis.from_url(url)
    breaker = CircuitBreaker(
        name,
        shared_state=RedisSharedState(url),
        minimum_calls=2,
        window_size=2,
        wait_duration_in_open=0.05,
        permitted_calls_in_half_open=trials,
        registry=CollectorRegistry(),
    )
    refused_key = f"{name}:refused"
    outcomes: list[str] = []
    lock = threading.Lock()

    def trial() -> str:
        deadline = time.monotonic() + 20
        while int(client.get(refused_key) or 0) < callers - trials:
            if time.monotonic() > deadline:
                return "timeout"
            time.sleep(0.005)
        return "ran"

    def caller() -> None:
        client.incr(f"{name}:ready")
        while int(client.get(f"{name}:ready") or 0) < callers:  # start together
            time.sleep(0.001)
        try:
            result = breaker.call(trial)
        except CallNotPermitted:
            client.incr(refused_key)
            result = "refused"
        with lock:
            outcomes.append(result)

    workers = [threading.Thread(target=caller) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(json.dumps({kind: outcomes.count(kind) for kind in ("ran", "refused", "timeout")}))


if __name__ == "__main__":
    main()
