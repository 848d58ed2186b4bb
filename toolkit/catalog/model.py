"""The service catalog as typed, immutable values.

The loader (``toolkit.catalog.load_catalog``) builds these from YAML after validating
every field; generators and readiness checks only ever see valid values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any


class Tier(str, Enum):
    """How much a service matters: drives alert severity."""

    CRITICAL = "critical"
    STANDARD = "standard"
    EXPERIMENTAL = "experimental"


@dataclass(frozen=True)
class Duration:
    """A duration as Prometheus writes it (``30d``, ``1h30m``) and in seconds."""

    text: str
    seconds: int


@dataclass(frozen=True)
class LatencySLO:
    """``target`` percent of requests finish within ``threshold_seconds``.

    The loader guarantees ``threshold_seconds`` is exactly one of
    ``toolkit.semconv.DURATION_BUCKETS``, so ``le`` of that bucket counts the good requests.
    """

    threshold_seconds: float
    target: float


@dataclass(frozen=True)
class SLO:
    """A service's objectives over a rolling ``window``."""

    availability: float
    window: Duration
    latency: LatencySLO | None = None


@dataclass(frozen=True)
class Alerting:
    """How a service's alerts behave beyond its objectives (the catalog's ``alerting``).

    ``min_requests``: a burn-rate alert fires only when its long window holds at least
    this many requests (0 turns the guard off). ``expect_traffic``: a target that is up
    while the service's request series are missing raises a ticket (switch it off for
    idle services). ``page_targets_down``: the percentage of the job's targets that must
    be down for 5 minutes to page (100: all of them); fewer down is a ticket.
    """

    min_requests: int = 100
    expect_traffic: bool = True
    page_targets_down: float = 100.0


@dataclass(frozen=True)
class PrometheusSelector:
    """How to select a service's series: its ``job`` plus optional extra label matchers."""

    job: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class External:
    """A dependency outside the catalog (a SaaS API, a managed database)."""

    name: str
    address: str
    description: str = ""


@dataclass(frozen=True)
class PanelOverride:
    """Values deep-merged into the generated panel titled ``title`` or with id ``id``.

    Exactly one of ``title`` and ``id`` is set. ``set`` is JSON data (what ``json.loads``
    returns) merged as a JSON Merge Patch: mappings merge key by key, lists and scalars
    replace, ``None`` deletes the key. ``where`` says where the override was written, for
    error messages: ``services.yaml:42 (services[0].dashboard.overrides[1])``.
    """

    title: str | None
    id: int | None
    set: Mapping[str, Any]
    where: str = ""


@dataclass(frozen=True)
class DashboardOverlay:
    """A service's customisation of its generated dashboard (the catalog's ``dashboard``).

    ``overrides`` apply first, in order, to the generated panels; then ``panels`` (Grafana
    panel JSON, as JSON data) are appended. ``where`` locates the overlay and
    ``panel_where`` each extra panel, in the order of ``panels`` (both for error
    messages; empty when the overlay was built by hand). Treat the JSON data as
    read-only: ``toolkit.generate.overlay.apply_overlay`` copies what it uses.
    """

    panels: tuple[Mapping[str, Any], ...] = ()
    overrides: tuple[PanelOverride, ...] = ()
    where: str = ""
    panel_where: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.panel_where and len(self.panel_where) != len(self.panels):
            raise ValueError("panel_where needs one location per extra panel")


@dataclass(frozen=True)
class Service:
    """One service of the catalog."""

    name: str
    team: str
    tier: Tier
    slo: SLO
    prometheus: PrometheusSelector
    address: str
    runbook: str | None = None
    description: str = ""
    dependencies: tuple[str, ...] = ()
    alert_labels: Mapping[str, str] = field(default_factory=dict)
    gate: int | None = None  # readiness level CI requires before a split (1-3)
    dashboard: DashboardOverlay | None = None  # customises the generated dashboard
    alerting: Alerting = field(default_factory=Alerting)


@dataclass(frozen=True)
class SplitAnswers:
    """The catalog's ``assessment``: the numbers ``toolkit assess`` weighs (all optional)."""

    team_size: int | None = None
    peak_rps: float | None = None
    capacity_rps: float | None = None
    deploys_automated: bool | None = None
    scaling_timeline: str | None = None


@dataclass(frozen=True)
class Catalog:
    """A validated service catalog."""

    path: Path
    services: tuple[Service, ...]
    externals: tuple[External, ...] = ()
    assessment: SplitAnswers | None = None
    # Where the generated runbook stubs are published (the catalog's runbooks.base_url):
    # alerts of services without a runbook link to <base>/<service>.md#<alert>.
    runbook_base_url: str | None = None

    def service(self, name: str) -> Service:
        """Return the service called ``name``; ``KeyError`` if there is none."""
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    def external(self, name: str) -> External:
        """Return the external called ``name``; ``KeyError`` if there is none."""
        for external in self.externals:
            if external.name == name:
                return external
        raise KeyError(name)
