"""Alert summaries and descriptions from ``templates/alert-texts.j2``, which users may
override (``toolkit generate --templates DIR``).

Each kind of alert has two macros, ``<kind>_summary`` and ``<kind>_description``; they
receive the alert's facts (see the template's header for the list).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2

from toolkit import semconv
from toolkit.generate.plan import ServicePlan
from toolkit.generate.render import macro_failure, macros, make_environment

ALERT_TEXTS_TEMPLATE = "alert-texts.j2"
ALERT_KINDS = (
    "burn",
    "service_down",
    "target_down",
    "target_absent",
    "metrics_missing",
    "bucket_missing",
    "breaker_open",
    "spans_dropped",
    "readiness_failing",
)
# Prometheus alert templates the texts use, expanded when the alert fires (the
# generated unit tests expand them too).
VALUE_AS_PERCENT = "{{ $value | humanizePercentage }}"
INSTANCE_OF_ALERT = f"{{{{ $labels.{semconv.LABEL_INSTANCE} }}}}"
BREAKER_OF_ALERT = f"{{{{ $labels.{semconv.LABEL_BREAKER_NAME} }}}}"
CHECK_OF_ALERT = f"{{{{ $labels.{semconv.LABEL_CHECK} }}}}"


class AlertTexts:
    """The alert-text macros of one generation run (loaded once, called per alert)."""

    def __init__(self, templates: Path | None = None) -> None:
        self._env = make_environment(templates)
        names = [f"{kind}_{text}" for kind in ALERT_KINDS for text in ("summary", "description")]
        # The macros as Jinja made them, called straight from render: two per alert, so
        # no wrapper per call.
        found = iter(macros(self._env, ALERT_TEXTS_TEMPLATE, *names))
        self._macros: dict[str, tuple[Callable[..., str], Callable[..., str]]] = {
            kind: (next(found), next(found)) for kind in ALERT_KINDS
        }

    @staticmethod
    def service_facts(plan: ServicePlan) -> dict[str, str]:
        """What every alert text may use about the service (the same for all its alerts)."""
        service = plan.service
        return {
            "service": service.name,
            "team": service.team,
            "tier": service.tier.value,
            "runbook": service.runbook or "",
            "value": VALUE_AS_PERCENT,
            "instance": INSTANCE_OF_ALERT,
            "breaker": BREAKER_OF_ALERT,
            "check": CHECK_OF_ALERT,
        }

    @staticmethod
    def facts(plan: ServicePlan, **more: Any) -> SimpleNamespace:
        """What every alert text may use about the service, plus ``more``."""
        return SimpleNamespace(**AlertTexts.service_facts(plan), **more)

    def render(self, kind: str, facts: SimpleNamespace) -> tuple[str, str]:
        """The summary and description of an alert of ``kind``. Raises
        :class:`TemplateError` naming the template file and line."""
        summary, description = self._macros[kind]
        try:
            return summary(facts), description(facts)
        except jinja2.TemplateError as exc:
            raise macro_failure(self._env, ALERT_TEXTS_TEMPLATE, exc) from exc
