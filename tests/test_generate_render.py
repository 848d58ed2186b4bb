"""Templates: user overrides by name, and errors that say where and what."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from toolkit._resources import templates_dir
from toolkit.generate.render import (
    TemplateError,
    load,
    macro,
    macro_failure,
    macros,
    make_environment,
    render,
)


def test_override_directory_wins_by_name(tmp_path: Path) -> None:
    """A template in --templates replaces the bundled one of the same name; others stay."""
    (tmp_path / "alert-texts.j2").write_text("custom {{ folder }}\n")
    env = make_environment(tmp_path)
    assert render(env, "alert-texts.j2", {"folder": "x", "path": "/p"}) == "custom x\n"
    bundled = env.get_template("readiness-report.html.j2").filename
    assert bundled == str(templates_dir() / "readiness-report.html.j2")
    assert make_environment().get_template("alert-texts.j2").filename == str(
        templates_dir() / "alert-texts.j2"
    )


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


# render.macro() calls a macro outside Template.render, where Jinja does not rewrite the
# traceback to template lines: macro_failure has it rewritten, so the line is found.

_MACROS = """\
{% macro hello(a) -%}
hello {{ a.name }}
{%- endmacro %}
{% macro broken(a) -%}
first line
{{ a.missing }}
{%- endmacro %}
"""


def test_macro_is_a_function_of_its_arguments(tmp_path: Path) -> None:
    """A macro of a template, called from Python, returns its text."""
    (tmp_path / "texts.j2").write_text(_MACROS)
    hello = macro(make_environment(tmp_path), "texts.j2", "hello")
    assert hello({"name": "orders"}) == "hello orders"


def test_missing_macro_names_the_template_and_the_macro(tmp_path: Path) -> None:
    """Asking for a macro the template does not define fails when it is looked up."""
    (tmp_path / "texts.j2").write_text(_MACROS)
    with pytest.raises(TemplateError) as caught:
        macro(make_environment(tmp_path), "texts.j2", "goodbye")
    assert (caught.value.template, caught.value.line) == ("texts.j2", None)
    assert str(caught.value) == "template texts.j2: no macro 'goodbye' in the template"


def test_undefined_inside_a_macro_names_template_and_cause(tmp_path: Path) -> None:
    """An error while the macro runs is a TemplateError naming the macro's file and cause."""
    (tmp_path / "texts.j2").write_text(_MACROS)
    broken = macro(make_environment(tmp_path), "texts.j2", "broken")
    with pytest.raises(TemplateError) as caught:
        broken({"name": "orders"})
    assert caught.value.template == "texts.j2"
    assert caught.value.reason == "'dict object' has no attribute 'missing'"


def test_undefined_inside_a_macro_names_the_line(tmp_path: Path) -> None:
    """An error while the macro runs points at the macro's line, not at Python."""
    (tmp_path / "texts.j2").write_text(_MACROS)
    broken = macro(make_environment(tmp_path), "texts.j2", "broken")
    with pytest.raises(TemplateError) as caught:
        broken({"name": "orders"})
    assert (caught.value.template, caught.value.line) == ("texts.j2", 6)
    assert str(caught.value).startswith("template texts.j2:6: ")


def test_macro_of_a_template_that_does_not_parse(tmp_path: Path) -> None:
    """A syntax error in the macros' template is reported with its line."""
    (tmp_path / "texts.j2").write_text("{% macro m(a) %}\n{{ a. }}\n{% endmacro %}\n")
    with pytest.raises(TemplateError) as caught:
        macro(make_environment(tmp_path), "texts.j2", "m")
    assert (caught.value.template, caught.value.line) == ("texts.j2", 2)


def test_macro_of_an_unknown_template() -> None:
    """A macro of a template nobody has is a TemplateError too."""
    with pytest.raises(TemplateError, match=r"template not found: nothing\.j2"):
        macro(make_environment(), "nothing.j2", "m")


