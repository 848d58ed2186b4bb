"""Burn-rate windows: the SRE Workbook table, scaled to the SLO window."""

from __future__ import annotations

from decimal import Decimal

import pytest

from toolkit.generate.windows import (
    Speed,
    Window,
    alert_windows,
    burn_alert_specs,
    format_duration,
    scale_window,
)

DAY = 86_400


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (60, "1m"),
        (300, "5m"),
        (3_600, "1h"),
        (5_400, "1h30m"),
        (86_400, "1d"),
        (241_920, "2d19h12m"),
    ],
)
def test_format_duration(seconds: int, text: str) -> None:
    """Seconds are written as Prometheus durations, largest unit first."""
    assert format_duration(seconds) == text


def test_format_duration_rejects_zero() -> None:
    """A zero-length window is a bug, not an empty string."""
    with pytest.raises(ValueError, match="positive"):
        format_duration(0)


def test_thirty_day_windows_are_the_workbook_table() -> None:
    """For a 30-day objective the windows and factors are exactly the SRE Workbook's."""
    page, ticket = burn_alert_specs(30 * DAY)
    assert page.speed is Speed.PAGE and ticket.speed is Speed.TICKET
    assert [(c.factor, c.long.text, c.short.text) for c in page.conditions] == [
        (Decimal("14.4"), "1h", "5m"),
        (Decimal("6"), "6h", "30m"),
    ]
    assert [(c.factor, c.long.text, c.short.text) for c in ticket.conditions] == [
        (Decimal("3"), "1d", "2h"),
        (Decimal("1"), "3d", "6h"),
    ]


@pytest.mark.parametrize(
    ("window_days", "expected"),
    [
        (28, ["5m", "28m", "56m", "1h52m", "5h36m", "22h24m", "2d19h12m"]),
        (7, ["5m", "7m", "14m", "28m", "1h24m", "5h36m", "16h48m"]),
        (30, ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]),
    ],
)
def test_windows_scale_with_the_slo_window(window_days: int, expected: list[str]) -> None:
    """Every window is scaled by window / 30d, to whole minutes, and listed once, shortest first."""
    windows = alert_windows(burn_alert_specs(window_days * DAY))
    assert [w.text for w in windows] == expected


def test_scale_window_never_goes_below_five_minutes() -> None:
    """A short SLO window never gives a range too short to hold the samples rate() needs.

    7d scales the 14.4x page condition's short window to 1m: one sample at a one-minute
    scrape interval, so that condition could never fire.
    """
    assert scale_window(300, 7 * DAY) == Window("5m", 300)
    assert scale_window(3_600, DAY) == Window("5m", 300)
    assert scale_window(21_600, 7 * DAY) == Window("1h24m", 5_040)
