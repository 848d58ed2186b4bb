"""Load a catalog file: read it, parse it as YAML, check it, build the model."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from toolkit.catalog.model import Catalog
from toolkit.catalog.nodes import NodeReader
from toolkit.catalog.problems import CatalogError, Problem
from toolkit.catalog.schema import TOP_LEVEL, read_catalog


def load_catalog(path: str | os.PathLike[str]) -> Catalog:
    """Load and validate the catalog at ``path``.

    Raises :class:`CatalogError` listing every problem in the file, in file order; a file
    that cannot be read or is not YAML gives a single problem, as nothing after a syntax
    error can be trusted.
    """
    file = os.fspath(path)
    text = _read_text(file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        raise CatalogError([_syntax_problem(file, text, error)]) from None
    except yaml.YAMLError as error:  # a ReaderError: a character YAML forbids
        line = text[: getattr(error, "position", 0)].count("\n") + 1
        raise CatalogError([Problem(file, line, None, "", f"not valid YAML: {error}")]) from None
    if root is None:
        found = "an empty document"
        message = f"expected {TOP_LEVEL}, found {found}"
        raise CatalogError([Problem(file, 1, 1, "", message, expected=TOP_LEVEL, found=found)])
    reader = NodeReader(file)
    catalog = read_catalog(reader, root, Path(file))
    if catalog is None:
        raise CatalogError(set(reader.problems))
    return catalog


def _read_text(file: str) -> str:
    """The file's text, decoded as UTF-8 (a byte-order mark is allowed)."""
    try:
        data = Path(file).read_bytes()
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise CatalogError(
            [Problem(file, None, None, "", f"cannot read the file: {reason}")]
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        message = f"not valid YAML: not UTF-8 text (byte 0x{data[error.start]:02x})"
        raise CatalogError([Problem(file, line, None, "", message)]) from None


def _syntax_problem(file: str, text: str, error: yaml.MarkedYAMLError) -> Problem:
    """One problem for a YAML syntax error, at the line where the parser gave up."""
    mark = error.problem_mark or error.context_mark
    # At the end of the file the parser's mark is on the line after the last one.
    last_line = max(1, len(text.splitlines()))
    line = min(mark.line + 1, last_line) if mark is not None else 1
    column = mark.column + 1 if mark is not None else None
    message = f"not valid YAML: {error.problem or error.context}"
    if error.context and error.problem and error.context_mark is not None:
        message += f" ({error.context} at line {error.context_mark.line + 1})"
    return Problem(file, line, column, "", message, hint=_syntax_hint(error.problem or ""))


def _syntax_hint(problem: str) -> str | None:
    """The usual cause of the YAML errors people make most."""
    if problem.startswith("mapping values are not allowed"):
        return "quote a value that contains ': '"
    if "'\\t'" in problem:
        return "indent with spaces, not tabs"
    return None
