"""The terminal report: one block per service, a summary line each; colour only on a TTY."""

from __future__ import annotations

import click

from toolkit.readiness.checks import LEVEL_NAMES, READY_LEVEL
from toolkit.readiness.model import Assessment, Report, ServiceReport, Status

_MARK = {
    Status.PASS: ("ok", "green"),
    Status.FAIL: ("FAIL", "red"),
    Status.WARN: ("warn", "yellow"),
    Status.SKIPPED: ("skip", "bright_black"),
    Status.NOT_MEASURED: ("n/m", "bright_black"),
}


def level_text(level: int | None) -> str:
    """``level 2 (metrics, tracing and health)``, ``level 0`` below the first."""
    if level is None:
        return "static checks only (the level needs toolkit probe)"
    name = LEVEL_NAMES.get(level)
    return f"level {level} ({name})" if name else f"level {level}"


def _service(service: ServiceReport, color: bool) -> list[str]:
    def paint(text: str, fg: str, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if color else text

    if service.level is None:
        good, bad = "static checks pass", "STATIC CHECKS FAIL"
    else:
        good, bad = "ready", f"NOT READY (needs level {service.required_level})"
    verdict = paint(good, "green", True) if service.ready else paint(bad, "red", True)
    where = f"  {service.url}" if service.url else ""
    lines = [
        f"{paint(service.service, 'white', True)}{where}: {level_text(service.level)} — {verdict}"
    ]
    width = max((len(check.id) for check in service.checks), default=0)
    for check in service.checks:
        word, fg = _MARK[check.status]
        lines.append(
            f"  {paint(f'{word:<4}', fg)} L{check.level} {check.id:<{width}}  {check.reason}"
        )
        if check.fix and check.status is not Status.PASS:
            lines.append(f"  {'':4} {'':2} {'':<{width}}  {paint('fix: ' + check.fix, fg)}")
    return lines


def _assessment(assessment: Assessment, color: bool) -> list[str]:
    head = f"Split assessment: {assessment.summary}"
    lines = [click.style(head, bold=True) if color else head]
    for sign in assessment.signs:
        mark = "?" if sign.early is None else ("!" if sign.early else "+")
        lines.append(f"  {mark} {sign.question}: {sign.answer} — {sign.reason}")
    return lines


def summary_line(report: Report) -> str:
    """``3 of 5 services ready (…)``, or how many pass their static checks."""
    ready = sum(1 for s in report.services if s.ready)
    total = len(report.services)
    if all(s.level is None for s in report.services):
        return (
            f"{ready} of {total} services pass their static checks (the level-{READY_LEVEL} "
            "prerequisites; toolkit probe measures the levels below)"
        )
    return f"{ready} of {total} services ready (a service may be split out at level {READY_LEVEL})"


def render_text(report: Report, *, color: bool = False) -> str:
    """The report as terminal text; ``color`` adds ANSI colours (use it on a TTY only)."""
    lines: list[str] = []
    for service in report.services:
        lines += _service(service, color)
        lines.append("")
    if report.services:
        lines.append(summary_line(report))
    if report.assessment is not None:
        if report.services:
            lines.append("")
        lines += _assessment(report.assessment, color)
    return "\n".join(lines) + "\n"
