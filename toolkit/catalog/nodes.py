"""Typed reading of a composed YAML node tree that records problems instead of raising.

Working on nodes rather than on ``yaml.safe_load``'s plain values keeps the line of every
value, so each problem can say where it is, and lets one pass report every problem.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from toolkit.catalog.problems import Problem

_TAG = "tag:yaml.org,2002:"
STR_TAG = _TAG + "str"
_NUMBER_TAGS = (_TAG + "int", _TAG + "float")
_TEMPLATE_HINT = "Prometheus expands alert labels as templates"
# A number written longer than this is named by its length in a problem, not shown.
_SHOWN_DIGITS = 40
_SHOWN_CHARACTERS = 100  # the same for a string: its first 40 characters are shown
# Python refuses int() of a decimal string over 4,300 digits (and sexagesimal ints cost
# quadratic time): no catalog number is written longer than this.
_INT_CHARACTERS = 200


def child_path(path: str, key: str) -> str:
    """The path of ``key`` in the mapping at ``path``: ``services[0]`` → ``services[0].slo``."""
    return f"{path}.{key}" if path else key


def item_path(path: str, index: int) -> str:
    """The path of item ``index`` of the list at ``path``."""
    return f"{path}[{index}]"


def line_of(node: yaml.Node) -> int:
    """The 1-based line where ``node`` starts."""
    return int(node.start_mark.line) + 1


def describe(node: yaml.Node) -> str:
    """Name the kind and value of ``node`` for a "found …" clause about a wrong type."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == STR_TAG:
        return f"the string {_string_text(node)}"
    if node.tag in _NUMBER_TAGS:
        return f"the number {node.value}" if _short(node) else _long_number(node)
    if node.tag == _TAG + "bool":
        return f"the boolean {node.value}"
    if node.tag == _TAG + "null":
        return "an empty value" if node.value in ("", "~") else "null"
    if node.tag == _TAG + "timestamp":
        return f"the date {node.value}"
    return f"a value tagged {node.tag}"


def shown(node: yaml.Node) -> str:
    """Show a scalar as written, for a "found …" clause about a wrong value."""
    if isinstance(node, yaml.ScalarNode) and node.tag in _NUMBER_TAGS:
        return str(node.value) if _short(node) else _long_number(node)
    if isinstance(node, yaml.ScalarNode) and node.tag == STR_TAG:
        return _string_text(node)
    return describe(node)


def _string_text(node: yaml.Node) -> str:
    """A string quoted, its start only (and its length) when it is too long to show."""
    text = str(node.value)
    if len(text) <= _SHOWN_CHARACTERS:
        return repr(text)
    return f"{text[:_SHOWN_DIGITS]!r}… ({len(text)} characters)"


def _short(node: yaml.Node) -> bool:
    """Whether a number is short enough to show as written."""
    return len(str(node.value)) <= _SHOWN_DIGITS


def _long_number(node: yaml.Node) -> str:
    """``a number of 5000 digits``."""
    return f"a number of {sum(char.isdigit() for char in str(node.value))} digits"


def int_value(node: yaml.ScalarNode) -> int | None:
    """The value of an int node in any YAML 1.1 form (``1_000``, ``0x1f``, ``1:30``).

    ``None`` when it is written longer than any number a catalog needs, where Python
    would refuse it (over 4,300 digits) or take long to read it.
    """
    if len(str(node.value)) > _INT_CHARACTERS:
        return None
    try:
        return int(SafeConstructor().construct_yaml_int(node))
    except ValueError:
        return None


def is_null(node: yaml.Node) -> bool:
    """Whether ``node`` is YAML's null (``null``, ``~`` or nothing after the colon)."""
    return isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "null"


