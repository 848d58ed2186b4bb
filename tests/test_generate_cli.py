"""``toolkit generate``: exit statuses, messages, --check, --rules, --format, --templates,
standard input, and write errors."""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path

import pytest
from _generate_support import EXAMPLE_CATALOG
from click.testing import CliRunner

from toolkit.cli import main
from toolkit.generate import writer

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


def test_prometheus_operator_rules_option(tmp_path: Path) -> None:
    """--rules prometheus-operator writes PrometheusRule files instead of rule files."""
    code, _, err = _run(
        str(EXAMPLE_CATALOG), "--out", str(tmp_path), "--rules", "prometheus-operator"
    )
    assert (code, err) == (0, "")
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


def test_format_prometheus_operator_still_works_with_a_warning(tmp_path: Path) -> None:
    """The old spelling --format prometheus-operator means --rules prometheus-operator."""
    code, out, err = _run(
        str(EXAMPLE_CATALOG), "--out", str(tmp_path), "--format", "prometheus-operator"
    )
    assert (code, out) == (0, f"{tmp_path}: wrote 18 files for 5 services\n")
    assert err == (
        "toolkit generate: --format prometheus-operator is deprecated; "
        "use --rules prometheus-operator\n"
    )
    assert (tmp_path / "alert-rules" / "orders.prometheusrule.yaml").is_file()


def test_format_and_rules_that_disagree_are_a_usage_error(tmp_path: Path) -> None:
    """--format prometheus-operator --rules prometheus: click's usage error, exit 2."""
    code, _, err = _run(
        str(EXAMPLE_CATALOG),
        "--out",
        str(tmp_path),
        "--format",
        "prometheus-operator",
        "--rules",
        "prometheus",
    )
    assert code == 2
    assert "Error: --format prometheus-operator contradicts --rules prometheus" in err
    assert not (tmp_path / "dashboards").exists()


def test_json_lists_the_files_written(tmp_path: Path) -> None:
    """--format json: one document naming every file written; exit 0."""
    code, out, err = _run(str(EXAMPLE_CATALOG), "--out", str(tmp_path), "--format", "json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert document == {
        "catalog": str(EXAMPLE_CATALOG),
        "out": str(tmp_path),
        "check": False,
        "written": True,
        "services": 5,
        "files": written,
        "stale": [],
        "problems": [],
    }
    assert len(written) == 23


def test_json_check_lists_the_stale_files(tmp_path: Path) -> None:
    """--check --format json: the stale files (changed, missing, extra), exit 1; none, exit 0."""
    _run(str(EXAMPLE_CATALOG), "--out", str(tmp_path))
    code, out, _ = _run(str(EXAMPLE_CATALOG), "--out", str(tmp_path), "--check", "--format", "json")
    assert (code, json.loads(out)["stale"], json.loads(out)["written"]) == (0, [], False)
    (tmp_path / "dashboards" / "orders.json").write_text("{}\n")
    (tmp_path / "alert-rules" / "users.test.yaml").unlink()
    (tmp_path / "alert-rules" / "extra.yaml").write_text("x\n")
    code, out, err = _run(
        str(EXAMPLE_CATALOG), "--out", str(tmp_path), "--check", "--format", "json"
    )
    assert (code, err) == (1, "")
    document = json.loads(out)
    assert (document["check"], document["written"], document["services"]) == (True, False, 5)
    assert document["stale"] == [
        "alert-rules/extra.yaml",
        "alert-rules/users.test.yaml",
        "dashboards/orders.json",
    ]


def test_json_reports_catalog_problems_and_template_errors(tmp_path: Path) -> None:
    """--format json on bad input: the problems, nothing written, exit 2, stderr quiet."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("services:\n  - name: orders\n    tem: checkout\n")
    code, out, err = _run(str(bad), "--out", str(tmp_path / "out"), "--format", "json")
    assert (code, err) == (2, "")
    document = json.loads(out)
    assert (document["written"], document["files"]) == (False, [])
    assert [(p["file"], p["line"], p["path"]) for p in document["problems"]] == [
        (str(bad), 2, "services[0]"),
        (str(bad), 3, "services[0]"),
    ]
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "alert-texts.j2").write_text("folder: {{ foldr }}\n")
    code, out, _ = _run(
        str(EXAMPLE_CATALOG),
        "--out",
        str(tmp_path / "out"),
        "--templates",
        str(templates),
        "--format",
        "json",
    )
    assert code == 2
    (problem,) = json.loads(out)["problems"]
    assert (problem["file"], problem["line"], problem["message"]) == (
        "alert-texts.j2",
        1,
        "'foldr' is undefined",
    )
    assert not (tmp_path / "out").exists()


def test_catalog_from_standard_input(tmp_path: Path) -> None:
    """`generate -` reads the catalog from standard input; the files name `<stdin>`."""
    result = CliRunner().invoke(
        main,
        ["generate", "-", "--out", str(tmp_path)],
        input=EXAMPLE_CATALOG.read_bytes(),
    )
    assert (result.exit_code, result.stdout) == (0, f"{tmp_path}: wrote 23 files for 5 services\n")
    rules = (tmp_path / "alert-rules" / "orders.rules.yaml").read_text()
    assert rules.startswith("# generated by toolkit — do not edit\n# source: <stdin>\n")


def test_out_under_a_regular_file_is_one_line(tmp_path: Path) -> None:
    """--out below a regular file: one line naming it, exit 2, nothing created."""
    regular = tmp_path / "file"
    regular.write_text("x")
    code, out, err = _run(str(EXAMPLE_CATALOG), "--out", str(regular / "out"))
    assert (code, out) == (2, "")
    assert err == f"toolkit generate: {regular / 'out'}: cannot write the output: not a directory\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_full_disk_while_staging_leaves_the_output_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC writing a staged file: one line, exit 2; the previous output stays as it
    was, and an --out that did not exist is not left behind."""
    out = tmp_path / "out"
    assert _run(str(EXAMPLE_CATALOG), "--out", str(out))[0] == 0
    (out / "dashboards" / "orders.json").write_text("previous\n")
    before = _tree(tmp_path)

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writer.os, "write", full)
    for target in (out, tmp_path / "new" / "out"):
        code, stdout, err = _run(str(EXAMPLE_CATALOG), "--out", str(target))
        assert (code, stdout) == (2, "")
        assert (
            err == f"toolkit generate: {target}: cannot write the output: no space left on device\n"
        )
        assert _tree(tmp_path) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_failed_rename_leaves_the_output_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rename that fails midway through the swap: one line, exit 2, the previous
    output put back as it was."""
    assert _run(str(EXAMPLE_CATALOG), "--out", str(tmp_path))[0] == 0
    (tmp_path / "dashboards" / "orders.json").write_text("previous\n")
    before = _tree(tmp_path)
    real_replace = os.replace
    calls: list[str] = []

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append(str(dst))
        if len(calls) == 3:  # alert-rules swapped in; moving old dashboards aside fails
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(src))
        real_replace(src, dst)

    monkeypatch.setattr(writer.os, "replace", failing_replace)
    code, _, err = _run(str(EXAMPLE_CATALOG), "--out", str(tmp_path))
    assert code == 2
    assert err == f"toolkit generate: {tmp_path}: cannot write the output: input/output error\n"
    monkeypatch.setattr(writer.os, "replace", real_replace)
    assert _tree(tmp_path) == before
