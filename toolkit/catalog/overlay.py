"""A service's ``dashboard`` overlay: extra panels and overrides for its generated dashboard.

The overlay is written in the catalog (a mapping) or in a YAML or JSON file beside it
(a string: the file's path, relative to the catalog's directory). Its values are Grafana
panel JSON, so they must be JSON data: YAML dates, non-string keys, NaN and infinities
are problems, reported with the file and line where they are written. A JSON file is
read with a small position-keeping reader, so its problems have lines too and its
numbers keep JSON's types (YAML 1.1 would read ``1e3`` as a string).
"""

from __future__ import annotations

import math
import os
from pathlib import Path, PurePath
from typing import Any, Final

import yaml
from yaml.constructor import SafeConstructor

from toolkit.catalog.json_nodes import (
    BOOL_TAG,
    FLOAT_TAG,
    INT_TAG,
    MAP_TAG,
    NULL_TAG,
    SEQ_TAG,
    TAG,
    compose_json,
)
from toolkit.catalog.model import DashboardOverlay, PanelOverride
from toolkit.catalog.nodes import (
    STR_TAG,
    NodeReader,
    child_path,
    describe,
    int_value,
    item_path,
    line_of,
    shown,
)
from toolkit.catalog.problems import CatalogError, Problem
from toolkit.catalog.text import compose, decode

OVERLAY_KEYS: Final = ("panels", "overrides")
OVERRIDE_KEYS: Final = ("title", "id", "set")
OVERLAY: Final = (
    "a mapping with 'panels' or 'overrides', or the path of a YAML or JSON file holding one"
)
OVERLAY_FILE: Final = "a mapping with 'panels' or 'overrides'"
FILE_LANGUAGES: Final = {".yaml": "YAML", ".yml": "YAML", ".json": "JSON"}
PANEL_ID: Final = "a panel id (a whole number from 1)"
JSON_DATA: Final = "JSON data (a string, number, true, false, null, list or mapping)"
FINITE: Final = "a finite number (JSON has no NaN or infinity)"
# Grafana reads JSON numbers as JavaScript does: larger whole numbers lose digits.
MAX_SAFE_INTEGER: Final = 2**53 - 1
SAFE_INTEGER: Final = f"a whole number from -{MAX_SAFE_INTEGER} to {MAX_SAFE_INTEGER}"
SAFE_HINT: Final = "Grafana reads numbers as JavaScript does, exactly only up to 2^53 - 1"
PATH_HINT: Final = "the path is relative to the directory of the catalog"
MERGE_HINT: Final = "write the keys out, or use an alias (*name) for a whole value"
REQUIRED_PANEL_KEYS: Final = {
    "type": "the panel type, e.g. timeseries, stat, gauge, bargauge, table or text",
    "title": None,
}

_CONSTRUCTOR = SafeConstructor()


def read_overlay(
    reader: NodeReader, node: yaml.Node, path: str, directory: Path
) -> DashboardOverlay | None:
    """The overlay written at ``node`` (a mapping, or the path of a file in ``directory``).

    Returns ``None`` when there is a problem (recorded in ``reader``, or, for a problem
    inside an overlay file, recorded there naming that file).
    """
    if isinstance(node, yaml.ScalarNode) and node.tag == STR_TAG:
        return _read_file(reader, node, path, directory)
    return _read_mapping(reader, node, path, OVERLAY)


def _where(reader: NodeReader, node: yaml.Node, path: str) -> str:
    """A human location: ``services.yaml:42 (services[0].dashboard.overrides[1])``."""
    return f"{reader.file}:{line_of(node)} ({path})"


def _read_mapping(
    reader: NodeReader, node: yaml.Node, path: str, expected: str
) -> DashboardOverlay | None:
    """The overlay in the mapping ``node``."""
    before = len(reader.problems)
    values = reader.mapping(node, path, OVERLAY_KEYS, expected=expected)
    if values is None:
        return None
    panels: list[dict[str, Any]] = []
    panel_where: list[str] = []
    if "panels" in values:
        panels_path = child_path(path, "panels")
        items = reader.sequence(values["panels"], panels_path, "a list of Grafana panels")
        first_ids: dict[int, str] = {}
        for index, item in enumerate(items or []):
            at = item_path(panels_path, index)
            panel = _panel(reader, item, at, first_ids)
            if panel is not None:
                panels.append(panel)
                panel_where.append(_where(reader, item, at))
    overrides: list[PanelOverride] = []
    if "overrides" in values:
        overrides_path = child_path(path, "overrides")
        expected_list = "a list of overrides, each with 'title' or 'id' and 'set'"
        items = reader.sequence(values["overrides"], overrides_path, expected_list)
        for index, item in enumerate(items or []):
            override = _override(reader, item, item_path(overrides_path, index))
            if override is not None:
                overrides.append(override)
    if len(reader.problems) > before:
        return None
    return DashboardOverlay(
        panels=tuple(panels),
        overrides=tuple(overrides),
        where=_where(reader, node, path),
        panel_where=tuple(panel_where),
    )


