"""toolkit.metrics.multiprocess: dead workers compacted, nothing lost or counted twice."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Summary

from tests._multiprocess_support import (
    ACTIVE_LABELS,
    COUNT,
    DURATION_LABELS,
    run_in_worker,
    start_worker,
)
from toolkit import semconv
from toolkit.metrics import multiprocess
from toolkit.metrics._endpoint import render_metrics
from toolkit.metrics.multiprocess import (
    clear_directory,
    compact,
    is_worker_alive,
    mark_worker_dead,
    multiprocess_directory,
    scrape_registry,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork and flock")


def _count(directory: Path) -> float | None:
    return scrape_registry(directory).get_sample_value(COUNT, DURATION_LABELS)


def _active(directory: Path) -> float | None:
    return scrape_registry(directory).get_sample_value(
        semconv.HTTP_SERVER_ACTIVE_REQUESTS, ACTIVE_LABELS
    )


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".db"))


def test_exited_workers_are_folded_into_one_archive(tmp_path: Path) -> None:
    """Three workers that exited: the scrape sums them, then only the archive is left."""
    for requests in (5, 7, 11):
        start_worker(tmp_path, requests, active=1)
    assert len(_files(tmp_path)) == 6
    assert _count(tmp_path) == 23.0
    assert _files(tmp_path) == ["histogram_archive-g1.db"]
    assert _active(tmp_path) is None
    assert _count(tmp_path) == 23.0


def test_live_workers_stay_and_dead_gauges_go(tmp_path: Path) -> None:
    """A live worker keeps its files and gauge; a killed one's counts stay, its gauge goes."""
    live = start_worker(tmp_path, 3, active=2, hold=True)
    doomed = start_worker(tmp_path, 4, active=5, hold=True)
    try:
        assert _count(tmp_path) == 7.0
        assert _active(tmp_path) == 7.0
        doomed.kill()
        assert _count(tmp_path) == 7.0
        assert _active(tmp_path) == 2.0
        assert _files(tmp_path) == sorted(
            [f"gauge_livesum_{live.pid}.db", "histogram_archive-g1.db", f"histogram_{live.pid}.db"]
        )
    finally:
        live.exit()
    assert _count(tmp_path) == 7.0
    assert _active(tmp_path) is None


def test_histogram_buckets_survive_compaction(tmp_path: Path) -> None:
    """Bucket counts and the sum are the same before and after compaction."""
    held = start_worker(tmp_path, 4, hold=True)
    before = scrape_registry(tmp_path)
    labels = {**DURATION_LABELS, semconv.LABEL_LE: "0.025"}
    name = semconv.HTTP_SERVER_REQUEST_DURATION
    assert before.get_sample_value(name + "_bucket", labels) == 4.0
    held.exit()
    after = scrape_registry(tmp_path)
    assert after.get_sample_value(name + "_bucket", labels) == 4.0
    assert after.get_sample_value(name + "_bucket", {**labels, "le": "0.01"}) == 0.0
    assert after.get_sample_value(name + "_sum", DURATION_LABELS) == pytest.approx(0.08)


def test_concurrent_compactions_count_each_worker_once(tmp_path: Path) -> None:
    """Eight processes compacting the same dead workers at once: each is added once."""
    for requests in (1, 2, 3, 4):
        start_worker(tmp_path, requests)
    compactors = []
    for _ in range(8):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 0
            try:
                compact(tmp_path)
            except BaseException:
                code = 1
            os._exit(code)
        compactors.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in compactors]
    assert codes == [0] * 8
    assert _count(tmp_path) == 10.0
    assert _files(tmp_path) == ["histogram_archive-g1.db"]


def test_mark_worker_dead_compacts_only_that_worker(tmp_path: Path) -> None:
    """The gunicorn hook's call folds the named worker and leaves other dead ones alone."""
    first = start_worker(tmp_path, 2)
    second = start_worker(tmp_path, 3)
    result = mark_worker_dead(first.pid, tmp_path)
    assert result.dead_pids == (first.pid,)
    assert _files(tmp_path) == sorted(["histogram_archive-g1.db", f"histogram_{second.pid}.db"])
    assert _count(tmp_path) == 5.0


