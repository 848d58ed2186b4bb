"""Where the files shipped with the package live."""

from __future__ import annotations

from pathlib import Path


def templates_dir() -> Path:
    """Return the directory of the bundled Jinja2 templates.

    In a wheel they sit at ``toolkit/templates``; in a source checkout (an editable
    install) they are the repository's top-level ``templates/``.
    """
    package = Path(__file__).resolve().parent
    for candidate in (package / "templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"toolkit's templates are missing: looked in {package}")
