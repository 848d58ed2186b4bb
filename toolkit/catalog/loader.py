"""Load a catalog file: read it, parse it as YAML, check it, build the model."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import BinaryIO, Final

from toolkit.catalog.model import Catalog
from toolkit.catalog.nodes import NodeReader
from toolkit.catalog.problems import CatalogError, Problem
from toolkit.catalog.schema import TOP_LEVEL, read_catalog
from toolkit.catalog.text import compose, decode

STDIN: Final = "-"
"""The command-line argument that stands for standard input."""
STDIN_NAME: Final = "<stdin>"
"""The file name problems give a catalog read from standard input."""


def load_catalog(path: str | os.PathLike[str]) -> Catalog:
    """Load and validate the catalog at ``path``.

    Raises :class:`CatalogError` listing every problem in the file, in file order; a file
    that cannot be read or is not YAML gives a single problem, as nothing after a syntax
    error can be trusted.
    """
    file = os.fspath(path)
    try:
        data = Path(file).read_bytes()
    except OSError as error:
        raise CatalogError([_unreadable(file, "cannot read the file", error)]) from None
    return load_catalog_data(data, file)


def load_catalog_data(data: bytes, name: str = STDIN_NAME) -> Catalog:
    """Load and validate a catalog from its bytes, as :func:`load_catalog` does.

    Problems name the file ``name``; overlay files the catalog names are relative to the
    directory of ``name`` (the current directory for ``<stdin>``).
    """
    root = compose(name, decode(name, data))
    if root is None:
        found = "an empty document"
        message = f"expected {TOP_LEVEL}, found {found}"
        raise CatalogError([Problem(name, 1, 1, "", message, expected=TOP_LEVEL, found=found)])
    reader = NodeReader(name)
    catalog = read_catalog(reader, root, Path(name))
    if catalog is None:
        # The catalog's own problems first, then those of each overlay file it names.
        problems = dict.fromkeys(p for p in reader.problems if p.file == name)
        problems.update(dict.fromkeys(reader.problems))
        raise CatalogError(problems)
    return catalog


def load_catalog_argument(
    argument: str | os.PathLike[str], stdin: BinaryIO | None = None
) -> Catalog:
    """The catalog a command line names: a path, or ``-`` for standard input (``stdin``,
    by default ``sys.stdin``), whose problems then name ``<stdin>``."""
    if os.fspath(argument) != STDIN:
        return load_catalog(argument)
    try:
        data = (stdin or sys.stdin.buffer).read()
    except OSError as error:
        raise CatalogError([_unreadable(STDIN_NAME, "cannot read", error)]) from None
    return load_catalog_data(data)


def catalog_name(argument: str | os.PathLike[str]) -> str:
    """How problems name the catalog ``argument`` gives: its path, or ``<stdin>``."""
    file = os.fspath(argument)
    return STDIN_NAME if file == STDIN else file


def _unreadable(file: str, what: str, error: OSError) -> Problem:
    """``nope.yaml: cannot read the file: no such file or directory``."""
    reason = (error.strerror or str(error)).lower()
    return Problem(file, None, None, "", f"{what}: {reason}")
