"""Tests for toolkit.catalog.model."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.catalog import SLO, Catalog, Duration, External, PrometheusSelector, Service, Tier


def _catalog() -> Catalog:
    """One service, one external."""
    orders = Service(
        name="orders",
        team="checkout",
        tier=Tier.CRITICAL,
        slo=SLO(availability=99.9, window=Duration("30d", 2592000)),
        prometheus=PrometheusSelector(job="orders"),
        address="orders",
    )
    return Catalog(Path("c.yaml"), (orders,), (External("stripe", "api.stripe.com"),))


def test_service_and_external_lookup_by_name() -> None:
    """Entries are found by name; each kind only among its own."""
    catalog = _catalog()
    assert catalog.service("orders").team == "checkout"
    assert catalog.external("stripe").address == "api.stripe.com"
    with pytest.raises(KeyError):
        catalog.service("stripe")
    with pytest.raises(KeyError):
        catalog.external("orders")
