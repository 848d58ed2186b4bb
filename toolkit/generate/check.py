"""``--check``: how the files on disk differ from what the catalog would produce."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

from toolkit.generate.writer import managed_dirs


def _on_disk(out_dir: Path, dirs: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in dirs:
        root = out_dir / name
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file():
                relative = path.relative_to(out_dir).as_posix()
                found[relative] = path.read_text(encoding="utf-8", errors="replace")
    return found


def stale_files(out_dir: Path, files: Mapping[str, str]) -> list[str]:
    """The relative paths :func:`diff_output` would show: changed, missing or extra files."""
    existing = _on_disk(out_dir, managed_dirs(files))
    return [
        path for path in sorted(set(existing) | set(files)) if existing.get(path) != files.get(path)
    ]


def diff_output(out_dir: Path, files: Mapping[str, str]) -> str:
    """A unified diff from the disk to ``files``; empty when they are the same.

    Files in the managed directories that would not be generated show as deleted.
    """
    existing = _on_disk(out_dir, managed_dirs(files))
    chunks: list[str] = []
    for relative in sorted(set(existing) | set(files)):
        old, new = existing.get(relative), files.get(relative)
        if old == new:
            continue
        chunks.extend(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (new or "").splitlines(keepends=True),
                fromfile=f"a/{relative}" if old is not None else "/dev/null",
                tofile=f"b/{relative}" if new is not None else "/dev/null",
            )
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in chunks)
