"""Readiness reports: terminal text, JSON, JUnit XML and a self-contained HTML page."""

from __future__ import annotations

from toolkit.readiness.report.data import render_json, report_data
from toolkit.readiness.report.html import render_html
from toolkit.readiness.report.junit import render_junit
from toolkit.readiness.report.provenance import Provenance
from toolkit.readiness.report.text import render_text

__all__ = [
    "Provenance",
    "render_html",
    "render_json",
    "render_junit",
    "render_text",
    "report_data",
]
