"""Real worker processes for the multi-process tests: forked, writing metrics, exiting."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

from toolkit import semconv

ROUTE = "/items/{id}"
DURATION_LABELS = {
    semconv.LABEL_METHOD: "GET",
    semconv.LABEL_ROUTE: ROUTE,
    semconv.LABEL_STATUS_CODE: "200",
    semconv.LABEL_ERROR_TYPE: "",
}
ACTIVE_LABELS = {semconv.LABEL_METHOD: "GET", semconv.LABEL_URL_SCHEME: "http"}
COUNT = semconv.HTTP_SERVER_REQUEST_DURATION + "_count"


@dataclass
class Worker:
    """A forked worker: its PID and the pipe that keeps it alive until closed."""

    pid: int
    release_fd: int | None

    def exit(self) -> None:
        """Let a held worker exit and reap it."""
        if self.release_fd is not None:
            os.close(self.release_fd)
            self.release_fd = None
        os.waitpid(self.pid, 0)

    def kill(self) -> None:
        """SIGKILL a held worker and reap it."""
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        if self.release_fd is not None:
            os.close(self.release_fd)
            self.release_fd = None


def _work(directory: Path, requests: int, active: int, exemplar: dict[str, str] | None) -> None:
    from prometheus_client import CollectorRegistry

    from toolkit.metrics._server import ServerMetrics
    from toolkit.metrics.multiprocess import enable_multiprocess

    enable_multiprocess(directory)
    metrics = ServerMetrics(CollectorRegistry())
    values = tuple(DURATION_LABELS.values())
    for _ in range(requests):
        metrics.duration.labels(*values).observe(0.02, exemplar)
    if active:
        metrics.active.labels(*ACTIVE_LABELS.values()).inc(active)


def start_worker(
    directory: Path,
    requests: int,
    *,
    active: int = 0,
    hold: bool = False,
    exemplar: dict[str, str] | None = None,
) -> Worker:
    """Fork a worker that records ``requests`` requests (and ``active`` in flight).

    Without ``hold`` the worker exits at once and is reaped; with it, it stays alive
    (its metrics written) until :meth:`Worker.exit` or :meth:`Worker.kill`. ``exemplar``
    is passed with every observation.
    """
    ready_r, ready_w = os.pipe()
    release_r, release_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            os.close(ready_r)
            os.close(release_w)
            _work(directory, requests, active, exemplar)
            os.write(ready_w, b"1")
            if hold:
                os.read(release_r, 1)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(ready_w)
    os.close(release_r)
    started = os.read(ready_r, 1)
    os.close(ready_r)
    worker = Worker(pid, release_w)
    if started != b"1":
        worker.exit()
        raise RuntimeError("worker process failed")
    if not hold:
        worker.exit()
    return worker


def scrape(url: str) -> dict[str, float]:
    """``/metrics`` at ``url``: the request count and active requests, summed over series."""
    import httpx

    response = httpx.get(url, timeout=10)
    response.raise_for_status()
    return scrape_text(response.text)


def scrape_text(text: str) -> dict[str, float]:
    """The request count and active requests in a text exposition, summed over series."""
    from prometheus_client.parser import text_string_to_metric_families

    totals = {COUNT: 0.0, semconv.HTTP_SERVER_ACTIVE_REQUESTS: 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in totals:
                totals[sample.name] += sample.value
    return totals


def run_in_worker(directory: Path, work: object) -> int:
    """Fork, join multi-process mode in ``directory``, call ``work()``, exit; return the PID."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            from toolkit.metrics.multiprocess import enable_multiprocess

            enable_multiprocess(directory)
            work()  # type: ignore[operator]
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("worker process failed")
    return pid
