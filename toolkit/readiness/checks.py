"""Every readiness check: its id, level, title and the default way to fix it.

Levels follow the spirit of GitLab's service maturity model: level 1 is logs and
correlation, level 2 metrics, tracing and health, level 3 dashboards, alerts and SLOs.
A service may be split out once it reaches level 3.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.readiness.model import Check, Status

READY_LEVEL = 3
LEVEL_NAMES = {
    1: "logs and correlation",
    2: "metrics, tracing and health",
    3: "dashboards, alerts and SLOs",
}


@dataclass(frozen=True)
class CheckSpec:
    """What a check is: ``id``, ``level``, ``title`` and the usual ``fix``."""

    id: str
    level: int
    title: str
    fix: str

    def result(self, status: Status, reason: str, fix: str | None = None) -> Check:
        """This check's result; ``fix`` defaults to the spec's for fail/warn/not measured."""
        if fix is None:
            fix = "" if status in (Status.PASS, Status.SKIPPED) else self.fix
        return Check(self.id, self.level, self.title, status, reason, fix)

    def passed(self, reason: str) -> Check:
        """A pass."""
        return self.result(Status.PASS, reason)

    def failed(self, reason: str, fix: str | None = None) -> Check:
        """A failure."""
        return self.result(Status.FAIL, reason, fix)

    def warned(self, reason: str, fix: str | None = None) -> Check:
        """A warning."""
        return self.result(Status.WARN, reason, fix)

    def skipped(self, reason: str) -> Check:
        """Does not apply, or its prerequisite failed."""
        return self.result(Status.SKIPPED, reason)

    def not_measured(self, reason: str, fix: str | None = None) -> Check:
        """Could not be measured here."""
        return self.result(Status.NOT_MEASURED, reason, fix)


INSTRUMENT = "wrap the app with toolkit.instrument(app, service=...)"

# --- level 1: logs and correlation (live) -------------------------------------------------
CORRELATION_ECHO = CheckSpec(
    "correlation.echo", 1, "valid correlation ID echoed unchanged", INSTRUMENT
)
CORRELATION_REPLACE = CheckSpec(
    "correlation.replace",
    1,
    "malicious correlation IDs replaced",
    "validate incoming correlation IDs (length, charset) and generate a new one when invalid",
)
LOGS_JSON = CheckSpec(
    "logs.json",
    1,
    "logs are JSON lines",
    "call toolkit.logs.configure_logging(service=...); run uvicorn without its plain-text "
    "access lines and with toolkit's logging configuration "
    "(uvicorn --no-access-log --log-config FILE, FILE: toolkit.logs.UVICORN_LOG_CONFIG)",
)
LOGS_CORRELATION = CheckSpec(
    "logs.correlation",
    1,
    "log lines carry the correlation and trace IDs",
    "use toolkit.logs.configure_logging so every line gets correlation_id and trace_id",
)

# --- level 2: metrics, tracing and health (live) --------------------------------------------
TRACE_SPAN = CheckSpec(
    "trace.span",
    2,
    "server span exported with the caller as parent",
    "export spans over OTLP: set OTEL_EXPORTER_OTLP_ENDPOINT and extract W3C traceparent",
)
TRACE_CORRELATION = CheckSpec(
    "trace.correlation",
    2,
    "span carries the correlation ID",
    "set the correlation.id attribute on the server span (toolkit.instrument does)",
)
METRICS_EXPOSITION = CheckSpec(
    "metrics.exposition",
    2,
    "/metrics serves Prometheus exposition",
    "serve /metrics (toolkit.instrument does, metrics_path='/metrics')",
)
METRICS_PROTECTED = CheckSpec(
    "metrics.protected",
    2,
    "/metrics needs a token on the app's port",
    "require a bearer token for /metrics (toolkit.instrument(app, metrics_token=...) or "
    "TOOLKIT_METRICS_TOKEN), or serve metrics on a port the public cannot reach "
    "(metrics_port=...)",
)
METRICS_NAMES = CheckSpec(
    "metrics.names",
    2,
    "HTTP server metrics named and typed as OpenTelemetry says",
    "emit http_server_request_duration_seconds and friends (toolkit.instrument does)",
)
METRICS_LABELS = CheckSpec(
    "metrics.labels",
    2,
    "request metrics carry method, route and status labels",
    "label requests with http_request_method, http_route, http_response_status_code",
)
METRICS_BUCKETS = CheckSpec(
    "metrics.buckets",
    2,
    "duration buckets are the conventions' 0.005…10 s",
    "use the buckets of toolkit.semconv.DURATION_BUCKETS so SLO thresholds are buckets",
)
METRICS_ROUTES = CheckSpec(
    "metrics.routes",
    2,
    "http_route holds templates, never raw paths",
    "label http_route with the route template (/items/{id}); unmatched paths get one value",
)
METRICS_COUNTS = CheckSpec(
    "metrics.counts",
    2,
    "request counts moved by exactly the probe's requests",
    "count every request once, when its response is finished",
)
HEALTH_LIVEZ = CheckSpec(
    "health.livez",
    2,
    "/livez answers health+json",
    "enable health endpoints: /livez and /readyz answering application/health+json",
)
HEALTH_READYZ = CheckSpec(
    "health.readyz",
    2,
    "/readyz answers health+json",
    "enable health endpoints: /livez and /readyz answering application/health+json",
)

# --- level 3: dashboards, alerts and SLOs (static, from the catalog and files) --------------
REGENERATE = (
    "regenerate the dashboards and alert rules from the catalog and commit them "
    "(toolkit generate CATALOG --out DIR)"
)
SLO_DEFINED = CheckSpec(
    "slo.defined", 3, "SLOs defined and sane", "set slo.availability and slo.latency"
)
OWNERSHIP = CheckSpec(
    "ownership", 3, "owner team and runbook", "set team and runbook (an https URL)"
)
DASHBOARD_EXISTS = CheckSpec("dashboard.exists", 3, "dashboard file exists", REGENERATE)
DASHBOARD_CURRENT = CheckSpec("dashboard.current", 3, "dashboard is current", REGENERATE)
DASHBOARD_VALID = CheckSpec("dashboard.valid", 3, "dashboard fits the Grafana schema", REGENERATE)
RULES_EXISTS = CheckSpec("rules.exists", 3, "alert rules and their tests exist", REGENERATE)
RULES_CURRENT = CheckSpec("rules.current", 3, "alert rules are current", REGENERATE)
RULES_VALID = CheckSpec("rules.valid", 3, "alert rules pass promtool check rules", REGENERATE)
RULES_TESTED = CheckSpec(
    "rules.tested", 3, "alert rule unit tests pass (promtool test rules)", REGENERATE
)
DEPENDENCIES_KNOWN = CheckSpec(
    "dependencies.known",
    3,
    "every dependency is in the catalog",
    "add the dependency to services or externals in the catalog",
)
DEPENDENCIES_SLO = CheckSpec(
    "dependencies.slo",
    3,
    "every service dependency has an SLO that allows this one's",
    "give the dependency an availability at least this service's, or make the call async",
)

LIVE_CHECKS = (
    CORRELATION_ECHO,
    CORRELATION_REPLACE,
    LOGS_JSON,
    LOGS_CORRELATION,
    TRACE_SPAN,
    TRACE_CORRELATION,
    METRICS_EXPOSITION,
    METRICS_PROTECTED,
    METRICS_NAMES,
    METRICS_LABELS,
    METRICS_BUCKETS,
    METRICS_ROUTES,
    METRICS_COUNTS,
    HEALTH_LIVEZ,
    HEALTH_READYZ,
)
STATIC_CHECKS = (
    SLO_DEFINED,
    OWNERSHIP,
    DASHBOARD_EXISTS,
    DASHBOARD_CURRENT,
    DASHBOARD_VALID,
    RULES_EXISTS,
    RULES_CURRENT,
    RULES_VALID,
    RULES_TESTED,
    DEPENDENCIES_KNOWN,
    DEPENDENCIES_SLO,
)
ALL_CHECKS = LIVE_CHECKS + STATIC_CHECKS


def spec(check_id: str) -> CheckSpec:
    """The spec of ``check_id``; ``KeyError`` if there is none."""
    for candidate in ALL_CHECKS:
        if candidate.id == check_id:
            return candidate
    raise KeyError(check_id)
