"""Apply a service's dashboard overlay (the catalog's ``dashboard``) to its dashboard.

:func:`apply_overlay` is a pure function on a Grafana dashboard as data: overrides are
merged into the generated panels they name (by title or id), then the extra panels are
appended with the defaults a generated panel has (an id, a place on the grid, the
``$datasource`` variable, query refIds). The result is a new dict; the input dashboard
and the overlay are never changed, and what the result takes from the overlay is copied.
See docs/generate.md, "Customising dashboards: the overlay".
"""

from __future__ import annotations

import copy
import difflib
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, TypeGuard

from toolkit.catalog.model import DashboardOverlay, PanelOverride

PROMETHEUS_DATASOURCE: Final = {"type": "prometheus", "uid": "${datasource}"}
PANEL_WIDTH: Final = 12  # two extra panels per row of Grafana's 24-column grid
PANEL_HEIGHT: Final = 8
GRID_COLUMNS: Final = 24
REF_IDS: Final = string.ascii_uppercase  # the refIds the dashboard schema allows
_TITLES_SHOWN: Final = 6


class OverlayError(Exception):
    """An overlay does not fit the dashboard it is applied to.

    ``where`` locates the override or extra panel as the catalog gives it
    (``services.yaml:42 (services[0].dashboard.overrides[1])``); ``message`` says what is
    wrong and how to fix it.
    """

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


def apply_overlay(dashboard: Mapping[str, Any], overlay: DashboardOverlay) -> dict[str, Any]:
    """``dashboard`` with ``overlay`` applied: overrides first, in order, then extra panels.

    Returns a new dict. Only what changes is copied: panels no override touches are the
    input's own objects, so treat the result as read-only (or deep-copy it) if the input
    must stay as it is. Raises :class:`OverlayError` for an override whose title or id
    matches no panel (or a title that matches several), an override that changes a
    panel's id, an extra panel whose id is taken, or a panel with more queries than
    refIds.
    """
    panels: list[Any] = list(dashboard.get("panels") or [])
    for override in overlay.overrides:
        index = _match(panels, override)
        panels[index] = _override(panels[index], override)
    result = dict(dashboard)
    result["panels"] = panels + _extra_panels(panels, overlay)
    return result


