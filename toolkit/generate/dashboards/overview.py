"""The overview: every service and objective of the catalog in one table, at any size.

Every query reads the uniformly named series the rules record for each service
(``toolkit.semconv.RECORD_SLO_*``), so the dashboard does not grow with the catalog.
"""

from __future__ import annotations

from typing import Any

from toolkit import semconv
from toolkit.generate.dashboards.document import DASHBOARD_TAG, dashboard, link
from toolkit.generate.dashboards.panels import (
    BUDGET_STEPS,
    GRID_WIDTH,
    REF_IDS,
    Panel,
    Step,
    Target,
    lay_out,
    steps_json,
)
from toolkit.generate.plan import ServicePlan, page_factors
from toolkit.generate.uids import OVERVIEW_UID

# Where a click on a service goes: its own dashboard, by the uid its series carry.
PER_SERVICE_URL = f"/d/${{__data.fields.{semconv.LABEL_DASHBOARD}}}"

# Columns of the overview table: (legend, recorded series) in order.
_OVERVIEW_COLUMNS = (
    ("objective", semconv.RECORD_SLO_OBJECTIVE),
    ("budget left", semconv.RECORD_SLO_BUDGET_REMAINING),
    ("burn rate", semconv.RECORD_SLO_PAGE_BURN_RATE),
)
_OVERVIEW_LABELS = (
    semconv.LABEL_SERVICE,
    semconv.LABEL_SLO,
    semconv.LABEL_TIER,
    semconv.LABEL_TEAM,
    semconv.LABEL_DASHBOARD,
)
_TABLE_ROW_HEIGHT = 1  # grid units per table row, roughly (cellHeight "sm")
_TABLE_MAX_HEIGHT = 30


def _overview_series(record: str) -> str:
    """One recorded series for every SLO of the catalog, labels only (no ``__name__``)."""
    by = ", ".join(_OVERVIEW_LABELS)
    return f'max by ({by}) ({record}{{{semconv.LABEL_SERVICE}!=""}})'


def _override(column: str, *properties: tuple[str, Any]) -> dict[str, Any]:
    return {
        "matcher": {"id": "byName", "options": column},
        "properties": [{"id": key, "value": value} for key, value in properties],
    }


def overview_panels(slo_count: int, service_url: str = PER_SERVICE_URL) -> list[Panel]:
    """Counts at a glance, then one table row per service and SLO, whatever the catalog size.

    Every column is one query over the uniformly named series the rules record for each
    service (``toolkit.semconv.RECORD_SLO_*``), so the dashboard's size does not grow
    with the catalog. The service column links to each service's dashboard.
    """
    slow, fast = page_factors()
    budget = semconv.RECORD_SLO_BUDGET_REMAINING
    burn = semconv.RECORD_SLO_PAGE_BURN_RATE
    background = ("custom.cellOptions", {"type": "color-background"})
    label = semconv.LABEL_SERVICE
    link = {
        "title": "${__value.text} dashboard",
        "url": service_url,
    }
    table = Panel(
        "table",
        "Services",
        "Every service and objective of the catalog: its tier and team, the objective, the "
        "error budget left over its SLO window (red: overspent) and the burn rate over the "
        "first page window (1h for a 30-day objective; orange from the 6h page rate, red "
        "from the 1h one). Empty cells: no traffic. Click a service for its dashboard.",
        [
            Target(_overview_series(record), legend, instant=True, table=True)
            for legend, record in _OVERVIEW_COLUMNS
        ],
        width=GRID_WIDTH,
        height=min(_TABLE_MAX_HEIGHT, 4 + slo_count * _TABLE_ROW_HEIGHT),
        overrides=[
            _override(label, ("links", [link])),
            _override(semconv.LABEL_DASHBOARD, ("custom.hidden", True)),
            _override("objective", ("unit", "percentunit")),
            _override(
                "budget left",
                ("unit", "percentunit"),
                ("decimals", 1),
                ("thresholds", steps_json(list(BUDGET_STEPS))),
                background,
            ),
            _override(
                "burn rate",
                ("unit", "x"),
                ("decimals", 1),
                (
                    "thresholds",
                    steps_json([Step("green"), Step("orange", slow), Step("red", fast)]),
                ),
                background,
            ),
        ],
        column_order={
            **{name: index for index, name in enumerate(_OVERVIEW_LABELS)},
            **{f"Value #{REF_IDS[i]}": len(_OVERVIEW_LABELS) + i for i in range(3)},
        },
    )
    anywhere = f'{{{label}!=""}}'
    return [
        Panel(
            "stat",
            "Objectives",
            "Service level objectives in the catalog (availability and latency).",
            [
                Target(
                    f"count({semconv.RECORD_SLO_OBJECTIVE}{anywhere})", "objectives", instant=True
                )
            ],
            thresholds=[Step("blue")],
            height=4,
        ),
        Panel(
            "stat",
            "Error budget overspent",
            "Objectives whose error budget over their SLO window is spent.",
            [Target(f"count({budget}{anywhere} < 0) or vector(0)", "overspent", instant=True)],
            thresholds=[Step("green"), Step("red", 1.0)],
            height=4,
        ),
        Panel(
            "stat",
            "Burning fast",
            f"Objectives burning their error budget faster than {fast:g}x over the first "
            "page window: the fast-burn page is firing or about to.",
            [Target(f"count({burn}{anywhere} > {fast:g}) or vector(0)", "burning", instant=True)],
            thresholds=[Step("green"), Step("red", 1.0)],
            height=4,
        ),
        table,
    ]


def overview_dashboard(
    plans: tuple[ServicePlan, ...], header: str, service_url: str = PER_SERVICE_URL
) -> dict[str, Any]:
    """The overview: every service's SLO status and burn rate; a click on a service
    opens ``service_url``."""
    slo_count = sum(len(plan.slos) for plan in plans)
    tags = [DASHBOARD_TAG]
    return dashboard(
        uid=OVERVIEW_UID,
        title="Services overview",
        description=f"{header}. SLO status and burn rate of every service in the catalog.",
        tags=tags,
        refresh="1m",
        graph_tooltip=0,
        links=[link("Service dashboards", "", kind="dashboards", tags=tags)],
        panels=lay_out(overview_panels(slo_count, service_url)),
    )
