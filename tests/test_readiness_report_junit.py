"""Tests for toolkit.readiness.report.junit: JUnit XML for CI systems."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests._readiness_reports import sample_report
from toolkit.readiness.report import render_junit


def test_junit_has_a_suite_per_service_and_a_case_per_check() -> None:
    """Failures become <failure>, skips <skipped>, warnings pass with <system-out>."""
    root = ET.fromstring(render_junit(sample_report()))
    assert (root.tag, root.get("tests"), root.get("failures"), root.get("skipped")) == (
        "testsuites",
        "8",
        "1",
        "1",
    )
    orders = root.find("testsuite[@name='orders']")
    assert orders is not None
    cases = {case.get("name"): case for case in orders.findall("testcase")}
    assert list(cases) == ["logs.json", "metrics.routes", "health.livez", "ownership"]
    failure = cases["health.livez"].find("failure")
    assert failure is not None
    assert failure.get("message") == "GET /livez returned 404"
    assert failure.text == (
        "GET /livez returned 404\n"
        "fix: enable health endpoints: /livez and /readyz answering application/health+json"
    )
    skipped = cases["ownership"].find("skipped")
    assert skipped is not None and skipped.get("message") == "skipped: no catalog"
    out = cases["metrics.routes"].find("system-out")
    assert out is not None and out.text is not None and out.text.startswith("warning: raw <path>")
    assert cases["logs.json"].get("classname") == "readiness.orders"
