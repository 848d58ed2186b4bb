"""Multi-window, multi-burn-rate alert windows, scaled to a service's SLO window.

The Google SRE Workbook's table is written for a 30-day objective: page when 2 % of the
budget burns in 1 h (14.4x) or 5 % in 6 h (6x), open a ticket when 10 % burns in 1 d
(3x) or 10 % in 3 d (1x); each long window is confirmed by a short one (1/12 of it) so
the alert resets soon after the burn stops. For another SLO window every duration is
scaled by ``window / 30d`` (as sloth and pyrra do), rounded to whole minutes, so each
alert still means "this fraction of the budget is gone" — but never shorter than five
minutes: ``rate()`` needs several samples in its range (four at the usual one-minute
scrape interval), and a shorter window would leave a condition that can never fire.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from functools import cache

REFERENCE_WINDOW_SECONDS = 30 * 86_400
# The shortest range a rule reads: five samples at a one-minute scrape interval.
MIN_WINDOW_SECONDS = 300
_MINUTE = 60
_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


class Speed(str, Enum):
    """Whether an alert pages someone now or opens a ticket for working hours."""

    PAGE = "page"
    TICKET = "ticket"


@dataclass(frozen=True)
class Window:
    """A PromQL range: its text (``1h``) and length in seconds."""

    text: str
    seconds: int


@dataclass(frozen=True)
class BurnCondition:
    """Fire when the error ratio exceeds ``factor`` x budget over both windows."""

    factor: Decimal
    long: Window
    short: Window


@dataclass(frozen=True)
class BurnAlertSpec:
    """The conditions one alert ORs together, and how urgent it is."""

    speed: Speed
    conditions: tuple[BurnCondition, ...]


# (speed, ((factor, long seconds, short seconds), ...)) for a 30-day objective.
_REFERENCE: tuple[tuple[Speed, tuple[tuple[str, int, int], ...]], ...] = (
    (Speed.PAGE, (("14.4", 3_600, 300), ("6", 21_600, 1_800))),
    (Speed.TICKET, (("3", 86_400, 7_200), ("1", 259_200, 21_600))),
)


@cache
def format_duration(seconds: int) -> str:
    """Write ``seconds`` as a Prometheus duration: ``5400`` -> ``1h30m``."""
    if seconds <= 0:
        raise ValueError(f"a window must be positive, got {seconds} s")
    parts = []
    rest = seconds
    for unit, size in _UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def scale_window(reference_seconds: int, slo_window_seconds: int) -> Window:
    """Scale a 30-day-objective window to ``slo_window_seconds``, to whole minutes, at least
    ``MIN_WINDOW_SECONDS``."""
    scaled = reference_seconds * slo_window_seconds / REFERENCE_WINDOW_SECONDS
    seconds = max(MIN_WINDOW_SECONDS, round(scaled / _MINUTE) * _MINUTE)
    return Window(format_duration(seconds), seconds)


@cache
def burn_alert_specs(slo_window_seconds: int) -> tuple[BurnAlertSpec, ...]:
    """Return the page and ticket alert conditions for an SLO over this window."""
    return tuple(
        BurnAlertSpec(
            speed,
            tuple(
                BurnCondition(
                    Decimal(factor),
                    scale_window(long, slo_window_seconds),
                    scale_window(short, slo_window_seconds),
                )
                for factor, long, short in conditions
            ),
        )
        for speed, conditions in _REFERENCE
    )


def alert_windows(specs: tuple[BurnAlertSpec, ...]) -> tuple[Window, ...]:
    """Every distinct window the alerts read, shortest first: the SLIs to record."""
    windows = {
        window
        for spec in specs
        for condition in spec.conditions
        for window in (condition.long, condition.short)
    }
    return tuple(sorted(windows, key=lambda window: window.seconds))
