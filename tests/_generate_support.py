"""Catalogs the generator tests share: built directly from the model, no YAML involved."""

from __future__ import annotations

from pathlib import Path

from toolkit.catalog.model import (
    SLO,
    Catalog,
    Duration,
    LatencySLO,
    PrometheusSelector,
    Service,
    Tier,
)

EXAMPLE_CATALOG = Path(__file__).resolve().parent.parent / "examples" / "services.yaml"
DAY = 86_400
THIRTY_DAYS = Duration("30d", 30 * DAY)
FAST_LATENCY = LatencySLO(0.25, 99.0)


def make_service(
    name: str = "orders",
    *,
    tier: Tier = Tier.CRITICAL,
    availability: float = 99.9,
    window: Duration = THIRTY_DAYS,
    latency: LatencySLO | None = FAST_LATENCY,
    labels: dict[str, str] | None = None,
    alert_labels: dict[str, str] | None = None,
    runbook: str | None = "https://runbooks.example.com/orders",
) -> Service:
    """A service with sensible values; override what the test is about."""
    return Service(
        name=name,
        team="checkout",
        tier=tier,
        slo=SLO(availability, window, latency),
        prometheus=PrometheusSelector(name, labels or {}),
        address=f"{name}.internal",
        runbook=runbook,
        alert_labels=alert_labels or {},
    )


def varied_catalog() -> Catalog:
    """Three services covering every tier, three windows, extra matchers, no latency SLO."""
    return Catalog(
        Path("/somewhere/services.yaml"),
        (
            make_service("orders", alert_labels={"region": "eu-west"}),
            make_service(
                "users",
                tier=Tier.STANDARD,
                availability=99.5,
                window=Duration("28d", 28 * DAY),
                latency=LatencySLO(1.0, 95.0),
                labels={"namespace": "prod"},
            ),
            make_service(
                "notifications",
                tier=Tier.EXPERIMENTAL,
                availability=99.0,
                window=Duration("7d", 7 * DAY),
                latency=None,
                runbook=None,
            ),
        ),
    )
