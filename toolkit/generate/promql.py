"""PromQL building blocks for one service's series, from the names in ``toolkit.semconv``.

Writers never spell a metric or label name: the expressions of dashboard panels are
built here, the SLIs in ``toolkit.generate.plan`` (the only module that knows SLO maths).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, cached_property

from toolkit import semconv
from toolkit.catalog.model import Service

RATE_INTERVAL = "$__rate_interval"
_BUCKET = "_bucket"
_COUNT = "_count"
SERVER_COUNT = semconv.HTTP_SERVER_REQUEST_DURATION + _COUNT
SERVER_BUCKET = semconv.HTTP_SERVER_REQUEST_DURATION + _BUCKET


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
    """The PromQL building blocks for one service's series: its job and extra matchers.

    Dashboards that serve many services build it on Grafana variables (``$job``).
    """

    job: str
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, service: Service) -> ServiceQueries:
        """The queries of ``service``'s series, as the catalog selects them."""
        prometheus = service.prometheus
        return cls(prometheus.job, tuple(prometheus.labels.items()))

    @cached_property
    def _identity_matchers(self) -> str:
        return _identity_matchers(self.job, self.labels)

    def selector(self, *extra: str) -> str:
        """``{job="orders",...}`` with the catalog's extra matchers and ``extra``."""
        return "{" + ",".join([self._identity_matchers, *extra]) + "}"

    def identity_labels(self) -> dict[str, str]:
        """The labels every series of the service carries (job + extra matchers)."""
        return {semconv.JOB: self.job, **dict(self.labels)}

    # --- building blocks ---------------------------------------------------------------
    def rate(self, metric: str, window: str, *extra: str) -> str:
        """``rate()`` of the service's ``metric`` series over ``window``."""
        return f"rate({metric}{self.selector(*extra)}[{window}])"

    def increase(self, metric: str, window: str, *extra: str) -> str:
        """``increase()`` of the service's ``metric`` series over ``window``."""
        return f"increase({metric}{self.selector(*extra)}[{window}])"

    # --- dashboard panels ----------------------------------------------------------------
    def request_rate_by_route(self) -> str:
        """Requests per second by route."""
        return f"sum by ({semconv.LABEL_ROUTE}) ({self.rate(SERVER_COUNT, RATE_INTERVAL)})"

    def request_rate_by_status(self) -> str:
        """Requests per second by response status code."""
        return f"sum by ({semconv.LABEL_STATUS_CODE}) ({self.rate(SERVER_COUNT, RATE_INTERVAL)})"

    def latency_quantile(self, quantile: str, *, by: str | None = None) -> str:
        """``histogram_quantile`` of the server duration, optionally per ``by`` label."""
        group = f"{semconv.LABEL_LE}, {by}" if by else semconv.LABEL_LE
        return (
            f"histogram_quantile({quantile}, sum by ({group}) "
            f"({self.rate(SERVER_BUCKET, RATE_INTERVAL)}))"
        )

    def active_requests(self) -> str:
        """Requests in flight."""
        return f"sum({semconv.HTTP_SERVER_ACTIVE_REQUESTS}{self.selector()})"

    def body_size_quantile(self, metric: str, quantile: str) -> str:
        """A quantile of a body-size histogram."""
        return (
            f"histogram_quantile({quantile}, sum by ({semconv.LABEL_LE}) "
            f"({self.rate(metric + _BUCKET, RATE_INTERVAL)}))"
        )

    def telemetry_errors(self) -> str:
        """Telemetry failures the middleware swallowed, per second, by component."""
        return (
            f"sum by ({semconv.LABEL_COMPONENT}) "
            f"({self.rate(semconv.TELEMETRY_ERRORS, RATE_INTERVAL)})"
        )

    def spans_dropped(self) -> str:
        """Finished spans that never reached the collector, per second, by reason."""
        return (
            f"sum by ({semconv.LABEL_REASON}) "
            f"({self.rate(semconv.TELEMETRY_SPANS_DROPPED, RATE_INTERVAL)})"
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
            f"({self.rate(self._client(_COUNT), RATE_INTERVAL)})"
        )

    def outbound_error_ratio_by_target(self) -> str:
        """Share of outbound calls per target that failed (``error_type`` set)."""
        address = semconv.LABEL_SERVER_ADDRESS
        failed = f"{semconv.LABEL_ERROR_TYPE}!={quote('')}"
        errors = f"sum by ({address}) ({self.rate(self._client(_COUNT), RATE_INTERVAL, failed)})"
        total = f"sum by ({address}) ({self.rate(self._client(_COUNT), RATE_INTERVAL)})"
        return f"({errors} or 0 * {total}) / ({total} > 0)"

    def outbound_latency_by_target(self, quantile: str) -> str:
        """A latency quantile of outbound calls per target."""
        return (
            f"histogram_quantile({quantile}, sum by ({semconv.LABEL_LE}, "
            f"{semconv.LABEL_SERVER_ADDRESS}) ({self.rate(self._client(_BUCKET), RATE_INTERVAL)}))"
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
            f"({self.rate(semconv.CIRCUITBREAKER_CALLS, RATE_INTERVAL)})"
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


def identity_matchers_cache_clear() -> None:
    """Forget every service's matchers (``generate`` calls it when a run ends)."""
    _identity_matchers.cache_clear()
