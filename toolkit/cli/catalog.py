"""``toolkit catalog``: validate and summarise a service catalog."""

from __future__ import annotations

import click


@click.group()
def catalog() -> None:
    """Validate and summarise a service catalog."""
