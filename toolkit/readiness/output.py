"""What the readiness commands share: the required level, report output, exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from toolkit._terminal import color_enabled
from toolkit.catalog import Catalog, CatalogError, catalog_name, load_catalog_argument
from toolkit.readiness.checks import READY_LEVEL
from toolkit.readiness.model import Report
from toolkit.readiness.report import render_html, render_json, render_junit, render_text

EXIT_READY = 0
EXIT_NOT_READY = 1
EXIT_USAGE = 2
FORMATS = ("text", "json")

F = TypeVar("F", bound=Callable[..., Any])


def load_catalog_or_exit(command: str, path: Path) -> Catalog:
    """Load the catalog (``-``: standard input), or print its problems (as ``toolkit
    catalog validate``) and exit 2."""
    try:
        return load_catalog_argument(path)
    except CatalogError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        count = len(error.problems)
        noun = "problem" if count == 1 else "problems"
        click.echo(f"toolkit {command}: {catalog_name(path)}: {count} {noun} — invalid", err=True)
        raise SystemExit(EXIT_USAGE) from None


def required_level(flag: int | None, gate: int | None) -> int:
    """``--require-level`` wins over the catalog's ``gate``, which wins over level 3."""
    if flag is not None:
        return flag
    return gate if gate is not None else READY_LEVEL


def report_options(command: F) -> F:
    """The output options every readiness command takes."""
    options = [
        click.option(
            "--format",
            "output_format",
            type=click.Choice(FORMATS),
            default="text",
            show_default=True,
            help="What to print: a readable table, or the report as JSON.",
        ),
        click.option(
            "--junit",
            "junit_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Also write the report as JUnit XML (for CI systems).",
        ),
        click.option(
            "--html",
            "html_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Also write the report as one self-contained HTML page.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def require_level_option(command: F) -> F:
    """``--require-level N``."""
    return click.option(
        "--require-level",
        type=click.IntRange(1, READY_LEVEL),
        help=f"Level every service must reach (default: its catalog gate, else {READY_LEVEL}).",
    )(command)


def generated_option(command: F) -> F:
    """``--generated DIR``: where the generated dashboards/ and alert-rules/ are."""
    return click.option(
        "--generated",
        "generated_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="Directory holding the generated dashboards/ and alert-rules/.",
    )(command)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def emit(
    report: Report, output_format: str, junit_file: Path | None, html_file: Path | None
) -> None:
    """Print the report (colour as ``--color`` says) and write the requested files."""
    if output_format == "json":
        click.echo(render_json(report), nl=False)
    else:
        click.echo(render_text(report, color=color_enabled(sys.stdout)), nl=False)
    if junit_file is not None:
        _write(junit_file, render_junit(report))
    if html_file is not None:
        _write(html_file, render_html(report))
    for path, kind in ((junit_file, "JUnit XML"), (html_file, "HTML report")):
        if path is not None:
            click.echo(f"{kind} written to {path}", err=True)


def exit_status(report: Report) -> int:
    """0 when every service is ready, 1 otherwise."""
    return EXIT_READY if report.ready else EXIT_NOT_READY