def _panel(
    reader: NodeReader, node: yaml.Node, path: str, first_ids: dict[int, str]
) -> dict[str, Any] | None:
    """One extra panel: Grafana panel JSON with at least ``type`` and ``title``.

    The keys the merge relies on are checked here, where the line is known: ``id`` (a
    whole number, unique among the extra panels) and ``targets`` (queries with ``expr``).
    The rest is left to the dashboard schema the generated output is validated against.
    """
    entries = reader.entries(node, path, "a mapping (Grafana panel JSON)", MERGE_HINT)
    if entries is None:
        return None
    panel: dict[str, Any] = {}
    for _, key, value_node in entries:
        at = child_path(path, key)
        if key in REQUIRED_PANEL_KEYS:
            panel[key] = reader.string(value_node, at)
        elif key == "id":
            panel_id = panel[key] = _panel_id(reader, value_node, at)
            if panel_id in first_ids:
                message = f"duplicate panel id {panel_id}: first used at {first_ids[panel_id]}"
                reader.report(value_node, at, message)
            elif panel_id is not None:
                first_ids[panel_id] = f"line {line_of(value_node)} ({at})"
        elif key == "targets":
            panel[key] = _targets(reader, value_node, at)
        else:
            panel[key] = json_data(reader, value_node, at)
    for key, hint in REQUIRED_PANEL_KEYS.items():
        if key not in panel:
            message = f"missing required key '{key}'"
            reader.report(node, path, message, expected=f"key '{key}'", hint=hint)
    return panel


def _targets(reader: NodeReader, node: yaml.Node, path: str) -> list[Any] | None:
    """A panel's queries: mappings with a PromQL ``expr``."""
    items = reader.sequence(node, path, "a list of queries")
    if items is None:
        return None
    targets: list[Any] = []
    for index, item in enumerate(items):
        at = item_path(path, index)
        entries = reader.entries(item, at, "a mapping (a query with 'expr')", MERGE_HINT)
        if entries is None:
            continue
        target: dict[str, Any] = {}
        for _, key, value_node in entries:
            key_at = child_path(at, key)
            if key == "expr":
                target[key] = reader.string(value_node, key_at, "a PromQL expression")
            else:
                target[key] = json_data(reader, value_node, key_at)
        if "expr" not in target:
            reader.report(item, at, "missing required key 'expr'", expected="key 'expr'")
        targets.append(target)
    return targets


def _override(reader: NodeReader, node: yaml.Node, path: str) -> PanelOverride | None:
    """One override: ``title`` or ``id`` (exactly one) and ``set``."""
    values = reader.mapping(node, path, OVERRIDE_KEYS, required=("set",))
    if values is None:
        return None
    title = panel_id = None
    if "title" in values and "id" in values:
        reader.expect(
            node,
            path,
            "exactly one of 'title' or 'id'",
            "both",
            hint="an override matches a panel by its title or by its id",
        )
    elif "title" in values:
        title = reader.string(values["title"], child_path(path, "title"), "a panel title")
    elif "id" in values:
        panel_id = _panel_id(reader, values["id"], child_path(path, "id"))
    elif not (reader.suggested(node, "title") or reader.suggested(node, "id")):
        reader.report(
            node,
            path,
            "missing required key 'title' or 'id'",
            expected="key 'title' or 'id'",
            hint="name the panel to change by its title or by its id",
        )
    changes = _set(reader, values["set"], child_path(path, "set")) if "set" in values else None
    if changes is None or (title is None and panel_id is None):
        return None
    return PanelOverride(title=title, id=panel_id, set=changes, where=_where(reader, node, path))


def _set(reader: NodeReader, node: yaml.Node, path: str) -> dict[str, Any] | None:
    """The values to merge into a panel: a mapping of JSON data, not changing its ``id``."""
    entries = reader.entries(node, path, "a mapping of panel keys to values", MERGE_HINT)
    if entries is None:
        return None
    changes: dict[str, Any] = {}
    for key_node, key, value_node in entries:
        if key == "id":
            reader.report(
                key_node,
                path,
                "the panel id cannot be changed",
                hint="panel links and overrides by id rely on it; add a panel under 'panels'",
            )
            continue
        changes[key] = json_data(reader, value_node, child_path(path, key))
    return changes


