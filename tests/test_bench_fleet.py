"""The pure helpers of the fleet benchmark (``bench/fleet.py``): no Prometheus here."""

from __future__ import annotations

import io

import pytest

from bench._fleet_data import LE_TEXTS, Fleet, write_openmetrics
from bench.fleet import (
    backfill_plan,
    block_ranges,
    cost_per_minute,
    extrapolate,
    longest_range,
    reads,
    window_seconds,
)

DURATION = "http_server_request_duration_seconds"


def test_openmetrics_writes_every_series_sample_by_sample_and_ends_with_eof() -> None:
    fleet = Fleet(("svc-0000",), instances=1, origin=0)
    out = io.StringIO()
    samples = write_openmetrics(out, fleet, 3_600, 3_630, 30)
    lines = out.getvalue().splitlines()
    assert lines[-1] == "# EOF"
    # up, then per label set: a bucket per le (+Inf included), _count and _sum.
    assert samples == len(lines) - 1 == 2 * fleet.series_per_service()
    assert lines[:2] == [
        'up{job="svc-0000",instance="svc-0000-0:8000"} 1 3600',
        'up{job="svc-0000",instance="svc-0000-0:8000"} 1 3630',
    ]
    counts = [line for line in lines if line.startswith(f"{DURATION}_count{{")]
    assert counts[0].startswith(
        f'{DURATION}_count{{job="svc-0000",instance="svc-0000-0:8000",'
        'http_request_method="GET",http_route="/items",http_response_status_code="200"} '
    )
    assert [line.rsplit(" ", 1)[1] for line in counts[:2]] == ["3600", "3630"]
    assert int(counts[0].split()[1]) < int(counts[1].split()[1])  # a counter, growing
    errors = [line for line in lines if 'status_code="500"' in line]
    assert errors and all('error_type="500"' in line for line in errors)
    assert LE_TEXTS[-1] == "+Inf"


def test_buckets_are_cumulative_and_the_exposition_continues_the_backfill() -> None:
    fleet = Fleet(("svc-0000",), instances=1, origin=0)
    out = io.StringIO()
    write_openmetrics(out, fleet, 7_200, 7_200, 30, eof=False)
    backfilled = {
        line.rsplit(" ", 1)[0] for line in out.getvalue().splitlines() if "_bucket" in line
    }
    scraped = set(fleet.exposition("svc-0000", 0, 7_200).splitlines())
    assert backfilled <= scraped  # the same series, the same values at the same time
    first = [line for line in sorted(scraped) if "_bucket" in line and '"/items",' in line]
    by_le = {
        line.split('le="')[1].split('"')[0]: int(line.split()[-1])
        for line in first
        if 'status_code="200"' in line
    }
    values = [by_le[le] for le in LE_TEXTS]
    assert values == sorted(values)


def test_block_ranges_split_at_block_boundaries_on_the_step_grid() -> None:
    assert block_ranges(90, 330, 120, 30) == [(90, 90), (120, 210), (240, 330)]
    assert block_ranges(0, 0, 120, 30) == [(0, 0)]


def test_longest_range_includes_subqueries() -> None:
    assert longest_range("sum_over_time(x[1h]) / sum_over_time(y[30d])") == "30d"
    assert longest_range("max_over_time(rate(x[5m])[1d:5m])") == "1d"
    assert longest_range("up == 0") is None


def test_cost_per_minute_and_the_linear_extrapolation() -> None:
    evaluations = {"a": [0.2, 0.4, 0.3], "b": [1.0]}
    intervals = {"a": 30.0, "b": 300.0}
    # a: median 0.3 s every 30 s = 0.6 s a minute; b: 1 s every 5 minutes = 0.2.
    assert cost_per_minute(evaluations, intervals) == pytest.approx(0.8)
    assert cost_per_minute(evaluations, intervals, max) == pytest.approx(1.0)
    assert extrapolate(0.8, services=4) == pytest.approx(200.0)
    assert window_seconds([30.0, 300.0], rounds=3) == 300.0
    assert window_seconds([30.0], rounds=3) == 90.0


def test_the_backfill_is_what_long_windows_read_in_dependency_order() -> None:
    raw = 'sum(increase(http_requests_total{job="a"}[5m]))'
    requests = {"record": "slo:requests:increase5m", "labels": {"slo": "a"}, "expr": raw}
    # The same name for another objective, copied from the first: a second pass.
    copied = {
        "record": "slo:requests:increase5m",
        "labels": {"slo": "b"},
        "expr": 'slo:requests:increase5m{slo="a"}',
    }
    looping = {"record": "slo:loop:sum", "expr": "slo:loop:sum + 1"}
    groups = [
        {
            "name": "a",
            "rules": [
                requests,
                {"record": "slo:ratio:rate5m", "expr": raw},  # read instantly only: live
                copied,
                looping,
                {"alert": "A", "expr": "slo:ratio:rate5m > 1"},
            ],
        },
        {
            "name": "a-window",
            "interval": "5m",
            "rules": [
                {
                    "record": "slo:ratio:rate30d",
                    "expr": 'sum_over_time(slo:requests:increase5m{slo=~"a|b"}[30d])',
                },
                {"record": "slo:loop:max1d", "expr": "max_over_time(slo:loop:sum[1d])"},
            ],
        },
    ]
    plan = backfill_plan(groups)
    assert plan.passes == [[{"name": "a", "rules": [requests]}], [{"name": "a", "rules": [copied]}]]
    assert plan.names == ["slo:requests:increase5m"]
    assert plan.blocked == ["slo:loop:sum"]  # it reads itself: no pass can compute it
    assert plan.rules(1) == [requests]
    flat = [{"name": "flat", "rules": [{"record": "x:y:z", "expr": raw}]}]
    assert backfill_plan(flat).passes == []


def test_selectors_are_matched_against_the_labels_a_rule_sets() -> None:
    expr = 'x:y:z{slo="a",job=~"j.*"}[1h] + x:y:z{slo!="a"} + other:x:y'
    assert reads(expr, "x:y:z") == [
        ([("slo", "=", "a"), ("job", "=~", "j.*")], True),
        ([("slo", "!=", "a")], False),
    ]
    assert reads(expr, "other:x:y") == [([], False)]
