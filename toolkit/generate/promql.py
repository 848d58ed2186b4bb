"""PromQL for one service, built from the telemetry names in ``toolkit.semconv``.

Templates never spell a metric or label name: every expression a dashboard or rule
needs is built here and handed to the template as a string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, cached_property

from toolkit import semconv
from toolkit.catalog.model import Service

RATE_INTERVAL = "$__rate_interval"
SERVER_ERROR_STATUS = "5.."
_BUCKET = "_bucket"
_COUNT = "_count"


def quote(value: str) -> str:
    """Return ``value`` as a PromQL double-quoted string literal."""
    if "\\" in value or '"' in value or "\n" in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{value}"'


@cache  # equal Decimals (0.0010, 0.001) write the same text, so sharing is safe
def format_number(value: Decimal) -> str:
    """Write a Decimal without exponent or float noise: ``Decimal('0.0010')`` -> ``0.001``."""
    text = format(value.normalize(), "f")
    return text


@cache
def le_matcher(threshold_seconds: float) -> str:
    """Match the ``le`` bucket of ``threshold_seconds`` however the client spelled it.

    Python clients write ``1.0``, Go clients ``1``: an integral threshold matches both.
    """
    number = Decimal(repr(float(threshold_seconds)))
    if number == number.to_integral_value():
        whole = format(number.to_integral_value(), "f")
        return f'{semconv.LABEL_LE}=~"{whole}(\\\\.0)?"'
    return f"{semconv.LABEL_LE}={quote(format_number(number))}"


def le_label_value(threshold_seconds: float) -> str:
    """The ``le`` value prometheus-client writes for this bucket (``0.25``, ``1.0``)."""
    return repr(float(threshold_seconds))


def matchers(labels: Mapping[str, str]) -> list[str]:
    """``name="value"`` matchers for ``labels``, sorted by name for stable output."""
    return [f"{name}={quote(labels[name])}" for name in sorted(labels)]


@dataclass(frozen=True)
class ServiceQueries:
    """The PromQL building blocks for one service's series."""

    service: Service

    @cached_property
    def _identity_matchers(self) -> str:
        prometheus = self.service.prometheus
        return _identity_matchers(prometheus.job, tuple(prometheus.labels.items()))

    def selector(self, *extra: str) -> str:
        """``{job="orders",...}`` with the catalog's extra matchers and ``extra``."""
        return "{" + ",".join([self._identity_matchers, *extra]) + "}"

    def identity_labels(self) -> dict[str, str]:
        """The labels every series of the service carries (job + extra matchers)."""
        return {semconv.JOB: self.service.prometheus.job, **self.service.prometheus.labels}

    # --- building blocks ---------------------------------------------------------------
    def _rate(self, metric: str, window: str, *extra: str) -> str:
        return f"rate({metric}{self.selector(*extra)}[{window}])"

    def _increase(self, metric: str, window: str, *extra: str) -> str:
        return f"increase({metric}{self.selector(*extra)}[{window}])"

    @property
    def _server_count(self) -> str:
        return semconv.HTTP_SERVER_REQUEST_DURATION + _COUNT

    @property
    def _server_bucket(self) -> str:
        return semconv.HTTP_SERVER_REQUEST_DURATION + _BUCKET

    @property
    def _error_matcher(self) -> str:
        return f"{semconv.LABEL_STATUS_CODE}=~{quote(SERVER_ERROR_STATUS)}"

    def _threshold_matcher(self) -> str:
        latency = self.service.slo.latency
        if latency is None:
            raise ValueError(f"service {self.service.name!r} has no latency SLO")
        return le_matcher(latency.threshold_seconds)

    # --- SLIs (bad / all events over a window) ---------------------------------------
    def event_count(self, metric: str, window: str, *extra: str) -> str:
        """Events a counter counted over ``window``, the first one of every series born
        inside the window included.

        ``increase()`` cannot see the first increment of a series: its first sample is
        already 1 (the first 5xx of a route and status). So series that existed a window
        ago contribute their increase, and series born since contribute their whole
        value, which they gathered inside the window. Never empty: 0 without series.
        """
        series = f"{metric}{self.selector(*extra)}"
        older = f"sum({self._increase(metric, window, *extra)} and {series} offset {window})"
        born = f"sum({series} unless {series} offset {window})"
        return f"(({older} or vector(0)) + ({born} or vector(0)))"

    def availability_error_ratio(self, window: str) -> str:
        """Share of 5xx responses; no result (never NaN) when there was no traffic."""
        errors = self.event_count(self._server_count, window, self._error_matcher)
        total = self.event_count(self._server_count, window)
        return f"{errors} / ({total} > 0)"

    def latency_error_ratio(self, window: str) -> str:
        """Share of requests slower than the latency SLO's threshold; no result at zero traffic."""
        fast = self.event_count(self._server_bucket, window, self._threshold_matcher())
        total = self.event_count(self._server_count, window)
        return f"({total} - {fast}) / ({total} > 0)"

    # --- dashboard panels ----------------------------------------------------------------
    def request_rate_by_route(self) -> str:
        """Requests per second by route."""
        return f"sum by ({semconv.LABEL_ROUTE}) ({self._rate(self._server_count, RATE_INTERVAL)})"

    def request_rate_by_status(self) -> str:
        """Requests per second by response status code."""
        return (
            f"sum by ({semconv.LABEL_STATUS_CODE}) "
            f"({self._rate(self._server_count, RATE_INTERVAL)})"
        )

    def error_ratio(self) -> str:
        """Share of 5xx responses over the dashboard's rate interval."""
        return self.availability_error_ratio(RATE_INTERVAL)

    def latency_quantile(self, quantile: str, *, by: str | None = None) -> str:
        """``histogram_quantile`` of the server duration, optionally per ``by`` label."""
        group = f"{semconv.LABEL_LE}, {by}" if by else semconv.LABEL_LE
        return (
            f"histogram_quantile({quantile}, sum by ({group}) "
            f"({self._rate(self._server_bucket, RATE_INTERVAL)}))"
        )

    def active_requests(self) -> str:
        """Requests in flight."""
        return f"sum({semconv.HTTP_SERVER_ACTIVE_REQUESTS}{self.selector()})"

    def body_size_quantile(self, metric: str, quantile: str) -> str:
        """A quantile of a body-size histogram."""
        return (
            f"histogram_quantile({quantile}, sum by ({semconv.LABEL_LE}) "
            f"({self._rate(metric + _BUCKET, RATE_INTERVAL)}))"
        )

    def slo_window_success(self, kind: str) -> str:
        """Availability or latency SLI (good / all) over the whole SLO window."""
        window = self.service.slo.window.text
        ratio = (
            self.availability_error_ratio(window)
            if kind == "availability"
            else self.latency_error_ratio(window)
        )
        return f"1 - ({ratio})"

    def budget_remaining(self, kind: str, budget: Decimal) -> str:
        """Share of the error budget left over the SLO window (negative once overspent)."""
        window = self.service.slo.window.text
        ratio = (
            self.availability_error_ratio(window)
            if kind == "availability"
            else self.latency_error_ratio(window)
        )
        return f"1 - (({ratio}) / {format_number(budget)})"

    def recorded_ratio(self, kind: str, window: str) -> str:
        """The recorded SLI error ratio series of this service."""
        labels = {semconv.LABEL_SERVICE: self.service.name, semconv.LABEL_SLO: kind}
        return f"{recording_name(window)}{{{','.join(matchers(labels))}}}"

    def burn_rate(self, kind: str, window: str, budget: Decimal) -> str:
        """How many times faster than sustainable the budget burns, from recorded SLIs."""
        return f"{self.recorded_ratio(kind, window)} / {format_number(budget)}"

    def telemetry_errors(self) -> str:
        """Telemetry failures the middleware swallowed, per second, by component."""
        return (
            f"sum by ({semconv.LABEL_COMPONENT}) "
            f"({self._rate(semconv.TELEMETRY_ERRORS, RATE_INTERVAL)})"
        )

    def spans_dropped(self) -> str:
        """Finished spans that never reached the collector, per second, by reason."""
        return (
            f"sum by ({semconv.LABEL_REASON}) "
            f"({self._rate(semconv.TELEMETRY_SPANS_DROPPED, RATE_INTERVAL)})"
        )

    def health_checks(self) -> str:
        """Each readiness check's last result, the worst over the service's instances."""
        return f"min by ({semconv.LABEL_CHECK}) ({semconv.HEALTH_CHECK_STATUS}{self.selector()})"

    # --- dependencies (client metrics) -----------------------------------------------------
    def _client(self, suffix: str) -> str:
        return semconv.HTTP_CLIENT_REQUEST_DURATION + suffix

    def outbound_rate_by_target(self) -> str:
        """Outbound calls per second by target host."""
        return (
            f"sum by ({semconv.LABEL_SERVER_ADDRESS}) "
            f"({self._rate(self._client(_COUNT), RATE_INTERVAL)})"
        )

    def outbound_error_ratio_by_target(self) -> str:
        """Share of outbound calls per target that failed (``error_type`` set)."""
        address = semconv.LABEL_SERVER_ADDRESS
        failed = f"{semconv.LABEL_ERROR_TYPE}!={quote('')}"
        errors = f"sum by ({address}) ({self._rate(self._client(_COUNT), RATE_INTERVAL, failed)})"
        total = f"sum by ({address}) ({self._rate(self._client(_COUNT), RATE_INTERVAL)})"
        return f"({errors} or 0 * {total}) / ({total} > 0)"

    def outbound_latency_by_target(self, quantile: str) -> str:
        """A latency quantile of outbound calls per target."""
        return (
            f"histogram_quantile({quantile}, sum by ({semconv.LABEL_LE}, "
            f"{semconv.LABEL_SERVER_ADDRESS}) ({self._rate(self._client(_BUCKET), RATE_INTERVAL)}))"
        )

    # --- circuit breakers (toolkit.resilience) --------------------------------------------
    def breaker_state(self) -> str:
        """Each breaker's state as a number: its index in ``CIRCUITBREAKER_STATES``."""
        name = semconv.LABEL_BREAKER_NAME
        terms = [
            f"{index} * max by ({name}) ({semconv.CIRCUITBREAKER_STATE}"
            f"{self.selector(f'{semconv.LABEL_BREAKER_STATE}={quote(state)}')})"
            for index, state in enumerate(semconv.CIRCUITBREAKER_STATES)
        ]
        return " + ".join(terms)

    def breaker_calls(self) -> str:
        """Calls through each breaker per second, by outcome."""
        return (
            f"sum by ({semconv.LABEL_BREAKER_NAME}, {semconv.LABEL_BREAKER_KIND}) "
            f"({self._rate(semconv.CIRCUITBREAKER_CALLS, RATE_INTERVAL)})"
        )

    def breaker_failure_rate(self) -> str:
        """Failure rate of each breaker's sliding window, in percent (-1: too few calls)."""
        return (
            f"max by ({semconv.LABEL_BREAKER_NAME}) "
            f"({semconv.CIRCUITBREAKER_FAILURE_RATE}{self.selector()})"
        )


@cache  # builders make a ServiceQueries each; the matchers of a service are made once
def _identity_matchers(job: str, labels: tuple[tuple[str, str], ...]) -> str:
    return ",".join([f"{semconv.JOB}={quote(job)}", *matchers(dict(labels))])


def recording_name(window: str) -> str:
    """Name of the recorded SLI error ratio over ``window``."""
    return f"{semconv.RECORD_SLI_ERROR_RATIO_PREFIX}{window}"


def error_budget(objective_percent: float) -> Decimal:
    """The error budget of an objective in percent, exactly: ``99.9`` -> ``0.001``."""
    return ((Decimal(100) - Decimal(repr(objective_percent))) / Decimal(100)).normalize()
