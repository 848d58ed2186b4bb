"""toolkit check follows the options the files were generated with: the templated
dashboard, PrometheusRule resources (tested by promtool against the plain rules' tests),
template overrides; and it names the option when the files on disk used another one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit._resources import templates_dir
from toolkit.catalog import Catalog, load_catalog
from toolkit.cli import main
from toolkit.generate import DashboardMode, GenerateOptions, RuleFormat, generate, write_output
from toolkit.generate.validate import validate_dashboard
from toolkit.readiness import static
from toolkit.readiness.model import Check, Status
from toolkit.readiness.static import StaticOptions, check_catalog

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")

CATALOG = """\
services:
  - name: orders
    team: checkout
    slo: {availability: 99.9, latency: {threshold: 500ms, target: 99}}
  - name: users
    team: identity
    runbook: https://runbooks.example.com/users
    slo: {availability: 99.5}
"""
TEMPLATED = GenerateOptions(dashboards=DashboardMode.TEMPLATED)
OPERATOR = GenerateOptions(rule_format=RuleFormat.PROMETHEUS_OPERATOR)
LEVEL_3 = (
    "dashboard.exists",
    "dashboard.current",
    "dashboard.valid",
    "rules.exists",
    "rules.current",
    "rules.valid",
    "rules.tested",
)


def _generated(tmp_path: Path, options: GenerateOptions) -> Catalog:
    path = tmp_path / "services.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    catalog = load_catalog(path)
    write_output(tmp_path, generate(catalog, options))
    return catalog


def _checks(
    catalog: Catalog, tmp_path: Path, options: GenerateOptions, promtool: str | None = None
) -> dict[str, dict[str, Check]]:
    results = check_catalog(catalog, StaticOptions(tmp_path, promtool, options))
    return {name: {c.id: c for c in checks} for name, checks in results.items()}


def _statuses(checks: dict[str, Check]) -> tuple[str, ...]:
    return tuple(checks[check_id].status.value for check_id in LEVEL_3)


@needs_promtool
def test_templated_dashboards_pass_when_checked_as_generated(tmp_path: Path) -> None:
    """--dashboards templated: each service's dashboard is the shared dashboards/service.json,
    current and valid; the rules and the stubs (which link to it) are current too."""
    catalog = _generated(tmp_path, TEMPLATED)
    results = _checks(catalog, tmp_path, TEMPLATED, PROMTOOL)
    for name in ("orders", "users"):
        assert _statuses(results[name]) == ("pass",) * 7, results[name]
    orders = results["orders"]
    assert orders["dashboard.current"].reason == "dashboards/service.json matches the catalog"
    assert orders["rules.current"].reason == (
        "alert-rules/orders.rules.yaml, alert-rules/orders.test.yaml and "
        "alert-rules/runbooks/orders.md match the catalog"
    )
    # users has its own runbook: its alerts link there, the stub is not required.
    assert results["users"]["rules.exists"].reason == (
        "alert-rules/users.rules.yaml and alert-rules/users.test.yaml found"
    )


def test_the_shared_dashboard_is_schema_checked_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--dashboards templated: every service's dashboard.valid is the verdict on the one
    shared file, which is schema-checked once per run, not once per service; an edited
    file gets its own verdict."""
    catalog = _generated(tmp_path, TEMPLATED)
    checked: list[str] = []

    def counting(relative: str, document: object) -> None:
        checked.append(relative)
        validate_dashboard(relative, document)

    monkeypatch.setattr(static, "validate_dashboard", counting)
    results = _checks(catalog, tmp_path, TEMPLATED)
    assert checked == ["dashboards/service.json"]
    verdicts = {name: results[name]["dashboard.valid"] for name in ("orders", "users")}
    assert {v.status.value for v in verdicts.values()} == {"pass"}
    assert verdicts["orders"] is verdicts["users"]

    schema = static.SchemaChecks()
    first = schema.valid("dashboards/service.json", "{}")
    assert schema.valid("dashboards/service.json", "[") != first  # another text: checked
    assert checked[1:] == ["dashboards/service.json"]  # "[" is not JSON: never validated


def test_templated_output_checked_per_service_names_the_option(tmp_path: Path) -> None:
    """Files generated with --dashboards templated, checked with the default: the missing
    per-service dashboard is reported with the file that is there and the option to give;
    the stubs (which link to the templated dashboard) are stale for per-service."""
    catalog = _generated(tmp_path, TEMPLATED)
    orders = _checks(catalog, tmp_path, GenerateOptions())["orders"]
    exists = orders["dashboard.exists"]
    assert exists.status is Status.FAIL
    assert exists.reason == (
        f"dashboards/orders.json not found under {tmp_path}; dashboards/service.json is"
    )
    assert exists.fix == (
        "check with the options the files were generated with (--dashboards templated), "
        "or regenerate them with --dashboards per-service"
    )
    assert orders["rules.current"].reason == (
        "alert-rules/runbooks/orders.md differs from what the catalog generates (stale)"
    )


