"""The ``toolkit`` command line."""

from __future__ import annotations

import click

from toolkit import __version__
from toolkit.cli.assess import assess_command
from toolkit.cli.catalog import catalog
from toolkit.cli.check import check_command
from toolkit.cli.generate import generate_command
from toolkit.cli.probe import probe_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="toolkit")
def main() -> None:
    """Make a Python web service observable before you split it."""


main.add_command(catalog)
main.add_command(generate_command)
main.add_command(check_command)
main.add_command(probe_command)
main.add_command(assess_command)
