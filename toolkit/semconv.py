"""Telemetry names: the one source of truth for every metric, label, span attribute and log field.

The middleware emits these names, the generators put them into PromQL, the readiness
probe looks for them. Metric names follow OpenTelemetry's stable HTTP semantic
conventions as Prometheus spells them (dots become underscores, the unit is a suffix),
so dashboards and rules also work for services instrumented by any OpenTelemetry SDK.

Service identity: every series is selected by the ``job`` label Prometheus attaches at
scrape time (an OpenTelemetry Collector maps ``service.name`` to ``job`` too). The
middleware adds no ``service_name`` label of its own.
"""

from __future__ import annotations

from typing import Final

# --- HTTP server metrics -------------------------------------------------------------
HTTP_SERVER_REQUEST_DURATION: Final = "http_server_request_duration_seconds"
HTTP_SERVER_ACTIVE_REQUESTS: Final = "http_server_active_requests"
HTTP_SERVER_REQUEST_BODY_SIZE: Final = "http_server_request_body_size_bytes"
HTTP_SERVER_RESPONSE_BODY_SIZE: Final = "http_server_response_body_size_bytes"

# --- HTTP client metrics (outbound calls: the dependency panel) ------------------------
HTTP_CLIENT_REQUEST_DURATION: Final = "http_client_request_duration_seconds"

# --- The same metrics pushed over OTLP (metrics_exporter="otlp"|"both") ------------------
# The conventions' own instrument names and units; attributes are the span attributes of
# the same names below (integers for status code and port), with the same values as the
# Prometheus labels (route templates, "__unmatched__", "_OTHER"); an empty error type and
# an unknown status or port are left out.
OTLP_HTTP_SERVER_REQUEST_DURATION: Final = "http.server.request.duration"
OTLP_HTTP_SERVER_ACTIVE_REQUESTS: Final = "http.server.active_requests"
OTLP_HTTP_SERVER_REQUEST_BODY_SIZE: Final = "http.server.request.body.size"
OTLP_HTTP_SERVER_RESPONSE_BODY_SIZE: Final = "http.server.response.body.size"
OTLP_HTTP_CLIENT_REQUEST_DURATION: Final = "http.client.request.duration"
UNIT_SECONDS: Final = "s"
UNIT_BYTES: Final = "By"
UNIT_REQUESTS: Final = "{request}"

# --- Metric labels ---------------------------------------------------------------------
JOB: Final = "job"
LABEL_METHOD: Final = "http_request_method"
LABEL_ROUTE: Final = "http_route"
LABEL_STATUS_CODE: Final = "http_response_status_code"
LABEL_ERROR_TYPE: Final = "error_type"
LABEL_URL_SCHEME: Final = "url_scheme"
LABEL_SERVER_ADDRESS: Final = "server_address"
LABEL_SERVER_PORT: Final = "server_port"

SERVER_DURATION_LABELS: Final = (LABEL_METHOD, LABEL_ROUTE, LABEL_STATUS_CODE, LABEL_ERROR_TYPE)
SERVER_ACTIVE_LABELS: Final = (LABEL_METHOD, LABEL_URL_SCHEME)
SERVER_BODY_SIZE_LABELS: Final = SERVER_DURATION_LABELS
CLIENT_DURATION_LABELS: Final = (
    LABEL_METHOD,
    LABEL_SERVER_ADDRESS,
    LABEL_SERVER_PORT,
    LABEL_STATUS_CODE,
    LABEL_ERROR_TYPE,
)

# The semantic conventions' advisory buckets for http.*.request.duration, in seconds.
DURATION_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)
# The conventions give no advice for body sizes: decades from 100 B to 100 MB.
BODY_SIZE_BUCKETS: Final = (
    100.0,
    1_000.0,
    10_000.0,
    100_000.0,
    1_000_000.0,
    10_000_000.0,
    100_000_000.0,
)

# ``http_route`` of a request that matched no route: one fixed value keeps cardinality
# bounded. It cannot collide with a real template, which always starts with "/".
UNMATCHED_ROUTE: Final = "__unmatched__"
# The route label of a response from an app whose routes toolkit cannot see (it routes
# itself, or copies the scope before routing) and that no declared template matched.
UNROUTED_ROUTE: Final = "__unrouted__"
# Methods outside the registered set are reported as this, as the conventions say.
OTHER_METHOD: Final = "_OTHER"
ERROR_CLIENT_ABORTED: Final = "client_aborted"
# The status label of a request whose client left before any response was sent (nginx's
# "client closed request"): not a 5xx, since the server answered nothing.
STATUS_CLIENT_CLOSED: Final = 499
"""``error_type`` of a request whose client disconnected before the response was complete
(the server said nothing: it drops what the app still sends)."""
KNOWN_METHODS: Final = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
)
# ``error_type`` of a 5xx response that raised no exception: the status code as a string,
# as the conventions say. An exception gives its fully qualified class name.

