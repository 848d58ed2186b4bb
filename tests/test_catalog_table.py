"""Tests for toolkit.catalog.table."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.catalog import (
    SLO,
    Catalog,
    Duration,
    External,
    LatencySLO,
    PrometheusSelector,
    Service,
    Tier,
    render_table,
)
from toolkit.catalog.table import format_percentage


def _service(name: str, latency: LatencySLO | None, dependencies: tuple[str, ...]) -> Service:
    """A service with only what the table shows varying."""
    return Service(
        name=name,
        team="checkout",
        tier=Tier.CRITICAL,
        slo=SLO(availability=99.95, window=Duration("28d", 28 * 86400), latency=latency),
        prometheus=PrometheusSelector(job=name),
        address=name,
        dependencies=dependencies,
    )


def test_render_table_aligns_columns_without_trailing_spaces() -> None:
    """Services then externals, columns two spaces apart, '-' for nothing."""
    catalog = Catalog(
        path=Path("c.yaml"),
        services=(
            _service("orders", LatencySLO(0.25, 99.0), ("users", "stripe")),
            _service("users", None, ()),
        ),
        externals=(External("stripe", "api.stripe.com"),),
    )
    assert render_table(catalog) == (
        "NAME    TEAM      TIER      AVAILABILITY  LATENCY      WINDOW  DEPENDENCIES\n"
        "orders  checkout  critical  99.95%        99% < 250ms  28d     users, stripe\n"
        "users   checkout  critical  99.95%        -            28d     -\n"
        "\n"
        "EXTERNAL  ADDRESS         DESCRIPTION\n"
        "stripe    api.stripe.com  -\n"
    )


def test_render_table_without_externals_has_no_second_table() -> None:
    """A catalog without externals prints only the services table."""
    catalog = Catalog(path=Path("c.yaml"), services=(_service("orders", None, ()),))
    assert render_table(catalog) == (
        "NAME    TEAM      TIER      AVAILABILITY  LATENCY  WINDOW  DEPENDENCIES\n"
        "orders  checkout  critical  99.95%        -        28d     -\n"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [(99.0, "99%"), (99.9, "99.9%"), (99.999, "99.999%"), (99.99999, "99.99999%")],
)
def test_format_percentage_keeps_every_written_digit(value: float, text: str) -> None:
    """Percentages print as written: no rounding, no trailing '.0'."""
    assert format_percentage(value) == text
