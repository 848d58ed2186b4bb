"""toolkit.logs._render: one line of compact ASCII JSON, the same with either encoder."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import importlib.util
import json
import uuid
from typing import Any

import pytest

from toolkit.logs import Processor, json_renderer, render_json

HAS_ORJSON = importlib.util.find_spec("orjson") is not None
needs_orjson = pytest.mark.skipif(not HAS_ORJSON, reason="orjson is not installed")


def _orjson() -> Processor:
    return json_renderer(use_orjson=True)


RENDERERS = [
    pytest.param(lambda: render_json, id="stdlib"),
    pytest.param(_orjson, id="orjson", marks=needs_orjson),
]


class Color(enum.Enum):
    """An enum: orjson encodes it natively, the stdlib through the fallback."""

    RED = "red"


@dataclasses.dataclass
class Point:
    """A dataclass: both encoders must give its repr."""

    x: int


class Custom:
    """An object that says how structlog should render it."""

    def __structlog__(self) -> str:
        return "custom!"


HOSTILE = [
    'foo\n{"level":"critical"}',
    'foo\r\n{"level": "critical", "service": "x"}',
    "a\r\nb",
    'say "hi" \\ back',
    "tab\tnul\x00esc\x1bdel\x7f bell\x07 bs\x08 ff\x0c vt\x0b fs\x1c",
    "nel\x85 line\u2028separator\u2029",
    "naïve ☃ 😀",
]


@pytest.mark.parametrize("make", RENDERERS)
@pytest.mark.parametrize("value", HOSTILE)
def test_any_value_stays_one_ascii_line(make: Any, value: str) -> None:
    """Request-borne text cannot end the line or start a field: it round-trips as data."""
    line = make()(None, "info", {"event": value, "path": value})
    assert line.isascii()
    assert line.splitlines() == [line]
    assert json.loads(line) == {"event": value, "path": value}


@pytest.mark.parametrize("make", RENDERERS)
def test_hostile_keys_are_escaped_too(make: Any) -> None:
    """A field name taken from a request (``**headers``) cannot break the line either."""
    key = 'x"\n{"level":"critical"}'
    line = make()(None, "info", {key: 1, "level": "info"})
    assert line == '{"x\\"\\n{\\"level\\":\\"critical\\"}":1,"level":"info"}'


@pytest.mark.parametrize("make", RENDERERS)
def test_values_json_cannot_encode(make: Any) -> None:
    """Enums give their value, UUIDs and dates their text, the rest ``__structlog__``/repr."""
    event = {
        "color": Color.RED,
        "id": uuid.UUID(int=1),
        "at": datetime.datetime(2026, 11, 27, 15, 0, tzinfo=datetime.timezone.utc),
        "day": datetime.date(2026, 11, 27),
        "point": Point(1),
        "custom": Custom(),
        "set": {1},
        "bytes": b"x",
        "big": 2**70,
        "nested": {"t": (1, 2.5, None, True)},
        3: "int key",
    }
    assert json.loads(make()(None, "info", event)) == {
        "color": "red",
        "id": "00000000-0000-0000-0000-000000000001",
        "at": "2026-11-27T15:00:00+00:00",
        "day": "2026-11-27",
        "point": "Point(x=1)",
        "custom": "custom!",
        "set": "{1}",
        "bytes": "b'x'",
        "big": 2**70,
        "nested": {"t": [1, 2.5, None, True]},
        "3": "int key",
    }


PARITY_EVENTS = [
    {"event": "request", "status": 200, "duration_ms": 1.234, "path": "/a?b=c&d"},
    {"f": 0.1, "g": 1e300, "h": -0.0, "i": 10**18, "j": [], "k": {}},
    *({"event": "x", "v": value, value: 1} for value in HOSTILE),
]


@needs_orjson
@pytest.mark.parametrize("event", PARITY_EVENTS)
def test_both_encoders_write_the_same_text(event: dict[str, Any]) -> None:
    """The backend never shows in the output: orjson and the stdlib agree byte for byte."""
    assert _orjson()(None, "info", dict(event)) == render_json(None, "info", dict(event))


def test_json_renderer_choice() -> None:
    """``use_orjson=False`` is the stdlib renderer; the default prefers orjson when present."""
    assert json_renderer(use_orjson=False) is render_json
    chosen = json_renderer()
    assert (chosen is not render_json) == HAS_ORJSON
