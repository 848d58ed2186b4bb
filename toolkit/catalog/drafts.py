"""Catalog entries as read, before the checks across entries and the model is built."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from toolkit.catalog.model import DashboardOverlay
from toolkit.catalog.settings import Settings


@dataclass
class Named:
    """A name as written, where it was written, and the entry it names."""

    name: str | None
    node: yaml.Node
    path: str


@dataclass
class ExternalDraft:
    """An external as read, before the checks across entries."""

    named: Named
    address: str | None = None
    address_node: yaml.Node | None = None
    description: str = ""


@dataclass
class ServiceDraft:
    """A service as read, before the checks across entries and the merge with defaults."""

    node: yaml.Node
    path: str
    named: Named
    settings: Settings
    team: str | None = None
    description: str = ""
    dependencies: list[Named] = field(default_factory=list)
    runbook: str | None = None
    job: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    prometheus_node: yaml.Node | None = None
    address: str | None = None
    address_node: yaml.Node | None = None
    gate: int | None = None
    dashboard: DashboardOverlay | None = None
