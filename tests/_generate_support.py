"""Catalogs, plans and rule groups the generator tests share: built from the model, no YAML."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

import yaml

from toolkit.catalog.model import (
    SLO,
    Alerting,
    Catalog,
    Duration,
    LatencySLO,
    PrometheusSelector,
    Service,
    Tier,
)
from toolkit.generate.plan import ServicePlan, build_plan
from toolkit.generate.rules import RuleGroup, build_rule_group
from toolkit.generate.texts import AlertTexts

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
    alerting: Alerting | None = None,
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
        alerting=alerting or Alerting(),
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


def templatable_catalog() -> Catalog:
    """The varied catalog without extra matchers: every service is told apart by its job,
    as the templated dashboard needs."""
    varied = varied_catalog()
    services = tuple(
        replace(s, prometheus=PrometheusSelector(s.prometheus.job, {})) for s in varied.services
    )
    return Catalog(varied.path, services)


@cache
def alert_texts() -> AlertTexts:
    """The bundled alert texts, loaded once for the whole session."""
    return AlertTexts()


def plan_of(service: Service | None = None) -> ServicePlan:
    """The plan of ``service`` (default: :func:`make_service`'s)."""
    return build_plan(service if service is not None else make_service())


def rule_group(service: Service | None = None, texts: AlertTexts | None = None) -> RuleGroup:
    """The rule group of ``service`` (default: :func:`make_service`'s), bundled texts."""
    return build_rule_group(plan_of(service), texts or alert_texts())


def evaluate_every_group_often(path: Path) -> None:
    """Drop the groups' own intervals (the ``-slo-window`` group's 5m) in a rules file:
    Prometheus staggers a group's first evaluation across its interval, too late for a
    test that waits seconds."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for group in document["groups"]:
        group.pop("interval", None)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
