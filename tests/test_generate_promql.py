"""PromQL building blocks: selectors, SLI ratios, exact error budgets."""

from __future__ import annotations

from decimal import Decimal

import pytest
from _generate_support import make_service

from toolkit.catalog.model import LatencySLO
from toolkit.generate.promql import (
    ServiceQueries,
    error_budget,
    format_number,
    le_label_value,
    le_matcher,
    quote,
    recording_name,
)


@pytest.mark.parametrize(
    ("objective", "budget"),
    [
        (99.9, "0.001"),
        (99.95, "0.0005"),
        (99.0, "0.01"),
        (95.0, "0.05"),
        (99.99, "0.0001"),
        (90.0, "0.1"),
    ],
)
def test_error_budget_is_exact(objective: float, budget: str) -> None:
    """The budget is computed in decimal: 99.9 gives 0.001, never 0.0009999999999999432."""
    assert format_number(error_budget(objective)) == budget


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
    queries = ServiceQueries(make_service(labels={"zone": "b", "env": "prod"}))
    assert queries.selector() == '{job="orders",env="prod",zone="b"}'
    assert queries.selector('x="1"') == '{job="orders",env="prod",zone="b",x="1"}'


def events(series: str, window: str) -> str:
    """The event count of ``series`` over ``window`` as the SLIs write it."""
    return (
        f"((sum(increase({series}[{window}]) and {series} offset {window}) or vector(0))"
        f" + (sum({series} unless {series} offset {window}) or vector(0)))"
    )


def test_availability_error_ratio_is_guarded_against_zero_traffic() -> None:
    """5xx share: no 5xx series counts as 0, no traffic gives no result (never NaN); each
    count includes the first event of series born inside the window."""
    ratio = ServiceQueries(make_service()).availability_error_ratio("5m")
    count = "http_server_request_duration_seconds_count"
    errors = events(f'{count}{{job="orders",http_response_status_code=~"5.."}}', "5m")
    total = events(f'{count}{{job="orders"}}', "5m")
    assert ratio == f"{errors} / ({total} > 0)"


def test_latency_error_ratio_counts_requests_above_the_threshold_bucket() -> None:
    """Slow share: all requests minus those in the threshold's bucket, over all requests."""
    ratio = ServiceQueries(make_service(latency=LatencySLO(0.5, 99.0))).latency_error_ratio("1h")
    total = events('http_server_request_duration_seconds_count{job="orders"}', "1h")
    fast = events('http_server_request_duration_seconds_bucket{job="orders",le="0.5"}', "1h")
    assert ratio == f"({total} - {fast}) / ({total} > 0)"


def test_latency_ratio_needs_a_latency_slo() -> None:
    """Asking for the latency SLI of a service without one is a programming error."""
    with pytest.raises(ValueError, match="no latency SLO"):
        ServiceQueries(make_service(latency=None)).latency_error_ratio("5m")


def test_dashboard_queries_use_rate_interval() -> None:
    """Panel queries rate over Grafana's $__rate_interval."""
    queries = ServiceQueries(make_service())
    assert queries.request_rate_by_route() == (
        "sum by (http_route) "
        '(rate(http_server_request_duration_seconds_count{job="orders"}[$__rate_interval]))'
    )
    assert queries.latency_quantile("0.99") == (
        "histogram_quantile(0.99, sum by (le) "
        '(rate(http_server_request_duration_seconds_bucket{job="orders"}[$__rate_interval])))'
    )


def test_burn_rate_reads_the_recorded_sli() -> None:
    """Burn rate = recorded error ratio / budget."""
    queries = ServiceQueries(make_service())
    assert recording_name("1h") == "slo:sli_error:ratio_rate1h"
    assert queries.burn_rate("availability", "1h", Decimal("0.001")) == (
        'slo:sli_error:ratio_rate1h{service="orders",slo="availability"} / 0.001'
    )
