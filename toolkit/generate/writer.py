"""Write the generated tree atomically: all of it, or none of it.

Every file is first written to a staging directory next to the output; then each
managed top-level directory (``dashboards/``, ``alert-rules/``) is swapped in with a
rename. If anything fails, the directories already swapped are swapped back, so the
previous output stays as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

STAGING_PREFIX = ".toolkit-generate-"


def managed_dirs(files: Mapping[str, str]) -> tuple[str, ...]:
    """The top-level directories the generated files live in, sorted."""
    return tuple(sorted({path.split("/", 1)[0] for path in files}))


_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _write_file(path: str, data: bytes) -> None:
    """Write ``data`` to a new file: one ``write`` call (more only if the OS wants)."""
    fd = os.open(path, _FLAGS, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _stage(staging: Path, files: Mapping[str, str]) -> None:
    root = staging / "new"
    made: set[str] = set()
    for relative, content in files.items():
        parent = relative.rpartition("/")[0]
        if parent not in made:  # one mkdir per directory, not per file
            (root / parent).mkdir(parents=True, exist_ok=True)
            made.add(parent)
        # Encoded here, written as bytes: "\n" stays "\n" on every platform.
        _write_file(os.path.join(root, relative), content.encode("utf-8"))


def write_output(out_dir: Path, files: Mapping[str, str]) -> None:
    """Replace the managed directories under ``out_dir`` with exactly ``files``.

    On any error (``OSError`` for a full disk, a failed rename, an ``out_dir`` under a
    file) the previous output is put back and the directories made for ``out_dir`` are
    removed again, then the error is raised.
    """
    made = [path for path in (out_dir, *out_dir.parents) if not path.exists()]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _swap_in(out_dir, files)
    except BaseException:
        for path in made:  # deepest first; each is empty unless someone else wrote there
            try:
                path.rmdir()
            except FileNotFoundError:
                continue  # mkdir failed before making it
            except OSError:
                break
        raise


def _swap_in(out_dir: Path, files: Mapping[str, str]) -> None:
    """Stage ``files`` beside ``out_dir``'s managed directories, then rename them in."""
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir))
    swapped: list[str] = []
    try:
        _stage(staging, files)
        (staging / "old").mkdir()
        for name in managed_dirs(files):
            current = out_dir / name
            if current.exists():
                os.replace(current, staging / "old" / name)
            swapped.append(name)
            os.replace(staging / "new" / name, current)
    except BaseException:
        for name in reversed(swapped):
            current, previous = out_dir / name, staging / "old" / name
            if current.exists() and not (staging / "new" / name).exists():
                os.replace(current, staging / "new" / name)
            if previous.exists():
                os.replace(previous, current)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
