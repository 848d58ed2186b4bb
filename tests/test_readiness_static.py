"""Tests for toolkit.readiness.static: checks from the catalog and the generated files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toolkit.catalog import Catalog, load_catalog
from toolkit.generate import generate, write_output
from toolkit.readiness.model import Check, Status
from toolkit.readiness.static import StaticOptions, check_catalog

ROOT = Path(__file__).parent.parent
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")

CATALOG = """\
services:
  - name: orders
    team: checkout
    runbook: https://runbooks.example.com/orders
    slo: {availability: 99.9, latency: {threshold: 500ms, target: 99}}
    dependencies: [users, stripe]
  - name: users
    team: identity
    slo: {availability: 99.5, latency: {threshold: 250ms, target: 99}}
externals:
  - {name: stripe, address: api.stripe.com}
"""


def _catalog(tmp_path: Path, text: str = CATALOG) -> Catalog:
    path = tmp_path / "services.yaml"
    path.write_text(text, encoding="utf-8")
    catalog = load_catalog(path)
    write_output(tmp_path, generate(catalog))
    return catalog


def _statuses(checks: list[Check]) -> dict[str, str]:
    return {check.id: check.status.value for check in checks}


@needs_promtool
def test_example_catalog_passes_its_static_checks() -> None:
    """The committed output for examples/services.yaml passes; two deliberate warnings."""
    catalog = load_catalog(ROOT / "examples" / "services.yaml")
    results = check_catalog(catalog, StaticOptions(ROOT, PROMTOOL))
    blocking = {
        (name, c.id) for name, checks in results.items() for c in checks if c.status.blocks_level
    }
    warnings = {
        (name, c.id) for name, checks in results.items() for c in checks if c.status.value == "warn"
    }
    assert blocking == set()
    assert warnings == {("orders", "dependencies.slo"), ("notifications", "slo.defined")}


@needs_promtool
def test_fresh_output_passes_with_promtool(tmp_path: Path) -> None:
    """Freshly generated files exist, are current, valid and their promtool tests pass."""
    results = check_catalog(_catalog(tmp_path), StaticOptions(tmp_path, PROMTOOL))
    assert _statuses(results["orders"]) == {
        "slo.defined": "pass",
        "ownership": "pass",
        "dashboard.exists": "pass",
        "dashboard.current": "pass",
        "dashboard.valid": "pass",
        "rules.exists": "pass",
        "rules.current": "pass",
        "rules.valid": "pass",
        "rules.tested": "pass",
        "dependencies.known": "pass",
        "dependencies.slo": "warn",
    }
    rules = {c.id: c for c in results["orders"]}
    assert rules["rules.tested"].reason == "promtool test rules: SUCCESS"
    assert rules["dependencies.slo"].reason == (
        "99.9% depends on users 99.5%: a synchronous call caps it"
    )


def test_without_promtool_rules_are_not_measured(tmp_path: Path) -> None:
    """No promtool: rule validity and tests are "not measured", with how to install it."""
    results = check_catalog(_catalog(tmp_path), StaticOptions(tmp_path, None))
    checks = {c.id: c for c in results["users"]}
    assert checks["rules.valid"].status is Status.NOT_MEASURED
    assert checks["rules.tested"].status is Status.NOT_MEASURED
    assert checks["rules.tested"].fix == (
        "install promtool (apt-get install prometheus) to measure this"
    )


def test_missing_dashboard_fails_exists_and_skips_the_rest(tmp_path: Path) -> None:
    """A deleted dashboard fails ``dashboard.exists``; current and valid are skipped."""
    catalog = _catalog(tmp_path)
    (tmp_path / "dashboards" / "users.json").unlink()
    checks = _statuses(check_catalog(catalog, StaticOptions(tmp_path, None))["users"])
    assert (checks["dashboard.exists"], checks["dashboard.current"], checks["dashboard.valid"]) == (
        "fail",
        "skipped",
        "skipped",
    )


def test_edited_dashboard_is_stale_but_valid(tmp_path: Path) -> None:
    """A hand edit that keeps the schema: stale (regenerate), still valid."""
    catalog = _catalog(tmp_path)
    path = tmp_path / "dashboards" / "users.json"
    path.write_text(path.read_text().replace('"refresh"', '"refresh" ', 1))
    checks = {c.id: c for c in check_catalog(catalog, StaticOptions(tmp_path, None))["users"]}
    assert checks["dashboard.current"].status is Status.FAIL
    assert checks["dashboard.current"].reason == (
        "dashboards/users.json differs from what the catalog generates (stale)"
    )
    assert checks["dashboard.current"].fix == (
        "regenerate the dashboards and alert rules from the catalog and commit them "
        "(toolkit generate CATALOG --out DIR)"
    )
    assert checks["dashboard.valid"].status is Status.PASS


def test_dashboard_that_is_not_json_is_invalid(tmp_path: Path) -> None:
    """A dashboard that does not parse fails ``dashboard.valid``."""
    catalog = _catalog(tmp_path)
    (tmp_path / "dashboards" / "users.json").write_text("{oops")
    checks = {c.id: c for c in check_catalog(catalog, StaticOptions(tmp_path, None))["users"]}
    assert checks["dashboard.valid"].status is Status.FAIL
    assert checks["dashboard.valid"].reason.startswith("dashboards/users.json is not JSON: ")


@needs_promtool
def test_promtool_rejects_a_broken_expression(tmp_path: Path) -> None:
    """A rule whose PromQL does not parse fails ``rules.valid``; its tests are skipped."""
    catalog = _catalog(tmp_path)
    path = tmp_path / "alert-rules" / "users.rules.yaml"
    text = path.read_text()
    path.write_text(text.replace("expr: ", "expr: sum(( ", 1))
    checks = {c.id: c for c in check_catalog(catalog, StaticOptions(tmp_path, PROMTOOL))["users"]}
    assert checks["rules.current"].status is Status.FAIL
    assert checks["rules.valid"].status is Status.FAIL
    assert checks["rules.valid"].reason.startswith("promtool check rules: ")
    assert checks["rules.tested"].status is Status.SKIPPED


def test_missing_rule_tests_fail_exists(tmp_path: Path) -> None:
    """Without the promtool test file, ``rules.exists`` names it."""
    catalog = _catalog(tmp_path)
    (tmp_path / "alert-rules" / "users.test.yaml").unlink()
    checks = {c.id: c for c in check_catalog(catalog, StaticOptions(tmp_path, None))["users"]}
    assert checks["rules.exists"].status is Status.FAIL
    assert (
        checks["rules.exists"].reason == f"alert-rules/users.test.yaml not found under {tmp_path}"
    )


def test_catalog_checks_ownership_slo_and_dependencies(tmp_path: Path) -> None:
    """A standard service without a runbook passes ownership with the generated stub; an
    SLO above 99.99% warns; leaf services skip deps."""
    text = CATALOG.replace("availability: 99.5", "availability: 99.999")
    checks = {
        c.id: c
        for c in check_catalog(_catalog(tmp_path, text), StaticOptions(tmp_path, None))["users"]
    }
    assert checks["ownership"].status is Status.PASS
    assert checks["ownership"].reason == (
        "team identity, runbook: the generated stub alert-rules/runbooks/users.md"
    )
    assert checks["slo.defined"].status is Status.WARN
    assert checks["slo.defined"].reason == (
        "availability 99.999% over 30d, 99% under 0.25s: an error budget of 26s per window "
        "leaves alerts no room"
    )
    assert checks["dependencies.known"].status is Status.SKIPPED
    assert checks["dependencies.slo"].status is Status.SKIPPED
