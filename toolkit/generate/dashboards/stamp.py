"""Panels built once and stamped for each service.

A service dashboard is mostly the same from one service to the next: a panel differs
only in its queries (the service's selector in them) and, for a few, in numbers taken
from the objectives, which many services share. A :class:`PanelStamp` holds a panel's
JSON model built once through :class:`Panel`; :meth:`PanelStamp.stamp` gives one
service's panel: its own ``id``, ``gridPos``, ``targets`` (the service's queries) and
optionally ``links``, every other part shared with the model.

Sharing is safe because generated documents are read, serialised and dropped, never
changed in place: an overlay (``toolkit.generate.overlay``) copies what it changes, and
validation only reads. Each stamped panel's own dict and its targets are new, so
setting a key of a panel or a query in place stays within one dashboard; nested parts
(``fieldConfig``, ``options``, ``gridPos``) are shared and must be treated as read-only.

Panels that depend on the service only through its queries are built for a stand-in
service (:data:`STAND_IN`) whose matchers occur nowhere else in a query; a service's
queries are then the stand-in's with the service's matchers swapped in
(:meth:`PanelStamp.queries_of`). That holds because every selector of
:class:`ServiceQueries` starts with the same identity matchers (``job`` and the
catalog's labels); ``tests/test_generate_dashboards.py`` checks it against the panels
built for the service itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from toolkit.generate.dashboards.panels import Panel, grid_places
from toolkit.generate.promql import ServiceQueries

# Its matchers cannot occur in the fixed text of a query (no metric or label name holds
# a NUL), so in a query built for it they mark exactly where the service's go. What the
# service's own job holds does not matter: only the stand-in's text is searched.
STAND_IN = ServiceQueries("\x00stand-in\x00")


def identity_matchers(queries: ServiceQueries) -> str:
    """The matchers every selector of ``queries`` starts with: ``job="orders",...``."""
    return queries.selector()[1:-1]


_STAND_IN_MATCHERS = identity_matchers(STAND_IN)


@dataclass(frozen=True)
class PanelStamp:
    """A panel's JSON model, built once; :meth:`stamp` gives one service's copy."""

    size: tuple[int, int]  # width, height: what the layout needs
    model: dict[str, Any]
    exprs: tuple[str, ...]  # the model's queries, in order

    @classmethod
    def of(cls, panel: Panel) -> PanelStamp:
        """The stamp of ``panel`` (its id and grid place are set when stamped)."""
        model = panel.to_json()
        return cls((panel.width, panel.height), model, tuple(t["expr"] for t in model["targets"]))

    def queries_of(self, matchers: str) -> list[str]:
        """A stamp built for :data:`STAND_IN`: its queries for the service with
        ``matchers`` (see :func:`identity_matchers`)."""
        return [expr.replace(_STAND_IN_MATCHERS, matchers) for expr in self.exprs]

    def stamp(
        self,
        panel_id: int,
        grid: dict[str, int],
        exprs: Sequence[str],
        links: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The panel with ``exprs`` as its queries, in order, at ``grid``."""
        # Copied and set key by key: a copy keeps the model's key order and is cheaper
        # than building the dict anew.
        panel = self.model.copy()
        panel["id"] = panel_id
        panel["gridPos"] = grid
        targets = []
        for model_target, expr in zip(self.model["targets"], exprs, strict=True):
            target = model_target.copy()
            target["expr"] = expr
            targets.append(target)
        panel["targets"] = targets
        if links is not None:
            panel["links"] = links
        return panel


# One panel of a dashboard: its stamp, its queries, its links (None: the stamp's).
Part = tuple[PanelStamp, Sequence[str], "list[dict[str, Any]] | None"]


@lru_cache(maxsize=64)  # a few layouts: the panels differ by the number of objectives
def _places(sizes: tuple[tuple[int, int], ...]) -> tuple[dict[str, int], ...]:
    return tuple(grid_places(sizes))


def stamp_panels(parts: Sequence[Part]) -> list[dict[str, Any]]:
    """The panels of ``parts``, laid out as :func:`lay_out` does (ids in that order)."""
    places = _places(tuple([stamp.size for stamp, _, _ in parts]))
    return [
        stamp.stamp(number, grid, exprs, links)
        for number, ((stamp, exprs, links), grid) in enumerate(
            zip(parts, places, strict=True), start=1
        )
    ]