def test_worker_lock_decides_liveness(tmp_path: Path) -> None:
    """A held worker lock means alive; once its process is gone, dead; no lock: PID check."""
    held = start_worker(tmp_path, 1, hold=True)
    assert is_worker_alive(tmp_path, held.pid) is True
    assert (tmp_path / f"toolkit_worker_{held.pid}.lock").exists()
    held.kill()
    assert is_worker_alive(tmp_path, held.pid) is False
    assert is_worker_alive(tmp_path, os.getpid()) is True
    compact(tmp_path)
    assert not (tmp_path / f"toolkit_worker_{held.pid}.lock").exists()
    # No lock file: a PID no process has is dead.
    assert is_worker_alive(tmp_path, held.pid) is False


def test_a_worker_without_metrics_leaves_no_lock_file(tmp_path: Path) -> None:
    """A worker that recorded nothing is still cleaned up (its lock file goes)."""
    worker = start_worker(tmp_path, 0)
    assert (tmp_path / f"toolkit_worker_{worker.pid}.lock").exists()
    assert compact(tmp_path).dead_pids == (worker.pid,)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toolkit.lock"]


def test_clear_directory_removes_every_metrics_file(tmp_path: Path) -> None:
    """A new server run starts from an empty directory."""
    start_worker(tmp_path, 2)
    compact(tmp_path)
    start_worker(tmp_path, 1)
    clear_directory(tmp_path)
    assert _files(tmp_path) == []
    assert _count(tmp_path) is None


def test_render_metrics_serves_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With PROMETHEUS_MULTIPROC_DIR set, /metrics is the sum over the workers' files."""
    start_worker(tmp_path, 6)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert multiprocess_directory() == tmp_path
    body, content_type = render_metrics(CollectorRegistry(), None)
    assert content_type.startswith("text/plain")
    line = (
        'http_server_request_duration_seconds_count{error_type="",http_request_method="GET",'
        'http_response_status_code="200",http_route="/items/{id}"} 6.0'
    )
    assert line in body.decode().splitlines()


def test_multiprocess_directory_is_none_without_the_variable() -> None:
    """No variable, no multi-process mode."""
    assert multiprocess_directory({}) is None
    assert multiprocess_directory({"PROMETHEUS_MULTIPROC_DIR": "/x"}) == Path("/x")


