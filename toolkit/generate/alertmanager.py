"""One Alertmanager configuration for the whole catalog, as data: routes, receivers and
inhibition rules for the alerts ``rules`` generates.

Routing: every alert is grouped by ``alertname``, ``service`` and ``slo``; a route per
team of the catalog (``team="..."``) sends each severity to the receiver
``<team>-<severity>``. Anything else (an alert without a known team or severity) goes to
``default``. Every receiver is a placeholder without integrations: the user fills them in.

Inhibition, so that one incident notifies once, at its most urgent:

1. a page burn-rate alert inhibits the ticket of the same service and objective;
2. the service being down inhibits its burn-rate alerts and its lesser target and
   telemetry tickets (they describe the same outage).

The alert-name patterns below must stay in step with the names ``rules`` gives
(``<Prefix>AvailabilityFastBurn``, ``<Prefix>ServiceDown``...). Alertmanager anchors
regular expressions at both ends, as Prometheus does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from toolkit import semconv
from toolkit.generate.plan import SEVERITY, ServicePlan
from toolkit.generate.promql import quote

ALERTMANAGER_FILE = "alertmanager.yaml"
DEFAULT_RECEIVER = "default"
ALERTNAME = "alertname"  # Prometheus' own label: the alert rule's name
GROUP_BY = (ALERTNAME, semconv.LABEL_SERVICE, semconv.LABEL_SLO)
GROUP_WAIT = "30s"  # gather the alerts of one evaluation into one notification
GROUP_INTERVAL = "5m"  # then tell about new alerts of the group at most this often
REPEAT_INTERVAL = "4h"  # and remind of a group still firing this often

# The alert names (regular expressions) the inhibition rules match: keep them in step
# with the names rules.py builds.
PAGE_BURN_ALERTS = ".+FastBurn"
TICKET_BURN_ALERTS = ".+SlowBurn"
SERVICE_DOWN_ALERTS = ".+ServiceDown"
# What a service that is down makes redundant: its burn-rate alerts, and the tickets that
# describe the same outage in smaller words (a target down, metrics or buckets missing).
SERVICE_DOWN_INHIBITS = ("Burn", "TargetDown", "MetricsMissing", "LatencyBucketMissing")
SERVICE_DOWN_INHIBITED_ALERTS = f".+({'|'.join(SERVICE_DOWN_INHIBITS)})"

# Every severity an alert can have, most urgent first: critical, warning, info.
SEVERITIES: tuple[str, ...] = tuple(
    dict.fromkeys(severity for speeds in SEVERITY.values() for severity in speeds.values())
)


def matcher(label: str, value: str, operator: str = "=") -> str:
    """One Alertmanager matcher, its value double-quoted and escaped:
    ``team="web \\"shop\\""``."""
    # Alertmanager's matchers unescape \\, \" and \n, as PromQL string literals do.
    return f"{label}{operator}{quote(value)}"


def receiver_name(team: str, severity: str) -> str:
    """The receiver of ``team``'s alerts of ``severity``: ``checkout-critical``."""
    return f"{team}-{severity}"


def catalog_teams(plans: Iterable[ServicePlan]) -> tuple[str, ...]:
    """Every team of the catalog once, sorted."""
    return tuple(sorted({plan.service.team for plan in plans}))


def _team_route(team: str) -> dict[str, Any]:
    return {
        "matchers": [matcher(semconv.LABEL_TEAM, team)],
        "routes": [
            {
                "matchers": [matcher(semconv.LABEL_SEVERITY, severity)],
                "receiver": receiver_name(team, severity),
            }
            for severity in SEVERITIES
        ],
    }


def _inhibit_rule(source: str, target: str, equal: Sequence[str]) -> dict[str, Any]:
    return {
        "source_matchers": [matcher(ALERTNAME, source, "=~")],
        "target_matchers": [matcher(ALERTNAME, target, "=~")],
        "equal": list(equal),
    }


def alertmanager_config(plans: tuple[ServicePlan, ...]) -> dict[str, Any]:
    """The Alertmanager configuration for the catalog's services: a route per team, a
    placeholder receiver per team and severity, the two inhibition rules."""
    teams = catalog_teams(plans)
    receivers = [DEFAULT_RECEIVER]
    receivers += [receiver_name(team, severity) for team in teams for severity in SEVERITIES]
    return {
        "route": {
            "receiver": DEFAULT_RECEIVER,
            "group_by": list(GROUP_BY),
            "group_wait": GROUP_WAIT,
            "group_interval": GROUP_INTERVAL,
            "repeat_interval": REPEAT_INTERVAL,
            "routes": [_team_route(team) for team in teams],
        },
        "receivers": [{"name": name} for name in receivers],
        "inhibit_rules": [
            _inhibit_rule(
                PAGE_BURN_ALERTS,
                TICKET_BURN_ALERTS,
                (semconv.LABEL_SERVICE, semconv.LABEL_SLO),
            ),
            _inhibit_rule(
                SERVICE_DOWN_ALERTS, SERVICE_DOWN_INHIBITED_ALERTS, (semconv.LABEL_SERVICE,)
            ),
        ],
    }


__all__ = [
    "ALERTMANAGER_FILE",
    "DEFAULT_RECEIVER",
    "GROUP_BY",
    "PAGE_BURN_ALERTS",
    "SERVICE_DOWN_ALERTS",
    "SERVICE_DOWN_INHIBITED_ALERTS",
    "SERVICE_DOWN_INHIBITS",
    "SEVERITIES",
    "TICKET_BURN_ALERTS",
    "alertmanager_config",
    "catalog_teams",
    "matcher",
    "receiver_name",
]
