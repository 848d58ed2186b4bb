"""``toolkit doctor``: versions, fast paths, tracing, metrics and logging set-up, to paste."""

from __future__ import annotations

import click

from toolkit.doctor import collect, render_json, render_text

FORMATS = ("text", "json")


@click.command(name="doctor")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="What to print: readable sections, or the same facts as one JSON object.",
)
def doctor_command(output_format: str) -> None:
    """Print what a bug report needs: versions, fast paths and why, the telemetry set-up.

    Reads the environment and the installed packages only: builds no provider, writes
    no file, opens no connection; the token in TOOLKIT_METRICS_TOKEN is never printed.
    Exit 0.
    """
    facts = collect()
    if output_format == "json":
        click.echo(render_json(facts), nl=False)
    else:
        click.echo(render_text(facts), nl=False)