def test_macros_as_jinja_made_them_and_their_failures(tmp_path: Path) -> None:
    """macros() gives the macros to call straight from Python; macro_failure, in the
    except block, turns what one raised into a TemplateError with the macro's line."""
    (tmp_path / "texts.j2").write_text(_MACROS)
    env = make_environment(tmp_path)
    hello, broken = macros(env, "texts.j2", "hello", "broken")
    assert hello({"name": "orders"}) == "hello orders"

    def failure() -> TemplateError:
        try:
            broken({"name": "orders"})
        except jinja2.UndefinedError as exc:
            return macro_failure(env, "texts.j2", exc)
        raise AssertionError("the macro did not fail")

    found = failure()
    assert (found.template, found.line) == ("texts.j2", 6)
    assert found.reason == "'dict object' has no attribute 'missing'"
    with pytest.raises(TemplateError, match=r"^template texts\.j2: no macro 'goodbye' in the"):
        macros(env, "texts.j2", "hello", "goodbye")


def test_load_compiles_or_names_file_and_line(tmp_path: Path) -> None:
    """load() gives the compiled template, or a TemplateError naming file and line."""
    (tmp_path / "bad.j2").write_text("ok\n{% if %}\n")
    (tmp_path / "good.j2").write_text("{{ x }}\n")
    assert load(make_environment(tmp_path), "good.j2").render(x=1) == "1\n"
    with pytest.raises(TemplateError) as caught:
        load(make_environment(tmp_path), "bad.j2")
    assert (caught.value.template, caught.value.line) == ("bad.j2", 2)
    with pytest.raises(TemplateError, match=r"template not found: nothing\.j2"):
        load(make_environment(tmp_path), "nothing.j2")


def _compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates Jinja compiles from source from now on."""
    compiled: list[str] = []
    compile_source = jinja2.Environment.compile

    def counting(
        self: jinja2.Environment,
        source: str,
        name: str | None = None,
        *args: object,
        **kwargs: object,
    ) -> object:
        compiled.append(name or "")
        return compile_source(self, source, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return compiled


def test_a_template_file_is_compiled_once_per_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second run (a new environment) reuses the compiled template; runtime errors
    still name the template's line."""
    (tmp_path / "page.j2").write_text("a {{ x }}\nb {{ y.missing }}\n")
    compiled = _compiles(monkeypatch)
    for _ in range(3):
        env = make_environment(tmp_path)
        assert render(env, "page.j2", {"x": 1, "y": {"missing": 2}}) == "a 1\nb 2\n"
        with pytest.raises(TemplateError) as caught:
            render(env, "page.j2", {"x": 1, "y": {}})
        assert (caught.value.template, caught.value.line) == ("page.j2", 2)
    assert compiled == ["page.j2"]


def test_an_edited_template_is_compiled_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled code is checked against the source: an edit between runs shows."""
    template = tmp_path / "page.j2"
    template.write_text("first {{ x }}\n")
    compiled = _compiles(monkeypatch)
    assert render(make_environment(tmp_path), "page.j2", {"x": 1}) == "first 1\n"
    template.write_text("second {{ x }}\n")
    assert render(make_environment(tmp_path), "page.j2", {"x": 1}) == "second 1\n"
    assert render(make_environment(tmp_path), "page.j2", {"x": 1}) == "second 1\n"
    assert compiled == ["page.j2", "page.j2"]


def test_compiled_templates_are_kept_apart_by_directory_and_escaping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same template in two override directories is compiled once for each (its
    file name is part of what the code is kept under), and one file with and without
    autoescape is two compiled templates."""
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        (folder / "page.j2").write_text("one {{ x }}\n")
    context = {"x": "<b>"}
    compiled = _compiles(monkeypatch)
    for _ in range(2):
        assert render(make_environment(first), "page.j2", context) == "one <b>\n"
        assert render(make_environment(second), "page.j2", context) == "one <b>\n"
        escaped = render(make_environment(first, autoescape=True), "page.j2", context)
        assert escaped == "one &lt;b&gt;\n"
    assert compiled == ["page.j2"] * 3
