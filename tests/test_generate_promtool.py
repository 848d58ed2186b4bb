"""The generated rules pass the real promtool: `check rules` and their own unit tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from _generate_support import EXAMPLE_CATALOG, make_service, varied_catalog

from toolkit._resources import templates_dir
from toolkit.catalog import Catalog, load_catalog
from toolkit.catalog.model import LatencySLO
from toolkit.generate import GenerateOptions, generate, write_output

PROMTOOL = shutil.which("promtool")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.prometheus,
    pytest.mark.skipif(
        PROMTOOL is None, reason="promtool not installed (Debian package prometheus)"
    ),
]


def _catalog(name: str) -> Catalog:
    if name == "example":
        if not EXAMPLE_CATALOG.exists():
            pytest.skip("no examples/services.yaml")
        return load_catalog(EXAMPLE_CATALOG)
    if name == "low-objectives":
        # Below ~93 % the plan drops checks that can never fire; at 80 % the page alert goes.
        services = (
            make_service("orders", availability=93.0, latency=LatencySLO(0.5, 90.0)),
            make_service("users", availability=80.0, latency=None),
            make_service("search", availability=99.95, latency=LatencySLO(1.0, 99.9)),
        )
        return Catalog(varied_catalog().path, services)
    return varied_catalog()


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def _reworded_texts(directory: Path) -> Path:
    """An alert-texts.j2 override whose summaries carry the tier, the burn alerts' also
    Prometheus' $value (expanded in the generated tests' expectations)."""
    text = (templates_dir() / "alert-texts.j2").read_text(encoding="utf-8")
    text = text.replace("-%}\n{{ a.service }}:", "-%}\n[{{ a.tier }}] {{ a.service }}:")
    burn = "{% macro burn_summary(a) -%}\n"
    assert burn in text
    text = text.replace(burn, burn + "{{ a.value }} ")
    directory.mkdir()
    (directory / "alert-texts.j2").write_text(text, encoding="utf-8")
    return directory


@pytest.mark.parametrize("name", ["varied", "example", "low-objectives", "reworded"])
def test_rules_pass_promtool_check_and_their_unit_tests(name: str, tmp_path: Path) -> None:
    """`promtool check rules` accepts every rule file; `promtool test rules` passes every test."""
    catalog = _catalog(name)
    options = GenerateOptions()
    if name == "reworded":
        options = GenerateOptions(templates=_reworded_texts(tmp_path / "templates"))
    files = generate(catalog, options)
    if name == "reworded":
        rules = files["alert-rules/orders.rules.yaml"]
        assert "{{ $value | humanizePercentage }} [critical] orders: availability" in rules
        assert "[critical] orders: a scrape target is down" in rules
    write_output(tmp_path / "out", files)
    tmp_path = tmp_path / "out"
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
