"""``toolkit catalog``: validate and summarise a service catalog."""

from __future__ import annotations

import click

from toolkit.catalog import Catalog, CatalogError, load_catalog, render_table

# Exit status for a catalog with problems, as for any usage error in click.
INVALID = 2


@click.group()
def catalog() -> None:
    """Validate and summarise a service catalog."""


@catalog.command()
@click.argument("file", type=click.Path(path_type=str))
def validate(file: str) -> None:
    """Check FILE; print every problem (exit 2) or a one-line summary (exit 0)."""
    loaded = _load(file)
    click.echo(f"{file}: {_count(loaded)} — valid")


@catalog.command()
@click.argument("file", type=click.Path(path_type=str))
def show(file: str) -> None:
    """Print the services of FILE as a table (exit 2 if FILE has problems)."""
    click.echo(render_table(_load(file)), nl=False)


def _load(file: str) -> Catalog:
    """Load ``file`` or print its problems to stderr and exit with status 2."""
    try:
        return load_catalog(file)
    except CatalogError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        count = len(error.problems)
        click.echo(f"{file}: {_plural(count, 'problem')} — invalid", err=True)
        raise SystemExit(INVALID) from None


def _count(loaded: Catalog) -> str:
    """``5 services, 2 externals``."""
    services = _plural(len(loaded.services), "service")
    return f"{services}, {_plural(len(loaded.externals), 'external')}"


def _plural(count: int, noun: str) -> str:
    """``1 service``, ``2 services``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
