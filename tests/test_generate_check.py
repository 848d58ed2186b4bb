"""--check: a unified diff between the disk and what would be generated."""

from __future__ import annotations

from pathlib import Path

from toolkit.generate.check import diff_output
from toolkit.generate.writer import write_output

FILES = {"dashboards/a.json": "one\ntwo\n", "dashboards/b.json": "b\n"}


def test_no_diff_when_up_to_date(tmp_path: Path) -> None:
    """Identical files give an empty diff."""
    write_output(tmp_path, FILES)
    assert diff_output(tmp_path, FILES) == ""


def test_changed_missing_and_extra_files(tmp_path: Path) -> None:
    """A changed file, a file that would be new and one that would be deleted all show."""
    write_output(tmp_path, {"dashboards/a.json": "one\nTWO\n", "dashboards/old.json": "x\n"})
    assert diff_output(tmp_path, FILES) == (
        "--- a/dashboards/a.json\n"
        "+++ b/dashboards/a.json\n"
        "@@ -1,2 +1,2 @@\n"
        " one\n"
        "-TWO\n"
        "+two\n"
        "--- /dev/null\n"
        "+++ b/dashboards/b.json\n"
        "@@ -0,0 +1 @@\n"
        "+b\n"
        "--- a/dashboards/old.json\n"
        "+++ /dev/null\n"
        "@@ -1 +0,0 @@\n"
        "-x\n"
    )


def test_missing_output_directory(tmp_path: Path) -> None:
    """Nothing generated yet: every file shows as new."""
    assert diff_output(tmp_path, {"dashboards/b.json": "b\n"}) == (
        "--- /dev/null\n+++ b/dashboards/b.json\n@@ -0,0 +1 @@\n+b\n"
    )
