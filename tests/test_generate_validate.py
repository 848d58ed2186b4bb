"""Parse-back checks: the project's dashboard schema, rule and test file structure."""

from __future__ import annotations

import copy
import json
from typing import Any

import fastjsonschema
import jsonschema
import pytest
from _generate_support import varied_catalog

from toolkit.generate import ValidationError, generate, validate
from toolkit.generate.documents import load_yaml
from toolkit.generate.validate import (
    dashboard_schema,
    validate_dashboard,
    validate_rule_tests,
    validate_rules_file,
)


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    """The output for the varied catalog, generated once."""
    return generate(varied_catalog())


def test_schema_is_a_valid_draft7_schema() -> None:
    """The project's schema is itself valid JSON Schema (draft-07)."""
    jsonschema.Draft7Validator.check_schema(dashboard_schema())


def test_every_dashboard_fits_the_schema_per_the_reference_validator(files: dict[str, str]) -> None:
    """Each generated dashboard validates with jsonschema too, not only the compiled validator."""
    validator = jsonschema.Draft7Validator(dashboard_schema())
    dashboards = [p for p in files if p.endswith(".json")]
    assert len(dashboards) == 4
    for path in dashboards:
        errors = [e.message for e in validator.iter_errors(json.loads(files[path]))]
        assert errors == [], path


def _orders(files: dict[str, str]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(files["dashboards/orders.json"])
    return document


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update({"__inputs": []}), "must not contain {'__inputs'}"),
        (lambda d: d["panels"][0].update({"type": "graph"}), "must be one of"),
        (lambda d: d.update({"uid": "x" * 41}), "data.uid must match pattern"),
        (lambda d: d.update({"description": "hand made"}), "data.description must match pattern"),
        (lambda d: d["templating"].update({"list": []}), "data.templating.list must contain"),
        (
            lambda d: d["panels"][1]["targets"][0].update(
                {"datasource": {"type": "prometheus", "uid": "abc"}}
            ),
            "must be same as const definition",
        ),
    ],
)
def test_schema_rejects(files: dict[str, str], mutate: Any, message: str) -> None:
    """__inputs, deprecated panels, long uids, missing header or datasource variable fail."""
    document = copy.deepcopy(_orders(files))
    mutate(document)
    with pytest.raises(ValidationError, match=r"dashboards/orders\.json: ") as caught:
        validate_dashboard("dashboards/orders.json", document)
    assert message in caught.value.problem


def test_rules_file_structure_is_checked(files: dict[str, str]) -> None:
    """A rule with both record and alert, or a bad label name, is refused."""
    document = load_yaml(files["alert-rules/orders.rules.yaml"])
    validate_rules_file("r", document)
    document["groups"][0]["rules"][0]["alert"] = "X"
    with pytest.raises(ValidationError, match=r"groups\[0\].rules\[0\]: needs exactly one"):
        validate_rules_file("r", document)
    document = load_yaml(files["alert-rules/orders.rules.yaml"])
    document["groups"][0]["rules"][0]["labels"]["bad-name"] = "x"
    with pytest.raises(ValidationError, match="bad label name 'bad-name'"):
        validate_rules_file("r", document)


def test_rule_tests_structure_is_checked(files: dict[str, str]) -> None:
    """A promtool test file without tests is refused."""
    document = load_yaml(files["alert-rules/orders.test.yaml"])
    validate_rule_tests("t", document)
    document["tests"] = []
    with pytest.raises(ValidationError, match="tests: a non-empty list"):
        validate_rule_tests("t", document)


# Values that sit on the edges where JSON Schema implementations differ: integral floats,
# booleans next to numbers, a trailing newline after a pattern's "$", huge integers,
# strings Rust cannot hold, empty containers.
_EDGE_VALUES: list[Any] = [
    1.0,
    0.0,
    -1,
    25,
    10**30,
    True,
    False,
    None,
    "",
    "A\n",
    "orders\n",
    "1m\n",
    "x",
    "\ud800",
    [],
    {},
    ["a", "a"],
    [1],
    {"type": "prometheus"},
]


def _places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path of a document, root excluded."""
    found: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        children: Any = node.items()
    elif isinstance(node, list):
        children = enumerate(node)
    else:
        return found
    for key, child in children:
        found.append((*path, key))
        found += _places(child, (*path, key))
    return found


def _replaced(document: Any, place: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(document)
    parent = changed
    for key in place[:-1]:
        parent = parent[key]
    parent[place[-1]] = value
    return changed


def test_dashboard_check_decides_as_the_compiled_schema_whichever_validator_says_yes(
    files: dict[str, str],
) -> None:
    """Edge values put at the places of the first panels: accepted iff fastjsonschema accepts.

    jsonschema-rs (when installed) only ever answers yes; this proves it never says yes
    where the compiled schema says no, so the outcome is the compiled schema's.
    """
    compiled = validate._dashboard_validator()
    document = _orders(files)
    document["panels"] = (
        document["panels"][:3] + [p for p in document["panels"] if p["type"] == "table"][:1]
    )
    places = [place for place in _places(document) if place[0] != "templating"] + [
        ("templating", "list", 0, "name"),
        ("templating", "list", 0, "hide"),
    ]
    assert len(places) > 300
    for place in places:
        for value in _EDGE_VALUES:
            mutated = _replaced(document, place, value)
            try:
                compiled(mutated)
            except fastjsonschema.JsonSchemaValueException:
                expected = False
            else:
                expected = True
            try:
                validate_dashboard("d.json", mutated)
            except ValidationError:
                accepted = False
            else:
                accepted = True
            assert accepted == expected, (place, value)


def test_dashboard_check_works_without_jsonschema_rs(
    files: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """jsonschema-rs is an optional speedup: without it the compiled schema alone decides."""
    monkeypatch.setattr(validate, "jsonschema_rs", None)
    validate._fast_dashboard_check.cache_clear()
    try:
        assert validate._fast_dashboard_check() is None
        validate_dashboard("d.json", _orders(files))
        broken = _replaced(_orders(files), ("panels", 0, "gridPos", "w"), 25)
        with pytest.raises(ValidationError, match="must be smaller than or equal to 24"):
            validate_dashboard("d.json", broken)
    finally:
        validate._fast_dashboard_check.cache_clear()
