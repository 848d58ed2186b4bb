"""Multi-process metrics: prometheus-client's mmap files, with dead workers compacted.

prometheus-client's multiprocess mode gives every worker process its own ``*_<pid>.db``
files in ``PROMETHEUS_MULTIPROC_DIR`` and never deletes them: with worker recycling the
directory (and the time of every scrape) grows without bound. Here a worker that is gone
is *compacted*: its counter, histogram and summary values are added into one archive file
per type (``histogram_archive-g<generation>.db``, prometheus-client's format, so any
reader sums it like a worker's file), its gauge files are dropped, and its files are
deleted. Compaction runs under an exclusive ``flock`` on ``toolkit.lock`` in the
directory, so two scrapes, or a scrape and a gunicorn ``child_exit`` hook, can never add
one worker twice. It survives being killed at any point: a dead worker's files are first
renamed to ``*.pending-g<n>`` (out of the readers' sight), then generation ``n`` of the
archive is written (temporary file, ``fsync``, rename), then the older generation and
the pending files are deleted; the next compaction finishes whatever step was cut short.

A worker is gone when the ``flock`` it holds on ``toolkit_worker_<pid>.lock`` can be taken
(the kernel releases it when the process dies, even on SIGKILL, and a reused PID does not
hold it); a PID without such a file is gone when no process has that PID.

prometheus-client picks its value class when it is imported, from the environment:
:func:`enable_multiprocess` switches it explicitly, so the order of imports does not matter.

The archive is written in prometheus-client's private file format, so it is used only
while ``toolkit.metrics._prometheus_gate`` allows it (tested release, self-check). With
the gate closed, or once compaction raised, scrapes read every file with the library's
public ``MultiProcessCollector`` and dead workers' files are kept: nothing is lost.

Over 300 lines and kept whole: worker liveness, compaction and crash recovery share one
file-naming protocol, which must be read in one piece to be trusted.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector, CollectorRegistry

from toolkit.metrics._prometheus_gate import (
    MULTIPROCESS_GATE,
    merge_files,
    read_values,
    switch_to_multiprocess_values,
    write_values,
)

ENV_MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
COMPACTION_COMPONENT = "metrics_compaction"
ARCHIVE = "archive"
LOCK_FILE = "toolkit.lock"
WORKER_LOCK_PREFIX = "toolkit_worker_"
# Types whose values only grow: a dead worker's are kept (added into the archive).
KEPT_TYPES = frozenset({"counter", "histogram", "summary"})

_ARCHIVE_FILE = re.compile(r"^(?P<typ>[a-z]+)_archive-g(?P<gen>[0-9]+)\.db$")
_PENDING_FILE = re.compile(r"^(?P<typ>[a-z]+)_[0-9]+\.db\.pending-g(?P<gen>[0-9]+)$")
_WORKER_FILE = re.compile(r"^[a-z_]+_(?P<pid>[0-9]+)\.db$")
_WORKER_LOCK = re.compile(rf"^{WORKER_LOCK_PREFIX}(?P<pid>[0-9]+)\.lock$")

_log = logging.getLogger("toolkit.metrics")

# This process's worker lock: (pid, open file). Per process, never per request.
_worker_lock: tuple[int, IO[bytes]] | None = None


@dataclass(frozen=True)
class Compaction:
    """What one compaction did: dead PIDs merged, files removed, files left afterwards."""

    dead_pids: tuple[int, ...]
    removed_files: int
    remaining_files: int


def multiprocess_directory(environ: dict[str, str] | None = None) -> Path | None:
    """The metrics directory of this process (``PROMETHEUS_MULTIPROC_DIR``), or None."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_MULTIPROC_DIR) or env.get(ENV_MULTIPROC_DIR.lower())
    return Path(raw) if raw else None


def enable_multiprocess(
    directory: str | os.PathLike[str] | None = None, *, compact_dead: bool = False
) -> Path:
    """Make this process (and the ones it starts) write metrics into ``directory``.

    ``directory`` defaults to ``PROMETHEUS_MULTIPROC_DIR``. Sets that variable (children
    inherit it), switches prometheus-client's value class to the mmap-backed one if it was
    imported before the variable was set, and registers this process as a live worker.
    Call it before the first labelled metric is used; calling it again is harmless.
    ``compact_dead`` also compacts workers that are gone (where no server hook does it,
    e.g. ``uvicorn --workers``: a restarted worker folds in its predecessor at once).
    """
    path = Path(directory) if directory is not None else multiprocess_directory()
    if path is None:
        raise ValueError(f"no metrics directory: pass one or set {ENV_MULTIPROC_DIR}")
    path.mkdir(parents=True, exist_ok=True)
    os.environ[ENV_MULTIPROC_DIR] = str(path)
    if not switch_to_multiprocess_values():
        _log.error(
            "toolkit: prometheus-client was imported before %s was set and its value "
            "class cannot be switched safely: set %s before the app starts",
            ENV_MULTIPROC_DIR,
            ENV_MULTIPROC_DIR,
        )
    first = _worker_lock is None or _worker_lock[0] != os.getpid()
    register_worker(path)
    if compact_dead and first and MULTIPROCESS_GATE.active():
        compact(path)
    return path


