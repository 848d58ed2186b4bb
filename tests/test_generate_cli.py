"""``toolkit generate``: exit statuses, messages, --check, --format, --templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _generate_support import EXAMPLE_CATALOG
from click.testing import CliRunner

from toolkit.cli import main

pytestmark = pytest.mark.skipif(not EXAMPLE_CATALOG.exists(), reason="no examples/services.yaml")


# render.macro() loads the macros' module outside Template.render, where Jinja does not
# rewrite the traceback to template lines: an undefined name there has no line.


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["generate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_generate_then_check_is_clean(tmp_path: Path) -> None:
    """A fresh generation passes --check (exit 0)."""
    code, out, _ = _run(str(EXAMPLE_CATALOG), "--out", str(tmp_path))
    assert (code, out) == (0, f"{tmp_path}: wrote 23 files for 5 services\n")
    code, out, _ = _run(str(EXAMPLE_CATALOG), "--out", str(tmp_path), "--check")
    assert (code, out) == (0, f"{tmp_path}: 23 generated files up to date\n")


def test_check_exits_1_with_a_diff_when_stale(tmp_path: Path) -> None:
    """An edited generated file makes --check exit 1 and print the unified diff."""
    _run(str(EXAMPLE_CATALOG), "--out", str(tmp_path))
    provisioning = tmp_path / "dashboards" / "provisioning.yaml"
    provisioning.write_text(provisioning.read_text().replace("orgId: 1", "orgId: 2"))
    code, out, err = _run(str(EXAMPLE_CATALOG), "--out", str(tmp_path), "--check")
    assert code == 1
    assert "--- a/dashboards/provisioning.yaml\n+++ b/dashboards/provisioning.yaml\n" in out
    assert "-  orgId: 2\n+  orgId: 1\n" in out
    assert "generated files are stale" in err
    assert "orgId: 2" in provisioning.read_text()  # --check writes nothing


def test_bad_catalog_exits_2_with_the_catalog_problems(tmp_path: Path) -> None:
    """A broken catalog prints every problem as `toolkit catalog validate` does and exits 2."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nservices:\n  - name: orders\n    tem: checkout\n")
    code, _, err = _run(str(bad), "--out", str(tmp_path / "out"))
    assert code == 2
    assert err.startswith(f"{bad}:")
    assert "invalid" in err.splitlines()[-1]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "{% macro burn_summary(a) -%}\n{{ a. }}\n{%- endmacro %}\n",
            r"template alert-texts\.j2:2: expected name or number",
        ),
        (
            "apiVersion: 1\nfolder: {{ foldr }}\n",
            r"template alert-texts\.j2:2: 'foldr' is undefined",
        ),
    ],
    ids=["syntax", "undefined"],
)
def test_template_error_exits_2_and_writes_nothing(
    tmp_path: Path, template: str, message: str
) -> None:
    """A broken alert-text override names template, line and cause; nothing written."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "alert-texts.j2").write_text(template)
    code, _, err = _run(
        str(EXAMPLE_CATALOG), "--out", str(tmp_path / "out"), "--templates", str(templates)
    )
    assert code == 2
    assert re.fullmatch(f"toolkit generate: {message}\n", err), err
    assert not (tmp_path / "out").exists()


def test_prometheus_operator_format_option(tmp_path: Path) -> None:
    """--format prometheus-operator writes PrometheusRule files instead of rule files."""
    code, _, _ = _run(
        str(EXAMPLE_CATALOG), "--out", str(tmp_path), "--format", "prometheus-operator"
    )
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "alert-rules").iterdir()) == [
        "alertmanager.yaml",
        "inventory.prometheusrule.yaml",
        "notifications.prometheusrule.yaml",
        "orders.prometheusrule.yaml",
        "payments.prometheusrule.yaml",
        "runbooks",
        "users.prometheusrule.yaml",
    ]


def test_templated_dashboards_option(tmp_path: Path) -> None:
    """--dashboards templated writes one service.json instead of one dashboard per service."""
    catalog = tmp_path / "services.yaml"
    catalog.write_text(
        "services:\n"
        "  - name: orders\n    team: checkout\n    slo: {availability: 99.9}\n"
        "  - name: users\n    team: accounts\n    slo: {availability: 99.5}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, _, _ = _run(str(catalog), "--out", str(out), "--dashboards", "templated")
    assert code == 0
    assert sorted(p.name for p in (out / "dashboards").iterdir()) == [
        "overview.json",
        "provisioning.yaml",
        "service.json",
    ]
    code, out_text, _ = _run(
        str(catalog), "--out", str(out), "--dashboards", "templated", "--check"
    )
    assert (code, out_text) == (0, f"{out}: 10 generated files up to date\n")


def test_templated_dashboards_refuse_labels_and_write_nothing(tmp_path: Path) -> None:
    """The example catalog narrows payments' job with labels: exit 2, nothing written."""
    code, _, err = _run(
        str(EXAMPLE_CATALOG), "--out", str(tmp_path / "out"), "--dashboards", "templated"
    )
    assert code == 2
    assert err.startswith("toolkit generate: dashboards/service.json: ")
    assert "payments narrows the job with prometheus.labels" in err
    assert not (tmp_path / "out").exists()
