"""Health endpoints: ``/livez`` and ``/readyz`` as ``application/health+json``.

The toolkit middlewares serve them (``toolkit.instrument(app, health_checks={"db":
ping_db})``); checks run concurrently, each with a timeout, and their results are also
exported as ``toolkit_health_check_status{check}``.
"""

from __future__ import annotations

from toolkit.health._checks import url_check
from toolkit.health._endpoint import (
    ENV_HEALTH_TIMEOUT,
    ENV_LIVEZ_PATH,
    ENV_READYZ_PATH,
    HealthEndpoints,
)
from toolkit.health._metrics import HealthMetrics, health_metrics
from toolkit.health._model import (
    CheckFunction,
    CheckOutcome,
    CheckReport,
    CheckResult,
    CheckSpec,
    HealthCheck,
    HealthReport,
    Status,
)
from toolkit.health._runner import DEFAULT_TIMEOUT, HealthRunner

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_HEALTH_TIMEOUT",
    "ENV_LIVEZ_PATH",
    "ENV_READYZ_PATH",
    "CheckFunction",
    "CheckOutcome",
    "CheckReport",
    "CheckResult",
    "CheckSpec",
    "HealthCheck",
    "HealthEndpoints",
    "HealthMetrics",
    "HealthReport",
    "HealthRunner",
    "Status",
    "health_metrics",
    "url_check",
]