class NodeReader:
    """Reads typed values out of YAML nodes; each mistake becomes a :class:`Problem`."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self._constructor = SafeConstructor()
        # (id of a mapping node, known key) for each unknown key that looked like a
        # misspelling of it: "missing 'slo'" is noise next to "unknown key 'slos'".
        self._suggested: set[tuple[int, str]] = set()

    def suggested(self, node: yaml.Node, key: str) -> bool:
        """Whether an unknown key of the mapping ``node`` was reported as a misspelt ``key``."""
        return (id(node), key) in self._suggested

    def report(
        self,
        node: yaml.Node,
        path: str,
        message: str,
        *,
        expected: str | None = None,
        found: str | None = None,
        hint: str | None = None,
    ) -> None:
        """Record a problem at ``node``."""
        self.problems.append(
            Problem(
                file=self.file,
                line=line_of(node),
                column=int(node.start_mark.column) + 1,
                path=path,
                message=message,
                expected=expected,
                found=found,
                hint=hint,
            )
        )

    def expect(
        self, node: yaml.Node, path: str, expected: str, found: str, hint: str | None = None
    ) -> None:
        """Record that ``node`` at ``path`` should have been ``expected``, but was ``found``."""
        message = f"expected {expected}, found {found}"
        self.report(node, path, message, expected=expected, found=found, hint=hint)

    def entries(
        self,
        node: yaml.Node,
        path: str,
        expected: str,
        merge_hint: str = "put shared settings under 'defaults'",
    ) -> list[tuple[yaml.Node, str, yaml.Node]] | None:
        """The ``(key node, key, value node)`` entries of the mapping ``node``.

        Reports a node that is not a mapping (``expected`` describes it), merge keys
        (``merge_hint`` says what to do instead), keys that are not strings and duplicate
        keys, which are left out.
        """
        if not isinstance(node, yaml.MappingNode):
            self.expect(node, path, expected, describe(node))
            return None
        entries: list[tuple[yaml.Node, str, yaml.Node]] = []
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self.report(
                    key_node,
                    path,
                    "merge keys ('<<') are not supported",
                    hint=merge_hint,
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != STR_TAG:
                self.expect(key_node, path, "a string key", describe(key_node))
                continue
            key = str(key_node.value)
            if key in first_line:
                self.report(
                    key_node,
                    path,
                    f"duplicate key '{key}': first defined at line {first_line[key]}",
                )
                continue
            first_line[key] = line_of(key_node)
            entries.append((key_node, key, value_node))
        return entries

    def mapping(
        self,
        node: yaml.Node,
        path: str,
        keys: Sequence[str],
        required: Sequence[str] = (),
        expected: str = "a mapping",
        misplaced: Mapping[str, str] | None = None,
    ) -> dict[str, yaml.Node] | None:
        """The known keys of the mapping ``node`` and their value nodes.

        Besides what :meth:`entries` reports: unknown keys (suggesting the closest known
        one, or the hint ``misplaced`` gives for a key that belongs elsewhere) and
        missing ``required`` keys.
        """
        entries = self.entries(node, path, expected)
        if entries is None:
            return None
        values: dict[str, yaml.Node] = {}
        for key_node, key, value_node in entries:
            if key in keys:
                values[key] = value_node
            elif misplaced and key in misplaced:
                self.report(key_node, path, f"unknown key '{key}'", hint=misplaced[key])
            else:
                close = difflib.get_close_matches(key, keys, n=1)
                if close:
                    self._suggested.add((id(node), close[0]))
                    hint = f"did you mean '{close[0]}'?"
                else:
                    hint = "valid keys: " + ", ".join(keys)
                self.report(key_node, path, f"unknown key '{key}'", hint=hint)
        written = {key for _, key, _ in entries}
        for key in required:
            if key not in written and not self.suggested(node, key):
                self.report(node, path, f"missing required key '{key}'", expected=f"key '{key}'")
        return values

    def sequence(self, node: yaml.Node, path: str, expected: str) -> list[yaml.Node] | None:
        """The items of the list ``node``; ``expected`` describes it for an error."""
        if not isinstance(node, yaml.SequenceNode):
            self.expect(node, path, expected, describe(node))
            return None
        return list(node.value)

    def string(
        self, node: yaml.Node, path: str, expected: str = "a non-empty string"
    ) -> str | None:
        """The non-blank string ``node``; ``expected`` describes it for an error."""
        if not isinstance(node, yaml.ScalarNode) or node.tag != STR_TAG:
            hint = "quote it to make it a string" if isinstance(node, yaml.ScalarNode) else None
            if is_null(node):
                hint = None
            self.expect(node, path, expected, describe(node), hint)
            return None
        text = str(node.value)
        if not text.strip():
            self.expect(node, path, expected, shown(node))
            return None
        return text

    def template_free(self, node: yaml.Node, path: str) -> str | None:
        """The non-blank string ``node``, without ``{{``: it becomes an alert label, which
        Prometheus expands as a template (a stray ``{{`` stops the rule file loading)."""
        text = self.string(node, path)
        if text is not None and "{{" in text:
            expected = "a non-empty string without '{{'"
            self.expect(node, path, expected, shown(node), _TEMPLATE_HINT)
            return None
        return text

    def number(self, node: yaml.Node, path: str, expected: str) -> float | None:
        """The finite number ``node``; ``expected`` describes it for an error."""
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _NUMBER_TAGS:
            self.expect(node, path, expected, describe(node), _number_hint(node))
            return None
        try:
            value = float(self._constructor.construct_object(node))
        except (ConstructorError, ValueError, OverflowError):  # OverflowError: a huge int
            value = math.nan
        if not math.isfinite(value):
            self.expect(node, path, expected, shown(node))
            return None
        return value


def _number_hint(node: yaml.Node) -> str | None:
    """Suggest how to turn a quoted number, a percentage string, or an exponent YAML 1.1
    does not read as a number (``1e3``, ``1.5e3``) into a number."""
    if not isinstance(node, yaml.ScalarNode) or node.tag != STR_TAG:
        return None
    written = str(node.value).strip()
    text = written.rstrip("%").strip()
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None  # "nan", "inf", "1e400": no number a catalog can use
    if node.style is None and written == text:
        # Written bare, yet a string: PyYAML follows YAML 1.1, whose floats need a dot
        # and a signed exponent. Suggest the same value in a form it reads as a number.
        return f"YAML reads {text} as a string: write {_yaml_float(number)}"
    return f"write it as a bare number: {text}"


def _yaml_float(number: float) -> str:
    """``number`` written so that YAML 1.1 reads it as a float (``1000.0``, ``1.0e-05``)."""
    text = repr(number)
    mantissa, exponent_mark, exponent = text.partition("e")
    if exponent_mark and "." not in mantissa:
        text = f"{mantissa}.0e{exponent}"
    return text
