"""The Alertmanager configuration as data: routes per team and severity, placeholder
receivers, the two inhibition rules, quoting, and its place in the pipeline."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from _generate_support import make_service, rule_group, varied_catalog

from toolkit.catalog.model import Catalog, Tier
from toolkit.generate import GenerateOptions, RuleFormat, generate
from toolkit.generate.alertmanager import (
    PAGE_BURN_ALERTS,
    SERVICE_DOWN_ALERTS,
    SERVICE_DOWN_INHIBITED_ALERTS,
    SEVERITIES,
    TICKET_BURN_ALERTS,
    alertmanager_config,
    catalog_teams,
    matcher,
    receiver_name,
)
from toolkit.generate.documents import load_yaml
from toolkit.generate.pipeline import iter_documents
from toolkit.generate.plan import SEVERITY, plan_catalog

PATH = "alert-rules/alertmanager.yaml"


def _catalog(*teams: str) -> Catalog:
    """One service per team given, named s0, s1..."""
    services = tuple(
        replace(make_service(f"s{number}"), team=team) for number, team in enumerate(teams)
    )
    return Catalog(Path("/somewhere/services.yaml"), services)


def _config(*teams: str) -> dict[str, Any]:
    return alertmanager_config(plan_catalog(_catalog(*teams)))


def _severity_routes(team: str) -> list[dict[str, Any]]:
    return [
        {"matchers": [f'severity="{severity}"'], "receiver": f"{team}-{severity}"}
        for severity in ("critical", "warning", "info")
    ]


def test_the_whole_configuration_for_two_teams() -> None:
    """Root route to `default`, grouped by alertname/service/slo with 30s/5m/4h; a route
    per team with a child per severity; placeholder receivers; both inhibition rules."""
    assert _config("payments", "checkout") == {
        "route": {
            "receiver": "default",
            "group_by": ["alertname", "service", "slo"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {"matchers": ['team="checkout"'], "routes": _severity_routes("checkout")},
                {"matchers": ['team="payments"'], "routes": _severity_routes("payments")},
            ],
        },
        "receivers": [
            {"name": "default"},
            {"name": "checkout-critical"},
            {"name": "checkout-warning"},
            {"name": "checkout-info"},
            {"name": "payments-critical"},
            {"name": "payments-warning"},
            {"name": "payments-info"},
        ],
        "inhibit_rules": [
            {
                "source_matchers": ['alertname=~".+FastBurn"'],
                "target_matchers": ['alertname=~".+SlowBurn"'],
                "equal": ["service", "slo"],
            },
            {
                "source_matchers": ['alertname=~".+ServiceDown"'],
                "target_matchers": [
                    'alertname=~".+(Burn|TargetDown|MetricsMissing|LatencyBucketMissing)"'
                ],
                "equal": ["service"],
            },
        ],
    }


def test_teams_are_sorted_and_each_appears_once() -> None:
    """Three services of two teams give two team routes, in sorted order, whatever the
    catalog order."""
    plans = plan_catalog(_catalog("search", "checkout", "search"))
    assert catalog_teams(plans) == ("checkout", "search")
    routes = alertmanager_config(plans)["route"]["routes"]
    assert [route["matchers"] for route in routes] == [['team="checkout"'], ['team="search"']]


def test_every_severity_of_every_tier_has_a_route() -> None:
    """The severities routed are exactly the values of SEVERITY, most urgent first."""
    assert SEVERITIES == ("critical", "warning", "info")
    assert set(SEVERITIES) == {s for speeds in SEVERITY.values() for s in speeds.values()}


def test_receivers_are_placeholders_with_unique_names() -> None:
    """Every receiver has a name and nothing else; every route's receiver exists."""
    config = alertmanager_config(plan_catalog(varied_catalog()))
    names = [receiver["name"] for receiver in config["receivers"]]
    assert all(list(receiver) == ["name"] for receiver in config["receivers"])
    assert len(names) == len(set(names)) == 1 + 3  # one team in the varied catalog
    routed = {child["receiver"] for route in config["route"]["routes"] for child in route["routes"]}
    assert routed | {config["route"]["receiver"]} == set(names)


@pytest.mark.parametrize(
    ("team", "written"),
    [
        ("checkout", 'team="checkout"'),
        ('storefront "web", eu', 'team="storefront \\"web\\", eu"'),
        ("back\\slash", 'team="back\\\\slash"'),
        ("two\nlines", 'team="two\\nlines"'),
        (" padded ", 'team=" padded "'),
        ("{braces}", 'team="{braces}"'),
    ],
)
def test_team_values_are_quoted_and_escaped(team: str, written: str) -> None:
    """A team matcher's value is double-quoted with \\\\, \\" and \\n escaped (what
    Alertmanager's matcher parser unescapes); the receiver name keeps the team as is."""
    route = _config(team)["route"]["routes"][0]
    assert route["matchers"] == [written]
    assert route["routes"][0]["receiver"] == f"{team}-critical"


