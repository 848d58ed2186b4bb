"""``toolkit catalog``: validate and summarise a service catalog."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from toolkit._resources import example_catalog
from toolkit.catalog import (
    Catalog,
    CatalogError,
    External,
    Service,
    catalog_name,
    format_seconds,
    load_catalog_argument,
    render_table,
)

# Exit status for a catalog with problems, as for any usage error in click.
INVALID = 2

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="What to print: readable lines, or one JSON document (problems included).",
)


@click.group()
def catalog() -> None:
    """Validate and summarise a service catalog (FILE `-`: standard input)."""


@catalog.command()
@click.argument("file", type=click.Path(path_type=str))
@format_option
def validate(file: str, output_format: str) -> None:
    """Check FILE; print every problem (exit 2) or a one-line summary (exit 0)."""
    loaded = _load(file, output_format, {"services": None, "externals": None})
    if output_format == "json":
        counts = {"services": len(loaded.services), "externals": len(loaded.externals)}
        _print_json(file, valid=True, **counts, problems=[])
    else:
        click.echo(f"{catalog_name(file)}: {_count(loaded)} — valid")


@catalog.command()
@click.argument("file", type=click.Path(path_type=str))
@format_option
def show(file: str, output_format: str) -> None:
    """Print the services of FILE as a table (exit 2 if FILE has problems)."""
    loaded = _load(file, output_format, {"services": [], "externals": []})
    if output_format == "json":
        services = [service_data(service) for service in loaded.services]
        externals = [external_data(external) for external in loaded.externals]
        _print_json(file, valid=True, services=services, externals=externals, problems=[])
    else:
        click.echo(render_table(loaded), nl=False)


@catalog.command()
def example() -> None:
    """Print the example shop's catalog, bundled with toolkit."""
    click.echo(example_catalog().read_text(encoding="utf-8"), nl=False)


def service_data(service: Service) -> dict[str, Any]:
    """One service of ``catalog show --format json``."""
    slo = service.slo
    latency = None
    if slo.latency is not None:
        latency = {
            "threshold": format_seconds(slo.latency.threshold_seconds),
            "threshold_seconds": slo.latency.threshold_seconds,
            "target": slo.latency.target,
        }
    return {
        "name": service.name,
        "team": service.team,
        "tier": service.tier.value,
        "description": service.description,
        "address": service.address,
        "runbook": service.runbook,
        "gate": service.gate,
        "dependencies": list(service.dependencies),
        "slo": {
            "availability": slo.availability,
            "window": slo.window.text,
            "window_seconds": slo.window.seconds,
            "latency": latency,
        },
        "prometheus": {"job": service.prometheus.job, "labels": dict(service.prometheus.labels)},
        "alert_labels": dict(service.alert_labels),
        "alerting": asdict(service.alerting),
    }


def external_data(external: External) -> dict[str, Any]:
    """One external of ``catalog show --format json``."""
    return {"name": external.name, "address": external.address, "description": external.description}


def _load(file: str, output_format: str, empty: dict[str, Any]) -> Catalog:
    """Load ``file`` or print its problems and exit with status 2: on stderr, one a
    line and a count, or as the JSON document (``empty`` fills its other keys)."""
    try:
        return load_catalog_argument(file)
    except CatalogError as error:
        if output_format == "json":
            problems = [asdict(problem) for problem in error.problems]
            _print_json(file, valid=False, **empty, problems=problems)
            raise SystemExit(INVALID) from None
        for problem in error.problems:
            click.echo(str(problem), err=True)
        count = len(error.problems)
        click.echo(f"{catalog_name(file)}: {_plural(count, 'problem')} — invalid", err=True)
        raise SystemExit(INVALID) from None


def _print_json(file: str, **fields: Any) -> None:
    """One JSON document: ``file`` (as problems name it) first, then ``fields``."""
    document = {"file": catalog_name(file), **fields}
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _count(loaded: Catalog) -> str:
    """``5 services, 2 externals``."""
    services = _plural(len(loaded.services), "service")
    return f"{services}, {_plural(len(loaded.externals), 'external')}"


def _plural(count: int, noun: str) -> str:
    """``1 service``, ``2 services``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