def register_worker(directory: Path) -> None:
    """Hold this process's worker lock until it exits (again after a fork)."""
    global _worker_lock
    pid = os.getpid()
    if _worker_lock is not None and _worker_lock[0] == pid:
        return
    handle = open(directory / f"{WORKER_LOCK_PREFIX}{pid}.lock", "ab")  # noqa: SIM115 - held for life
    with contextlib.suppress(BlockingIOError):  # held by a child of a former holder: alive
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    # The parent's handle (inherited over fork) is left open: closing it here would
    # not release the parent's lock anyway, and the parent may still be alive.
    _worker_lock = (pid, handle)


def clear_directory(directory: str | os.PathLike[str]) -> None:
    """Delete every metrics, archive and worker-lock file: the start of a new server run."""
    path = Path(directory)
    for pattern in ("*.db", "*.db.tmp", "*.db.pending-g*", f"{WORKER_LOCK_PREFIX}*.lock"):
        for found in path.glob(pattern):
            with contextlib.suppress(FileNotFoundError):
                found.unlink()


@contextlib.contextmanager
def directory_lock(directory: Path) -> Iterator[None]:
    """Hold the directory's exclusive compaction lock."""
    with open(directory / LOCK_FILE, "ab") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_worker_alive(directory: Path, pid: int) -> bool:
    """Whether ``pid`` still runs: its worker lock is held, or (no lock file) it exists."""
    if pid == os.getpid():
        return True
    lock_path = directory / f"{WORKER_LOCK_PREFIX}{pid}.lock"
    try:
        handle = open(lock_path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return _pid_exists(pid)
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def _archive_name(typ: str, generation: int) -> str:
    return f"{typ}_{ARCHIVE}-g{generation}.db"


def _write_archive(directory: Path, typ: str, generation: int, merged: dict[str, float]) -> None:
    target = directory / _archive_name(typ, generation)
    tmp = directory / f"{target.name}.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    write_values(tmp, merged)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)


def _unlink(path: str | Path) -> bool:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def _recover(directory: Path, names: list[str]) -> dict[str, int]:
    """Finish what a compaction that crashed left behind; return each type's generation.

    Generation ``g`` of an archive contains every ``*.pending-g<n>`` file with ``n <= g``:
    so after a crash anywhere, the newest archive and the pending files tell exactly what
    is already counted (delete it) and what is not yet (merge it now).
    """
    generations: dict[str, list[int]] = {}
    for name in names:
        found = _ARCHIVE_FILE.match(name)
        if found:
            generations.setdefault(found["typ"], []).append(int(found["gen"]))
    current = {typ: max(gens) for typ, gens in generations.items()}
    for typ, gens in generations.items():
        for generation in gens:
            if generation != current[typ]:  # folded into the newer one already
                _unlink(directory / _archive_name(typ, generation))
    for name in names:
        found = _PENDING_FILE.match(name)
        if found and int(found["gen"]) <= current.get(found["typ"], 0):
            _unlink(directory / name)
    return current


def _compact_locked(directory: Path, only: Iterable[int] | None) -> Compaction:
    names = os.listdir(directory)
    current = _recover(directory, names)
    by_pid: dict[int, list[str]] = {}
    # A worker that exited before writing any metric left only its lock file.
    locked: set[int] = set()
    for name in names:
        found = _WORKER_FILE.match(name)
        if found:
            by_pid.setdefault(int(found["pid"]), []).append(name)
            continue
        found = _WORKER_LOCK.match(name)
        if found:
            locked.add(int(found["pid"]))
    known = set(by_pid) | locked
    candidates = known if only is None else set(only) & known
    dead = sorted(pid for pid in candidates if not is_worker_alive(directory, pid))
    removed = 0
    for pid in dead:
        for name in by_pid.get(pid, ()):
            typ = name.split("_", 1)[0]
            if typ in KEPT_TYPES:
                # Out of the readers' sight, into the next generation's inputs.
                generation = current.get(typ, 0) + 1
                os.replace(directory / name, directory / f"{name}.pending-g{generation}")
            else:  # gauges of a dead worker are dropped
                removed += _unlink(directory / name)
    pending: dict[str, list[str]] = {}
    for name in os.listdir(directory):
        found = _PENDING_FILE.match(name)
        if found:
            pending.setdefault(found["typ"], []).append(name)
    for typ, files in sorted(pending.items()):
        previous = current.get(typ, 0)
        sources = [str(directory / name) for name in sorted(files)]
        if previous:
            sources.insert(0, str(directory / _archive_name(typ, previous)))
        _write_archive(directory, typ, previous + 1, read_values(sources))
        # From here the new archive holds them: a crash below is finished by _recover.
        if previous:
            _unlink(directory / _archive_name(typ, previous))
        for name in files:
            removed += _unlink(directory / name)
    for pid in dead:
        _unlink(directory / f"{WORKER_LOCK_PREFIX}{pid}.lock")
    remaining = sum(1 for name in os.listdir(directory) if name.endswith(".db"))
    return Compaction(tuple(dead), removed, remaining)


def compact(directory: str | os.PathLike[str], pids: Iterable[int] | None = None) -> Compaction:
    """Fold the files of dead workers (all, or only ``pids``) into the archive.

    While the gate is closed, dead workers' counters and histograms are kept in their own
    files and only their live gauges are dropped, with prometheus-client's public
    ``mark_process_dead``, as a server hook without toolkit would.
    """
    path = Path(directory)
    with directory_lock(path):
        if MULTIPROCESS_GATE.active():
            return _compact_locked(path, pids)
        return _drop_dead_gauges(path, pids)


def _drop_dead_gauges(directory: Path, only: Iterable[int] | None) -> Compaction:
    """The gate-closed compaction: finish a cut-short one, then the public cleanup."""
    restore_pending(directory)
    names = os.listdir(directory)
    known = {int(found["pid"]) for name in names if (found := _WORKER_FILE.match(name))}
    known |= {int(found["pid"]) for name in names if (found := _WORKER_LOCK.match(name))}
    candidates = known if only is None else set(only) & known
    dead = sorted(pid for pid in candidates if not is_worker_alive(directory, pid))
    before = sum(1 for name in names if name.endswith(".db"))
    for pid in dead:
        mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
        _unlink(directory / f"{WORKER_LOCK_PREFIX}{pid}.lock")
    remaining = sum(1 for name in os.listdir(directory) if name.endswith(".db"))
    return Compaction(tuple(dead), before - remaining, remaining)


def mark_worker_dead(pid: int, directory: str | os.PathLike[str] | None = None) -> Compaction:
    """Compact one worker that is known to have exited (gunicorn's ``child_exit``)."""
    path = Path(directory) if directory is not None else multiprocess_directory()
    if path is None:
        raise ValueError(f"no metrics directory: pass one or set {ENV_MULTIPROC_DIR}")
    return compact(path, [pid])


def with_every_server_family(families: list[Any]) -> list[Any]:
    """``families`` plus, empty, each HTTP server family no worker has written yet: every
    toolkit family has its TYPE and HELP from the first scrape."""
    from toolkit.metrics._server import server_families

    present = {family.name for family in families}
    return families + [family for family in server_families() if family.name not in present]


def restore_pending(directory: Path) -> int:
    """Give pending files that no archive holds yet their worker name back (gate closed).

    After a compaction was cut short, ``*.pending-g<n>`` files newer than the archive are
    counted nowhere but by the next compaction: without one, they must be read as they
    were. Returns how many were restored.
    """
    names = os.listdir(directory)
    current = _recover(directory, names)
    restored = 0
    for name in names:
        found = _PENDING_FILE.match(name)
        if found and int(found["gen"]) > current.get(found["typ"], 0):
            with contextlib.suppress(FileNotFoundError):
                os.replace(directory / name, directory / name.split(".pending-g", 1)[0])
                restored += 1
    return restored


class CompactingCollector(Collector):
    """Collects the sum over live workers and the archive, compacting dead workers first."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        """Read ``directory`` at every collect; register nowhere (see :func:`scrape_registry`)."""
        self.directory = Path(directory)

    def collect(self) -> Iterable[Any]:
        """Compact, then merge every remaining file, all under the directory lock.

        With the gate closed, or when compaction raises (the gate then closes for good),
        the library's public collector reads every file instead.
        """
        with directory_lock(self.directory):
            return with_every_server_family(self._collect_locked())

    def _collect_locked(self) -> list[Any]:
        if MULTIPROCESS_GATE.active():
            try:
                _compact_locked(self.directory, None)
                return merge_files(glob.glob(str(self.directory / "*.db")))
            except Exception as exc:
                MULTIPROCESS_GATE.disable(exc)
                self.failed(exc)
        _drop_dead_gauges(self.directory, None)
        registry = CollectorRegistry(auto_describe=False)
        return list(MultiProcessCollector(registry, path=str(self.directory)).collect())  # type: ignore[no-untyped-call]

    def failed(self, exc: BaseException) -> None:
        """Compaction raised: counted in ``toolkit_telemetry_errors_total`` of the default
        registry (a scrape has no other)."""
        from toolkit.metrics._server import server_metrics

        try:
            metrics = server_metrics()
            metrics.child(metrics.telemetry_errors, (COMPACTION_COMPONENT,)).inc()
        except Exception:  # pragma: no cover - the last line of defence
            _log.exception("toolkit: counting a compaction failure failed")


def scrape_registry(directory: str | os.PathLike[str]) -> CollectorRegistry:
    """A registry whose only collector is a :class:`CompactingCollector` on ``directory``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CompactingCollector(directory))
    return registry


def join_multiprocess_mode(environ: dict[str, str] | None = None) -> Path | None:
    """If ``PROMETHEUS_MULTIPROC_DIR`` is set: write there, register this worker, and fold
    in dead predecessors (no server hook does it under ``uvicorn --workers``).

    The explicit step a middleware takes when it is built; returns the directory or None.
    """
    directory = multiprocess_directory(environ)
    if directory is not None:
        enable_multiprocess(directory, compact_dead=True)
    return directory
