"""``--html FILE``: one self-contained page (no scripts, no external assets).

It shows the services-by-checks matrix, each service's checks with reasons and fixes,
and the split assessment when there is one.
"""

from __future__ import annotations

from html import escape

from toolkit.readiness.checks import LEVEL_NAMES, READY_LEVEL
from toolkit.readiness.model import Assessment, Check, Report, ServiceReport, Status
from toolkit.readiness.report.text import summary_line

_SYMBOL = {
    Status.PASS: "✓",
    Status.FAIL: "✗",
    Status.WARN: "!",
    Status.SKIPPED: "-",
    Status.NOT_MEASURED: "?",
}
_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d232a}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.matrix td.cell{text-align:center;font-weight:bold;min-width:1.6rem}
.matrix th.check{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}
.pass{background:#dafbe1;color:#116329}.fail{background:#ffebe9;color:#a40e26}
.warn{background:#fff8c5;color:#7d4e00}.skipped,.not_measured{background:#f6f8fa;color:#57606a}
.ready{color:#116329;font-weight:bold}.not-ready{color:#a40e26;font-weight:bold}
.ready,.not-ready{white-space:nowrap}
.fix{color:#57606a}.legend span{padding:0 .4rem;margin-right:.3rem}
"""


def _status_cell(check: Check | None) -> str:
    if check is None:
        return '<td class="cell not_measured" title="not run">·</td>'
    title = escape(f"{check.id}: {check.status.value} — {check.reason}")
    status = check.status.value
    return f'<td class="cell {status}" title="{title}">{_SYMBOL[check.status]}</td>'


def _level(service: ServiceReport) -> str:
    return "static only" if service.level is None else str(service.level)


def _verdict(service: ServiceReport) -> str:
    if service.level is None:
        if service.ready:
            return '<span class="ready">static checks pass</span>'
        return '<span class="not-ready">static checks fail</span>'
    if service.ready:
        return '<span class="ready">ready</span>'
    return f'<span class="not-ready">not ready (needs level {service.required_level})</span>'


def _matrix(report: Report) -> str:
    ids: list[tuple[int, str]] = []
    for service in report.services:
        for check in service.checks:
            if (check.level, check.id) not in ids:
                ids.append((check.level, check.id))
    ids.sort(key=lambda item: item[0])  # stable: keeps each service's canonical order
    head = "".join(
        f'<th class="check" scope="col">L{level} {escape(check_id)}</th>' for level, check_id in ids
    )
    rows = []
    for service in report.services:
        found = {check.id: check for check in service.checks}
        cells = "".join(_status_cell(found.get(check_id)) for _, check_id in ids)
        rows.append(
            f'<tr><th scope="row"><a href="#svc-{escape(service.service)}">'
            f"{escape(service.service)}</a></th><td>{_level(service)}</td>"
            f"<td>{_verdict(service)}</td>{cells}</tr>"
        )
    return (
        '<table class="matrix"><thead><tr><th>service</th><th>level</th><th>verdict</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _details(service: ServiceReport) -> str:
    rows = []
    for check in service.checks:
        fix = f'<div class="fix">fix: {escape(check.fix)}</div>' if check.fix else ""
        rows.append(
            f'<tr><td class="{check.status.value}">{_SYMBOL[check.status]} '
            f"{escape(check.status.value)}</td><td>L{check.level}</td>"
            f"<td>{escape(check.id)}<br><small>{escape(check.title)}</small></td>"
            f"<td>{escape(check.reason)}{fix}</td></tr>"
        )
    url = f" — {escape(service.url)}" if service.url else ""
    return (
        f'<h2 id="svc-{escape(service.service)}">{escape(service.service)}{url}</h2>'
        f"<p>Level {_level(service)} of {READY_LEVEL}: {_verdict(service)}</p>"
        "<table><thead><tr><th>status</th><th>level</th><th>check</th><th>reason</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _assessment(assessment: Assessment) -> str:
    rows = []
    for sign in assessment.signs:
        css = "not_measured" if sign.early is None else ("fail" if sign.early else "pass")
        rows.append(
            f'<tr><td class="{css}">{escape(sign.question)}</td><td>{escape(sign.answer)}</td>'
            f"<td>{escape(sign.reason)}</td></tr>"
        )
    return (
        '<h2 id="assessment">Split assessment</h2>'
        f"<p><strong>{escape(assessment.summary)}</strong></p>"
        "<table><thead><tr><th>question</th><th>answer</th><th>what it says</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def render_html(report: Report) -> str:
    """The report as one HTML page."""
    levels = "".join(
        f"<li>Level {level}: {escape(name)}</li>" for level, name in LEVEL_NAMES.items()
    )
    legend = "".join(
        f'<span class="{status.value}">{_SYMBOL[status]} {status.value.replace("_", " ")}</span>'
        for status in Status
    )
    body = [f"<h1>{escape(report.title)}</h1>"]
    if report.services:
        body += [
            f"<p>{escape(summary_line(report))}. A service's level is the highest whose "
            "checks, and every lower level's, all pass.</p>",
            f"<ul>{levels}</ul>",
            f'<p class="legend">{legend}</p>',
            _matrix(report),
            *(_details(service) for service in report.services),
        ]
    if report.assessment is not None:
        body.append(_assessment(report.assessment))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(report.title)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
