"""Templates: user overrides by name, and errors that say where and what."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit._resources import templates_dir
from toolkit.generate.render import TemplateError, make_environment, render


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
