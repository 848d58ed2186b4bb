"""Health endpoint checks: ``/livez`` and ``/readyz`` as draft-inadarei-api-health-check says.

The body is ``application/health+json`` with a ``status`` of ``pass``, ``warn`` or
``fail`` (``ok``/``up`` and ``error``/``down`` are the draft's accepted aliases); pass and
warn answer 2xx-3xx, fail 4xx-5xx.
"""

from __future__ import annotations

import json

from toolkit import semconv
from toolkit.readiness import checks as c
from toolkit.readiness.model import Check

PASSING = {"pass", "ok", "up", "warn"}
FAILING = {"fail", "error", "down"}


def check_health(
    spec: c.CheckSpec, path: str, status_code: int | None, content_type: str, body: bytes
) -> Check:
    """One health endpoint's check; ``status_code`` is ``None`` when the call failed."""
    where = f"GET {path}"
    if status_code is None:
        return spec.failed(f"{where} failed: no response")
    if status_code == 404:
        return spec.failed(f"{where} returned 404")
    media = content_type.split(";")[0].strip().lower()
    if media != semconv.HEALTH_CONTENT_TYPE:
        return spec.failed(
            f"{where} returned {status_code} {media or 'without a content type'}, "
            f"not {semconv.HEALTH_CONTENT_TYPE}"
        )
    try:
        document = json.loads(body)
    except ValueError:
        return spec.failed(f"{where}: the body is not JSON")
    status = document.get("status") if isinstance(document, dict) else None
    if not isinstance(status, str) or status.lower() not in PASSING | FAILING:
        return spec.failed(f"{where}: body has no status of pass, warn or fail")
    status = status.lower()
    ok_code = 200 <= status_code < 400
    if (status in PASSING) != ok_code:
        return spec.failed(f"{where}: status {status} with HTTP {status_code}")
    if status in FAILING:
        return spec.failed(
            f"{where}: status {status} (HTTP {status_code})",
            "the service says it is unhealthy: see the body's checks",
        )
    if status == "warn":
        return spec.warned(f"{where}: status warn (HTTP {status_code})", "see the body's checks")
    return spec.passed(f"{where}: {status_code} {semconv.HEALTH_CONTENT_TYPE}, status {status}")
