"""Atomic writes: the new tree replaces the old one whole, or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from toolkit.generate import writer
from toolkit.generate.writer import write_output

FILES = {
    "alert-rules/a.rules.yaml": "rules a\n",
    "dashboards/a.json": "{}\n",
    "dashboards/sub/b.json": '{"b": 1}\n',
}


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_writes_every_file_and_leaves_no_staging(tmp_path: Path) -> None:
    """All files land under --out; the staging directory is gone afterwards."""
    write_output(tmp_path, FILES)
    assert _tree(tmp_path) == FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alert-rules", "dashboards"]


def test_stale_files_disappear_other_files_stay(tmp_path: Path) -> None:
    """A removed service's files go; files outside the managed directories are untouched."""
    (tmp_path / "dashboards").mkdir()
    (tmp_path / "dashboards" / "gone.json").write_text("old\n")
    (tmp_path / "README.md").write_text("mine\n")
    write_output(tmp_path, FILES)
    assert _tree(tmp_path) == {**FILES, "README.md": "mine\n"}


def test_failure_midway_restores_the_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If swapping in the second directory fails, the first is swapped back: old output intact."""
    old = {"alert-rules/a.rules.yaml": "old rules\n", "dashboards/a.json": "old\n"}
    write_output(tmp_path, old)
    real_replace = os.replace
    calls = []

    def failing_replace(src: os.PathLike[str], dst: os.PathLike[str]) -> None:
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 4:  # old dashboards moved aside, new dashboards about to move in
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(writer.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_output(tmp_path, FILES)
    monkeypatch.setattr(writer.os, "replace", real_replace)
    assert _tree(tmp_path) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alert-rules", "dashboards"]


def test_failure_while_staging_touches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write error before the swap leaves the old tree as it was and no staging behind."""
    old = {"dashboards/a.json": "old\n"}
    write_output(tmp_path, old)

    def broken_stage(staging: Path, files: object) -> None:
        raise OSError("no space")

    monkeypatch.setattr(writer, "_stage", broken_stage)
    with pytest.raises(OSError, match="no space"):
        write_output(tmp_path, FILES)
    assert _tree(tmp_path) == old
    assert [p.name for p in tmp_path.iterdir()] == ["dashboards"]


def test_failure_removes_the_directories_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An --out that did not exist (nor its parent) is not left behind after a failure."""

    def broken_stage(staging: Path, files: object) -> None:
        raise OSError("no space")

    monkeypatch.setattr(writer, "_stage", broken_stage)
    with pytest.raises(OSError, match="no space"):
        write_output(tmp_path / "new" / "out", FILES)
    assert list(tmp_path.iterdir()) == []


def test_out_under_a_regular_file_raises_and_creates_nothing(tmp_path: Path) -> None:
    """--out below a regular file: the OSError reaches the caller; nothing is created."""
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        write_output(tmp_path / "file" / "out", FILES)
    assert [p.name for p in tmp_path.iterdir()] == ["file"]
