"""Grafana panels as data: what a panel shows (:class:`Panel`) and its JSON model.

The builders in this package decide what is shown and where; :meth:`Panel.to_json`
writes a panel of each kind (``timeseries``, ``stat``, ``table``) the one way Grafana's
dashboard model expects it, every query on the ``$datasource`` variable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

GRID_WIDTH = 24
REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Parts every panel of a kind shares. Documents are built, serialised and dropped, never
# changed in place (an overlay copies what it changes), so panels share these objects,
# and service dashboards share more (see the ``stamp`` module).
_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_NO_OVERRIDES: list[dict[str, Any]] = []
_NO_LINKS: list[dict[str, Any]] = []
_COLOR_THRESHOLDS = {"mode": "thresholds"}
_COLOR_PALETTE = {"mode": "palette-classic"}
_TIMESERIES_CUSTOM = {
    mode: {
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 10,
        "showPoints": "never",
        "spanNulls": False,
        "thresholdsStyle": {"mode": mode},
    }
    for mode in ("dashed", "off")
}
_TIMESERIES_OPTIONS = {
    "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []},
    "tooltip": {"mode": "multi", "sort": "desc"},
}
_STAT_CUSTOM: dict[str, Any] = {}
_STAT_OPTIONS = {
    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
    "colorMode": "background",
    "graphMode": "none",
    "justifyMode": "auto",
    "orientation": "auto",
    "textMode": "auto",
    "wideLayout": True,
    "showPercentChange": False,
    "percentChangeColorMode": "standard",
}
_TABLE_CUSTOM = {"align": "auto", "inspect": False}
_TABLE_OPTIONS = {
    "frameIndex": 0,
    "showHeader": True,
    "cellHeight": "sm",
    "footer": {"show": False, "reducer": ["sum"], "countRows": False, "fields": []},
}


@dataclass(frozen=True)
class Target:
    """One PromQL query of a panel."""

    expr: str
    legend: str = ""
    instant: bool = False
    exemplar: bool = False
    table: bool = False


@dataclass(frozen=True)
class Step:
    """A threshold step: from ``value`` upwards (``None``: the base) the colour is ``color``."""

    color: str
    value: float | None = None


@dataclass
class Panel:
    """One panel: ``kind`` is ``timeseries``, ``stat`` or ``table``; the grid sets its place."""

    kind: str
    title: str
    description: str
    targets: list[Target]
    unit: str = "short"
    width: int = 8
    height: int = 8
    thresholds: list[Step] = field(default_factory=lambda: [Step("green")])
    threshold_lines: bool = False
    min: float | None = None
    max: float | None = None
    decimals: int | None = None
    links: list[dict[str, str]] = field(default_factory=list)
    mappings: list[dict[str, Any]] = field(default_factory=list)
    # Tables only: per-column field overrides, columns to hide, column positions.
    overrides: list[dict[str, Any]] = field(default_factory=list)
    hidden_columns: dict[str, bool] = field(default_factory=lambda: {"Time": True})
    column_order: dict[str, int] = field(default_factory=dict)
    id: int = 0
    grid: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The panel in Grafana's dashboard JSON model."""
        defaults: dict[str, Any] = {"unit": self.unit}
        if self.min is not None:
            defaults["min"] = self.min
        if self.max is not None:
            defaults["max"] = self.max
        if self.decimals is not None:
            defaults["decimals"] = self.decimals
        defaults["color"] = _COLOR_THRESHOLDS if self.kind == "stat" else _COLOR_PALETTE
        defaults["thresholds"] = steps_json(self.thresholds)
        defaults["mappings"] = self.mappings
        field_config = {"defaults": defaults, "overrides": _NO_OVERRIDES}
        panel: dict[str, Any] = {
            "id": self.id,
            "type": self.kind,
            "title": self.title,
            "description": self.description,
            "datasource": _DATASOURCE,
            "gridPos": self.grid,
            "links": [panel_link(link) for link in self.links] if self.links else _NO_LINKS,
            "targets": [_target(REF_IDS[i], t) for i, t in enumerate(self.targets)],
            "fieldConfig": field_config,
        }
        if self.kind == "timeseries":
            defaults["custom"] = _TIMESERIES_CUSTOM["dashed" if self.threshold_lines else "off"]
            panel["options"] = _TIMESERIES_OPTIONS
        elif self.kind == "stat":
            defaults["custom"] = _STAT_CUSTOM
            panel["options"] = _STAT_OPTIONS
        else:
            defaults["custom"] = _TABLE_CUSTOM
            field_config["overrides"] = self.overrides
            panel["options"] = _TABLE_OPTIONS
            renames = {f"Value #{REF_IDS[i]}": t.legend for i, t in enumerate(self.targets)}
            panel["transformations"] = [
                {"id": "merge", "options": {}},
                {
                    "id": "organize",
                    "options": {
                        "excludeByName": self.hidden_columns,
                        "indexByName": self.column_order,
                        "renameByName": renames,
                    },
                },
            ]
        return panel


def _target(ref_id: str, target: Target) -> dict[str, Any]:
    return {
        "refId": ref_id,
        "datasource": _DATASOURCE,
        "editorMode": "code",
        "expr": target.expr,
        "legendFormat": target.legend,
        "range": not target.instant,
        "instant": target.instant,
        "exemplar": target.exemplar,
        "format": "table" if target.table else "time_series",
    }


def panel_link(link: dict[str, str]) -> dict[str, Any]:
    """A panel link's JSON model: ``link`` gives its title and URL."""
    return {
        "title": link["title"],
        "type": "link",
        "icon": "external link",
        "tooltip": "",
        "url": link["url"],
        "tags": [],
        "asDropdown": False,
        "targetBlank": False,
        "includeVars": True,
        "keepTime": True,
    }


def steps_json(steps: list[Step]) -> dict[str, Any]:
    """Grafana's absolute thresholds for ``steps``."""
    return {"mode": "absolute", "steps": [{"color": s.color, "value": s.value} for s in steps]}


def grid_places(sizes: Iterable[tuple[int, int]]) -> list[dict[str, int]]:
    """The ``gridPos`` of panels of these (width, height): left to right, wrapping at the
    grid width."""
    places: list[dict[str, int]] = []
    x = y = row_height = 0
    for width, height in sizes:
        if x + width > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        places.append({"h": height, "w": width, "x": x, "y": y})
        x += width
        row_height = max(row_height, height)
    return places


def lay_out(panels: list[Panel]) -> list[dict[str, Any]]:
    """Place panels left to right, wrapping at the grid width; ids follow that order.

    Returns the panels' JSON models.
    """
    places = grid_places((panel.width, panel.height) for panel in panels)
    for number, (panel, grid) in enumerate(zip(panels, places, strict=True), start=1):
        panel.id = number
        panel.grid = grid
    return [panel.to_json() for panel in panels]


def failure_counter_panel(title: str, description: str, expr: str, label: str) -> Panel:
    """A rate of things that should never happen: green at zero, red above it."""
    return Panel(
        "timeseries",
        title,
        description,
        [Target(expr, "{{" + label + "}}")],
        unit="short",
        width=GRID_WIDTH // 3,
        height=6,
        thresholds=[Step("green"), Step("red", 0.0)],
        min=0,
    )


BUDGET_STEPS = (Step("red"), Step("orange", 0.0), Step("green", 0.25))
