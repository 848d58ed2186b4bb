"""Checks across catalog entries: unique names, addresses and selectors; known dependencies."""

from __future__ import annotations

import difflib

import yaml

from toolkit.catalog.drafts import ExternalDraft, Named, ServiceDraft
from toolkit.catalog.names import alert_name_prefix
from toolkit.catalog.nodes import NodeReader, child_path, line_of, shown
from toolkit.semconv import JOB


def check_references(
    reader: NodeReader, externals: list[ExternalDraft], services: list[ServiceDraft]
) -> None:
    """Names, addresses and selectors are unique; dependencies name known entries."""
    names = [draft.named for draft in externals] + [draft.named for draft in services]
    repeated = _check_unique(reader, "name", [(n.name, n.node, n.path) for n in names])
    # A default (the service's name) is checked only for a unique name: a repeated name
    # is reported once, not again as a repeated address and selector.
    addresses = [
        (draft.address, draft.address_node, child_path(draft.named.path, "address"))
        for draft in externals
        if draft.address_node is not None
    ]
    selectors = []
    for draft in services:
        unique = draft.named.name not in repeated
        if draft.address_node is not None:
            addresses.append((draft.address, draft.address_node, child_path(draft.path, "address")))
        elif unique:
            addresses.append((draft.named.name, draft.named.node, draft.named.path))
        if draft.job is not None or unique:
            node = draft.prometheus_node or draft.named.node
            selectors.append((_selector(draft), node, child_path(draft.path, "prometheus")))
    _check_unique(reader, "address", addresses, hint="a service's address defaults to its name")
    _check_unique(reader, "Prometheus selector", selectors)
    _check_alert_names(reader, services, repeated)
    known = sorted(n.name for n in names if n.name is not None)
    for draft in services:
        for dependency in draft.dependencies:
            _check_dependency(reader, dependency, draft.named.name, known)


def _check_alert_names(
    reader: NodeReader, services: list[ServiceDraft], repeated: set[str]
) -> None:
    """Two service names must not give the same alert names (``svc-2fa``, ``svc2fa``)."""
    first: dict[str, Named] = {}
    for draft in sorted(services, key=lambda d: line_of(d.named.node)):
        name = draft.named.name
        if name is None or name in repeated:
            continue
        prefix = alert_name_prefix(name)
        if prefix in first:
            other = first[prefix]
            message = (
                f"service '{name}' gives the same alert names as '{other.name}' (line "
                f"{line_of(other.node)}, {other.path}): both become {prefix}..."
            )
            hint = "rename one of them so the names differ by more than '-'"
            reader.report(draft.named.node, draft.named.path, message, hint=hint)
        else:
            first[prefix] = draft.named


def _selector(draft: ServiceDraft) -> str | None:
    """The service's series selector as PromQL, ``None`` when its parts are invalid."""
    job = draft.job or draft.named.name
    if job is None:
        return None
    matchers = [(JOB, job), *sorted(draft.labels.items())]
    return "{" + ", ".join(f'{name}="{value}"' for name, value in matchers) + "}"


def _check_unique(
    reader: NodeReader,
    what: str,
    entries: list[tuple[str | None, yaml.Node, str]],
    hint: str | None = None,
) -> set[str]:
    """Report each repeated value at its later occurrences, naming the first; return them."""
    first: dict[str, tuple[int, str]] = {}
    repeated = set()
    for value, node, path in sorted(entries, key=lambda entry: line_of(entry[1])):
        if value is None:
            continue
        if value in first:
            line, first_path = first[value]
            message = f"duplicate {what} '{value}': first defined at line {line} ({first_path})"
            reader.report(node, path, message, hint=hint)
            repeated.add(value)
        else:
            first[value] = (line_of(node), path)
    return repeated


def _check_dependency(
    reader: NodeReader, dependency: Named, service: str | None, known: list[str]
) -> None:
    """A dependency names another service or an external of this catalog."""
    name = dependency.name
    if name is None:
        return
    if name == service:
        expected = "the name of another service or an external"
        reader.expect(dependency.node, dependency.path, expected, f"'{name}', the service itself")
    elif name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "add it to services or externals"
        expected = "the name of a service or external in this catalog"
        reader.expect(dependency.node, dependency.path, expected, shown(dependency.node), hint)