def _compact_and_crash(directory: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """Run a compaction in a child process that dies (os._exit) at ``where``."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        real_replace = os.replace

        def replace_then_die(src: object, dst: object) -> None:
            real_replace(src, dst)  # type: ignore[arg-type]
            if str(dst).endswith(".db"):  # the new archive generation is in place
                os._exit(9)

        def die(*args: object) -> None:
            os._exit(9)

        if where == "after_archive":
            monkeypatch.setattr(multiprocess.os, "replace", replace_then_die)
        else:
            monkeypatch.setattr(multiprocess, "_write_archive", die)
        compact(directory)
        os._exit(0)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 9


@pytest.mark.parametrize("where", ["before_archive", "after_archive"])
def test_a_compaction_killed_midway_loses_and_doubles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Killed after the dead files were set aside, or right after the new archive was
    renamed into place (before the old one and the inputs were deleted): the next
    compaction finishes the job and every worker is counted exactly once."""
    start_worker(tmp_path, 2)
    compact(tmp_path)  # generation 1 holds 2 requests
    start_worker(tmp_path, 3)
    start_worker(tmp_path, 5)
    _compact_and_crash(tmp_path, monkeypatch, where)
    left = sorted(p.name for p in tmp_path.iterdir() if ".pending-g2" in p.name)
    assert len(left) == 2
    assert _count(tmp_path) == 10.0
    assert _files(tmp_path) == ["histogram_archive-g2.db"]
    assert sorted(p.name for p in tmp_path.iterdir() if "pending" in p.name) == []
    assert _count(tmp_path) == 10.0


def _every_type() -> None:
    """A worker's counter, summary and gauges of several multiprocess modes."""
    registry = CollectorRegistry()
    Counter("jobs", "Jobs.", registry=registry).inc(2)
    Summary("wait_seconds", "Wait.", registry=registry).observe(0.5)
    for mode in ("livesum", "max", "all", "mostrecent"):
        Gauge(f"g_{mode}", "G.", registry=registry, multiprocess_mode=mode).set(7)


def test_counters_and_summaries_are_kept_gauges_of_every_mode_dropped(tmp_path: Path) -> None:
    """Two exited workers: counter and summary sums kept once; no gauge of any mode left."""
    run_in_worker(tmp_path, _every_type)
    run_in_worker(tmp_path, _every_type)
    registry = scrape_registry(tmp_path)
    assert registry.get_sample_value("jobs_total") == 4.0
    assert registry.get_sample_value("wait_seconds_count") == 2.0
    assert registry.get_sample_value("wait_seconds_sum") == 1.0
    gauges = [(m.name, m.samples) for m in registry.collect() if m.type == "gauge"]
    # The active-requests family is always declared, here without any sample.
    assert gauges == [(semconv.HTTP_SERVER_ACTIVE_REQUESTS, [])]
    assert _files(tmp_path) == ["counter_archive-g1.db", "summary_archive-g1.db"]
    assert scrape_registry(tmp_path).get_sample_value("jobs_total") == 4.0


def test_a_starting_worker_compacts_its_dead_predecessors(tmp_path: Path) -> None:
    """``compact_dead=True`` (what the middleware uses): a new worker folds in the workers
    that are gone before it records anything, without waiting for a scrape."""
    start_worker(tmp_path, 4)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            multiprocess.enable_multiprocess(tmp_path, compact_dead=True)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert _files(tmp_path) == ["histogram_archive-g1.db"]
    assert _count(tmp_path) == 4.0


def test_an_empty_directory_declares_every_server_family(tmp_path: Path) -> None:
    """No worker has written anything yet: the scrape still has each HTTP server family,
    with its type and no sample."""
    families = {
        family.name: (family.type, family.samples) for family in scrape_registry(tmp_path).collect()
    }
    assert families == {
        semconv.HTTP_SERVER_REQUEST_DURATION: ("histogram", []),
        semconv.HTTP_SERVER_ACTIVE_REQUESTS: ("gauge", []),
        semconv.HTTP_SERVER_REQUEST_BODY_SIZE: ("histogram", []),
        semconv.HTTP_SERVER_RESPONSE_BODY_SIZE: ("histogram", []),
        semconv.TELEMETRY_ERRORS.removesuffix("_total"): ("counter", []),
    }


@pytest.fixture
def closed_archive_gate() -> Iterator[None]:
    """The archive gate closed (a prometheus-client release toolkit did not test)."""
    from toolkit.metrics._prometheus_gate import MULTIPROCESS_GATE

    MULTIPROCESS_GATE.force(False)
    try:
        yield
    finally:
        MULTIPROCESS_GATE.force(None)


@pytest.mark.usefixtures("closed_archive_gate")
def test_with_the_gate_closed_dead_workers_live_gauges_still_go(tmp_path: Path) -> None:
    """No archive: counters stay in the dead workers' own files, summed by the library's
    collector; their live gauges are dropped with the public ``mark_process_dead`` (by the
    exit hook and by a scrape), so an in-flight request of a killed worker never stays."""
    first = run_in_worker(tmp_path, _every_type)
    run_in_worker(tmp_path, _every_type)
    assert mark_worker_dead(first, tmp_path).dead_pids == (first,)
    registry = scrape_registry(tmp_path)
    assert registry.get_sample_value("jobs_total") == 4.0
    assert registry.get_sample_value("wait_seconds_count") == 2.0
    live = registry.get_sample_value("g_livesum")
    assert live is None
    assert not any("archive" in name for name in _files(tmp_path))
    assert sorted(name.split("_")[0] for name in _files(tmp_path)).count("counter") == 2


@pytest.mark.usefixtures("closed_archive_gate")
def test_with_the_gate_closed_a_cut_short_compaction_is_not_counted_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compaction killed mid-way (by a process whose gate was open) left two archive
    generations and pending files: a scrape with the gate closed still counts each
    request once."""
    from toolkit.metrics._prometheus_gate import MULTIPROCESS_GATE

    MULTIPROCESS_GATE.force(True)
    start_worker(tmp_path, 2)
    compact(tmp_path)
    start_worker(tmp_path, 3)
    start_worker(tmp_path, 5)
    _compact_and_crash(tmp_path, monkeypatch, "after_archive")
    MULTIPROCESS_GATE.force(False)
    assert _count(tmp_path) == 10.0
    assert _count(tmp_path) == 10.0
