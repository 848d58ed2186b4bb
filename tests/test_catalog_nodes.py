"""Tests for toolkit.catalog.nodes."""

from __future__ import annotations

import pytest
import yaml

from toolkit.catalog.nodes import NodeReader, child_path, describe, item_path, shown


def _node(text: str) -> yaml.Node:
    """The composed node of a YAML snippet."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    assert node is not None
    return node


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("{a: 1}", "a mapping"),
        ("[1]", "a list"),
        ("high", "the string 'high'"),
        ("'99.9'", "the string '99.9'"),
        ("99.9", "the number 99.9"),
        ("yes", "the boolean yes"),
        ("null", "null"),
        ("~", "an empty value"),
        ("2024-01-01", "the date 2024-01-01"),
        ("!custom x", "a value tagged !custom"),
    ],
)
def test_describe_names_kind_and_value(text: str, description: str) -> None:
    """Wrong-type problems name what was found as YAML typed it."""
    assert describe(_node(text)) == description


@pytest.mark.parametrize(("text", "value"), [("100.5", "100.5"), ("30 days", "'30 days'")])
def test_shown_writes_values_as_written(text: str, value: str) -> None:
    """Wrong-value problems show numbers bare and strings quoted."""
    assert shown(_node(text)) == value


def test_paths() -> None:
    """Field paths read like Python: dots for keys, brackets for items."""
    assert child_path("", "services") == "services"
    assert item_path("services", 2) == "services[2]"
    assert child_path("services[2]", "slo") == "services[2].slo"


def test_mapping_reports_merge_keys_and_non_string_keys() -> None:
    """'<<' merge keys and non-string keys are problems, the other keys are kept."""
    reader = NodeReader("c.yaml")
    node = _node("base: &b {x: 1}\n<<: *b\n1: one\nname: orders\n")
    values = reader.mapping(node, "", ("base", "name"))
    assert values is not None
    assert sorted(values) == ["base", "name"]
    assert [str(p) for p in reader.problems] == [
        "c.yaml:2: merge keys ('<<') are not supported — put shared settings under 'defaults'",
        "c.yaml:3: expected a string key, found the number 1",
    ]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (".nan", ".nan"),
        (".inf", ".inf"),
        ("-.inf", "-.inf"),
        ("9" * 400, "a number of 400 digits"),
        ("-" + "9" * 400, "a number of 400 digits"),
        ("9" * 5000, "a number of 5000 digits"),
    ],
)
def test_number_rejects_non_finite(text: str, found: str) -> None:
    """NaN, infinities and integers too large for a float are not numbers a catalog can
    use (a problem, not an OverflowError); a long number is named by its length."""
    reader = NodeReader("c.yaml")
    assert reader.number(_node(text), "x", "a number") is None
    assert [str(p) for p in reader.problems] == [f"c.yaml:1: x: expected a number, found {found}"]


def test_number_reads_yaml_int_forms() -> None:
    """YAML integers in any notation are read as their value."""
    reader = NodeReader("c.yaml")
    assert reader.number(_node("1_000"), "x", "a number") == 1000.0
    assert reader.problems == []


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("'99.9'", " — write it as a bare number: 99.9"),
        ("99.9%", " — write it as a bare number: 99.9"),
        ("1e3", " — YAML reads 1e3 as a string: write 1000.0"),
        ("1.5e3", " — YAML reads 1.5e3 as a string: write 1500.0"),
        ("1e-5", " — YAML reads 1e-5 as a string: write 1.0e-05"),
        ("1e400", ""),
        ("'1e400'", ""),
        ("infinity", ""),
        ("high", ""),
    ],
)
def test_number_hint_says_how_to_write_a_number(text: str, hint: str) -> None:
    """A string that is almost a number gets a hint that works: quoted or with '%' —
    write it bare; a bare exponent PyYAML (YAML 1.1) reads as a string — the same value
    in a form it reads as a number; nothing a catalog could use — no hint."""
    reader = NodeReader("c.yaml")
    assert reader.number(_node(text), "x", "a number") is None
    (problem,) = reader.problems
    if hint:
        assert str(problem).endswith(hint)
        suggested = hint.rsplit(" ", 1)[1]
        assert isinstance(yaml.safe_load(suggested), float)
    else:
        assert " — " not in str(problem)
