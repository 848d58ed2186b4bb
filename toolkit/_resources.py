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


def example_catalog() -> Path:
    """Return the bundled example catalog (the example shop's ``services.yaml``).

    In a wheel it sits at ``toolkit/examples/services.yaml``; in a source checkout it is
    the repository's ``examples/services.yaml``.
    """
    package = Path(__file__).resolve().parent
    candidates = [package / "examples" / "services.yaml"]
    # Only a checkout's: an installed package's parent is site-packages, where another
    # distribution may have put an examples/ of its own.
    if (package.parent / "pyproject.toml").is_file():
        candidates.append(package.parent / "examples" / "services.yaml")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"toolkit's example catalog is missing: looked in {package}")
