"""Multi-process metrics: prometheus-client's mmap files, with dead workers compacted.

prometheus-client's multiprocess mode gives every worker process its own ``*_<pid>.db``
files in ``PROMETHEUS_MULTIPROC_DIR`` and never deletes them: with worker recycling the
directory (and the time of every scrape) grows without bound. Here a worker that is gone
is *compacted*: its counter, histogram and summary values are added into one
``<type>_archive.db`` file per type (same format, so any reader sums it like a worker's
file), its gauge files are dropped, and its files are deleted. Compaction runs under an
exclusive ``flock`` on ``toolkit.lock`` in the directory, so two scrapes or a scrape and a
gunicorn ``child_exit`` hook can never add one worker twice.

A worker is gone when the ``flock`` it holds on ``toolkit_worker_<pid>.lock`` can be taken
(the kernel releases it when the process dies, even on SIGKILL, and a reused PID does not
hold it); a PID without such a file is gone when no process has that PID.

prometheus-client picks its value class when it is imported, from the environment:
:func:`enable_multiprocess` switches it explicitly, so the order of imports does not matter.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from prometheus_client import values
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector, CollectorRegistry

ENV_MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
ARCHIVE = "archive"
LOCK_FILE = "toolkit.lock"
WORKER_LOCK_PREFIX = "toolkit_worker_"
# Types whose values only grow: a dead worker's are kept (added into the archive).
KEPT_TYPES = frozenset({"counter", "histogram", "summary"})

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


def enable_multiprocess(directory: str | os.PathLike[str] | None = None) -> Path:
    """Make this process (and the ones it starts) write metrics into ``directory``.

    ``directory`` defaults to ``PROMETHEUS_MULTIPROC_DIR``. Sets that variable (children
    inherit it), switches prometheus-client's value class to the mmap-backed one if it was
    imported before the variable was set, and registers this process as a live worker.
    Call it before the first labelled metric is used; calling it again is harmless.
    """
    path = Path(directory) if directory is not None else multiprocess_directory()
    if path is None:
        raise ValueError(f"no metrics directory: pass one or set {ENV_MULTIPROC_DIR}")
    path.mkdir(parents=True, exist_ok=True)
    os.environ[ENV_MULTIPROC_DIR] = str(path)
    if not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    register_worker(path)
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
    for pattern in ("*.db", "*.db.tmp", f"{WORKER_LOCK_PREFIX}*.lock"):
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


def _pid_of(file: str) -> int | None:
    stem = os.path.basename(file).rsplit(".", 1)[0]
    last = stem.rsplit("_", 1)[-1]
    return int(last) if last.isdigit() else None


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


def _merged_values(files: Iterable[str]) -> dict[str, float]:
    # Raw (non-cumulative) sums per mmap key: exactly what a worker's file holds.
    merged: dict[str, float] = {}
    for file in files:
        for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(file):  # type: ignore[no-untyped-call]
            merged[key] = merged.get(key, 0.0) + value
    return merged


def _write_archive(directory: Path, typ: str, merged: dict[str, float]) -> None:
    target = directory / f"{typ}_{ARCHIVE}.db"
    tmp = directory / f"{typ}_{ARCHIVE}.db.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    archive = MmapedDict(str(tmp))  # type: ignore[no-untyped-call]
    try:
        for key in sorted(merged):
            archive.write_value(key, merged[key], 0.0)  # type: ignore[no-untyped-call]
    finally:
        archive.close()  # type: ignore[no-untyped-call]
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)


def _compact_locked(directory: Path, only: Iterable[int] | None) -> Compaction:
    files = glob.glob(str(directory / "*.db"))
    by_pid: dict[int, list[str]] = {}
    for file in files:
        pid = _pid_of(file)
        if pid is not None:
            by_pid.setdefault(pid, []).append(file)
    # A worker that exited before writing any metric left only its lock file.
    locked = {_pid_of(f) for f in glob.glob(str(directory / f"{WORKER_LOCK_PREFIX}*.lock"))}
    known = set(by_pid) | {pid for pid in locked if pid is not None}
    candidates = known if only is None else set(only) & known
    dead = sorted(pid for pid in candidates if not is_worker_alive(directory, pid))
    removed = 0
    if dead:
        dead_files = [f for pid in dead for f in by_pid.get(pid, ())]
        for typ in sorted(KEPT_TYPES):
            mine = [f for f in dead_files if os.path.basename(f).startswith(f"{typ}_")]
            if not mine:
                continue
            archive = directory / f"{typ}_{ARCHIVE}.db"
            sources = [str(archive), *mine] if archive.exists() else mine
            _write_archive(directory, typ, _merged_values(sources))
        # The archive now holds their values: from here on they must not be read again.
        for file in dead_files:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(file)
                removed += 1
        for pid in dead:
            with contextlib.suppress(FileNotFoundError):
                (directory / f"{WORKER_LOCK_PREFIX}{pid}.lock").unlink()
    return Compaction(tuple(dead), removed, len(files) - removed)


def compact(directory: str | os.PathLike[str], pids: Iterable[int] | None = None) -> Compaction:
    """Fold the files of dead workers (all, or only ``pids``) into the archive."""
    path = Path(directory)
    with directory_lock(path):
        return _compact_locked(path, pids)


def mark_worker_dead(pid: int, directory: str | os.PathLike[str] | None = None) -> Compaction:
    """Compact one worker that is known to have exited (gunicorn's ``child_exit``)."""
    path = Path(directory) if directory is not None else multiprocess_directory()
    if path is None:
        raise ValueError(f"no metrics directory: pass one or set {ENV_MULTIPROC_DIR}")
    return compact(path, [pid])


class CompactingCollector(Collector):
    """Collects the sum over live workers and the archive, compacting dead workers first."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        """Read ``directory`` at every collect; register nowhere (see :func:`scrape_registry`)."""
        self.directory = Path(directory)

    def collect(self) -> Iterable[Any]:
        """Compact, then merge every remaining file, all under the directory lock."""
        with directory_lock(self.directory):
            _compact_locked(self.directory, None)
            files = glob.glob(str(self.directory / "*.db"))
            return list(MultiProcessCollector.merge(files, accumulate=True))  # type: ignore[no-untyped-call]


def scrape_registry(directory: str | os.PathLike[str]) -> CollectorRegistry:
    """A registry whose only collector is a :class:`CompactingCollector` on ``directory``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CompactingCollector(directory))
    return registry