def test_per_service_output_checked_as_templated_names_the_option(tmp_path: Path) -> None:
    """The other way round: --dashboards templated on per-service files."""
    catalog = _generated(tmp_path, GenerateOptions())
    exists = _checks(catalog, tmp_path, TEMPLATED)["users"]["dashboard.exists"]
    assert exists.reason == (
        f"dashboards/service.json not found under {tmp_path}; dashboards/users.json is"
    )
    assert "(--dashboards per-service)" in exists.fix


def test_a_deleted_runbook_stub_fails_exists(tmp_path: Path) -> None:
    """Alerts without a catalog runbook link to the stub: without it, rules.exists fails."""
    catalog = _generated(tmp_path, GenerateOptions())
    (tmp_path / "alert-rules" / "runbooks" / "orders.md").unlink()
    orders = _checks(catalog, tmp_path, GenerateOptions())["orders"]
    assert orders["rules.exists"].status is Status.FAIL
    assert orders["rules.exists"].reason == (
        f"alert-rules/runbooks/orders.md not found under {tmp_path}"
    )
    assert orders["rules.current"].status is Status.SKIPPED


@needs_promtool
def test_prometheus_rule_resources_are_checked_and_tested_by_promtool(tmp_path: Path) -> None:
    """--rules prometheus-operator: no test file on disk; the resource's spec.groups pass
    promtool check rules and the tests --rules prometheus generates."""
    catalog = _generated(tmp_path, OPERATOR)
    assert not list((tmp_path / "alert-rules").glob("*.test.yaml"))
    results = _checks(catalog, tmp_path, OPERATOR, PROMTOOL)
    orders = results["orders"]
    assert _statuses(orders) == ("pass",) * 7, orders
    assert orders["rules.exists"].reason == (
        "alert-rules/orders.prometheusrule.yaml and alert-rules/runbooks/orders.md found"
    )
    assert orders["rules.valid"].reason.startswith("promtool check rules: SUCCESS: ")
    assert orders["rules.valid"].reason.endswith(
        " (the spec.groups of alert-rules/orders.prometheusrule.yaml)"
    )
    assert orders["rules.tested"].reason == (
        "promtool test rules: SUCCESS (the tests of --rules prometheus, against "
        "alert-rules/orders.prometheusrule.yaml)"
    )
    assert results["users"]["rules.current"].reason == (
        "alert-rules/users.prometheusrule.yaml matches the catalog"
    )


@needs_promtool
def test_an_edited_prometheus_rule_fails_its_tests(tmp_path: Path) -> None:
    """A hand edit that keeps the rules valid but changes what an alert says: stale, and
    promtool's tests (run against the resource on disk) fail."""
    catalog = _generated(tmp_path, OPERATOR)
    path = tmp_path / "alert-rules" / "orders.prometheusrule.yaml"
    text = path.read_text(encoding="utf-8")
    assert "severity: warning" in text
    path.write_text(text.replace("severity: warning", "severity: info"), encoding="utf-8")
    orders = _checks(catalog, tmp_path, OPERATOR, PROMTOOL)["orders"]
    assert orders["rules.current"].status is Status.FAIL
    assert orders["rules.valid"].status is Status.PASS
    assert orders["rules.tested"].status is Status.FAIL
    assert orders["rules.tested"].reason.startswith("promtool test rules: ")


def test_a_prometheus_rule_that_is_not_one_is_invalid(tmp_path: Path) -> None:
    """A resource of another kind fails rules.valid, naming the file; no promtool needed."""
    catalog = _generated(tmp_path, OPERATOR)
    path = tmp_path / "alert-rules" / "orders.prometheusrule.yaml"
    path.write_text(path.read_text().replace("kind: PrometheusRule", "kind: ConfigMap"))
    orders = _checks(catalog, tmp_path, OPERATOR)["orders"]
    assert orders["rules.valid"].status is Status.FAIL
    assert "alert-rules/orders.prometheusrule.yaml" in orders["rules.valid"].reason
    assert orders["rules.tested"].status is Status.SKIPPED


