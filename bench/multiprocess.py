"""Scrape time and file count after recycling 500 workers: prometheus-client vs toolkit.

Each "worker" is a real forked process: it switches prometheus-client to multi-process
values, records 40 requests over 5 routes x 3 status codes into toolkit's server
collectors (duration and response-size histograms, the active-requests gauge), and
exits. After each exit the parent does what the server's ``child_exit`` hook does:

- **prometheus-client**: ``mark_process_dead(pid)`` (its documented gunicorn hook),
  which drops the dead worker's live gauges and keeps every other file forever;
- **toolkit**: ``toolkit.metrics.multiprocess.mark_worker_dead(pid)``, which folds the
  worker's counters and histograms into the archive and deletes its files.

At 100, 250 and 500 recycled workers both directories are scraped (text exposition of
the whole directory; median of 5) and the files counted. Both must report the same
request count, or the run fails: a fast wrong scrape would be worthless.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from toolkit import semconv
from toolkit.metrics.multiprocess import mark_worker_dead, scrape_registry

WORKERS = 500
CHECKPOINTS = (100, 250, 500)
REQUESTS_PER_WORKER = 40
ROUTES = tuple(f"/route{i}/{{id}}" for i in range(5))
STATUSES = ("200", "404", "500")
SCRAPES = 5
PARALLEL = 8  # workers alive at once while recycling
COUNT = semconv.HTTP_SERVER_REQUEST_DURATION + "_count"


def _work(directory: Path, toolkit_mode: bool) -> None:
    from prometheus_client import values

    from toolkit.metrics._server import ServerMetrics

    if toolkit_mode:
        from toolkit.metrics.multiprocess import enable_multiprocess

        enable_multiprocess(directory)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        values.ValueClass = values.MultiProcessValue()
    metrics = ServerMetrics(CollectorRegistry())
    active = metrics.active.labels("GET", "http")
    for i in range(REQUESTS_PER_WORKER):
        active.inc()
        labels = ("GET", ROUTES[i % len(ROUTES)], STATUSES[i % len(STATUSES)], "")
        duration, size = metrics.observers(labels)
        duration.observe(0.001 * (i % 50))
        size.observe(100.0 * i)
        active.dec()


def _fork_worker(directory: Path, toolkit_mode: bool) -> int:
    pid = os.fork()
    if pid == 0:  # the worker
        code = 0
        try:
            _work(directory, toolkit_mode)
        except BaseException:
            code = 1
        os._exit(code)
    return pid


def _recycle(
    directory: Path, toolkit_mode: bool, count: int, on_exit: Callable[[int], object]
) -> float:
    """Start ``count`` workers, PARALLEL at a time; return the seconds spent in the hook."""
    hook_seconds = 0.0
    running: list[int] = []
    started = 0
    while started < count or running:
        while started < count and len(running) < PARALLEL:
            running.append(_fork_worker(directory, toolkit_mode))
            started += 1
        pid, status = os.wait()
        running.remove(pid)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"worker {pid} failed")
        begin = time.perf_counter()
        on_exit(pid)
        hook_seconds += time.perf_counter() - begin
    return hook_seconds


def _scrape(registry_for: Callable[[], CollectorRegistry]) -> tuple[float, float]:
    """Median scrape seconds over SCRAPES, and the total request count seen."""
    times = []
    total = 0.0
    for _ in range(SCRAPES):
        begin = time.perf_counter()
        registry = registry_for()
        generate_latest(registry)
        times.append(time.perf_counter() - begin)
    for metric in registry_for().collect():
        for sample in metric.samples:
            if sample.name == COUNT:
                total += sample.value
    return statistics.median(times), total


def _plain_registry(directory: Path) -> Callable[[], CollectorRegistry]:
    def build() -> CollectorRegistry:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(directory))
        return registry

    return build


def _db_files(directory: Path) -> int:
    return sum(1 for p in directory.iterdir() if p.name.endswith(".db"))


def benchmark(workers: int = WORKERS, checkpoints: tuple[int, ...] = CHECKPOINTS) -> None:
    """Recycle ``workers`` workers in both modes and print a table at each checkpoint."""
    with tempfile.TemporaryDirectory(prefix="bench-mp-") as root:
        plain_dir = Path(root) / "plain"
        toolkit_dir = Path(root) / "toolkit"
        plain_dir.mkdir()
        toolkit_dir.mkdir()
        print(
            f"{workers} workers recycled, {REQUESTS_PER_WORKER} requests each over "
            f"{len(ROUTES)} routes x {len(STATUSES)} statuses; Python {sys.version.split()[0]}"
        )
        print(
            f"{'recycled':>8}  {'mode':<18} {'files':>6} {'scrape ms':>10} "
            f"{'exit hook ms/worker':>20} {'requests seen':>14}"
        )
        done = 0
        hooks = {"prometheus-client": 0.0, "toolkit": 0.0}
        for checkpoint in checkpoints:
            batch = checkpoint - done
            hooks["prometheus-client"] += _recycle(
                plain_dir, False, batch, lambda pid: mark_process_dead(pid, str(plain_dir))
            )
            hooks["toolkit"] += _recycle(
                toolkit_dir, True, batch, lambda pid: mark_worker_dead(pid, toolkit_dir)
            )
            done = checkpoint
            expected = float(done * REQUESTS_PER_WORKER)
            rows = (
                ("prometheus-client", plain_dir, _plain_registry(plain_dir)),
                ("toolkit", toolkit_dir, lambda: scrape_registry(toolkit_dir)),
            )
            for mode, directory, registry_for in rows:
                seconds, total = _scrape(registry_for)
                if total != expected:
                    raise SystemExit(f"{mode}: scrape counted {total}, expected {expected}")
                print(
                    f"{done:>8}  {mode:<18} {_db_files(directory):>6} {seconds * 1000:>10.1f} "
                    f"{hooks[mode] / done * 1000:>20.2f} {total:>14.0f}"
                )


def main() -> None:
    """``python -m bench multiprocess``: the default run (about 20 s)."""
    benchmark()


if __name__ == "__main__":
    main()
