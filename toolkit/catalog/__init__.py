"""The service catalog: the YAML file every generator and readiness check reads.

``load_catalog(path)`` returns a validated :class:`Catalog` or raises
:class:`CatalogError` carrying every :class:`Problem` in the file;
``load_catalog_argument(argument)`` does the same for a command-line argument, where
``-`` reads standard input.
"""

from __future__ import annotations

from toolkit.catalog.duration import DurationError, format_seconds, parse_duration
from toolkit.catalog.loader import (
    STDIN,
    STDIN_NAME,
    catalog_name,
    load_catalog,
    load_catalog_argument,
    load_catalog_data,
)
from toolkit.catalog.model import (
    SLO,
    Alerting,
    Catalog,
    DashboardOverlay,
    Duration,
    External,
    LatencySLO,
    PanelOverride,
    PrometheusSelector,
    Service,
    SplitAnswers,
    Tier,
)
from toolkit.catalog.problems import CatalogError, Problem
from toolkit.catalog.table import render_table

__all__ = [
    "SLO",
    "STDIN",
    "STDIN_NAME",
    "Alerting",
    "Catalog",
    "CatalogError",
    "DashboardOverlay",
    "Duration",
    "DurationError",
    "External",
    "LatencySLO",
    "PanelOverride",
    "Problem",
    "PrometheusSelector",
    "Service",
    "SplitAnswers",
    "Tier",
    "catalog_name",
    "format_seconds",
    "load_catalog",
    "load_catalog_argument",
    "load_catalog_data",
    "parse_duration",
    "render_table",
]
