"""Durations as Prometheus writes them (``30d``, ``1h30m``, ``250ms``), parsed exactly."""

from __future__ import annotations

import re
from decimal import Decimal

from toolkit.catalog.model import Duration

# Prometheus' own grammar (prometheus/common model.ParseDuration): each unit at most
# once, largest first, whole numbers only.
_PROMETHEUS_DURATION = re.compile(
    r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?"
)
_UNIT_MS = (
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
)
_MAX_MS = 2**63 - 1  # Prometheus keeps durations in an int64 of milliseconds.
_MAX_DIGITS = len(str(_MAX_MS))  # an amount with more digits is too long in any unit
_TOO_LONG = "too long for Prometheus (at most about 292 million years)"

# Spellings people write that Prometheus does not understand, mapped to its unit letter,
# so that an error can say what to write instead.
_SPOKEN_UNITS = {
    **{word: "ms" for word in ("ms", "msec", "millisecond", "milliseconds")},
    **{word: "s" for word in ("s", "sec", "secs", "second", "seconds")},
    **{word: "m" for word in ("m", "min", "mins", "minute", "minutes")},
    **{word: "h" for word in ("h", "hr", "hrs", "hour", "hours")},
    **{word: "d" for word in ("d", "day", "days")},
    **{word: "w" for word in ("w", "week", "weeks")},
    **{word: "y" for word in ("y", "year", "years")},
}
_SPOKEN_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*", re.IGNORECASE)
_DECIMAL_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m)")
_DURATION_UNITS = "units y, w, d, h, m, s, ms, each at most once, largest first"


class DurationError(ValueError):
    """``text`` is not a duration Prometheus accepts; ``hint`` says what to write instead."""

    def __init__(self, text: str, hint: str) -> None:
        self.text = text
        self.hint = hint
        super().__init__(f"not a Prometheus duration: {text!r} — {hint}")


def parse_duration(text: str) -> Duration:
    """Parse a Prometheus duration of whole seconds (``30d``, ``1h30m``, ``5m``).

    Raises :class:`DurationError` for anything Prometheus cannot parse (``1.5d``,
    ``30 days``, ``1mo``, ``-5m``) and for a duration with a millisecond remainder, which
    :class:`Duration` cannot hold.
    """
    milliseconds = parse_milliseconds(text)
    if milliseconds % 1000:
        raise DurationError(text, "expected whole seconds; drop the milliseconds")
    return Duration(text=text, seconds=milliseconds // 1000)


def parse_milliseconds(text: str) -> int:
    """Parse any Prometheus duration (``250ms`` included) into milliseconds."""
    match = _PROMETHEUS_DURATION.fullmatch(text)
    if text == "0":
        return 0
    if not text or match is None:
        raise DurationError(text, _duration_hint(text))
    if any(amount is not None and len(amount) > _MAX_DIGITS for amount in match.groups()):
        raise DurationError(text, _TOO_LONG)  # before int(), which refuses 4,300 digits
    total = sum(
        int(amount) * unit_ms
        for amount, (_, unit_ms) in zip(match.groups(), _UNIT_MS, strict=True)
        if amount is not None
    )
    if total > _MAX_MS:
        raise DurationError(text, _TOO_LONG)
    return total


def parse_threshold_milliseconds(text: str) -> Decimal:
    """Parse a latency threshold: a Prometheus duration or a decimal with a unit (``2.5s``).

    Returns exact milliseconds (a ``Decimal``, so ``0.3s`` is exactly 300). Raises
    :class:`DurationError` when ``text`` is neither.
    """
    match = _DECIMAL_DURATION.fullmatch(text)
    if match is None:
        return Decimal(parse_milliseconds(text))
    amount, unit = match.groups()
    return Decimal(amount) * dict(_UNIT_MS)[unit]


def format_milliseconds(milliseconds: int) -> str:
    """Write ``milliseconds`` as Prometheus does (``129600000`` → ``1d12h``)."""
    if milliseconds == 0:
        return "0s"
    parts = []
    remaining = milliseconds
    for unit, unit_ms in _UNIT_MS:
        # Like Prometheus: years and weeks only when exact, as 90d reads better than 12w6d.
        if unit in ("y", "w") and remaining % unit_ms:
            continue
        amount, remaining = divmod(remaining, unit_ms)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def format_seconds(seconds: float) -> str:
    """Write a latency threshold compactly: ``0.25`` → ``250ms``, ``2.5`` → ``2.5s``."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    return f"{seconds:g}s"


def _duration_hint(text: str) -> str:
    """Say how to write ``text`` as a Prometheus duration, with the fix when it is clear."""
    if text.strip().startswith("-"):
        return "a duration cannot be negative"
    spoken = _SPOKEN_DURATION.fullmatch(text)
    if spoken is not None:
        amount, word = spoken.groups()
        unit = _SPOKEN_UNITS.get(word.lower())
        if word.lower() in ("mo", "month", "months"):
            return "months have no fixed length in Prometheus; use days, e.g. 30d"
        if unit is not None:
            milliseconds = Decimal(amount) * dict(_UNIT_MS)[unit]
            if milliseconds == milliseconds.to_integral_value() and 0 < milliseconds <= _MAX_MS:
                return f"did you mean '{format_milliseconds(int(milliseconds))}'?"
    return f"write whole numbers with the {_DURATION_UNITS}, e.g. 30d or 1h30m"