def test_matcher_and_receiver_name() -> None:
    """The helpers the configuration is built with."""
    assert matcher("alertname", ".+FastBurn", "=~") == 'alertname=~".+FastBurn"'
    assert receiver_name("checkout", "warning") == "checkout-warning"


def test_an_empty_catalog_still_gives_a_valid_root() -> None:
    """No team: only the default receiver and no child route."""
    config = alertmanager_config(())
    assert config["route"]["routes"] == []
    assert config["receivers"] == [{"name": "default"}]


# What each alert a service's rules may hold is, for the inhibition rules: a page burn
# alert, a ticket burn alert, the service down, or silenced while the service is down.
# A new alert in rules.py must be added here (and to the patterns, if it is to be).
_PAGE, _TICKET, _DOWN, _SILENCED_WHEN_DOWN = "page burn", "ticket burn", "down", "silenced"
_ROLES = {
    "OrdersAvailabilityFastBurn": {_PAGE, _SILENCED_WHEN_DOWN},
    "OrdersLatencyFastBurn": {_PAGE, _SILENCED_WHEN_DOWN},
    "OrdersAvailabilitySlowBurn": {_TICKET, _SILENCED_WHEN_DOWN},
    "OrdersLatencySlowBurn": {_TICKET, _SILENCED_WHEN_DOWN},
    "OrdersServiceDown": {_DOWN},
    "OrdersTargetDown": {_SILENCED_WHEN_DOWN},
    "OrdersTargetAbsent": set(),
    "OrdersMetricsMissing": {_SILENCED_WHEN_DOWN},
    "OrdersLatencyBucketMissing": {_SILENCED_WHEN_DOWN},
    "OrdersCircuitBreakerOpen": set(),
    "OrdersSpansDropped": set(),
    "OrdersReadinessCheckFailing": set(),
}


def test_every_generated_alert_is_known_to_the_inhibition_rules() -> None:
    """The rules of a service give no alert this table (and so the patterns) has not
    decided about: a new alert name fails here until its inhibition is decided."""
    names = {rule.alert for rule in rule_group(make_service("orders")).alerts}
    assert names <= set(_ROLES), sorted(names - set(_ROLES))


@pytest.mark.parametrize("name", sorted(_ROLES))
def test_inhibition_patterns_match_the_alert_names(name: str) -> None:
    """Each pattern, anchored as Alertmanager anchors it, matches exactly the alerts of
    its role: pages silence tickets of the same SLO, ServiceDown silences the burn alerts
    and lesser tickets but never a page of another kind (TargetAbsent) or itself."""
    roles = _ROLES[name]
    assert bool(re.fullmatch(PAGE_BURN_ALERTS, name)) == (_PAGE in roles)
    assert bool(re.fullmatch(TICKET_BURN_ALERTS, name)) == (_TICKET in roles)
    assert bool(re.fullmatch(SERVICE_DOWN_ALERTS, name)) == (_DOWN in roles)
    assert bool(re.fullmatch(SERVICE_DOWN_INHIBITED_ALERTS, name)) == (_SILENCED_WHEN_DOWN in roles)


def test_burn_alerts_carry_the_labels_the_rules_group_and_inhibit_by() -> None:
    """`equal: [service, slo]` and `group_by` need the burn alerts to carry service, slo
    (and team, severity to be routed): every generated burn alert does."""
    for rule in rule_group(make_service("orders")).alerts:
        assert {"severity", "service", "team"} <= set(rule.labels), rule.alert
        if rule.alert.endswith("Burn"):
            assert "slo" in rule.labels, rule.alert


@pytest.mark.parametrize("rule_format", list(RuleFormat))
def test_the_pipeline_yields_it_once_after_every_service(rule_format: RuleFormat) -> None:
    """`alert-rules/alertmanager.yaml` comes last, once, in either rule format, and is
    the configuration of the catalog's plans."""
    catalog = varied_catalog()
    paths = [path for path, _ in iter_documents(catalog, GenerateOptions(rule_format=rule_format))]
    assert paths[-1] == PATH
    assert paths.count(PATH) == 1
    documents = dict(iter_documents(catalog, GenerateOptions(rule_format=rule_format)))
    assert documents[PATH] == alertmanager_config(plan_catalog(catalog))


def test_the_written_file_reads_back_to_the_data() -> None:
    """The YAML written for a catalog with awkward team names parses back to exactly the
    configuration, under the do-not-edit header."""
    catalog = _catalog('storefront "web", eu', "back\\slash", "two\nlines", "ünïcode")
    catalog = Catalog(
        catalog.path,
        tuple(
            replace(service, tier=tier)
            for service, tier in zip(catalog.services, [*Tier, Tier.CRITICAL], strict=True)
        ),
    )
    assert len(catalog_teams(plan_catalog(catalog))) == 4
    text = generate(catalog)[PATH]
    assert text.startswith("# generated by toolkit — do not edit\n# source: services.yaml\n")
    assert load_yaml(text) == alertmanager_config(plan_catalog(catalog))