# --- Generated recording rules and alert labels (toolkit generate) ----------------------
# The base of the rule pyramid: events of one service and SLO over the last 5 minutes,
# read from the raw series once. Every longer window sums these recorded series.
RECORD_SLI_REQUESTS: Final = "slo:sli_requests:increase5m"
RECORD_SLI_ERRORS: Final = "slo:sli_errors:increase5m"
# The same counts sampled every 5 minutes (a group of that interval copies them), so
# consecutive samples tile time: the long windows (a day and more) sum a tenth as many
# samples as the 30-second base holds, and the sum is the window's count.
RECORD_SLI_REQUESTS_TILED: Final = "slo:sli_requests:tiled5m"
RECORD_SLI_ERRORS_TILED: Final = "slo:sli_errors:tiled5m"
# The SLI error ratio (bad events / all events) over a window, one series per service and
# SLO: ``slo:sli_error:ratio_rate5m{service="orders", slo="availability"}``.
RECORD_SLI_ERROR_RATIO_PREFIX: Final = "slo:sli_error:ratio_rate"
# Uniformly named series per service and SLO, whatever its window, for the overview table
# (one query per column for the whole catalog). They carry LABEL_SERVICE, LABEL_SLO,
# LABEL_TIER, LABEL_TEAM and LABEL_DASHBOARD (the uid of the service's dashboard).
# The objective as a ratio (0.999), constant: every SLO has this series, even at no traffic.
RECORD_SLO_OBJECTIVE: Final = "slo:objective:ratio"
# 1 - error ratio / error budget over the whole SLO window (negative once overspent).
RECORD_SLO_BUDGET_REMAINING: Final = "slo:period_error_budget_remaining:ratio"
# The burn rate over the first page window (1h for a 30-day objective).
RECORD_SLO_PAGE_BURN_RATE: Final = "slo:page_burn_rate:ratio"
LABEL_TIER: Final = "tier"
LABEL_DASHBOARD: Final = "dashboard"
LABEL_SERVICE: Final = "service"
LABEL_SLO: Final = "slo"
LABEL_TEAM: Final = "team"
LABEL_SEVERITY: Final = "severity"
LABEL_INSTANCE: Final = "instance"
LABEL_LE: Final = "le"
SCRAPE_UP: Final = "up"

# --- Exemplars ------------------------------------------------------------------------------
# Label of the exemplar on http_server_request_duration_seconds: the request's trace ID
# (32 hex digits), the name Grafana's exemplar links and Prometheus' docs use.
EXEMPLAR_TRACE_ID: Final = "trace_id"

# --- Span attributes that the semantic conventions do not define -------------------------
SPAN_ATTR_CORRELATION_ID: Final = "correlation.id"

# --- Server span attributes (OpenTelemetry stable HTTP semantic conventions) ---------------
SPAN_ATTR_HTTP_METHOD: Final = "http.request.method"
SPAN_ATTR_HTTP_METHOD_ORIGINAL: Final = "http.request.method_original"
SPAN_ATTR_HTTP_ROUTE: Final = "http.route"
SPAN_ATTR_HTTP_STATUS_CODE: Final = "http.response.status_code"
SPAN_ATTR_URL_PATH: Final = "url.path"
SPAN_ATTR_URL_QUERY: Final = "url.query"
SPAN_ATTR_URL_SCHEME: Final = "url.scheme"
SPAN_ATTR_ERROR_TYPE: Final = "error.type"
SPAN_ATTR_CLIENT_ADDRESS: Final = "client.address"
SPAN_ATTR_CLIENT_PORT: Final = "client.port"
SPAN_ATTR_SERVER_ADDRESS: Final = "server.address"
SPAN_ATTR_SERVER_PORT: Final = "server.port"
SPAN_ATTR_NETWORK_PROTOCOL_VERSION: Final = "network.protocol.version"
SPAN_ATTR_USER_AGENT: Final = "user_agent.original"
# Client spans (outbound calls) also carry the full URL, credentials redacted.
SPAN_ATTR_URL_FULL: Final = "url.full"
# Span name of a request whose method is not in KNOWN_METHODS, as the conventions say.
SPAN_NAME_OTHER_METHOD: Final = "HTTP"

# --- Self-observability: telemetry that failed without failing the request ---------------
TELEMETRY_ERRORS: Final = "toolkit_telemetry_errors_total"
LABEL_COMPONENT: Final = "component"

# --- Correlation ----------------------------------------------------------------------
CORRELATION_HEADER: Final = "X-Request-ID"
CORRELATION_HEADER_ALIASES: Final = ("X-Correlation-ID",)

# --- Readiness probe and health endpoints ---------------------------------------------------
# Every request of ``toolkit probe`` carries this header (value "1"), so a service can keep
# the probe's traffic out of its SLOs if it wants to.
PROBE_HEADER: Final = "X-Toolkit-Probe"
# Health endpoints (draft-inadarei-api-health-check): body ``{"status": "pass"|"warn"|"fail"}``.
LIVEZ_PATH: Final = "/livez"
READYZ_PATH: Final = "/readyz"
HEALTH_CONTENT_TYPE: Final = "application/health+json"
# One series per readiness check: 1 when its last run passed (or warned), 0 when it failed.
HEALTH_CHECK_STATUS: Final = "toolkit_health_check_status"
LABEL_CHECK: Final = "check"

