"""The catalog's ``alerting`` settings: the low-traffic guard, whether traffic is
expected, and how many targets down page.

Inheritable from ``defaults`` key by key (see ``toolkit.catalog.settings``).
"""

from __future__ import annotations

from typing import Any, Final

import yaml

from toolkit.catalog.model import Alerting
from toolkit.catalog.nodes import NodeReader, child_path, describe, shown
from toolkit.catalog.readiness import read_flag

ALERTING_KEYS: Final = ("min_requests", "expect_traffic", "page_targets_down")
MIN_REQUESTS: Final = "a whole number of requests, 0 or more"
TARGETS_SHARE: Final = "a percentage of the job's targets above 0, at most 100"
# More digits than any request count: int() of a 4,300-digit string raises.
_MAX_DIGITS: Final = 18
_TAG: Final = "tag:yaml.org,2002:"


def read_alerting(reader: NodeReader, node: yaml.Node, path: str) -> dict[str, Any] | None:
    """The keys written under ``alerting``, checked; ``None`` when it is not a mapping."""
    values = reader.mapping(node, path, ALERTING_KEYS)
    if values is None:
        return None
    given: dict[str, Any] = {}
    if "min_requests" in values:
        given["min_requests"] = _min_requests(
            reader, values["min_requests"], child_path(path, "min_requests")
        )
    if "expect_traffic" in values:
        given["expect_traffic"] = read_flag(
            reader, values["expect_traffic"], child_path(path, "expect_traffic")
        )
    if "page_targets_down" in values:
        given["page_targets_down"] = _share(
            reader, values["page_targets_down"], child_path(path, "page_targets_down")
        )
    return given


def build_alerting(given: dict[str, Any]) -> Alerting:
    """The :class:`Alerting` of valid merged keys; the rest keep their defaults."""
    return Alerting(**{key: value for key, value in given.items() if value is not None})


def _min_requests(reader: NodeReader, node: yaml.Node, path: str) -> int | None:
    if not (isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "int"):
        reader.expect(node, path, MIN_REQUESTS, describe(node))
        return None
    text = str(node.value).replace("_", "").lstrip("+")
    if not text.isdigit() or len(text) > _MAX_DIGITS:
        found = shown(node) if len(text) <= _MAX_DIGITS else f"a number of {len(text)} digits"
        reader.expect(node, path, MIN_REQUESTS, found)
        return None
    return int(text)


def _share(reader: NodeReader, node: yaml.Node, path: str) -> float | None:
    value = reader.number(node, path, TARGETS_SHARE)
    if value is not None and not 0 < value <= 100:
        reader.expect(node, path, TARGETS_SHARE, shown(node))
        return None
    return value
