"""A catalog file's text: decoded as UTF-8 and composed as YAML, with located errors.

Shared by the catalog itself and the dashboard overlay files it names. Each function
raises :class:`CatalogError` with the one problem that stops the file being read: nothing
after a syntax error can be trusted.
"""

from __future__ import annotations

import yaml

from toolkit.catalog.problems import CatalogError, Problem


def decode(file: str, data: bytes, path: str = "", language: str = "YAML") -> str:
    """``data`` decoded as UTF-8 (a byte-order mark is allowed).

    ``path`` is the field path the file stands for (empty for the catalog itself) and
    ``language`` what the file should be written in, for the problem.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        message = f"not valid {language}: not UTF-8 text (byte 0x{data[error.start]:02x})"
        raise CatalogError([Problem(file, line, None, path, message)]) from None


def compose(file: str, text: str, path: str = "") -> yaml.Node | None:
    """The YAML node tree of ``text`` (``None`` for an empty document).

    ``path`` is the field path the document stands for (empty for the catalog itself).
    """
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        raise CatalogError([_syntax_problem(file, text, error, path)]) from None
    except yaml.YAMLError as error:  # a ReaderError: a character YAML forbids
        line = text[: getattr(error, "position", 0)].count("\n") + 1
        raise CatalogError([Problem(file, line, None, path, f"not valid YAML: {error}")]) from None


def _syntax_problem(file: str, text: str, error: yaml.MarkedYAMLError, path: str) -> Problem:
    """One problem for a YAML syntax error, at the line where the parser gave up."""
    mark = error.problem_mark or error.context_mark
    # At the end of the file the parser's mark is on the line after the last one.
    last_line = max(1, len(text.splitlines()))
    line = min(mark.line + 1, last_line) if mark is not None else 1
    column = mark.column + 1 if mark is not None else None
    message = f"not valid YAML: {error.problem or error.context}"
    if error.context and error.problem and error.context_mark is not None:
        message += f" ({error.context} at line {error.context_mark.line + 1})"
    return Problem(file, line, column, path, message, hint=_syntax_hint(error.problem or ""))


def _syntax_hint(problem: str) -> str | None:
    """The usual cause of the YAML errors people make most."""
    if problem.startswith("mapping values are not allowed"):
        return "quote a value that contains ': '"
    if "'\\t'" in problem:
        return "indent with spaces, not tabs"
    return None
