"""A small readiness report the report tests render in every format."""

from __future__ import annotations

from toolkit.catalog import SplitAnswers
from toolkit.readiness.assess import AssessmentInput, assess
from toolkit.readiness.checks import HEALTH_LIVEZ, LOGS_JSON, METRICS_ROUTES, OWNERSHIP
from toolkit.readiness.levels import service_report
from toolkit.readiness.model import Report


def sample_report(with_assessment: bool = True) -> Report:
    """Two services: ``orders`` at level 1 (health missing), ``users`` ready at level 3."""
    orders = service_report(
        "orders",
        [
            LOGS_JSON.passed("12 JSON lines from orders.log"),
            HEALTH_LIVEZ.failed("GET /livez returned 404"),
            METRICS_ROUTES.warned('raw <path> & "quotes"'),
            OWNERSHIP.skipped("no catalog"),
        ],
        3,
        "http://127.0.0.1:8001",
    )
    users = service_report(
        "users",
        [
            LOGS_JSON.passed("ok"),
            HEALTH_LIVEZ.passed("ok"),
            METRICS_ROUTES.passed("ok"),
            OWNERSHIP.passed("team identity"),
        ],
        3,
    )
    assessment = None
    if with_assessment:
        answers = SplitAnswers(6, 800.0, 9000.0, True, None)
        assessment = assess(AssessmentInput(answers, observability_level=1))
    return Report((orders, users), "Readiness of the shop", assessment)
