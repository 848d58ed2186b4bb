"""Readiness: prove a service is observable before it is split out.

Static checks read the catalog and the generated files (``static``); the live probe
(``probe``) calls a running service from outside; ``levels`` turns results into a
maturity level; ``report`` renders them; ``assess`` gives the split verdict.
"""

from __future__ import annotations

from toolkit.readiness.checks import LEVEL_NAMES, READY_LEVEL, CheckSpec
from toolkit.readiness.levels import service_level, service_report
from toolkit.readiness.model import Assessment, Check, Report, ServiceReport, Sign, Status
from toolkit.readiness.static import StaticOptions, check_catalog

__all__ = [
    "LEVEL_NAMES",
    "READY_LEVEL",
    "Assessment",
    "Check",
    "CheckSpec",
    "Report",
    "ServiceReport",
    "Sign",
    "StaticOptions",
    "Status",
    "check_catalog",
    "service_level",
    "service_report",
]
