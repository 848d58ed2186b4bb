"""Serialise generated documents the one way per format, and read them back.

- JSON: orjson, two-space indent, keys in the order built, UTF-8 kept as is.
- YAML: ``toolkit.generate.yaml_writer`` (block style, headed by the do-not-edit comment).

Reading back (the readiness checks read generated files): JSON with the standard
library, strictly; YAML with PyYAML's safe loader (libyaml's when available).
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import yaml

from toolkit.generate.yaml_writer import HEADER, dump_yaml

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def dump_json(document: Any) -> str:
    """JSON with two-space indent, keys in the order built, newline-terminated."""
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_json(text: str) -> Any:
    """Parse JSON text strictly: ``NaN`` and ``Infinity`` are not JSON."""
    return json.loads(text, parse_constant=_reject_constant)


def load_yaml(text: str) -> Any:
    """Parse YAML text with the safe loader."""
    return yaml.load(text, Loader=_Loader)


__all__ = ["HEADER", "dump_json", "dump_yaml", "load_json", "load_yaml"]
