"""Tests for toolkit.readiness.report.text: the terminal table."""

from __future__ import annotations

from tests._readiness_reports import sample_report
from toolkit.readiness.checks import OWNERSHIP
from toolkit.readiness.levels import service_report
from toolkit.readiness.model import Report
from toolkit.readiness.report import render_text


def test_plain_text_shows_levels_checks_fixes_and_the_verdict() -> None:
    """Without colour: every service, each check with its reason, fixes under failures."""
    text = render_text(sample_report())
    assert text.splitlines()[:7] == [
        "orders  http://127.0.0.1:8001: level 1 (logs and correlation) — NOT READY (needs level 3)",
        "  ok   L1 logs.json       12 JSON lines from orders.log",
        '  warn L2 metrics.routes  raw <path> & "quotes"',
        "                          fix: label http_route with the route template (/items/{id}); "
        "unmatched paths get one value",
        "  FAIL L2 health.livez    GET /livez returned 404",
        "                          fix: enable health endpoints: /livez and /readyz answering "
        "application/health+json",
        "  skip L3 ownership       no catalog",
    ]
    assert "users: level 3 (dashboards, alerts and SLOs) — ready" in text
    assert "1 of 2 services ready (a service may be split out at level 3)" in text
    assert "Split assessment: not yet: 6 engineers, peak 800 req/s on a server measured at " in text
    assert "\x1b[" not in text


def test_colour_only_when_asked() -> None:
    """``color=True`` adds ANSI escapes (the CLI asks only on a TTY)."""
    assert "\x1b[31m" in render_text(sample_report(), color=True)


def test_static_only_summary_says_what_was_checked() -> None:
    """A report without levels counts services that pass their static checks."""
    report = Report((service_report("a", [OWNERSHIP.passed("x")], 3, static_only=True),))
    assert render_text(report).splitlines()[-1] == (
        "1 of 1 services pass their static checks (the level-3 prerequisites; "
        "toolkit probe measures the levels below)"
    )
