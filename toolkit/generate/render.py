"""Jinja2 for the text people read: bundled templates, user overrides, strict undefined
names, and errors that name the template file and line."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2

from toolkit._resources import templates_dir


class TemplateError(Exception):
    """A template failed to load or render; the message names template, line and cause."""

    def __init__(self, template: str, line: int | None, reason: str) -> None:
        self.template = template
        self.line = line
        self.reason = reason
        where = f"{template}:{line}" if line is not None else template
        super().__init__(f"template {where}: {reason}")


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept for the life of the process, one cache per environment
    setting (``autoescape``): a process that generates again (``toolkit check`` in
    operator format, tests, a service) compiles each template file once.

    Jinja checks the bytecode against the template source's checksum, so an edited
    template is compiled again. Bounded: cleared when full (override directories of
    many runs).
    """

    _LIMIT = 64  # template files; a run loads 2 or 3

    def __init__(self, setting: str) -> None:
        self._setting = setting
        self._compiled: dict[str, bytes] = {}

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        key = f"{self._setting}|{name}|{filename or ''}".encode("utf-8", "surrogatepass")
        return hashlib.sha1(key, usedforsecurity=False).hexdigest()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        compiled = self._compiled.get(bucket.key)
        if compiled is not None:
            bucket.bytecode_from_string(compiled)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if len(self._compiled) >= self._LIMIT:
            self._compiled.clear()
        self._compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED: dict[bool, _CompiledTemplates] = {}


def _compiled_templates(autoescape: bool) -> _CompiledTemplates:
    cache = _COMPILED.get(autoescape)
    if cache is None:
        cache = _COMPILED.setdefault(autoescape, _CompiledTemplates(f"autoescape={autoescape}"))
    return cache


def make_environment(
    override_dir: Path | None = None, autoescape: bool = False
) -> jinja2.Environment:
    """An environment that looks in ``override_dir`` first, then the bundled templates.

    ``autoescape`` HTML-escapes every ``{{ … }}`` (for HTML templates; generated files
    are JSON and YAML, not HTML).
    """
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(override_dir)))
    loaders.append(jinja2.FileSystemLoader(str(templates_dir())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # One run compiles each template once and never looks at the disk again.
        auto_reload=False,
        cache_size=-1,
        bytecode_cache=_compiled_templates(autoescape),
    )
    return env


def _template_frame(env: jinja2.Environment, tb: TracebackType | None) -> tuple[str, int] | None:
    """The innermost template frame of a traceback Jinja rewrote: (template name, line)."""
    found = None
    while tb is not None:
        frame = tb.tb_frame
        if "__jinja_exception__" in frame.f_globals:  # a frame Jinja rewrote to the template
            found = (_template_name(env, frame.f_code.co_filename), tb.tb_lineno)
        tb = tb.tb_next
    return found


def _template_name(env: jinja2.Environment, filename: str) -> str:
    """The name a template file was loaded by, from its path in a search directory."""
    path = Path(filename)
    loader = env.loader
    loaders = loader.loaders if isinstance(loader, jinja2.ChoiceLoader) else [loader]
    for candidate in loaders:
        if isinstance(candidate, jinja2.FileSystemLoader):
            for root in candidate.searchpath:
                if path.is_relative_to(root):
                    return path.relative_to(root).as_posix()
    return path.name


def load(env: jinja2.Environment, name: str) -> jinja2.Template:
    """Template ``name``, compiled; one that does not load is a :class:`TemplateError`."""
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.name or name, exc.lineno, exc.message or "syntax error") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(name, None, f"template not found: {exc.name}") from exc


def render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    """Render template ``name``; any failure becomes a :class:`TemplateError`."""
    template = load(env, name)
    try:
        return template.render(context)
    except jinja2.TemplateSyntaxError as exc:  # an {% import %} of a broken template
        raise TemplateError(exc.name or name, exc.lineno, exc.message or "syntax error") from exc
    except jinja2.UndefinedError as exc:
        raise _located(env, name, exc, exc.message or "undefined variable") from exc
    except jinja2.TemplateError as exc:
        raise _located(env, name, exc, str(exc)) from exc


def _located(env: jinja2.Environment, name: str, exc: BaseException, reason: str) -> TemplateError:
    frame = _template_frame(env, exc.__traceback__)
    if frame is None:
        return TemplateError(name, None, reason)
    return TemplateError(frame[0], frame[1], reason)


def macros(env: jinja2.Environment, name: str, *macro_names: str) -> list[Callable[..., str]]:
    """Macros ``macro_names`` of template ``name``, as Jinja made them: call them where a
    :class:`jinja2.TemplateError` is caught and handed to :func:`macro_failure`.

    Raises :class:`TemplateError` when the template does not load or lacks one of them.
    """
    try:
        module = _located_errors(env, lambda: env.get_template(name).module)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.name or name, exc.lineno, exc.message or "syntax error") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(name, None, f"template not found: {exc.name}") from exc
    except jinja2.UndefinedError as exc:
        raise _located(env, name, exc, exc.message or "undefined variable") from exc
    except jinja2.TemplateError as exc:
        raise _located(env, name, exc, str(exc)) from exc
    found = []
    for macro_name in macro_names:
        candidate = getattr(module, macro_name, None)
        if not callable(candidate):
            raise TemplateError(name, None, f"no macro {macro_name!r} in the template")
        found.append(candidate)
    return found


def macro_failure(env: jinja2.Environment, name: str, exc: jinja2.TemplateError) -> TemplateError:
    """The :class:`TemplateError` for ``exc``, raised by a macro of template ``name``
    called from Python; call it while handling ``exc`` (in its ``except`` block)."""
    if not isinstance(exc, jinja2.TemplateSyntaxError):
        # Rewrite the traceback to template lines, as Template.render does, so that
        # _located finds the line.
        try:
            env.handle_exception()
        except jinja2.TemplateError as rewritten:
            exc = rewritten
    if isinstance(exc, jinja2.UndefinedError):
        return _located(env, name, exc, exc.message or "undefined variable")
    return _located(env, name, exc, str(exc))


def macro(env: jinja2.Environment, name: str, macro_name: str) -> Callable[..., str]:
    """Macro ``macro_name`` of template ``name``, as a function whose failures are
    :class:`TemplateError` errors naming the template file and line."""
    (found,) = macros(env, name, macro_name)

    def call(*args: Any) -> str:
        try:
            return str(found(*args))
        except jinja2.TemplateError as exc:
            raise macro_failure(env, name, exc) from exc

    return call


def _located_errors(env: jinja2.Environment, work: Callable[[], Any]) -> Any:
    """Run ``work``; a template error it raises comes out with its traceback rewritten
    to template lines (as ``Template.render`` does), so ``_located`` finds the line."""
    try:
        return work()
    except jinja2.TemplateSyntaxError:
        raise
    except jinja2.TemplateError:
        env.handle_exception()
