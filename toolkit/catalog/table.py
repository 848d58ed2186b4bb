"""A catalog as plain-text tables with aligned columns, for ``toolkit catalog show``."""

from __future__ import annotations

from collections.abc import Sequence

from toolkit.catalog.duration import format_seconds
from toolkit.catalog.model import Catalog, Service

SERVICE_COLUMNS = ("NAME", "TEAM", "TIER", "AVAILABILITY", "LATENCY", "WINDOW", "DEPENDENCIES")
EXTERNAL_COLUMNS = ("EXTERNAL", "ADDRESS", "DESCRIPTION")
NONE = "-"


def render_table(catalog: Catalog) -> str:
    """The services, then the externals if any, one row each; ends with a newline."""
    text = _table(SERVICE_COLUMNS, [_service_row(service) for service in catalog.services])
    if catalog.externals:
        rows = [
            (external.name, external.address, external.description or NONE)
            for external in catalog.externals
        ]
        text += "\n" + _table(EXTERNAL_COLUMNS, rows)
    return text


def format_percentage(value: float) -> str:
    """``99.9`` → ``99.9%``, ``99.0`` → ``99%``: as written, without float noise."""
    text = repr(value)
    return (text[:-2] if text.endswith(".0") else text) + "%"


def _service_row(service: Service) -> tuple[str, ...]:
    """One row of the services table."""
    slo = service.slo
    latency = NONE
    if slo.latency is not None:
        threshold = format_seconds(slo.latency.threshold_seconds)
        latency = f"{format_percentage(slo.latency.target)} < {threshold}"
    return (
        service.name,
        service.team,
        service.tier.value,
        format_percentage(slo.availability),
        latency,
        slo.window.text,
        ", ".join(service.dependencies) or NONE,
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart, no trailing spaces."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines) + "\n"