# --- Span export (self-observability of the OTLP pipeline) ------------------------------
# Finished spans that never reached the collector; ``reason`` is one of SPAN_DROP_REASONS.
TELEMETRY_SPANS_DROPPED: Final = "toolkit_telemetry_spans_dropped_total"
LABEL_REASON: Final = "reason"
SPAN_DROP_REASONS: Final = ("queue_full", "export_failed")

# --- Log fields -------------------------------------------------------------------------
LOG_CORRELATION_ID: Final = "correlation_id"
LOG_TRACE_ID: Final = "trace_id"
LOG_SPAN_ID: Final = "span_id"
LOG_SERVICE: Final = "service"
# structlog's own keys (its add_log_level / add_logger_name processors hard-code them).
LOG_TIMESTAMP: Final = "timestamp"
LOG_LEVEL: Final = "level"
LOG_LOGGER: Final = "logger"
LOG_EVENT: Final = "event"
LOG_EXCEPTION: Final = "exception"
# Access-log line (one per request).
ACCESS_LOG_EVENT: Final = "request"
LOG_METHOD: Final = "method"
LOG_ROUTE: Final = "route"
LOG_PATH: Final = "path"
LOG_STATUS: Final = "status"
LOG_DURATION_MS: Final = "duration_ms"
LOG_RESPONSE_BYTES: Final = "bytes"

# --- Resilience: circuit breaker (resilience4j-micrometer names, ``circuitbreaker_`` prefix)
# One-hot gauge: 1 for the breaker's current state, 0 for the others (all three are exported).
CIRCUITBREAKER_STATE: Final = "circuitbreaker_state"
# Calls by outcome; ``kind`` is one of CIRCUITBREAKER_KINDS. resilience4j exports not-permitted
# calls as a separate counter; here they are the ``not_permitted`` kind of the same counter.
CIRCUITBREAKER_CALLS: Final = "circuitbreaker_calls_total"
# Failure and slow-call rate of the sliding window in percent, -1 until minimum_calls is reached.
CIRCUITBREAKER_FAILURE_RATE: Final = "circuitbreaker_failure_rate"
CIRCUITBREAKER_SLOW_CALL_RATE: Final = "circuitbreaker_slow_call_rate"
LABEL_BREAKER_NAME: Final = "name"
LABEL_BREAKER_STATE: Final = "state"
LABEL_BREAKER_KIND: Final = "kind"
CIRCUITBREAKER_STATES: Final = ("closed", "open", "half_open")
CIRCUITBREAKER_KINDS: Final = ("successful", "failed", "ignored", "not_permitted")
CIRCUITBREAKER_STATE_LABELS: Final = (LABEL_BREAKER_NAME, LABEL_BREAKER_STATE)
CIRCUITBREAKER_CALLS_LABELS: Final = (LABEL_BREAKER_NAME, LABEL_BREAKER_KIND)
CIRCUITBREAKER_RATE_LABELS: Final = (LABEL_BREAKER_NAME,)
# Log event and span event of a state change; the log line carries these fields.
CIRCUITBREAKER_STATE_CHANGE_EVENT: Final = "circuitbreaker.state_change"
LOG_BREAKER_NAME: Final = "breaker"
LOG_BREAKER_FROM_STATE: Final = "from_state"
LOG_BREAKER_TO_STATE: Final = "to_state"
SPAN_ATTR_BREAKER_NAME: Final = "circuitbreaker.name"
SPAN_ATTR_BREAKER_FROM_STATE: Final = "circuitbreaker.from_state"
SPAN_ATTR_BREAKER_TO_STATE: Final = "circuitbreaker.to_state"

# --- Resilience: Idempotency-Key middleware ----------------------------------------------
# No ``http_route`` label: replays and rejections are decided before the app routes the
# request, so no template is known, and a raw path would make cardinality unbounded.
IDEMPOTENCY_REPLAYS: Final = "idempotency_replays_total"
IDEMPOTENCY_CONFLICTS: Final = "idempotency_conflicts_total"  # same key, other request: 422
IDEMPOTENCY_IN_PROGRESS: Final = "idempotency_in_progress_total"  # same key running: 409
# Store failures; ``operation`` is begin/complete/release, ``action`` fail_open/fail_closed/none.
IDEMPOTENCY_STORE_ERRORS: Final = "idempotency_store_errors_total"
LABEL_IDEMPOTENCY_OPERATION: Final = "operation"
LABEL_IDEMPOTENCY_ACTION: Final = "action"
IDEMPOTENCY_STORE_ERRORS_LABELS: Final = (LABEL_IDEMPOTENCY_OPERATION, LABEL_IDEMPOTENCY_ACTION)
IDEMPOTENCY_KEY_HEADER: Final = "Idempotency-Key"
IDEMPOTENCY_REPLAYED_HEADER: Final = "Idempotent-Replayed"
