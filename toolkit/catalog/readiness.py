"""The catalog's readiness settings: a service's ``gate`` and the top-level ``assessment``.

``gate`` is the readiness level (1-3) CI requires of a service; ``assessment`` holds the
answers ``toolkit assess`` weighs before a split (see docs/readiness.md).
"""

from __future__ import annotations

from typing import Final

import yaml

from toolkit.catalog.model import SplitAnswers
from toolkit.catalog.nodes import NodeReader, child_path, describe, int_value, shown

MAX_GATE: Final = 3
GATE: Final = f"a readiness level from 1 to {MAX_GATE}"
ASSESSMENT_KEYS: Final = (
    "team_size",
    "peak_rps",
    "capacity_rps",
    "deploys_automated",
    "scaling_timeline",
)
_TAG = "tag:yaml.org,2002:"
# No team or count needs more digits; the model keeps such numbers exact.
MAX_COUNT: Final = 10**18 - 1


def read_gate(reader: NodeReader, node: yaml.Node, path: str) -> int | None:
    """A readiness level from 1 to :data:`MAX_GATE`."""
    if not (isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "int"):
        reader.expect(node, path, GATE, describe(node))
        return None
    value = int_value(node)
    if value is None or not 1 <= value <= MAX_GATE:
        reader.expect(node, path, GATE, shown(node))
        return None
    return value


def _count(reader: NodeReader, node: yaml.Node, path: str) -> int | None:
    expected = "a whole number above 0"
    if not (isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "int"):
        reader.expect(node, path, expected, describe(node))
        return None
    value = int_value(node)
    if value is None or value > MAX_COUNT:
        reader.expect(node, path, expected, shown(node), "at most 18 digits")
        return None
    if value < 1:
        reader.expect(node, path, expected, shown(node))
        return None
    return value


def _rate(reader: NodeReader, node: yaml.Node, path: str) -> float | None:
    expected = "requests per second, a number above 0"
    value = reader.number(node, path, expected)
    if value is not None and value <= 0:
        reader.expect(node, path, expected, shown(node))
        return None
    return value


def read_flag(reader: NodeReader, node: yaml.Node, path: str) -> bool | None:
    """``true`` or ``false`` (YAML 1.1's yes/no/on/off too)."""
    if not (isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "bool"):
        reader.expect(node, path, "true or false", describe(node))
        return None
    return str(node.value).lower() in ("true", "yes", "on")


def read_assessment(reader: NodeReader, node: yaml.Node, path: str) -> SplitAnswers:
    """The answers under ``assessment``; each key is optional."""
    values = reader.mapping(node, path, ASSESSMENT_KEYS)
    if values is None:
        return SplitAnswers()
    at = {key: child_path(path, key) for key in ASSESSMENT_KEYS}
    return SplitAnswers(
        team_size=_count(reader, values["team_size"], at["team_size"])
        if "team_size" in values
        else None,
        peak_rps=_rate(reader, values["peak_rps"], at["peak_rps"])
        if "peak_rps" in values
        else None,
        capacity_rps=_rate(reader, values["capacity_rps"], at["capacity_rps"])
        if "capacity_rps" in values
        else None,
        deploys_automated=read_flag(reader, values["deploys_automated"], at["deploys_automated"])
        if "deploys_automated" in values
        else None,
        scaling_timeline=reader.string(values["scaling_timeline"], at["scaling_timeline"])
        if "scaling_timeline" in values
        else None,
    )
