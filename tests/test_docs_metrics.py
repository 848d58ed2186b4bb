"""docs/metrics.md lists every metric that toolkit/semconv.py names."""

from __future__ import annotations

import re
from pathlib import Path

from toolkit import semconv

DOC = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"
# Constants holding a metric or recording-rule name (not a label, header or event).
METRIC_PREFIXES = (
    "HTTP_SERVER_",
    "HTTP_CLIENT_",
    "CIRCUITBREAKER_",
    "IDEMPOTENCY_",
    "TELEMETRY_",
    "HEALTH_CHECK_",
    "RECORD_",
)
METRIC_NAME = re.compile(r"^[a-z_:]+$")


def metric_names() -> dict[str, str]:
    """Every metric-name constant of semconv, by constant name."""
    return {
        name: value
        for name, value in vars(semconv).items()
        if name.startswith(METRIC_PREFIXES)
        and isinstance(value, str)
        and METRIC_NAME.match(value)
        and not name.endswith(("_EVENT", "_HEADER"))
    }


def test_the_doc_lists_every_metric() -> None:
    """A metric added to semconv without a line in docs/metrics.md fails here."""
    text = DOC.read_text(encoding="utf-8")

    missing = {name: value for name, value in metric_names().items() if f"`{value}" not in text}

    assert missing == {}


def test_the_scan_finds_the_metrics() -> None:
    """The scan above really sees semconv's metrics (it cannot pass by finding none)."""
    names = set(metric_names().values())

    assert {
        "http_server_request_duration_seconds",
        "http_client_request_duration_seconds",
        "circuitbreaker_state",
        "idempotency_replays_total",
        "toolkit_telemetry_errors_total",
        "slo:sli_error:ratio_rate",
    } <= names
