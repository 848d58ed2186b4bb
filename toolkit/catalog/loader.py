"""Load a catalog file: read it, parse it as YAML, check it, build the model."""

from __future__ import annotations

import os
from pathlib import Path

from toolkit.catalog.model import Catalog
from toolkit.catalog.nodes import NodeReader
from toolkit.catalog.problems import CatalogError, Problem
from toolkit.catalog.schema import TOP_LEVEL, read_catalog
from toolkit.catalog.text import compose, decode


def load_catalog(path: str | os.PathLike[str]) -> Catalog:
    """Load and validate the catalog at ``path``.

    Raises :class:`CatalogError` listing every problem in the file, in file order; a file
    that cannot be read or is not YAML gives a single problem, as nothing after a syntax
    error can be trusted.
    """
    file = os.fspath(path)
    root = compose(file, _read_text(file))
    if root is None:
        found = "an empty document"
        message = f"expected {TOP_LEVEL}, found {found}"
        raise CatalogError([Problem(file, 1, 1, "", message, expected=TOP_LEVEL, found=found)])
    reader = NodeReader(file)
    catalog = read_catalog(reader, root, Path(file))
    if catalog is None:
        # The catalog's own problems first, then those of each overlay file it names.
        problems = dict.fromkeys(p for p in reader.problems if p.file == file)
        problems.update(dict.fromkeys(reader.problems))
        raise CatalogError(problems)
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
    return decode(file, data)
