"""``--html FILE``: one self-contained page (no scripts, no external assets).

It shows when and by which toolkit (and commit) it was made, the services-by-checks
matrix (failing services first), each service's checks with reasons and fixes, and the
split assessment when there is one. This module prepares what goes on the page
(each cell's symbol, class and tooltip, the verdicts, the summary line); the bundled
template ``readiness-report.html.j2`` lays it out, and a directory of templates given
as ``templates`` may replace it.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from markupsafe import Markup

from toolkit.generate.render import make_environment, render
from toolkit.readiness.checks import LEVEL_NAMES, READY_LEVEL
from toolkit.readiness.model import Assessment, Check, Report, ServiceReport, Status
from toolkit.readiness.report.provenance import Provenance
from toolkit.readiness.report.text import summary_line

TEMPLATE = "readiness-report.html.j2"

_SYMBOL = {
    Status.PASS: "✓",
    Status.FAIL: "✗",
    Status.WARN: "!",
    Status.SKIPPED: "-",
    Status.NOT_MEASURED: "?",
}


def _escape(value: Any) -> Any:
    """Escape a string as :func:`html.escape` does, before autoescape sees it.

    Autoescape escapes the same characters but spells quotes ``&#34;`` and ``&#39;``;
    this keeps the page's ``&quot;`` and ``&#x27;``. Markup (a macro's output) and
    non-strings are left to autoescape.
    """
    if isinstance(value, str) and not isinstance(value, Markup):
        return Markup(escape(value))
    return value


@dataclass(frozen=True)
class Cell:
    """A matrix cell: CSS class (the status), tooltip and symbol."""

    css: str
    title: str
    symbol: str


@dataclass(frozen=True)
class Verdict:
    """A service's verdict: CSS class (``ready`` or ``not-ready``) and text."""

    css: str
    text: str


@dataclass(frozen=True)
class CheckRow:
    """A row of a service's table of checks."""

    css: str
    symbol: str
    status: str
    level: int
    id: str
    title: str
    reason: str
    fix: str


@dataclass(frozen=True)
class ServiceSection:
    """A service: its matrix row and its section; ``level`` is text (``static only``)."""

    name: str
    url: str | None
    level: str
    required_level: int
    ready: bool
    verdict: Verdict
    cells: list[Cell]
    checks: list[CheckRow]


@dataclass(frozen=True)
class SignRow:
    """A row of the split assessment: CSS class (fail: a sign of splitting too early)."""

    css: str
    question: str
    answer: str
    reason: str


@dataclass(frozen=True)
class AssessmentSection:
    """The split assessment: its verdict, summary and one row per question."""

    verdict: str
    summary: str
    signs: list[SignRow]


@dataclass(frozen=True)
class Level:
    """A readiness level and its name."""

    number: int
    name: str


@dataclass(frozen=True)
class Column:
    """A check in the matrix head."""

    level: int
    id: str


@dataclass(frozen=True)
class LegendEntry:
    """A status in the legend."""

    css: str
    symbol: str
    label: str


def _cell(check: Check | None) -> Cell:
    if check is None:
        return Cell("not_measured", "not run", "·")
    title = f"{check.id}: {check.status.value} — {check.reason}"
    return Cell(check.status.value, title, _SYMBOL[check.status])


def _verdict(service: ServiceReport) -> Verdict:
    if service.level is None:
        if service.ready:
            return Verdict("ready", "static checks pass")
        return Verdict("not-ready", "static checks fail")
    if service.ready:
        return Verdict("ready", "ready")
    return Verdict("not-ready", f"not ready (needs level {service.required_level})")


def _columns(report: Report) -> list[Column]:
    """Every check of any service, by level, else in first-seen order."""
    ids: list[tuple[int, str]] = []
    for service in report.services:
        for check in service.checks:
            if (check.level, check.id) not in ids:
                ids.append((check.level, check.id))
    ids.sort(key=lambda item: item[0])  # stable: keeps each service's canonical order
    return [Column(level, check_id) for level, check_id in ids]


def _service(service: ServiceReport, columns: list[Column]) -> ServiceSection:
    found = {check.id: check for check in service.checks}
    checks = [
        CheckRow(
            css=check.status.value,
            symbol=_SYMBOL[check.status],
            status=check.status.value,
            level=check.level,
            id=check.id,
            title=check.title,
            reason=check.reason,
            fix=check.fix,
        )
        for check in service.checks
    ]
    return ServiceSection(
        name=service.service,
        url=service.url,
        level="static only" if service.level is None else str(service.level),
        required_level=service.required_level,
        ready=service.ready,
        verdict=_verdict(service),
        cells=[_cell(found.get(column.id)) for column in columns],
        checks=checks,
    )


def _assessment(assessment: Assessment) -> AssessmentSection:
    signs = [
        SignRow(
            css="not_measured" if sign.early is None else ("fail" if sign.early else "pass"),
            question=sign.question,
            answer=sign.answer,
            reason=sign.reason,
        )
        for sign in assessment.signs
    ]
    return AssessmentSection(assessment.verdict, assessment.summary, signs)


def html_context(report: Report, provenance: Provenance | None = None) -> dict[str, Any]:
    """What the template receives (documented in docs/readiness.md).

    ``provenance`` defaults to :meth:`Provenance.detect` (now, the current commit).
    """
    columns = _columns(report)
    made = provenance if provenance is not None else Provenance.detect()
    # Failing services first: they are what the reader has to act on.
    services = sorted(report.services, key=lambda service: service.ready)
    return {
        "title": report.title,
        "generated_at": made.timestamp,
        "version": made.version,
        "commit": made.commit,
        "summary": summary_line(report),
        "ready_level": READY_LEVEL,
        "levels": [Level(number, name) for number, name in LEVEL_NAMES.items()],
        "legend": [
            LegendEntry(status.value, _SYMBOL[status], status.value.replace("_", " "))
            for status in Status
        ],
        "columns": columns,
        "services": [_service(service, columns) for service in services],
        "assessment": None if report.assessment is None else _assessment(report.assessment),
    }


def render_html(
    report: Report, templates: Path | None = None, *, provenance: Provenance | None = None
) -> str:
    """The report as one HTML page.

    ``templates``: a directory whose ``readiness-report.html.j2`` replaces the bundled
    one. ``provenance``: when, by which version and at which commit (default: detected
    now; pass one for a reproducible page). Raises
    :class:`toolkit.generate.render.TemplateError` (naming the template, the line and
    the cause) when the template does not load or render.
    """
    env = make_environment(templates, autoescape=True)
    env.finalize = _escape  # before the first template loads: compiled into each output
    return render(env, TEMPLATE, html_context(report, provenance))