@needs_promtool
def test_prometheus_rules_whose_tests_cannot_be_generated(tmp_path: Path) -> None:
    """A template override that breaks generation: rules.current says why, the resource
    on disk is still checked by promtool, and its tests are skipped with the reason."""
    catalog = _generated(tmp_path, OPERATOR)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "alert-texts.j2").write_text("{% macro summary(a) %}{{ a.nope }", "utf-8")
    options = GenerateOptions(templates=broken, rule_format=RuleFormat.PROMETHEUS_OPERATOR)
    orders = _checks(catalog, tmp_path, options, PROMTOOL)["orders"]
    assert orders["rules.current"].status is Status.FAIL
    assert orders["rules.current"].reason.startswith("cannot generate from the catalog: ")
    assert orders["rules.valid"].status is Status.PASS
    assert (orders["rules.tested"].status, orders["rules.tested"].reason) == (
        Status.SKIPPED,
        "no tests: they cannot be generated from the catalog (see rules.current)",
    )


def test_operator_output_checked_as_plain_rules_names_the_option(tmp_path: Path) -> None:
    """PrometheusRule resources checked with the default --rules: the option is named."""
    catalog = _generated(tmp_path, OPERATOR)
    exists = _checks(catalog, tmp_path, GenerateOptions())["users"]["rules.exists"]
    assert exists.reason == (
        "alert-rules/users.rules.yaml and alert-rules/users.test.yaml not found under "
        f"{tmp_path}; alert-rules/users.prometheusrule.yaml is"
    )
    assert exists.fix == (
        "check with the options the files were generated with (--rules prometheus-operator), "
        "or regenerate them with --rules prometheus"
    )


def _override(tmp_path: Path) -> Path:
    """A template directory whose alert texts say something else."""
    templates = tmp_path / "templates"
    templates.mkdir()
    bundled = (templates_dir() / "alert-texts.j2").read_text(encoding="utf-8")
    assert "error budget burning {{" in bundled
    changed = bundled.replace("error budget burning {{", "budget burns {{")
    (templates / "alert-texts.j2").write_text(changed, encoding="utf-8")
    return templates


def test_template_overrides_are_compared_with_what_they_generate(tmp_path: Path) -> None:
    """Rules generated with --templates DIR are current when checked with the same DIR,
    stale without it."""
    templates = _override(tmp_path)
    options = GenerateOptions(templates=templates)
    catalog = _generated(tmp_path, options)
    assert "budget burns fast" in (tmp_path / "alert-rules/orders.rules.yaml").read_text()
    with_them = _checks(catalog, tmp_path, options)["orders"]["rules.current"]
    without = _checks(catalog, tmp_path, GenerateOptions())["orders"]["rules.current"]
    assert with_them.status is Status.PASS
    assert without.status is Status.FAIL


def test_check_cli_takes_the_generation_options(tmp_path: Path) -> None:
    """toolkit check --dashboards templated --rules prometheus-operator --templates DIR:
    the files generated with the same flags pass the file checks; the report names them."""
    templates = _override(tmp_path)
    options = GenerateOptions(
        templates=templates,
        rule_format=RuleFormat.PROMETHEUS_OPERATOR,
        dashboards=DashboardMode.TEMPLATED,
    )
    _generated(tmp_path, options)
    result = CliRunner().invoke(
        main,
        [
            "check",
            str(tmp_path / "services.yaml"),
            "--generated",
            str(tmp_path),
            "--dashboards",
            "templated",
            "--rules",
            "prometheus-operator",
            "--templates",
            str(templates),
            "--format",
            "json",
        ],
    )
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    statuses = {
        (service["service"], check["id"]): check["status"]
        for service in report["services"]
        for check in service["checks"]
    }
    for name in ("orders", "users"):
        for check_id in ("dashboard.exists", "dashboard.current", "rules.exists"):
            assert statuses[(name, check_id)] == "pass", (name, check_id)
        assert statuses[(name, "rules.current")] == "pass", name
    bad = CliRunner().invoke(main, ["check", str(tmp_path / "services.yaml"), "--rules", "x"])
    assert bad.exit_code == 2
    assert "Invalid value for '--rules'" in bad.output


def test_probe_cli_takes_the_generation_options(tmp_path: Path) -> None:
    """toolkit probe --catalog --dashboards templated: the static part of its report sees
    the templated dashboard (the live part fails: nothing listens at the URL)."""
    _generated(tmp_path, TEMPLATED)
    result = CliRunner().invoke(
        main,
        [
            "probe",
            "http://127.0.0.1:9",
            "--service",
            "orders",
            "--catalog",
            str(tmp_path / "services.yaml"),
            "--generated",
            str(tmp_path),
            "--dashboards",
            "templated",
            "--no-otlp",
            "--wait",
            "0",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 1, result.output
    (service,) = json.loads(result.stdout)["services"]
    statuses = {check["id"]: check["status"] for check in service["checks"]}
    assert (statuses["dashboard.exists"], statuses["dashboard.current"]) == ("pass", "pass")
