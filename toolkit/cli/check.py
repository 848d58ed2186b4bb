"""``toolkit check CATALOG``: the static readiness checks of every service in a catalog."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.readiness.assess import AssessmentInput, assess
from toolkit.readiness.levels import service_report
from toolkit.readiness.model import Report
from toolkit.readiness.output import (
    EXIT_USAGE,
    emit,
    exit_status,
    generated_option,
    load_catalog_or_exit,
    report_options,
    require_level_option,
    required_level,
)
from toolkit.readiness.static import StaticOptions, check_catalog


@click.command(name="check")
@click.argument("catalog_file", metavar="CATALOG", type=click.Path(path_type=Path))
@generated_option
@click.option(
    "--service",
    "only",
    multiple=True,
    help="Check only this service (repeatable).",
)
@require_level_option
@report_options
def check_command(
    catalog_file: Path,
    generated_dir: Path,
    only: tuple[str, ...],
    require_level: int | None,
    output_format: str,
    junit_file: Path | None,
    html_file: Path | None,
) -> None:
    """Check every service of CATALOG from files alone: SLOs, owners, dashboards, rules.

    Exit 0 when no gated service fails a static check, 1 otherwise, 2 on bad input.
    These are the level-3 prerequisites; `toolkit probe` measures the levels below.
    """
    catalog = load_catalog_or_exit("check", catalog_file)
    names = [service.name for service in catalog.services]
    unknown = [name for name in only if name not in names]
    if unknown:
        click.echo(f"toolkit check: not in {catalog_file}: {', '.join(unknown)}", err=True)
        raise SystemExit(EXIT_USAGE)
    results = check_catalog(catalog, StaticOptions.detect(generated_dir))
    services = tuple(
        service_report(
            service.name,
            results[service.name],
            required_level(require_level, service.gate),
            static_only=True,
        )
        for service in catalog.services
        if not only or service.name in only
    )
    assessment = None
    if catalog.assessment is not None:
        assessment = assess(AssessmentInput(catalog.assessment))
    report = Report(services, f"Static readiness checks of {catalog_file}", assessment)
    emit(report, output_format, junit_file, html_file)
    raise SystemExit(exit_status(report))
