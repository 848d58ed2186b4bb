"""Runbook stubs and every alert's ``runbook_url``.

One Markdown page per service, ``alert-rules/runbooks/<service>.md``, from
``templates/runbook.md.j2`` (users may override it: ``toolkit generate --templates DIR``):
the service, its dashboard, and a section per alert of its rule group — what it means,
the PromQL to look at, first steps by the kind of alert. An alert links to its section
unless the catalog names the service's own runbook.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from toolkit import semconv
from toolkit.generate.dashboards.templated import TEMPLATED_UID
from toolkit.generate.documents import HEADER
from toolkit.generate.plan import ServicePlan
from toolkit.generate.render import load, make_environment, render

if TYPE_CHECKING:  # rules imports this module for runbook_url
    from toolkit.generate.rules import AlertRule, RuleGroup

RUNBOOK_TEMPLATE = "runbook.md.j2"
RUNBOOKS_DIR = "runbooks"  # under the rules directory
# A template Prometheus expands when the alert fires ({{ $labels.instance }}): shown as
# code in the stub, where nothing expands it.
_PROMETHEUS_TEMPLATE = re.compile(r"\{\{.*?\}\}")


def runbook_file(service: str) -> str:
    """The stub of ``service``, relative to the rules directory: ``runbooks/orders.md``."""
    return f"{RUNBOOKS_DIR}/{service}.md"


def alert_anchor(alert: str) -> str:
    """The anchor of an alert's section in its stub: the alert's name in lower case."""
    return alert.lower()


def runbook_url(plan: ServicePlan, base_url: str | None, alert: str) -> str:
    """Where ``alert`` links to: the service's own runbook when the catalog names one,
    else its section of the stub, under ``base_url`` when set (the catalog's
    ``runbooks.base_url``), else relative to the rules directory."""
    return runbook_links(plan, base_url)(alert)


def runbook_links(plan: ServicePlan, base_url: str | None) -> Callable[[str], str]:
    """:func:`runbook_url` for the alerts of one service, what they share worked out once."""
    own = plan.service.runbook
    if own:
        return lambda alert: own
    stub = f"{plan.name}.md#"
    prefix = f"{base_url.rstrip('/')}/{stub}" if base_url else f"{RUNBOOKS_DIR}/{stub}"
    return lambda alert: prefix + alert_anchor(alert)


def _dashboard(plan: ServicePlan, templated: bool) -> SimpleNamespace:
    """The service's dashboard: its uid and path on Grafana (``/d/<uid>``, or the
    templated dashboard with the service chosen), as the overview links to it."""
    if templated:
        return SimpleNamespace(
            uid=TEMPLATED_UID, path=f"/d/{TEMPLATED_UID}?var-service={plan.name}"
        )
    return SimpleNamespace(uid=plan.dashboard_uid, path=f"/d/{plan.dashboard_uid}")


def _as_code(text: str) -> str:
    if "{{" not in text:  # most summaries: no need for the expression
        return text
    return _PROMETHEUS_TEMPLATE.sub(_quoted, text)


def _quoted(found: re.Match[str]) -> str:
    return f"`{found.group(0)}`"


def _alert(alert: AlertRule) -> SimpleNamespace:
    return SimpleNamespace(
        name=alert.alert,
        anchor=alert_anchor(alert.alert),
        kind=alert.watches,
        severity=alert.labels[semconv.LABEL_SEVERITY],
        slo=alert.slo.kind if alert.slo is not None else "",
        expr=alert.expr,
        summary=_as_code(alert.annotations["summary"]),
        description=_as_code(alert.annotations["description"]),
        **{"for": alert.for_ or ""},
    )


def stub_context(group: RuleGroup, source: str, templated: bool = False) -> dict[str, Any]:
    """What ``runbook.md.j2`` gets (the template's header lists it); ``templated``: the
    dashboards were generated with ``--dashboards templated``."""
    plan = group.plan
    service = plan.service
    return {
        "header": HEADER,
        "source": source,
        "service": SimpleNamespace(
            name=service.name,
            team=service.team,
            tier=service.tier.value,
            description=service.description,
            runbook=service.runbook or "",
            selector=plan.queries.selector(),
        ),
        "dashboard": _dashboard(plan, templated),
        "alerts": [_alert(alert) for alert in group.alerts],
    }


class RunbookStubs:
    """The runbook template of one generation run (compiled once, rendered per service)."""

    def __init__(self, templates: Path | None = None) -> None:
        self._env = make_environment(templates)
        # Compiled now, as the alert texts are: a broken template fails before any work.
        load(self._env, RUNBOOK_TEMPLATE)

    def render(self, group: RuleGroup, source: str, templated: bool = False) -> str:
        """The stub of ``group``'s service (``source``: the catalog's file name).
        Raises :class:`TemplateError` naming the template file and line."""
        return render(self._env, RUNBOOK_TEMPLATE, stub_context(group, source, templated))


__all__ = [
    "RUNBOOKS_DIR",
    "RUNBOOK_TEMPLATE",
    "RunbookStubs",
    "alert_anchor",
    "runbook_file",
    "runbook_links",
    "runbook_url",
    "stub_context",
]
