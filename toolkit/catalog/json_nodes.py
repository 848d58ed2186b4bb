"""JSON text as a YAML node tree: the catalog's problems can then point at the line of
any value in a JSON file, and numbers keep JSON's types (YAML 1.1 would read ``1e3`` as
a string)."""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

import yaml

from toolkit.catalog.problems import CatalogError, Problem
from toolkit.catalog.text import MAX_DEPTH, check_tree, too_deep

# The YAML tags of the nodes built, shared with the overlay reader.
TAG = "tag:yaml.org,2002:"
STR_TAG = TAG + "str"
MAP_TAG = TAG + "map"
SEQ_TAG = TAG + "seq"
INT_TAG = TAG + "int"
FLOAT_TAG = TAG + "float"
BOOL_TAG = TAG + "bool"
NULL_TAG = TAG + "null"

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
# Python's json module reads NaN and the infinities too; they are reported later.
# Strings (skipped whole, as they may hold brackets) and brackets.
_BRACKETS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[][{}]')
_WORDS = {
    "true": BOOL_TAG,
    "false": BOOL_TAG,
    "null": NULL_TAG,
    "NaN": FLOAT_TAG,
    "Infinity": FLOAT_TAG,
    "-Infinity": FLOAT_TAG,
}


def compose_json(file: str, text: str, path: str = "") -> yaml.Node:
    """The JSON document ``text`` as a YAML node tree, with the line of every value.

    Raises :class:`CatalogError` for the first syntax error (``path`` is the field path
    the document stands for). Numbers keep JSON's types: an integer is an int node,
    anything with a fraction or exponent a float node.
    """
    deep = _too_deep_line(text)
    if deep is not None:
        raise CatalogError([too_deep(file, deep, path)])
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        message = f"not valid JSON: {error.msg}"
        raise CatalogError([Problem(file, error.lineno, error.colno, path, message)]) from None
    node, _ = _JsonComposer(file, text).value(0)
    check_tree(file, node, path)
    return node


def _too_deep_line(text: str) -> int | None:
    """The line where the text opens its array or object number ``MAX_DEPTH + 1``, if any."""
    depth = 0
    for token in _BRACKETS.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return text.count("\n", 0, token.start()) + 1
        elif char in "]}":
            depth -= 1
    return None


class _JsonComposer:
    """Builds nodes from text that ``json.loads`` accepted (so no error checks here)."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.line_starts = [0] + [match.end() for match in re.finditer("\n", text)]

    def mark(self, index: int) -> yaml.Mark:
        line = bisect.bisect_right(self.line_starts, index) - 1
        column = index - self.line_starts[line]
        return yaml.Mark(self.file, index, line, column, self.text, index)

    def skip(self, index: int) -> int:
        match = _SPACE.match(self.text, index)
        return match.end() if match else index

    def value(self, index: int) -> tuple[yaml.Node, int]:
        """The node of the value starting at ``index`` (after blanks) and the index after it."""
        index = self.skip(index)
        char = self.text[index]
        if char == "{":
            return self.container(index, "}", yaml.MappingNode, MAP_TAG)
        if char == "[":
            return self.container(index, "]", yaml.SequenceNode, SEQ_TAG)
        if char == '"':
            string, end = _DECODER.raw_decode(self.text, index)
            return self.scalar(STR_TAG, string, index, end, '"'), end
        for word, tag in _WORDS.items():
            if self.text.startswith(word, index):
                end = index + len(word)
                return self.scalar(tag, word, index, end), end
        match = _NUMBER.match(self.text, index)
        if match is None:  # pragma: no cover - json.loads accepted the text
            raise ValueError(f"{self.file}: unexpected {char!r} at {index}")
        tag = FLOAT_TAG if match.group(1) or match.group(2) else INT_TAG
        return self.scalar(tag, match.group(), index, match.end()), match.end()

    def scalar(
        self, tag: str, value: str, start: int, end: int, style: str | None = None
    ) -> yaml.ScalarNode:
        return yaml.ScalarNode(tag, value, self.mark(start), self.mark(end), style=style)

    def container(
        self,
        start: int,
        close: str,
        kind: type[yaml.MappingNode] | type[yaml.SequenceNode],
        tag: str,
    ) -> tuple[yaml.Node, int]:
        """A mapping (``{``) or list (``[``) starting at ``start``."""
        items: list[Any] = []
        index = self.skip(start + 1)
        while self.text[index] != close:
            item, index = self.value(index)
            if kind is yaml.MappingNode:
                index = self.skip(index) + 1  # the ':'
                value, index = self.value(index)
                items.append((item, value))
            else:
                items.append(item)
            index = self.skip(index)
            if self.text[index] == ",":
                index = self.skip(index + 1)
        end = index + 1
        return kind(tag, items, self.mark(start), self.mark(end), flow_style=True), end