def merge_patch(target: Any, patch: Any) -> Any:
    """``patch`` merged into ``target`` as a JSON Merge Patch (RFC 7396).

    A mapping merges key by key (recursively; a ``None`` value deletes the key); anything
    else (a list, a scalar) replaces. Neither argument is changed: the result shares
    the parts of ``target`` the patch leaves alone and copies what it takes from ``patch``.
    """
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    merged = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _is_id(value: object) -> TypeGuard[int]:
    """Whether ``value`` is a whole number (JSON's booleans are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _match(panels: Sequence[Any], override: PanelOverride) -> int:
    """The index of the one panel ``override`` names."""
    if (override.title is None) == (override.id is None):
        raise OverlayError(override.where, "an override needs exactly one of title or id")
    if override.title is not None:
        found = [i for i, p in enumerate(panels) if _get(p, "title") == override.title]
        if not found:
            raise OverlayError(override.where, _no_title(panels, override.title))
        if len(found) > 1:
            ids = ", ".join(str(_get(panels[i], "id")) for i in found)
            message = (
                f"{len(found)} panels are titled {override.title!r} (ids {ids}) — "
                "match one by its id instead"
            )
            raise OverlayError(override.where, message)
    else:
        found = [
            i
            for i, p in enumerate(panels)
            if _is_id(_get(p, "id")) and _get(p, "id") == override.id
        ]
        if not found:
            ids = _ranges(_get(p, "id") for p in panels)
            raise OverlayError(override.where, f"no panel with id {override.id}; ids: {ids}")
        if len(found) > 1:  # pragma: no cover - generated ids are unique
            raise OverlayError(override.where, f"{len(found)} panels have id {override.id}")
    if "id" in override.set:
        raise OverlayError(override.where, "the panel id cannot be changed")
    return found[0]


def _get(panel: Any, key: str) -> Any:
    return panel.get(key) if isinstance(panel, Mapping) else None


def _no_title(panels: Sequence[Any], title: str) -> str:
    """Say that no panel is titled ``title``, suggesting the closest and listing a few."""
    titles = [t for t in (_get(p, "title") for p in panels) if isinstance(t, str)]
    message = f"no panel titled {title!r}"
    close = difflib.get_close_matches(title, titles, n=1)
    if close:
        message += f" — did you mean {close[0]!r}?"
    if not titles:
        return f"{message} (the dashboard has no titled panels)"
    listed = ", ".join(repr(t) for t in titles[:_TITLES_SHOWN])
    more = len(titles) - _TITLES_SHOWN
    return f"{message} (panels: {listed}{f' and {more} more' if more > 0 else ''})"


def _ranges(values: Iterable[Any]) -> str:
    """Whole numbers as sorted ranges: ``1-5, 7``."""
    numbers = sorted({v for v in values if _is_id(v)})
    if not numbers:
        return "none"
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _override(panel: Any, override: PanelOverride) -> Any:
    """``panel`` with ``override.set`` merged in (queries it writes get their defaults)."""
    merged = merge_patch(panel, override.set)
    if "targets" in override.set and isinstance(merged.get("targets"), list):
        merged["targets"] = _targets(merged["targets"], override.where)
    return merged


def _extra_panels(panels: Sequence[Any], overlay: DashboardOverlay) -> list[dict[str, Any]]:
    """The overlay's extra panels, copied, with ids, grid places and datasources filled in."""
    wheres = overlay.panel_where or tuple(
        f"{overlay.where or 'dashboard overlay'} panels[{index}]"
        for index in range(len(overlay.panels))
    )
    taken = {_get(p, "id"): _get(p, "title") for p in panels if _is_id(_get(p, "id"))}
    chosen: dict[int, str] = {}
    for panel, where in zip(overlay.panels, wheres, strict=True):
        panel_id = panel.get("id")
        if panel_id is None:
            continue
        if not _is_id(panel_id) or panel_id < 1:
            raise OverlayError(where, f"expected a panel id from 1, found {panel_id!r}")
        if panel_id in taken:
            message = (
                f"panel id {panel_id} is taken by the generated panel {taken[panel_id]!r}"
                " — leave the id out to get the next free one"
            )
            raise OverlayError(where, message)
        if panel_id in chosen:
            raise OverlayError(where, f"panel id {panel_id} is also used at {chosen[panel_id]}")
        chosen[panel_id] = where
    next_id = max([*taken, *chosen], default=0) + 1
    placed = [*panels, *(p for p in overlay.panels if p.get("gridPos") is not None)]
    bottom = max((_bottom(_get(p, "gridPos")) for p in placed), default=0)
    extra: list[dict[str, Any]] = []
    slot = 0
    for panel, where in zip(overlay.panels, wheres, strict=True):
        new = {key: copy.deepcopy(value) for key, value in panel.items()}
        if new.get("id") is None:
            new = {"id": next_id, **{k: v for k, v in new.items() if k != "id"}}
            next_id += 1
        if new.get("datasource") is None:
            new["datasource"] = dict(PROMETHEUS_DATASOURCE)
        if new.get("gridPos") is None:
            new["gridPos"] = _grid_slot(slot, bottom)
            slot += 1
        if isinstance(new.get("targets"), list):
            new["targets"] = _targets(new["targets"], where)
        extra.append(new)
    return extra


def _bottom(grid: Any) -> int:
    """The first grid row below a panel placed at ``grid`` (0 when it has no valid place)."""
    if not isinstance(grid, Mapping):
        return 0
    y, h = grid.get("y"), grid.get("h")
    return y + h if _is_id(y) and _is_id(h) else 0


def _grid_slot(slot: int, top: int) -> dict[str, int]:
    """The place of the ``slot``-th automatically placed panel: rows of two from ``top``."""
    per_row = GRID_COLUMNS // PANEL_WIDTH
    return {
        "h": PANEL_HEIGHT,
        "w": PANEL_WIDTH,
        "x": PANEL_WIDTH * (slot % per_row),
        "y": top + PANEL_HEIGHT * (slot // per_row),
    }


def _targets(targets: list[Any], where: str) -> list[Any]:
    """Queries with a refId (the first free of A-Z) and the ``$datasource`` variable."""
    used = [ref for ref in (_get(t, "refId") for t in targets) if isinstance(ref, str)]
    repeated = sorted({ref for ref in used if used.count(ref) > 1})
    if repeated:
        raise OverlayError(where, f"refId {repeated[0]!r} is used by several queries")
    free = iter([ref for ref in REF_IDS if ref not in used])
    filled: list[Any] = []
    for target in targets:
        if not isinstance(target, Mapping):
            filled.append(target)  # not a query: the dashboard schema says so
            continue
        defaults: dict[str, Any] = {}
        if target.get("refId") is None:
            ref = next(free, None)
            if ref is None:
                message = f"more than {len(REF_IDS)} queries: the refIds A to Z are used up"
                raise OverlayError(where, message)
            defaults["refId"] = ref
        if target.get("datasource") is None:
            defaults["datasource"] = dict(PROMETHEUS_DATASOURCE)
        if not defaults:
            filled.append(target)
            continue
        filled.append({**defaults, **{k: v for k, v in target.items() if k not in defaults}})
    return filled
