"""A report as plain data: the ``--format json`` document, and the base of the others."""

from __future__ import annotations

import json
from typing import Any

from toolkit.readiness.checks import LEVEL_NAMES, READY_LEVEL
from toolkit.readiness.model import Assessment, Check, Report, ServiceReport


def check_data(check: Check) -> dict[str, Any]:
    """One check as a JSON object."""
    return {
        "id": check.id,
        "level": check.level,
        "title": check.title,
        "status": check.status.value,
        "reason": check.reason,
        "fix": check.fix,
    }


def service_data(service: ServiceReport) -> dict[str, Any]:
    """One service as a JSON object."""
    return {
        "service": service.service,
        "url": service.url,
        "level": service.level,
        "required_level": service.required_level,
        "ready": service.ready,
        "checks": [check_data(check) for check in service.checks],
    }


def assessment_data(assessment: Assessment) -> dict[str, Any]:
    """The split assessment as a JSON object."""
    return {
        "verdict": assessment.verdict,
        "summary": assessment.summary,
        "signs": [
            {"question": s.question, "answer": s.answer, "early": s.early, "reason": s.reason}
            for s in assessment.signs
        ],
    }


def report_data(report: Report) -> dict[str, Any]:
    """The whole report as a JSON object."""
    return {
        "title": report.title,
        "ready": report.ready,
        "ready_level": READY_LEVEL,
        "levels": {str(level): name for level, name in LEVEL_NAMES.items()},
        "services": [service_data(service) for service in report.services],
        "assessment": assessment_data(report.assessment) if report.assessment else None,
    }


def render_json(report: Report) -> str:
    """``--format json``: the report, indented, ending in a newline."""
    return json.dumps(report_data(report), indent=2, ensure_ascii=False) + "\n"
