"""The ``toolkit`` command line.

Subcommands are imported when they run, so ``toolkit --help`` and a command that needs
only the catalog never pay for the telemetry SDKs the others load.
"""

from __future__ import annotations

import errno
import importlib
from typing import Any

import click

from toolkit._terminal import COLOR_CHOICES, color_setting
from toolkit._version import __version__

# Exit status for bad input and I/O errors, as click gives usage errors.
USAGE_ERROR = 2

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

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; an I/O error no command handled is one line and exit 2."""
        try:
            return super().invoke(ctx)
        except OSError as error:
            if error.errno == errno.EPIPE:
                raise  # click's own handling: the reader went away
            click.echo(f"toolkit: {os_error_text(error)}", err=True)
            raise SystemExit(USAGE_ERROR) from None


def os_error_text(error: OSError) -> str:
    """``out/alert-rules: no space left on device``: the file (if known) and the reason."""
    reason = (error.strerror or str(error)).lower()
    return f"{error.filename}: {reason}" if error.filename is not None else reason


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="toolkit")
@click.option(
    "--color",
    type=click.Choice(COLOR_CHOICES),
    default="auto",
    show_default=True,
    help="Colour the output: on a terminal unless NO_COLOR is set (auto), always, or never.",
)
@click.pass_context
def main(ctx: click.Context, color: str) -> None:
    """Make a Python web service observable before you split it."""
    ctx.color = color_setting(color)
