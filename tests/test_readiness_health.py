"""Tests for toolkit.readiness.probe.health: /livez and /readyz as health+json."""

from __future__ import annotations

import pytest

from toolkit.readiness import checks as c
from toolkit.readiness.model import Status
from toolkit.readiness.probe.health import check_health

HEALTH = "application/health+json"


@pytest.mark.parametrize(
    ("code", "content_type", "body", "status", "reason"),
    [
        (
            200,
            HEALTH,
            b'{"status":"pass"}',
            Status.PASS,
            "GET /livez: 200 application/health+json, status pass",
        ),
        (
            200,
            HEALTH + "; charset=utf-8",
            b'{"status":"ok"}',
            Status.PASS,
            "GET /livez: 200 application/health+json, status ok",
        ),
        (200, HEALTH, b'{"status":"warn"}', Status.WARN, "GET /livez: status warn (HTTP 200)"),
        (503, HEALTH, b'{"status":"fail"}', Status.FAIL, "GET /livez: status fail (HTTP 503)"),
        (200, HEALTH, b'{"status":"fail"}', Status.FAIL, "GET /livez: status fail with HTTP 200"),
        (503, HEALTH, b'{"status":"pass"}', Status.FAIL, "GET /livez: status pass with HTTP 503"),
        (404, "text/plain", b"Not Found", Status.FAIL, "GET /livez returned 404"),
        (
            200,
            "application/json",
            b'{"status":"pass"}',
            Status.FAIL,
            "GET /livez returned 200 application/json, not application/health+json",
        ),
        (200, HEALTH, b"pass", Status.FAIL, "GET /livez: the body is not JSON"),
        (
            200,
            HEALTH,
            b'{"state":"pass"}',
            Status.FAIL,
            "GET /livez: body has no status of pass, warn or fail",
        ),
        (None, "", b"", Status.FAIL, "GET /livez failed: no response"),
    ],
)
def test_health_response_is_judged_as_the_draft_says(
    code: int | None, content_type: str, body: bytes, status: Status, reason: str
) -> None:
    """Status code, media type and body status must agree (draft-inadarei-api-health-check)."""
    check = check_health(c.HEALTH_LIVEZ, "/livez", code, content_type, body)
    assert (check.status, check.reason) == (status, reason)


def test_missing_endpoint_names_the_fix() -> None:
    """A 404 says to enable the health endpoints."""
    check = check_health(c.HEALTH_READYZ, "/readyz", 404, "", b"")
    assert (
        check.fix == "enable health endpoints: /livez and /readyz answering application/health+json"
    )
