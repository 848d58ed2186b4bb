"""The generated rules pass the real promtool: `check rules` and their own unit tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from _generate_support import EXAMPLE_CATALOG, varied_catalog

from toolkit.catalog import Catalog, load_catalog
from toolkit.generate import generate, write_output

PROMTOOL = shutil.which("promtool")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        PROMTOOL is None, reason="promtool not installed (Debian package prometheus)"
    ),
]


def _catalog(name: str) -> Catalog:
    if name == "example":
        if not EXAMPLE_CATALOG.exists():
            pytest.skip("no examples/services.yaml")
        return load_catalog(EXAMPLE_CATALOG)
    return varied_catalog()


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("name", ["varied", "example"])
def test_rules_pass_promtool_check_and_their_unit_tests(name: str, tmp_path: Path) -> None:
    """`promtool check rules` accepts every rule file; `promtool test rules` passes every test."""
    catalog = _catalog(name)
    write_output(tmp_path, generate(catalog))
    rules_dir = tmp_path / "alert-rules"
    rule_files = sorted(p.name for p in rules_dir.glob("*.rules.yaml"))
    test_files = sorted(p.name for p in rules_dir.glob("*.test.yaml"))
    assert len(rule_files) == len(test_files) == len(catalog.services)

    checked = _promtool("check", "rules", *rule_files, cwd=rules_dir)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("SUCCESS") == len(rule_files)

    tested = _promtool("test", "rules", *test_files, cwd=rules_dir)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout.count("SUCCESS") == len(test_files)


def test_a_broken_expectation_makes_promtool_fail(tmp_path: Path) -> None:
    """The generated tests can fail: change one expected label and promtool reports it."""
    write_output(tmp_path, generate(varied_catalog()))
    tests = tmp_path / "alert-rules" / "orders.test.yaml"
    tests.write_text(tests.read_text().replace("severity: critical", "severity: info", 1))
    tested = _promtool("test", "rules", tests.name, cwd=tests.parent)
    assert tested.returncode == 1
    assert "FAILED" in tested.stdout + tested.stderr
