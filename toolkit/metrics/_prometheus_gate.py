"""The prometheus-client gate: every use of its non-public names lives here.

Multi-process mode keeps one file per worker and metric type in
``PROMETHEUS_MULTIPROC_DIR``; prometheus-client never deletes them, so with worker
recycling every scrape reads more files. toolkit compacts dead workers into an archive
written in the library's own file format (``toolkit.metrics.multiprocess``). That needs
non-public things, all here:

- switching the value class (``values.ValueClass``) of a process that imported
  prometheus-client before ``PROMETHEUS_MULTIPROC_DIR`` was set, behind
  ``VALUE_CLASS_GATE``: there is no public way to do it, so this gate is not a speed
  option (``TOOLKIT_FAST_PATHS`` leaves it alone); closed, the process keeps its
  in-memory values and an error says to set the variable before the app starts;
- reading and writing the library's ``MmapedDict`` files, and merging a chosen list of
  files (``MultiProcessCollector.merge``), behind ``MULTIPROCESS_GATE``.

The self-check writes a value in a temporary directory with the library's own writer,
reads it back with toolkit's reader, writes it into an archive with toolkit's writer and
reads that with the library's public ``MultiProcessCollector``: the same samples, or the
gate stays closed. Closed, scrapes use ``MultiProcessCollector`` over the directory
(nothing is lost; dead workers' files are simply kept, as prometheus-client does).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, values
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector

from toolkit._gate import FastPathGate, declare

TESTED_RELEASES = ("0.20", "0.27")
"""``prometheus-client`` releases CI tested the archive on: ``>=0.20, <0.27``."""


def uses_multiprocess_values() -> bool:
    """Whether new metric values of this process are written to the shared files."""
    return bool(getattr(values.ValueClass, "_multiprocess", False))


def switch_to_multiprocess_values() -> bool:
    """Make new values of this process multi-process ones; ``False`` if the gate is closed.

    prometheus-client picks its value class when it is imported; this switches it for a
    process that imported the library before ``PROMETHEUS_MULTIPROC_DIR`` was set.
    """
    if uses_multiprocess_values():
        return True
    if not VALUE_CLASS_GATE.active():
        return False
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    return True


def read_values(files: Iterable[str]) -> dict[str, float]:
    """The raw (non-cumulative) sum per key over ``files``: what a worker's file holds."""
    merged: dict[str, float] = {}
    for file in files:
        for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(file):  # type: ignore[no-untyped-call]
            merged[key] = merged.get(key, 0.0) + value
    return merged


def write_values(path: Path, merged: dict[str, float]) -> None:
    """Write ``merged`` as one file in the library's format (keys sorted), not synced."""
    archive = MmapedDict(str(path))  # type: ignore[no-untyped-call]
    try:
        for key in sorted(merged):
            archive.write_value(key, merged[key], 0.0)  # type: ignore[no-untyped-call]
    finally:
        archive.close()  # type: ignore[no-untyped-call]


def merge_files(files: list[str]) -> list[Any]:
    """The metric families of exactly ``files``, accumulated as a scrape shows them."""
    return list(MultiProcessCollector.merge(files, accumulate=True))  # type: ignore[no-untyped-call]


def _check_value_class() -> None:
    if not hasattr(values, "MultiProcessValue") or not hasattr(values, "ValueClass"):
        raise RuntimeError("prometheus_client.values has no MultiProcessValue/ValueClass")
    made = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    if getattr(made, "_multiprocess", None) is not True:
        raise RuntimeError("MultiProcessValue() no longer makes a multi-process value class")


VALUE_CLASS_GATE = declare(
    FastPathGate(
        "prometheus-client multiprocess values",
        distribution="prometheus-client",
        tested=TESTED_RELEASES,
        self_check=_check_value_class,
        speed_only=False,
    )
)
"""Whether a process that imported prometheus-client early can still join multi-process mode."""


def _check_archive() -> None:
    _check_value_class()
    key = mmap_key("toolkit_check_total", "toolkit_check_total", ["a"], ["b"], "check")
    with tempfile.TemporaryDirectory(prefix="toolkit-gate-") as tmp:
        directory = Path(tmp)
        worker = MmapedDict(str(directory / "counter_1.db"))  # type: ignore[no-untyped-call]
        try:
            worker.write_value(key, 3.0, 0.0)  # type: ignore[no-untyped-call]
        finally:
            worker.close()  # type: ignore[no-untyped-call]
        read = read_values([str(directory / "counter_1.db")])
        if read != {key: 3.0}:
            raise RuntimeError(f"toolkit's reader read {read!r} where 3.0 was written")
        (directory / "counter_1.db").unlink()
        write_values(directory / "counter_archive-g1.db", {key: read[key] + 2.0})
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=tmp)  # type: ignore[no-untyped-call]
        value = registry.get_sample_value("toolkit_check_total", {"a": "b"})
        if value != 5.0:
            raise RuntimeError(f"the library read {value!r} from toolkit's archive, not 5.0")
        merged = merge_files([str(directory / "counter_archive-g1.db")])
        samples = [(s.name, s.labels, s.value) for m in merged for s in m.samples]
        if samples != [("toolkit_check_total", {"a": "b"}, 5.0)]:
            raise RuntimeError(f"merging the archive gave {samples!r}")


MULTIPROCESS_GATE = declare(
    FastPathGate(
        "prometheus-client multiprocess archive",
        distribution="prometheus-client",
        tested=TESTED_RELEASES,
        self_check=_check_archive,
    )
)
"""Whether multi-process metrics compact dead workers into an archive."""
