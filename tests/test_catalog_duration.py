"""Tests for toolkit.catalog.duration."""

from __future__ import annotations

from decimal import Decimal

import pytest

from toolkit.catalog import Duration, DurationError, format_seconds, parse_duration
from toolkit.catalog.duration import (
    format_milliseconds,
    parse_milliseconds,
    parse_threshold_milliseconds,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30d", 30 * 86400),
        ("1h30m", 5400),
        ("5m", 300),
        ("4w", 28 * 86400),
        ("1y", 365 * 86400),
        ("1d12h", 129600),
        ("90s", 90),
        ("1h0m", 3600),
        ("0", 0),
    ],
)
def test_parse_duration_accepts_prometheus_durations(text: str, seconds: int) -> None:
    """Every duration Prometheus parses gives its exact number of seconds, text kept."""
    assert parse_duration(text) == Duration(text=text, seconds=seconds)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("1.5d", "did you mean '1d12h'?"),
        ("30 days", "did you mean '30d'?"),
        ("30D", "did you mean '30d'?"),
        ("1.5 hours", "did you mean '1h30m'?"),
        ("1mo", "months have no fixed length in Prometheus; use days, e.g. 30d"),
        ("-5m", "a duration cannot be negative"),
        (
            "30m1h",
            "write whole numbers with the units y, w, d, h, m, s, ms, each at most once, "
            "largest first, e.g. 30d or 1h30m",
        ),
        (
            "1h1h",
            "write whole numbers with the units y, w, d, h, m, s, ms, each at most once, "
            "largest first, e.g. 30d or 1h30m",
        ),
        (
            "",
            "write whole numbers with the units y, w, d, h, m, s, ms, each at most once, "
            "largest first, e.g. 30d or 1h30m",
        ),
        ("250ms", "expected whole seconds; drop the milliseconds"),
        ("1d1ms", "expected whole seconds; drop the milliseconds"),
    ],
)
def test_parse_duration_rejects_what_prometheus_cannot_express(text: str, hint: str) -> None:
    """Anything Prometheus would not parse raises DurationError saying what to write."""
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert (caught.value.text, caught.value.hint) == (text, hint)
    assert str(caught.value) == f"not a Prometheus duration: {text!r} — {hint}"


def test_parse_duration_error_is_a_value_error() -> None:
    """Callers that only know ValueError still catch a bad duration."""
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_parse_milliseconds_rejects_int64_overflow() -> None:
    """A duration Prometheus cannot hold in an int64 of milliseconds is refused."""
    with pytest.raises(DurationError):
        parse_milliseconds("300000000y")


@pytest.mark.parametrize(
    ("text", "milliseconds"),
    [("250ms", "250"), ("0.3s", "300"), ("2.5s", "2500"), ("2s500ms", "2500"), ("1m", "60000")],
)
def test_parse_threshold_is_exact(text: str, milliseconds: str) -> None:
    """Thresholds may use decimals with ms, s or m, and are converted without float error."""
    assert parse_threshold_milliseconds(text) == Decimal(milliseconds)


@pytest.mark.parametrize(
    ("milliseconds", "text"),
    [
        (0, "0s"),
        (129600000, "1d12h"),
        (28 * 86400000, "4w"),
        (90 * 86400000, "90d"),
        (1500, "1s500ms"),
    ],
)
def test_format_milliseconds_like_prometheus(milliseconds: int, text: str) -> None:
    """Durations are written as Prometheus writes them: weeks and years only when exact."""
    assert format_milliseconds(milliseconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.005, "5ms"), (0.075, "75ms"), (0.25, "250ms"), (1.0, "1s"), (2.5, "2.5s"), (10.0, "10s")],
)
def test_format_seconds_writes_thresholds_compactly(seconds: float, text: str) -> None:
    """Every histogram bucket boundary has a short, exact spelling."""
    assert format_seconds(seconds) == text
