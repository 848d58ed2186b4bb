"""PromQL building blocks: number and string literals, selectors, panel queries.

The SLIs and budgets built from them are tested with the plan (test_generate_plan.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from _generate_support import make_service

from toolkit.generate.promql import (
    ServiceQueries,
    format_number,
    le_label_value,
    le_matcher,
    matchers,
    quote,
)


def test_format_number_drops_exponents_and_trailing_zeros() -> None:
    """Thresholds are written plainly, as PromQL and humans read them."""
    assert format_number(Decimal("14.4") * Decimal("0.001")) == "0.0144"
    assert format_number(Decimal("1E-5")) == "0.00001"
    assert format_number(Decimal("6.000")) == "6"


def test_quote_escapes_quotes_and_backslashes() -> None:
    """Label values from the catalog cannot break out of a PromQL string."""
    assert quote('a"b\\c') == '"a\\"b\\\\c"'


@pytest.mark.parametrize(
    ("threshold", "matcher", "label"),
    [
        (0.25, 'le="0.25"', "0.25"),
        (0.5, 'le="0.5"', "0.5"),
        (1.0, 'le=~"1(\\\\.0)?"', "1.0"),
        (10.0, 'le=~"10(\\\\.0)?"', "10.0"),
    ],
)
def test_le_matcher(threshold: float, matcher: str, label: str) -> None:
    """Integral bucket bounds match both the Python ("1.0") and the Go ("1") spelling."""
    assert le_matcher(threshold) == matcher
    assert le_label_value(threshold) == label


def test_selector_has_job_then_sorted_extra_matchers() -> None:
    """Series are selected by job plus the catalog's extra labels, in a stable order."""
    queries = ServiceQueries.of(make_service(labels={"zone": "b", "env": "prod"}))
    assert queries == ServiceQueries("orders", (("zone", "b"), ("env", "prod")))
    assert queries.selector() == '{job="orders",env="prod",zone="b"}'
    assert queries.selector('x="1"') == '{job="orders",env="prod",zone="b",x="1"}'
    assert queries.identity_labels() == {"job": "orders", "zone": "b", "env": "prod"}


def test_queries_on_grafana_variables() -> None:
    """A job that is a Grafana variable is quoted like any other value."""
    assert ServiceQueries("$job").selector() == '{job="$job"}'
    assert matchers({"service": "$service", "slo": 'a"b'}) == [
        'service="$service"',
        'slo="a\\"b"',
    ]


def test_rate_and_increase_select_the_service() -> None:
    """rate() and increase() of the service's series over a range, extra matchers last."""
    queries = ServiceQueries("orders", (("env", "prod"),))
    assert queries.rate("m_count", "5m") == 'rate(m_count{job="orders",env="prod"}[5m])'
    assert queries.increase("m_count", "1h", 'code="500"') == (
        'increase(m_count{job="orders",env="prod",code="500"}[1h])'
    )


def test_dashboard_queries_use_rate_interval() -> None:
    """Panel queries rate over Grafana's $__rate_interval."""
    queries = ServiceQueries.of(make_service())
    assert queries.request_rate_by_route() == (
        "sum by (http_route) "
        '(rate(http_server_request_duration_seconds_count{job="orders"}[$__rate_interval]))'
    )
    assert queries.latency_quantile("0.99") == (
        "histogram_quantile(0.99, sum by (le) "
        '(rate(http_server_request_duration_seconds_bucket{job="orders"}[$__rate_interval])))'
    )
