"""The ``toolkit`` command line.

Subcommands are imported when they run, so ``toolkit --help`` and a command that needs
only the catalog never pay for the telemetry SDKs the others load.
"""

from __future__ import annotations

import importlib

import click

from toolkit._version import __version__

# name -> "module:attribute" of the click command.
COMMANDS = {
    "assess": "toolkit.cli.assess:assess_command",
    "catalog": "toolkit.cli.catalog:catalog",
    "check": "toolkit.cli.check:check_command",
    "doctor": "toolkit.cli.doctor:doctor_command",
    "generate": "toolkit.cli.generate:generate_command",
    "probe": "toolkit.cli.probe:probe_command",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command), target  # a programming error, not input
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="toolkit")
def main() -> None:
    """Make a Python web service observable before you split it."""
