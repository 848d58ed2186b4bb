"""``toolkit generate``: dashboards, alert rules and their tests from a service catalog."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

import click

from toolkit.catalog import Catalog, CatalogError, Problem, catalog_name, load_catalog_argument
from toolkit.catalog.problems import one_line
from toolkit.generate import (
    DashboardMode,
    GenerateOptions,
    RuleFormat,
    TemplateError,
    ValidationError,
    diff_output,
    generate,
    write_output,
)
from toolkit.generate.check import stale_files
from toolkit.generate.pipeline import DEFAULT_PROVISIONING_PATH

STALE = 1
INVALID = 2
OUTPUT_FORMATS = ("text", "json")
# `--format prometheus-operator` chose the rule format before `--rules` did.
RULE_FORMATS = tuple(choice.value for choice in RuleFormat)


@click.command(name="generate")
@click.argument("catalog_file", metavar="CATALOG", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory that receives dashboards/ and alert-rules/.",
)
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory of templates that override the bundled ones, by file name "
    "(alert-texts.j2: alert summaries and descriptions; runbook.md.j2: runbook stubs).",
)
@click.option(
    "--dashboards",
    "dashboard_mode",
    type=click.Choice([choice.value for choice in DashboardMode]),
    default=DashboardMode.PER_SERVICE.value,
    show_default=True,
    help="One dashboard per service, or one templated dashboard with a $service variable.",
)
@click.option(
    "--rules",
    "rule_format",
    type=click.Choice(RULE_FORMATS),
    help="Plain Prometheus rule files (with promtool tests) or PrometheusRule resources. "
    "[default: prometheus]",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(OUTPUT_FORMATS + RULE_FORMATS),
    default="text",
    show_default=True,
    help="What to print: a summary line, or one JSON document (files, stale files, "
    "problems). prometheus and prometheus-operator: deprecated spellings of --rules.",
)
@click.option(
    "--provisioning-path",
    default=DEFAULT_PROVISIONING_PATH,
    show_default=True,
    help="Where Grafana will find the dashboards (written into provisioning.yaml).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 with a diff if the files on disk are stale.",
)
def generate_command(
    catalog_file: Path,
    out_dir: Path,
    templates_dir: Path | None,
    dashboard_mode: str,
    rule_format: str | None,
    output_format: str,
    provisioning_path: str,
    check: bool,
) -> None:
    """Generate Grafana dashboards and Prometheus rules for every service in CATALOG.

    CATALOG `-` reads the catalog from standard input. Exit 0 on success, 1 when --check
    finds stale files, 2 on bad input or when the output cannot be written.
    """
    if output_format in RULE_FORMATS:
        if rule_format not in (None, output_format):
            raise click.UsageError(f"--format {output_format} contradicts --rules {rule_format}")
        click.echo(
            f"toolkit generate: --format {output_format} is deprecated; "
            f"use --rules {output_format}",
            err=True,
        )
        rule_format, output_format = output_format, "text"
    result = _Result(output_format == "json", catalog_name(catalog_file), out_dir, check)
    try:
        catalog = load_catalog_argument(catalog_file)
    except CatalogError as error:
        result.fail(error.problems)
    options = GenerateOptions(
        templates_dir,
        RuleFormat(rule_format or RuleFormat.PROMETHEUS.value),
        provisioning_path,
        DashboardMode(dashboard_mode),
    )
    try:
        files = generate(catalog, options)
    except TemplateError as error:
        result.fail([Problem(error.template, error.line, None, "", error.reason)], str(error))
    except ValidationError as error:
        result.fail([Problem(error.path, None, None, "", error.problem)], str(error))
    try:
        if check:
            result.check(catalog, files, catalog_file)
        else:
            write_output(out_dir, files)
    except OSError as error:
        # A write names the staging directory (a temporary name): name --out instead.
        file = str(error.filename) if check and error.filename is not None else str(out_dir)
        reason = (error.strerror or str(error)).lower()
        message = f"cannot {'read' if check else 'write'} the output: {reason}"
        result.fail([Problem(file, None, None, "", message)], f"{file}: {message}")
    result.written(catalog, files)


class _Result:
    """What ``generate`` prints: text lines, or one JSON document (``--format json``)."""

    def __init__(self, as_json: bool, catalog: str, out_dir: Path, check: bool) -> None:
        self.as_json = as_json
        self.document: dict[str, Any] = {
            "catalog": catalog,
            "out": str(out_dir),
            "check": check,
            "written": False,
            "services": 0,
            "files": [],
            "stale": [],
            "problems": [],
        }

    def fail(self, problems: Sequence[Problem], line: str | None = None) -> NoReturn:
        """Report ``problems`` and exit 2: as one JSON document, as ``toolkit generate:
        LINE``, or (without ``line``: the catalog's) as ``toolkit catalog validate`` does."""
        if self.as_json:
            self._print(problems=[asdict(problem) for problem in problems])
        elif line is not None:
            click.echo(f"toolkit generate: {one_line(line)}", err=True)
        else:
            for problem in problems:
                click.echo(str(problem), err=True)
            count = len(problems)
            noun = "problem" if count == 1 else "problems"
            click.echo(f"{self.document['catalog']}: {count} {noun} — invalid", err=True)
        raise SystemExit(INVALID)

    def check(self, catalog: Catalog, files: dict[str, str], catalog_file: Path) -> NoReturn:
        """``--check``: exit 0 when the files on disk are ``files``, else 1 with the diff."""
        out_dir = Path(self.document["out"])
        stale = stale_files(out_dir, files)
        if self.as_json:
            self._print(services=len(catalog.services), files=sorted(files), stale=stale)
        elif stale:
            click.echo(diff_output(out_dir, files), nl=False)
            click.echo(
                f"{out_dir}: generated files are stale; run `toolkit generate "
                f"{catalog_file} --out {out_dir}`",
                err=True,
            )
        else:
            click.echo(f"{out_dir}: {len(files)} generated files up to date")
        raise SystemExit(STALE if stale else 0)

    def written(self, catalog: Catalog, files: dict[str, str]) -> None:
        """The files were written."""
        services = len(catalog.services)
        if self.as_json:
            self._print(written=True, services=services, files=sorted(files))
        else:
            out_dir = self.document["out"]
            click.echo(f"{out_dir}: wrote {len(files)} files for {services} services")

    def _print(self, **fields: Any) -> None:
        click.echo(json.dumps({**self.document, **fields}, indent=2, ensure_ascii=False))
