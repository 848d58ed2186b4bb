"""Templates: user overrides by name, and errors that say where and what."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from toolkit._resources import templates_dir
from toolkit.generate import render as render_module
from toolkit.generate.render import Record, TemplateError, make_environment, render


def test_override_directory_wins_by_name(tmp_path: Path) -> None:
    """A template in --templates replaces the bundled one of the same name; others stay."""
    (tmp_path / "provisioning.yaml.j2").write_text("custom {{ folder }}\n")
    env = make_environment(tmp_path)
    assert render(env, "provisioning.yaml.j2", {"folder": "x", "path": "/p"}) == "custom x\n"
    bundled = env.get_template("rules.yaml.j2").filename
    assert bundled == str(templates_dir() / "rules.yaml.j2")


def test_missing_variable_names_template_line_and_variable(tmp_path: Path) -> None:
    """StrictUndefined: a missing variable fails with the template, its line and the name."""
    (tmp_path / "broken.j2").write_text("line one\nline two {{ nope }}\n")
    with pytest.raises(TemplateError) as caught:
        render(make_environment(tmp_path), "broken.j2", {})
    assert (caught.value.template, caught.value.line) == ("broken.j2", 2)
    assert str(caught.value) == "template broken.j2:2: 'nope' is undefined"


def test_missing_attribute_inside_an_imported_macro_points_at_the_macro(tmp_path: Path) -> None:
    """An error raised in a macro file names that file and line, not the caller."""
    (tmp_path / "macros.j2").write_text("{% macro m(x) %}\n{{ x.missing }}\n{% endmacro %}\n")
    (tmp_path / "main.j2").write_text('{% import "macros.j2" as k %}\n{{ k.m({}) }}\n')
    with pytest.raises(TemplateError) as caught:
        render(make_environment(tmp_path), "main.j2", {})
    assert (caught.value.template, caught.value.line) == ("macros.j2", 2)
    assert "missing" in caught.value.reason


def test_syntax_error_names_template_and_line(tmp_path: Path) -> None:
    """A template that does not parse is reported with its line."""
    (tmp_path / "bad.j2").write_text("ok\n{% if %}\n")
    with pytest.raises(TemplateError) as caught:
        render(make_environment(tmp_path), "bad.j2", {})
    assert (caught.value.template, caught.value.line) == ("bad.j2", 2)


def test_unknown_template() -> None:
    """Asking for a template nobody has is a TemplateError too."""
    with pytest.raises(TemplateError, match=r"template not found: nothing\.j2"):
        render(make_environment(), "nothing.j2", {})


_TREES: list[Any] = [
    {"a": [1, 2.5, 1e-07, 1e16, -0.0, True, False], "b": {"c": 'é — "q" \\ \n\t'}},
    [{"series": 'up{job="x"}', "values": "0 60+60x59"}, []],
    {"null": [None], "nan": [float("nan")], "inf": {"x": float("inf")}},
    {"big": [2**70, -(2**64)], "lone": ["\ud800"]},
    {1: "int key", None: "none key", 2.5: "float key"},
    [Record(a=1), {"nested": Record(b=[1])}],
]


@pytest.mark.parametrize("tree", _TREES)
@pytest.mark.parametrize("with_orjson", [True, False])
def test_tojson_on_lists_and_mappings_parses_back_to_what_json_writes(
    tree: Any, with_orjson: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """orjson or not, the text parses back to json.dumps' values, NaN stays NaN (an error)."""
    if not with_orjson:
        monkeypatch.setattr(render_module, "orjson", None)
    text = render_module._tojson(tree)
    expected = json.dumps(tree, ensure_ascii=False)
    assert json.loads(text) == json.loads(expected) or "NaN" in expected
    assert json.dumps(json.loads(text)) == json.dumps(json.loads(expected))  # same types
    assert ("NaN" in text, "Infinity" in text) == ("NaN" in expected, "Infinity" in expected)
