"""The Jinja2 environment: bundled templates, user overrides, strict undefined names."""

from __future__ import annotations

import json
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


# Jinja's own tojson escapes <, >, & and ' for HTML; generated files are not HTML.
# Built once: json.dumps with a non-default argument builds a new encoder per call, and
# templates call this filter hundreds of times per file.
_ENCODER = json.JSONEncoder(ensure_ascii=False)
_encode_string: Any = getattr(json.encoder, "c_encode_basestring", None) or (
    json.encoder.py_encode_basestring
)
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
# The C encoder JSONEncoder.encode would build anew on every call, built once (no
# circular-reference markers: template contexts are trees).
_encode_tree: Any = (
    _c_make_encoder(None, _ENCODER.default, _encode_string, None, ": ", ", ", False, False, True)
    if _c_make_encoder is not None
    else None
)
_CONSTANTS = {True: "true", False: "false", None: "null"}

try:  # optional: the ``speedups`` extra
    import orjson
except ImportError:  # pragma: no cover - depends on the installation
    orjson = None  # type: ignore[assignment]
# orjson for a whole list or mapping (8x faster than the C encoder on a promtool test
# file's cases), strictly: dataclasses, dates and subclasses (Records) raise and go to
# the standard encoder, which writes them or raises as before. (An enum is written by
# its value, as json does for str and int enums; json refuses a plain Enum.)
_ORJSON_STRICT = (
    orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    if orjson is not None
    else 0
)


def _orjson_tree(value: Any) -> str | None:
    """``value`` as orjson writes it, or None where it would differ from ``json``'s value.

    The text differs (no spaces, other float spellings) but parses back to the same
    values; orjson writes NaN and infinities as ``null``, so any ``null`` is left to the
    standard encoder. Integers beyond 64 bits, lone surrogates and non-string keys raise.
    """
    try:
        text: str = orjson.dumps(value, option=_ORJSON_STRICT).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return None
    return None if "null" in text else text


def _tojson(value: Any) -> str:
    kind = type(value)
    if kind is str:  # the common case, straight to the C string encoder
        return _encode_string(value)  # type: ignore[no-any-return]
    if kind is bool or value is None:
        return _CONSTANTS[value]
    if kind is int:
        return str(value)
    if kind is dict or kind is list:
        text = _orjson_tree(value) if orjson is not None else None
        if text is not None:
            return text
        if _encode_tree is not None:
            return "".join(_encode_tree(value, 0))
    return _ENCODER.encode(value)


class Record(dict[str, Any]):
    """A template context mapping whose keys templates also read as plain attributes.

    Jinja's ``x.name`` tries ``getattr`` first and falls back to ``x["name"]`` after an
    ``AttributeError``; on a plain dict that exception is raised for every lookup. Here
    the keys are instance attributes too, found on the first try. Build, do not mutate.
    """

    def __init__(self, *args: Any, **fields: Any) -> None:
        super().__init__(*args, **fields)
        self.__dict__.update(self)


def make_environment(override_dir: Path | None = None) -> jinja2.Environment:
    """An environment that looks in ``override_dir`` first, then the bundled templates."""
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(override_dir)))
    loaders.append(jinja2.FileSystemLoader(str(templates_dir())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # One run compiles each template once and never looks at the disk again.
        auto_reload=False,
        cache_size=-1,
    )
    env.filters["tojson"] = _tojson
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


def render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    """Render template ``name``; any failure becomes a :class:`TemplateError`."""
    try:
        template = env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.name or name, exc.lineno, exc.message or "syntax error") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(name, None, f"template not found: {exc.name}") from exc
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
