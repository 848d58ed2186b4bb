"""Tests for toolkit.readiness.report.data: the ``--format json`` document."""

from __future__ import annotations

import json

from tests._readiness_reports import sample_report
from toolkit.readiness.report import render_json


def test_json_report_carries_every_field() -> None:
    """Services with level, requirement, readiness and checks; levels; the assessment."""
    document = json.loads(render_json(sample_report()))
    assert document["title"] == "Readiness of the shop"
    assert document["ready"] is False
    assert document["ready_level"] == 3
    assert document["levels"] == {
        "1": "logs and correlation",
        "2": "metrics, tracing and health",
        "3": "dashboards, alerts and SLOs",
    }
    orders = document["services"][0]
    assert {k: orders[k] for k in ("service", "url", "level", "required_level", "ready")} == {
        "service": "orders",
        "url": "http://127.0.0.1:8001",
        "level": 1,
        "required_level": 3,
        "ready": False,
    }
    assert orders["checks"][2] == {
        "id": "health.livez",
        "level": 2,
        "title": "/livez answers health+json",
        "status": "fail",
        "reason": "GET /livez returned 404",
        "fix": "enable health endpoints: /livez and /readyz answering application/health+json",
    }
    assert document["assessment"]["verdict"] == "not yet"
    assert document["assessment"]["signs"][0] == {
        "question": "team size",
        "answer": "6 engineers",
        "early": True,
        "reason": "fewer than 10: one team can own one codebase",
    }


def test_json_without_assessment_has_null() -> None:
    """No assessment: ``"assessment": null``."""
    assert json.loads(render_json(sample_report(with_assessment=False)))["assessment"] is None
