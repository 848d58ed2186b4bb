"""The dashboard around the panels: identity, time settings, links, variables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SCHEMA_VERSION = 39
DASHBOARD_TAG = "toolkit"


def _datasource_variable(name: str, label: str, query: str, description: str) -> dict[str, Any]:
    variable: dict[str, Any] = {"name": name, "label": label, "type": "datasource", "query": query}
    if description:
        variable["description"] = description
    variable.update(
        {
            "current": {"text": "", "value": ""},
            "hide": 0,
            "includeAll": False,
            "multi": False,
            "options": [],
            "refresh": 1,
            "regex": "",
            "skipUrlSync": False,
        }
    )
    return variable


def _annotations() -> dict[str, Any]:
    return {
        "list": [
            {
                "builtIn": 1,
                "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                "enable": True,
                "hide": True,
                "iconColor": "rgba(0, 211, 255, 1)",
                "name": "Annotations & Alerts",
                "type": "dashboard",
            }
        ]
    }


# The same in every dashboard: built once and shared (documents are never changed in
# place; see the ``stamp`` module).
_ANNOTATIONS = _annotations()
_DATASOURCE_VARIABLES = (
    _datasource_variable("datasource", "Prometheus", "prometheus", ""),
    _datasource_variable(
        "trace_datasource", "Traces", "tempo", "Where exemplar and trace links open."
    ),
)
_TIME = {"from": "now-6h", "to": "now"}


def link(
    title: str, url: str, *, kind: str = "link", tags: list[str] | None = None
) -> dict[str, Any]:
    """A dashboard link: to a URL (``link``) or to the dashboards with ``tags``."""
    dropdown = kind == "dashboards"
    return {
        "title": title,
        "type": kind,
        "icon": "external link" if dropdown else "dashboard",
        "tooltip": "",
        "url": url,
        "tags": tags or [],
        "asDropdown": dropdown,
        "targetBlank": False,
        "includeVars": True,
        "keepTime": True,
    }


def dashboard(
    *,
    uid: str,
    title: str,
    description: str,
    tags: list[str],
    refresh: str,
    graph_tooltip: int,
    links: list[dict[str, Any]],
    panels: list[dict[str, Any]],
    variables: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A file-provisionable Grafana dashboard: ``$datasource`` and ``$trace_datasource``
    variables first, then ``variables``."""
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": tags,
        "editable": False,
        "graphTooltip": graph_tooltip,
        "timezone": "browser",
        "refresh": refresh,
        "time": _TIME,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "links": links,
        "annotations": _ANNOTATIONS,
        "templating": {"list": [*_DATASOURCE_VARIABLES, *variables]},
        "panels": panels,
    }
