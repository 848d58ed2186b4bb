"""``toolkit check CATALOG``: the static readiness checks of every service in a catalog."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any, TypeVar

import click

from toolkit._terminal import progress
from toolkit.generate import DashboardMode, GenerateOptions, RuleFormat
from toolkit.generate.render import TemplateError
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
from toolkit.readiness.report import render_html
from toolkit.readiness.static import StaticOptions, check_catalog

F = TypeVar("F", bound=Callable[..., Any])

# ``--templates DIR`` of the commands that write ``--html`` (check, probe, assess).
templates_option = click.option(
    "--templates",
    "templates_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory whose readiness-report.html.j2 replaces the bundled --html template.",
)
# check and probe compare the generated files with what the catalog generates: with the
# options `toolkit generate` was given. One --templates directory serves both purposes.
check_templates_option = click.option(
    "--templates",
    "templates_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory of template overrides, by file name: readiness-report.html.j2 for "
    "--html, and the alert-texts.j2 and runbook.md.j2 the files were generated with "
    "(as toolkit generate --templates).",
)


def generation_options(command: F) -> F:
    """``--dashboards`` and ``--rules``: as the files were generated (toolkit generate)."""
    command = click.option(
        "--rules",
        "rule_format",
        type=click.Choice([choice.value for choice in RuleFormat]),
        default=RuleFormat.PROMETHEUS.value,
        show_default=True,
        help="The rule format the files were generated with (toolkit generate --rules).",
    )(command)
    return click.option(
        "--dashboards",
        "dashboard_mode",
        type=click.Choice([choice.value for choice in DashboardMode]),
        default=DashboardMode.PER_SERVICE.value,
        show_default=True,
        help="The dashboard mode the files were generated with (toolkit generate --dashboards).",
    )(command)


def generation(
    dashboard_mode: str, rule_format: str, templates_dir: Path | None
) -> GenerateOptions:
    """The ``GenerateOptions`` the files on disk were generated with, as the flags say."""
    return GenerateOptions(
        templates=templates_dir,
        rule_format=RuleFormat(rule_format),
        dashboards=DashboardMode(dashboard_mode),
    )


def emit_report(
    command: str,
    report: Report,
    output_format: str,
    junit_file: Path | None,
    html_file: Path | None,
    templates_dir: Path | None,
) -> None:
    """:func:`emit`, with the ``--html`` page rendered from ``templates_dir``.

    The page is rendered first: a template error prints one line (template, line,
    cause) and exits 2 before anything is printed or written.
    """
    page = None
    if html_file is not None:
        try:
            page = render_html(report, templates_dir)
        except TemplateError as error:
            click.echo(f"toolkit {command}: {error}", err=True)
            raise SystemExit(EXIT_USAGE) from None
    emit(report, output_format, junit_file, None)
    if html_file is not None and page is not None:
        html_file.parent.mkdir(parents=True, exist_ok=True)
        html_file.write_text(page, encoding="utf-8")
        click.echo(f"HTML report written to {html_file}", err=True)


@click.command(name="check")
@click.argument("catalog_file", metavar="CATALOG", type=click.Path(path_type=Path))
@generated_option
@click.option(
    "--service",
    "only",
    multiple=True,
    help="Check only this service (repeatable).",
)
@generation_options
@require_level_option
@report_options
@check_templates_option
def check_command(
    catalog_file: Path,
    generated_dir: Path,
    only: tuple[str, ...],
    dashboard_mode: str,
    rule_format: str,
    require_level: int | None,
    output_format: str,
    junit_file: Path | None,
    html_file: Path | None,
    templates_dir: Path | None,
) -> None:
    """Check every service of CATALOG from files alone: SLOs, owners, dashboards, rules.

    The files are compared with what the catalog generates: give --dashboards, --rules
    and --templates as toolkit generate was given them. Exit 0 when no gated service
    fails a static check, 1 otherwise, 2 on bad input. These are the level-3
    prerequisites; `toolkit probe` measures the levels below.
    """
    catalog = load_catalog_or_exit("check", catalog_file)
    names = [service.name for service in catalog.services]
    unknown = [name for name in only if name not in names]
    if unknown:
        click.echo(f"toolkit check: not in {catalog_file}: {', '.join(unknown)}", err=True)
        raise SystemExit(EXIT_USAGE)
    options = StaticOptions.detect(
        generated_dir, generation(dashboard_mode, rule_format, templates_dir)
    )
    count = len(catalog.services)
    running = f"running promtool for {count} service{'' if count == 1 else 's'}"
    with progress(running) if options.promtool else nullcontext():
        results = check_catalog(catalog, options)
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
    emit_report("check", report, output_format, junit_file, html_file, templates_dir)
    raise SystemExit(exit_status(report))
