"""``toolkit generate``: dashboards, alert rules and their tests from a service catalog."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.catalog import Catalog, CatalogError, load_catalog
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
from toolkit.generate.pipeline import DEFAULT_PROVISIONING_PATH

STALE = 1
INVALID = 2


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
    "--format",
    "rule_format",
    type=click.Choice([choice.value for choice in RuleFormat]),
    default=RuleFormat.PROMETHEUS.value,
    show_default=True,
    help="Plain Prometheus rule files (with promtool tests) or PrometheusRule resources.",
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
    rule_format: str,
    provisioning_path: str,
    check: bool,
) -> None:
    """Generate Grafana dashboards and Prometheus rules for every service in CATALOG."""
    catalog = _load(catalog_file)
    options = GenerateOptions(
        templates_dir, RuleFormat(rule_format), provisioning_path, DashboardMode(dashboard_mode)
    )
    try:
        files = generate(catalog, options)
    except (TemplateError, ValidationError) as error:
        click.echo(f"toolkit generate: {error}", err=True)
        raise SystemExit(INVALID) from None
    if check:
        diff = diff_output(out_dir, files)
        if diff:
            click.echo(diff, nl=False)
            click.echo(
                f"{out_dir}: generated files are stale; run `toolkit generate "
                f"{catalog_file} --out {out_dir}`",
                err=True,
            )
            raise SystemExit(STALE)
        click.echo(f"{out_dir}: {len(files)} generated files up to date")
        return
    write_output(out_dir, files)
    click.echo(f"{out_dir}: wrote {len(files)} files for {len(catalog.services)} services")


def _load(catalog_file: Path) -> Catalog:
    """Load the catalog or print its problems (as ``toolkit catalog validate`` does), exit 2."""
    try:
        return load_catalog(catalog_file)
    except CatalogError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        count = len(error.problems)
        noun = "problem" if count == 1 else "problems"
        click.echo(f"{catalog_file}: {count} {noun} — invalid", err=True)
        raise SystemExit(INVALID) from None
