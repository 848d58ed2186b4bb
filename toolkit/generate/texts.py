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

from toolkit import semconv
from toolkit.generate.plan import ServicePlan
from toolkit.generate.render import macro, make_environment

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
        env = make_environment(templates)
        self._macros: dict[str, tuple[Callable[..., str], Callable[..., str]]] = {
            kind: (
                macro(env, ALERT_TEXTS_TEMPLATE, f"{kind}_summary"),
                macro(env, ALERT_TEXTS_TEMPLATE, f"{kind}_description"),
            )
            for kind in ALERT_KINDS
        }

    @staticmethod
    def facts(plan: ServicePlan, **more: Any) -> SimpleNamespace:
        """What every alert text may use about the service, plus ``more``."""
        service = plan.service
        return SimpleNamespace(
            service=service.name,
            team=service.team,
            tier=service.tier.value,
            runbook=service.runbook or "",
            value=VALUE_AS_PERCENT,
            instance=INSTANCE_OF_ALERT,
            breaker=BREAKER_OF_ALERT,
            check=CHECK_OF_ALERT,
            **more,
        )

    def render(self, kind: str, facts: SimpleNamespace) -> tuple[str, str]:
        """The summary and description of an alert of ``kind``."""
        summary, description = self._macros[kind]
        return summary(facts), description(facts)
