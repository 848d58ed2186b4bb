"""``toolkit assess``: are we distributing too early? A verdict with its numbers."""

from __future__ import annotations

import json
from pathlib import Path

import click

from toolkit.catalog import SplitAnswers
from toolkit.cli.check import emit_report, templates_option
from toolkit.readiness.assess import AssessmentInput, assess, merge_answers
from toolkit.readiness.checks import READY_LEVEL
from toolkit.readiness.model import VERDICT_READY, Report
from toolkit.readiness.output import EXIT_USAGE, load_catalog_or_exit, report_options


def level_from_report(path: Path) -> tuple[int | None, set[str]]:
    """The lowest level among the services of a ``--format json`` report (``None``: none),
    and the names of the services that have a level."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        rated = [(s.get("service"), s["level"]) for s in document["services"]]
        rated = [(name, level) for name, level in rated if level is not None]
        if any(type(level) is not int for _, level in rated):
            raise TypeError("a level is not a whole number")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        click.echo(f"toolkit assess: {path}: not a readiness JSON report ({error})", err=True)
        raise SystemExit(EXIT_USAGE) from None
    level = min((level for _, level in rated), default=None)
    return level, {str(name) for name, _ in rated if name is not None}


@click.command(name="assess")
@click.argument(
    "catalog_file", metavar="[CATALOG]", required=False, type=click.Path(path_type=Path)
)
@click.option("--team-size", type=click.IntRange(min=1), help="Engineers on the system.")
@click.option("--peak-rps", type=click.FloatRange(min=0, min_open=True), help="Peak req/s today.")
@click.option(
    "--capacity-rps",
    type=click.FloatRange(min=0, min_open=True),
    help="Req/s one server sustained in a load test.",
)
@click.option(
    "--deploys-automated/--manual-deploys",
    default=None,
    help="Whether a deploy is one automated pipeline run.",
)
@click.option("--timeline", help="The dated event that needs more scale.")
@click.option(
    "--observability-level",
    type=click.IntRange(0, READY_LEVEL),
    help="Readiness level reached (default: the lowest in --report).",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A `toolkit probe/check --format json` report to take the level from.",
)
@report_options
@templates_option
def assess_command(
    catalog_file: Path | None,
    team_size: int | None,
    peak_rps: float | None,
    capacity_rps: float | None,
    deploys_automated: bool | None,
    timeline: str | None,
    observability_level: int | None,
    report_file: Path | None,
    output_format: str,
    junit_file: Path | None,
    html_file: Path | None,
    templates_dir: Path | None,
) -> None:
    """Weigh a split: team size, load against one server, observability, deploys, timeline.

    Answers come from the flags, else the catalog's `assessment` section. Exit 0 when the
    verdict is "split", 1 for "not yet" or "unknown", 2 on bad input.
    """
    catalog = None if catalog_file is None else load_catalog_or_exit("assess", catalog_file)
    from_catalog = None if catalog is None else catalog.assessment
    flags = SplitAnswers(team_size, peak_rps, capacity_rps, deploys_automated, timeline)
    level = observability_level
    unmeasured: tuple[str, ...] = ()
    if level is None and report_file is not None:
        level, measured = level_from_report(report_file)
        if catalog is not None and level is not None:
            # The report's level speaks only for the catalog's services it rates.
            unmeasured = tuple(s.name for s in catalog.services if s.name not in measured)
    given = AssessmentInput(merge_answers(from_catalog, flags), level, unmeasured)
    assessment = assess(given)
    report = Report((), "Split assessment", assessment)
    emit_report("assess", report, output_format, junit_file, html_file, templates_dir)
    raise SystemExit(0 if assessment.verdict == VERDICT_READY else 1)