def _panel_id(reader: NodeReader, node: yaml.Node, path: str) -> int | None:
    """A whole number from 1."""
    if not (isinstance(node, yaml.ScalarNode) and node.tag == INT_TAG):
        reader.expect(node, path, PANEL_ID, describe(node))
        return None
    value = int_value(node)
    if value is None or value > MAX_SAFE_INTEGER:
        reader.expect(node, path, PANEL_ID, shown(node), SAFE_HINT)
        return None
    if value < 1:
        reader.expect(node, path, PANEL_ID, shown(node))
        return None
    return value


def json_data(reader: NodeReader, node: yaml.Node, path: str) -> Any:
    """The value of ``node`` as JSON data (what ``json.loads`` returns).

    Reports what JSON cannot hold: dates and other tagged values, keys that are not
    strings, NaN and infinities, a recursive alias. The value returned then has
    ``None`` in their place; the caller knows from the problems.
    """
    return _json_data(reader, node, path, frozenset())


def _json_data(reader: NodeReader, node: yaml.Node, path: str, active: frozenset[int]) -> Any:
    if id(node) in active:
        reader.expect(node, path, JSON_DATA, "a recursive alias")
        return None
    if isinstance(node, yaml.MappingNode) and node.tag == MAP_TAG:
        entries = reader.entries(node, path, "a mapping", MERGE_HINT) or []
        inner = active | {id(node)}
        return {
            key: _json_data(reader, value, child_path(path, key), inner)
            for _, key, value in entries
        }
    if isinstance(node, yaml.SequenceNode) and node.tag == SEQ_TAG:
        inner = active | {id(node)}
        return [
            _json_data(reader, item, item_path(path, index), inner)
            for index, item in enumerate(node.value)
        ]
    if isinstance(node, yaml.ScalarNode):
        return _scalar(reader, node, path)
    reader.expect(node, path, JSON_DATA, _tagged(node))  # !!set, !!omap, ...
    return None


def _tagged(node: yaml.Node) -> str:
    """Name a value by its YAML tag, as written: ``a value tagged !!binary``."""
    tag = str(node.tag)
    return f"a value tagged {'!!' + tag[len(TAG) :] if tag.startswith(TAG) else tag}"


def _scalar(reader: NodeReader, node: yaml.ScalarNode, path: str) -> Any:
    """A string, number, boolean or null."""
    if node.tag == STR_TAG:
        return str(node.value)
    if node.tag == NULL_TAG:
        return None
    if node.tag == BOOL_TAG:
        return bool(_CONSTRUCTOR.construct_yaml_bool(node))
    if node.tag == INT_TAG:
        value = int_value(node)
        if value is None or abs(value) > MAX_SAFE_INTEGER:
            reader.expect(node, path, SAFE_INTEGER, shown(node), SAFE_HINT)
            return None
        return value
    if node.tag == FLOAT_TAG:
        try:
            number = float(_CONSTRUCTOR.construct_yaml_float(node))
        except (ValueError, OverflowError):
            number = math.nan
        if not math.isfinite(number):
            reader.expect(node, path, FINITE, shown(node))
            return None
        return number
    if node.tag == TAG + "timestamp":
        hint = "quote it to make it a string"
        reader.expect(node, path, JSON_DATA, describe(node), hint)
    else:
        reader.expect(node, path, JSON_DATA, _tagged(node))
    return None


def _read_file(
    reader: NodeReader, node: yaml.ScalarNode, path: str, directory: Path
) -> DashboardOverlay | None:
    """The overlay in the file named by ``node``, relative to ``directory``."""
    name = str(node.value)
    language = FILE_LANGUAGES.get(PurePath(name.strip()).suffix.lower())
    if language is None:
        expected = "a mapping, or the path of a .yaml, .yml or .json file"
        reader.expect(node, path, expected, shown(node), hint=PATH_HINT if name.strip() else None)
        return None
    file = os.fspath(directory / name)
    try:
        data = Path(file).read_bytes()
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        reader.report(node, path, f"cannot read the overlay file {file}: {reason}", hint=PATH_HINT)
        return None
    inner = NodeReader(file)
    try:
        text = decode(file, data, path, language)
        root = compose_json(file, text, path) if language == "JSON" else compose(file, text, path)
    except CatalogError as error:
        reader.problems.extend(error.problems)
        return None
    if root is None:
        found = "an empty document"
        message = f"expected {OVERLAY_FILE}, found {found}"
        reader.problems.append(
            Problem(file, 1, 1, path, message, expected=OVERLAY_FILE, found=found)
        )
        return None
    overlay = _read_mapping(inner, root, path, OVERLAY_FILE)
    reader.problems.extend(inner.problems)
    return overlay
