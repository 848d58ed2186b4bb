"""Golden tests: each catalog under ``tests/golden/`` generates exactly its ``expected/`` tree.

A case is a directory ``tests/golden/<case>/`` holding ``catalog.yaml``, optionally
``args`` (extra ``toolkit generate`` arguments, one a line; ``#`` starts a comment line)
and ``expected/``, the tree ``toolkit generate catalog.yaml --out DIR`` writes today.
The test runs the real command into a temporary directory and compares the set of files
and every file's bytes; a difference fails with a unified diff per file.

To accept a change on purpose, regenerate the expected trees and review the diff before
committing it::

    TOOLKIT_UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/test_generate_golden.py
    git diff --stat tests/golden/
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import main

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
UPDATE_ENV = "TOOLKIT_UPDATE_GOLDEN"
DIFF_LINES = 200  # per file: enough to read, not a wall of text
CASES = sorted(path for path in GOLDEN_DIR.iterdir() if (path / "catalog.yaml").is_file())


def _extra_args(case: Path) -> list[str]:
    """The case's extra ``toolkit generate`` arguments from its ``args`` file, if any."""
    args_file = case / "args"
    if not args_file.is_file():
        return []
    lines = (line.strip() for line in args_file.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root``: POSIX relative path -> bytes (empty if ``root`` is absent)."""
    if not root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _generate(case: Path, out_dir: Path) -> dict[str, bytes]:
    """Run ``toolkit generate`` on the case's catalog into ``out_dir``; the tree it wrote."""
    args = ["generate", str(case / "catalog.yaml"), "--out", str(out_dir), *_extra_args(case)]
    result = CliRunner().invoke(main, args)
    if result.exit_code != 0:
        pytest.fail(
            f"{case.name}: `toolkit {' '.join(args)}` exited {result.exit_code}\n"
            f"{result.stdout}{result.stderr}",
            pytrace=False,
        )
    return _tree(out_dir)


def _write_expected(expected_dir: Path, files: dict[str, bytes]) -> None:
    """Replace ``expected_dir`` with exactly ``files`` (stale files disappear)."""
    if expected_dir.exists():
        shutil.rmtree(expected_dir)
    for relative, content in files.items():
        path = expected_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _file_diff(relative: str, expected: bytes, actual: bytes) -> list[str]:
    """A unified diff of one file, at most ``DIFF_LINES`` lines, every line ending in \\n."""
    lines = list(
        difflib.unified_diff(
            expected.decode("utf-8", errors="replace").splitlines(keepends=True),
            actual.decode("utf-8", errors="replace").splitlines(keepends=True),
            fromfile=f"expected/{relative}",
            tofile=f"generated/{relative}",
        )
    )
    if not lines:  # same text once decoded: invalid UTF-8 or the like
        return [f"--- expected/{relative}\n+++ generated/{relative}\n", "(bytes differ)\n"]
    if len(lines) > DIFF_LINES:
        cut = len(lines) - DIFF_LINES
        lines = [*lines[:DIFF_LINES], f"... {cut} more diff lines for {relative}\n"]
    return [line if line.endswith("\n") else line + "\n" for line in lines]


def _describe_differences(expected: dict[str, bytes], actual: dict[str, bytes]) -> str:
    """Missing and extra files, then a diff per changed file; empty when the trees match."""
    report: list[str] = []
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing:
        report.append("expected but not generated:\n")
        report.extend(f"  {relative}\n" for relative in missing)
    if extra:
        report.append("generated but not expected:\n")
        report.extend(f"  {relative}\n" for relative in extra)
    for relative in sorted(set(expected) & set(actual)):
        if expected[relative] != actual[relative]:
            report.extend(_file_diff(relative, expected[relative], actual[relative]))
    return "".join(report)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_generated_output_matches_golden_tree(case: Path, tmp_path: Path) -> None:
    """``toolkit generate`` writes exactly the case's ``expected/`` tree, byte for byte.

    With ``TOOLKIT_UPDATE_GOLDEN=1`` the expected tree is rewritten from today's output
    instead (stale files removed) and the test passes: review the diff, then commit it.
    """
    expected_dir = case / "expected"
    shown = f"tests/golden/{case.name}/expected/"
    actual = _generate(case, tmp_path / "out")
    if os.environ.get(UPDATE_ENV) == "1":
        _write_expected(expected_dir, actual)
        return
    differences = _describe_differences(_tree(expected_dir), actual)
    if differences:
        pytest.fail(
            f"{case.name}: generated output differs from {shown}\n"
            f"{differences}"
            f"If the change is intended, regenerate with {UPDATE_ENV}=1 "
            f"(docs/generate.md#golden-tests), review the diff and commit it.",
            pytrace=False,
        )
