"""The catalog's structure: a composed YAML tree in, a :class:`Catalog` or problems out.

One pass reads every field and records every problem (see :class:`NodeReader`); the
checks across entries (unique names, known dependencies) run after it; the model is
built only when nothing was reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import yaml

from toolkit.catalog.alerting import build_alerting
from toolkit.catalog.drafts import ExternalDraft, Named, ServiceDraft
from toolkit.catalog.model import Catalog, External, PrometheusSelector, Service
from toolkit.catalog.names import (
    HOST_RULE,
    NAME_RULE,
    is_host,
    is_http_url,
    is_valid_name,
    suggest_name,
)
from toolkit.catalog.nodes import NodeReader, child_path, describe, item_path, line_of, shown
from toolkit.catalog.overlay import read_overlay
from toolkit.catalog.readiness import read_assessment, read_gate
from toolkit.catalog.references import check_references
from toolkit.catalog.settings import (
    DEFAULT_TIER,
    SETTING_KEYS,
    Settings,
    build_slo,
    check_complete,
    merge,
    read_labels,
    read_settings,
)
from toolkit.semconv import JOB

TOP_KEYS: Final = ("version", "defaults", "externals", "services", "assessment", "runbooks")
RUNBOOKS_KEYS: Final = ("base_url",)
BASE_URL: Final = "an http or https URL without a query or fragment"
EXTERNAL_KEYS: Final = ("name", "address", "description")
SERVICE_KEYS: Final = (
    "name",
    "team",
    "tier",
    "description",
    "slo",
    "dependencies",
    "runbook",
    "prometheus",
    "address",
    "alert_labels",
    "alerting",
    "gate",
    "dashboard",
)
PROMETHEUS_KEYS: Final = ("job", "labels")
CATALOG_VERSION: Final = 1
TOP_LEVEL: Final = "a mapping with a 'services' list at the top level"
_RESERVED_MATCHERS: Final = {JOB: "set the job with prometheus.job"}
# Keys a service may have that defaults may not: a shared overlay would hide whose it is.
_SERVICE_ONLY: Final = {"dashboard": "a dashboard overlay is set per service, not in defaults"}


def read_catalog(reader: NodeReader, root: yaml.Node, path: Path) -> Catalog | None:
    """Build the catalog in ``root``, or return ``None`` with ``reader.problems`` filled."""
    top = reader.mapping(root, "", TOP_KEYS, required=("services",), expected=TOP_LEVEL)
    if top is None:
        return None
    if "version" in top:
        _version(reader, top["version"])
    defaults = Settings(path="defaults")
    if "defaults" in top:
        values = reader.mapping(top["defaults"], "defaults", SETTING_KEYS, misplaced=_SERVICE_ONLY)
        if values is None:
            defaults.given.add("availability")  # unknown: do not call it missing
        else:
            defaults = read_settings(reader, values, "defaults")
    externals = [
        _external(reader, node, item_path("externals", index))
        for index, node in enumerate(_items(reader, top, "externals", allow_empty=True))
    ]
    services = [
        _service(reader, node, item_path("services", index), path.parent)
        for index, node in enumerate(_items(reader, top, "services", allow_empty=False))
    ]
    merged = [merge(defaults, draft.settings) for draft in services]
    for draft, settings in zip(services, merged, strict=True):
        check_complete(reader, settings, draft.node)
    check_references(reader, externals, services)
    assessment = (
        read_assessment(reader, top["assessment"], "assessment") if "assessment" in top else None
    )
    base_url = _runbooks(reader, top["runbooks"], "runbooks") if "runbooks" in top else None
    if reader.problems:
        return None
    return Catalog(
        path=path,
        services=tuple(_build_service(d, s) for d, s in zip(services, merged, strict=True)),
        externals=tuple(_build_external(draft) for draft in externals),
        assessment=assessment,
        runbook_base_url=base_url,
    )


def _version(reader: NodeReader, node: yaml.Node) -> None:
    """Only version 1 exists."""
    if not (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":int") and node.value == "1"):
        expected = f"{CATALOG_VERSION} (the only catalog version)"
        found = shown(node) if node.tag.endswith(":int") else describe(node)
        reader.expect(node, "version", expected, found)


def _items(
    reader: NodeReader, top: dict[str, yaml.Node], key: str, *, allow_empty: bool
) -> list[yaml.Node]:
    """The entries of the top-level list ``key`` (none when it is absent or wrong)."""
    if key not in top:
        return []
    items = reader.sequence(top[key], key, f"a list of {key}")
    if items is None:
        return []
    if not items and not allow_empty:
        reader.expect(top[key], key, f"a non-empty list of {key}", "an empty list")
    return items


def _name(reader: NodeReader, values: dict[str, yaml.Node], node: yaml.Node, path: str) -> Named:
    """The ``name`` of an entry, checked against :data:`NAME_RULE`."""
    if "name" not in values:
        return Named(None, node, path)
    name_node, name_path = values["name"], child_path(path, "name")
    name = reader.string(name_node, name_path, NAME_RULE)
    if name is not None and not is_valid_name(name):
        suggestion = suggest_name(name)
        hint = f"did you mean '{suggestion}'?" if suggestion else None
        reader.expect(name_node, name_path, NAME_RULE, shown(name_node), hint)
        name = None
    return Named(name, name_node, name_path)


def _host(reader: NodeReader, node: yaml.Node, path: str) -> str | None:
    """A host as it appears in ``server_address`` of client metrics."""
    host = reader.string(node, path, HOST_RULE)
    if host is not None and not is_host(host):
        reader.expect(node, path, HOST_RULE, shown(node))
        return None
    return host


def _external(reader: NodeReader, node: yaml.Node, path: str) -> ExternalDraft:
    """Read one entry of ``externals``."""
    values = reader.mapping(
        node, path, EXTERNAL_KEYS, required=("name", "address"), expected="a mapping"
    )
    if values is None:
        return ExternalDraft(Named(None, node, path))
    draft = ExternalDraft(_name(reader, values, node, path))
    if "address" in values:
        draft.address_node = values["address"]
        draft.address = _host(reader, values["address"], child_path(path, "address"))
    if "description" in values:
        draft.description = (
            reader.string(values["description"], child_path(path, "description")) or ""
        )
    return draft


def _service(reader: NodeReader, node: yaml.Node, path: str, directory: Path) -> ServiceDraft:
    """Read one entry of ``services``; ``directory`` holds the catalog (and overlay files)."""
    values = reader.mapping(node, path, SERVICE_KEYS, required=("name", "team"))
    if values is None:
        unknown = Settings(path=path, given={"availability"})  # do not call it missing
        return ServiceDraft(node, path, Named(None, node, path), unknown)
    draft = ServiceDraft(
        node, path, _name(reader, values, node, path), read_settings(reader, values, path)
    )
    if "team" in values:
        draft.team = reader.template_free(values["team"], child_path(path, "team"))
    if "description" in values:
        draft.description = (
            reader.string(values["description"], child_path(path, "description")) or ""
        )
    if "runbook" in values:
        draft.runbook = _runbook(reader, values["runbook"], child_path(path, "runbook"))
    if "address" in values:
        draft.address_node = values["address"]
        draft.address = _host(reader, values["address"], child_path(path, "address"))
    if "dependencies" in values:
        draft.dependencies = _dependencies(
            reader, values["dependencies"], child_path(path, "dependencies")
        )
    if "prometheus" in values:
        _prometheus(reader, values["prometheus"], child_path(path, "prometheus"), draft)
    if "gate" in values:
        draft.gate = read_gate(reader, values["gate"], child_path(path, "gate"))
    if "dashboard" in values:
        draft.dashboard = read_overlay(
            reader, values["dashboard"], child_path(path, "dashboard"), directory
        )
    return draft


def _runbook(reader: NodeReader, node: yaml.Node, path: str) -> str | None:
    """An http(s) URL."""
    expected = "an http or https URL"
    url = reader.string(node, path, expected)
    if url is not None and not is_http_url(url):
        reader.expect(node, path, expected, shown(node))
        return None
    return url


def _runbooks(reader: NodeReader, node: yaml.Node, path: str) -> str | None:
    """``runbooks.base_url``: where the generated runbook stubs are published, if set."""
    values = reader.mapping(node, path, RUNBOOKS_KEYS)
    if values is None or "base_url" not in values:
        return None
    node, path = values["base_url"], child_path(path, "base_url")
    url = reader.string(node, path, BASE_URL)
    if url is None:
        return None
    if not is_http_url(url):
        reader.expect(node, path, BASE_URL, shown(node))
        return None
    if "?" in url or "#" in url:
        hint = "each alert's link appends /<service>.md#<alert> to it"
        reader.expect(node, path, BASE_URL, shown(node), hint)
        return None
    return url


def _dependencies(reader: NodeReader, node: yaml.Node, path: str) -> list[Named]:
    """The names in ``dependencies``; duplicates are reported and dropped."""
    items = reader.sequence(node, path, "a list of service or external names")
    first_seen: dict[str, tuple[int, str]] = {}
    dependencies = []
    for index, item in enumerate(items or []):
        item_at = item_path(path, index)
        name = reader.string(item, item_at, "the name of a service or external")
        if name is None:
            continue
        if name in first_seen:
            line, first_path = first_seen[name]
            message = f"duplicate dependency '{name}': first listed at line {line} ({first_path})"
            reader.report(item, item_at, message)
            continue
        first_seen[name] = (line_of(item), item_at)
        dependencies.append(Named(name, item, item_at))
    return dependencies


def _prometheus(reader: NodeReader, node: yaml.Node, path: str, draft: ServiceDraft) -> None:
    """Read how to select the service's series."""
    values = reader.mapping(node, path, PROMETHEUS_KEYS)
    if values is None:
        return
    draft.prometheus_node = node
    if "job" in values:
        draft.job = reader.string(values["job"], child_path(path, "job"))
    if "labels" in values:
        labels = read_labels(
            reader, values["labels"], child_path(path, "labels"), _RESERVED_MATCHERS
        )
        draft.labels = labels or {}


def _build_external(draft: ExternalDraft) -> External:
    """The :class:`External` of a draft that passed every check."""
    if draft.named.name is None or draft.address is None:
        raise ValueError(f"{draft.named.path}: incomplete external")
    return External(name=draft.named.name, address=draft.address, description=draft.description)


def _build_service(draft: ServiceDraft, settings: Settings) -> Service:
    """The :class:`Service` of a draft that passed every check."""
    name = draft.named.name
    if name is None or draft.team is None:
        raise ValueError(f"{draft.path}: incomplete service")
    return Service(
        name=name,
        team=draft.team,
        tier=settings.tier or DEFAULT_TIER,
        slo=build_slo(settings),
        prometheus=PrometheusSelector(job=draft.job or name, labels=draft.labels),
        address=draft.address or name,
        runbook=draft.runbook,
        description=draft.description,
        dependencies=tuple(d.name for d in draft.dependencies if d.name is not None),
        alert_labels=settings.alert_labels,
        gate=draft.gate,
        dashboard=draft.dashboard,
        alerting=build_alerting(settings.alerting),
    )
