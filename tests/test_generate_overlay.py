"""Tests for toolkit.generate.overlay: a service's dashboard overlay merged into its dashboard.

The dashboards are the committed ``dashboards/*.json`` (the example catalog's output), so
these tests need nothing but the merge, the schema and the catalog loader.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import pytest

from toolkit.catalog import CatalogError, DashboardOverlay, PanelOverride, load_catalog
from toolkit.generate.overlay import (
    PROMETHEUS_DATASOURCE,
    OverlayError,
    apply_overlay,
    merge_patch,
)
from toolkit.generate.validate import (
    ValidationError,
    dashboard_schema,
    inline_definitions,
    validate_dashboard,
)

REPO = Path(__file__).parent.parent
DASHBOARDS = sorted((REPO / "dashboards").glob("*.json"))
DOCS = REPO / "docs" / "generate.md"
WHERE = "services.yaml:9 (services[0].dashboard.overrides[0])"


def _orders() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((REPO / "dashboards" / "orders.json").read_text())
    return document


def _titles(dashboard: dict[str, Any]) -> list[str]:
    return [panel["title"] for panel in dashboard["panels"]]


def _panel(dashboard: dict[str, Any], title: str) -> dict[str, Any]:
    (panel,) = [p for p in dashboard["panels"] if p["title"] == title]
    return panel


def _override(title: str | None = None, id: int | None = None, **changes: Any) -> PanelOverride:
    return PanelOverride(title=title, id=id, set=changes, where=WHERE)


def _valid(dashboard: dict[str, Any]) -> None:
    """``dashboard`` fits the schema for the pipeline's validator and for jsonschema."""
    validate_dashboard("dashboards/orders.json", dashboard)
    errors = [
        e.message for e in jsonschema.Draft7Validator(dashboard_schema()).iter_errors(dashboard)
    ]
    assert errors == []


# -- merge semantics -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "patch", "merged"),
    [  # RFC 7396, appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_follows_rfc_7396(target: Any, patch: Any, merged: Any) -> None:
    """Mappings merge recursively, lists and scalars replace, null deletes."""
    assert merge_patch(target, patch) == merged


def test_override_merges_deeply_replaces_lists_and_deletes_nulls() -> None:
    """set: nested mappings merge into the panel, a list replaces, None removes a key."""
    dashboard = _orders()
    before = _panel(dashboard, "Request rate by route")
    result = apply_overlay(
        dashboard,
        DashboardOverlay(
            overrides=(
                _override(
                    "Request rate by route",
                    description="Per route.",
                    fieldConfig={"defaults": {"unit": "short", "min": None}},
                    options={"legend": {"calcs": ["mean", "max"]}},
                    links=None,
                    interval="1m",
                ),
            )
        ),
    )
    after = _panel(result, "Request rate by route")
    assert after["description"] == "Per route."
    assert after["interval"] == "1m"
    assert "links" not in after
    defaults = after["fieldConfig"]["defaults"]
    assert defaults["unit"] == "short"
    assert "min" not in defaults
    assert defaults["thresholds"] == before["fieldConfig"]["defaults"]["thresholds"]
    assert after["options"]["legend"] == {**before["options"]["legend"], "calcs": ["mean", "max"]}
    assert after["options"]["tooltip"] == before["options"]["tooltip"]
    assert after["targets"] == before["targets"]
    _valid(result)


def test_override_by_id_and_in_order() -> None:
    """An override matches by id; a later override sees the title an earlier one set."""
    result = apply_overlay(
        _orders(),
        DashboardOverlay(
            overrides=(
                PanelOverride(title=None, id=10, set={"title": "In flight"}, where=WHERE),
                _override("In flight", description="Requests being served now."),
            )
        ),
    )
    panel = _panel(result, "In flight")
    assert (panel["id"], panel["description"]) == (10, "Requests being served now.")
    assert "Active requests" not in _titles(result)


def test_targets_written_in_an_override_get_refids_and_the_datasource() -> None:
    """Replacing a panel's queries: the new ones get refId and ${datasource} too."""
    result = apply_overlay(
        _orders(),
        DashboardOverlay(
            overrides=(
                _override(
                    "Active requests",
                    targets=[
                        {"expr": "sum(http_server_active_requests)", "refId": "B"},
                        {"expr": "max(http_server_active_requests)"},
                    ],
                ),
            )
        ),
    )
    targets = _panel(result, "Active requests")["targets"]
    assert [t["refId"] for t in targets] == ["B", "A"]
    assert all(t["datasource"] == PROMETHEUS_DATASOURCE for t in targets)
    _valid(result)


# -- matching errors -----------------------------------------------------------------


def test_unknown_title_is_an_error_that_lists_titles() -> None:
    """No panel with the title: OverlayError at the override, suggesting and listing."""
    overlay = DashboardOverlay(overrides=(_override("Request rate", description="x"),))
    with pytest.raises(OverlayError) as caught:
        apply_overlay(_orders(), overlay)
    assert caught.value.where == WHERE
    assert caught.value.message == (
        "no panel titled 'Request rate' — did you mean 'Request rate by route'? "
        "(panels: 'Availability SLI (30d)', 'Latency SLI (30d)', "
        "'Availability error budget left', 'Latency error budget left', "
        "'Error budget burn rate', 'Request rate by route' and 16 more)"
    )
    assert str(caught.value) == f"{WHERE}: {caught.value.message}"


def test_unknown_title_on_a_small_dashboard_lists_every_title() -> None:
    """Without a close title, the message only lists the titles."""
    dashboard = {"panels": [{"id": 1, "title": "A"}, {"id": 2, "title": "B"}]}
    with pytest.raises(OverlayError, match=r": no panel titled 'Zzz' \(panels: 'A', 'B'\)$"):
        apply_overlay(dashboard, DashboardOverlay(overrides=(_override("Zzz", x=1),)))


def test_title_of_several_panels_asks_for_the_id() -> None:
    """A title shared by several panels is ambiguous: the error names their ids."""
    dashboard = _orders()
    dashboard["panels"][8]["title"] = dashboard["panels"][7]["title"]
    overlay = DashboardOverlay(overrides=(_override("Latency p50 / p90 / p99", x=1),))
    with pytest.raises(OverlayError) as caught:
        apply_overlay(dashboard, overlay)
    assert caught.value.message == (
        "2 panels are titled 'Latency p50 / p90 / p99' (ids 8, 9) — match one by its id instead"
    )


def test_unknown_id_is_an_error_that_lists_ids() -> None:
    """No panel with the id: the error gives the ids there are, as ranges."""
    dashboard = _orders()
    del dashboard["panels"][4]
    with pytest.raises(OverlayError) as caught:
        apply_overlay(dashboard, DashboardOverlay(overrides=(_override(id=42, x=1),)))
    assert caught.value.message == "no panel with id 42; ids: 1-4, 6-22"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            PanelOverride(title="Active requests", id=10, set={}, where=WHERE),
            "an override needs exactly one of title or id",
        ),
        (PanelOverride(title=None, id=None, set={}, where=WHERE), "exactly one of title or id"),
        (
            PanelOverride(title="Active requests", id=None, set={"id": 3}, where=WHERE),
            "the panel id cannot be changed",
        ),
    ],
)
def test_malformed_override_built_by_hand(override: PanelOverride, message: str) -> None:
    """What the catalog refuses is refused here too, for overlays built in Python."""
    with pytest.raises(OverlayError, match=re.escape(message)):
        apply_overlay(_orders(), DashboardOverlay(overrides=(override,)))


# -- extra panels ---------------------------------------------------------------------


def test_extra_panels_get_ids_places_datasources_and_refids() -> None:
    """Missing id, gridPos, datasource, refId are filled in; given ones are kept."""
    dashboard = _orders()
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dashboard["panels"])
    overlay = DashboardOverlay(
        panels=(
            {
                "type": "gauge",
                "title": "Queue depth",
                "targets": [
                    {"expr": "sum(queue_depth)", "refId": "A"},
                    {"expr": "max(queue_depth)"},
                    {"expr": "min(queue_depth)", "datasource": None},
                ],
            },
            {"type": "text", "title": "Notes", "options": {"mode": "markdown", "content": "x"}},
            {"type": "stat", "title": "Mine", "id": 50, "targets": [{"expr": "up"}]},
            {"type": "stat", "title": "Last", "id": None, "targets": [{"expr": "up"}]},
        )
    )
    result = apply_overlay(dashboard, overlay)
    assert _titles(result) == [*_titles(dashboard), "Queue depth", "Notes", "Mine", "Last"]
    gauge, notes, mine, last = result["panels"][-4:]
    assert [p["id"] for p in (gauge, notes, mine, last)] == [51, 52, 50, 53]
    assert list(gauge)[:3] == ["id", "type", "title"]
    assert [p["gridPos"] for p in (gauge, notes, mine, last)] == [
        {"h": 8, "w": 12, "x": 0, "y": bottom},
        {"h": 8, "w": 12, "x": 12, "y": bottom},
        {"h": 8, "w": 12, "x": 0, "y": bottom + 8},
        {"h": 8, "w": 12, "x": 12, "y": bottom + 8},
    ]
    assert all(p["datasource"] == PROMETHEUS_DATASOURCE for p in (gauge, notes, mine, last))
    assert [t["refId"] for t in gauge["targets"]] == ["A", "B", "C"]
    assert all(t["datasource"] == PROMETHEUS_DATASOURCE for t in gauge["targets"])
    assert "targets" not in notes
    _valid(result)


def test_extra_panels_keep_a_given_place_and_go_below_it() -> None:
    """A given gridPos is kept, and panels placed automatically go below every panel."""
    dashboard = _orders()
    placed = {"h": 4, "w": 24, "x": 0, "y": 200}
    overlay = DashboardOverlay(
        panels=(
            {"type": "text", "title": "Banner", "gridPos": placed},
            {"type": "text", "title": "Below"},
        )
    )
    banner, below = apply_overlay(dashboard, overlay)["panels"][-2:]
    assert banner["gridPos"] == placed
    assert below["gridPos"] == {"h": 8, "w": 12, "x": 0, "y": 204}


@pytest.mark.parametrize(
    ("panels", "message"),
    [
        (
            ({"type": "stat", "title": "Mine", "id": 6},),
            "dashboard overlay panels[0]: panel id 6 is taken by the generated panel "
            "'Request rate by route' — leave the id out to get the next free one",
        ),
        (
            ({"type": "text", "title": "A", "id": 30}, {"type": "text", "title": "B", "id": 30}),
            "dashboard overlay panels[1]: panel id 30 is also used at dashboard overlay panels[0]",
        ),
        (
            ({"type": "text", "title": "A", "id": "7"},),
            "dashboard overlay panels[0]: expected a panel id from 1, found '7'",
        ),
        (
            ({"type": "stat", "title": "A", "targets": [{"expr": "up"}] * 27},),
            "dashboard overlay panels[0]: more than 26 queries: the refIds A to Z are used up",
        ),
        (
            (
                {
                    "type": "stat",
                    "title": "A",
                    "targets": [{"expr": "up", "refId": "A"}, {"expr": "up", "refId": "A"}],
                },
            ),
            "dashboard overlay panels[0]: refId 'A' is used by several queries",
        ),
    ],
)
def test_extra_panel_errors(panels: tuple[dict[str, Any], ...], message: str) -> None:
    """Ids that collide, ids that are no ids, queries beyond Z or with a repeated refId."""
    with pytest.raises(OverlayError) as caught:
        apply_overlay(_orders(), DashboardOverlay(panels=panels))
    assert str(caught.value) == message


def test_extra_panel_errors_name_where_the_panel_is_written() -> None:
    """With the catalog's locations (panel_where), the error points at the file and line."""
    overlay = DashboardOverlay(
        panels=({"type": "stat", "title": "Mine", "id": 1},),
        where="services.yaml:5 (services[0].dashboard)",
        panel_where=("services.yaml:7 (services[0].dashboard.panels[0])",),
    )
    with pytest.raises(OverlayError) as caught:
        apply_overlay(_orders(), overlay)
    assert caught.value.where == "services.yaml:7 (services[0].dashboard.panels[0])"


def test_panel_where_must_match_the_panels() -> None:
    """One location per extra panel, or none."""
    with pytest.raises(ValueError, match="one location per extra panel"):
        DashboardOverlay(panels=({"type": "text", "title": "A"},), panel_where=("a", "b"))


# -- purity ---------------------------------------------------------------------------


def test_apply_overlay_changes_neither_input_and_copies_only_what_changes() -> None:
    """The input dashboard and the overlay stay as they were; untouched panels are shared,
    and nothing in the result is the overlay's own object."""
    dashboard = _orders()
    overlay = DashboardOverlay(
        panels=({"type": "stat", "title": "Mine", "targets": [{"expr": "up"}]},),
        overrides=(
            _override("Active requests", options={"legend": {"showLegend": False}}),
            _override("Error ratio (5xx)", targets=[{"expr": "vector(0)"}]),
        ),
    )
    dashboard_before = copy.deepcopy(dashboard)
    overlay_before = copy.deepcopy(overlay)
    result = apply_overlay(dashboard, overlay)
    assert dashboard == dashboard_before
    assert overlay == overlay_before
    assert result is not dashboard and result["panels"] is not dashboard["panels"]
    changed = {"Active requests", "Error ratio (5xx)"}
    for old, new in zip(dashboard["panels"], result["panels"], strict=False):
        assert (old is new) == (old["title"] not in changed)
    assert result["templating"] is dashboard["templating"]
    # Changing the result in place leaves the overlay alone.
    result["panels"][-1]["targets"][0]["expr"] = "changed"
    _panel(result, "Error ratio (5xx)")["targets"][0]["expr"] = "changed"
    _panel(result, "Active requests")["options"]["legend"]["showLegend"] = True
    assert overlay == overlay_before
    assert dashboard == dashboard_before


def test_empty_overlay_gives_an_equal_new_dashboard() -> None:
    """Nothing to apply: an equal dashboard, still a new dict."""
    dashboard = _orders()
    result = apply_overlay(dashboard, DashboardOverlay())
    assert result == dashboard and result is not dashboard


# -- the schema -----------------------------------------------------------------------


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.name for p in DASHBOARDS])
def test_committed_dashboards_still_fit_the_schema(path: Path) -> None:
    """Every committed dashboard is valid for jsonschema, fastjsonschema and the pipeline."""
    document = json.loads(path.read_text())
    assert [
        e.message for e in jsonschema.Draft7Validator(dashboard_schema()).iter_errors(document)
    ] == []
    fastjsonschema.compile(inline_definitions(dashboard_schema()))(document)
    validate_dashboard(f"dashboards/{path.name}", document)


def test_schema_is_still_a_valid_draft7_schema() -> None:
    jsonschema.Draft7Validator.check_schema(dashboard_schema())


_QUERY = {"expr": 'sum(rate(http_server_request_duration_seconds_count{job="orders"}[5m]))'}

# Panels a user may reasonably add, as Grafana writes them (ids, places, datasources
# left to the overlay).
USER_PANELS: list[dict[str, Any]] = [
    {
        "type": "gauge",
        "title": "Queue depth",
        "pluginVersion": "11.2.0",
        "targets": [dict(_QUERY, instant=True)],
        "fieldConfig": {
            "defaults": {
                "unit": "short",
                "min": 0,
                "max": 200,
                "color": {"mode": "continuous-GrYlRd"},
                "thresholds": {
                    "mode": "absolute",
                    "steps": [{"color": "green", "value": None}, {"color": "red", "value": 100}],
                },
            },
            "overrides": [],
        },
        "options": {"showThresholdMarkers": True, "reduceOptions": {"calcs": ["lastNotNull"]}},
    },
    {
        "type": "bargauge",
        "title": "Requests by route",
        "targets": [dict(_QUERY, legendFormat="{{http_route}}", instant=True)],
        "options": {"orientation": "horizontal", "displayMode": "gradient"},
        "fieldConfig": {
            "defaults": {"displayName": "${__series.name}", "fieldMinMax": True},
            "overrides": [],
        },
        "maxDataPoints": 100,
    },
    {
        "type": "text",
        "title": "On call",
        "description": "Who to call.",
        "options": {"mode": "markdown", "content": "Page **#checkout-oncall**."},
        "transparent": True,
    },
    {
        "type": "heatmap",
        "title": "Latency heatmap",
        "interval": "1m",
        "targets": [
            {
                "expr": "sum by (le) "
                "(increase(http_server_request_duration_seconds_bucket[$__interval]))",
                "format": "heatmap",
                "legendFormat": "{{le}}",
                "interval": "1m",
            }
        ],
        "options": {"calculate": False, "yAxis": {"unit": "s"}, "color": {"scheme": "Oranges"}},
    },
    {
        "type": "piechart",
        "title": "Requests by status",
        "targets": [dict(_QUERY, legendFormat="{{http_response_status_code}}", hide=False)],
        "transformations": [{"id": "organize", "options": {"excludeByName": {"Time": True}}}],
        "options": {"pieType": "donut", "legend": {"displayMode": "table", "values": ["percent"]}},
        "fieldConfig": {"defaults": {"noValue": "no traffic"}, "overrides": []},
        "timeFrom": "now-24h",
        "timeShift": "1d",
        "hideTimeOverride": False,
    },
    {
        "type": "state-timeline",
        "title": "Readiness over time",
        "targets": [{"expr": "min by (check) (toolkit_health_check_status)", "range": True}],
        "fieldConfig": {
            "defaults": {
                "mappings": [
                    {"type": "value", "options": {"0": {"text": "failed", "color": "red"}}}
                ],
                "color": {"mode": "thresholds"},
            },
            "overrides": [{"matcher": {"id": "byName", "options": "check"}, "properties": []}],
        },
    },
]


@pytest.mark.parametrize("panel", USER_PANELS, ids=[p["type"] for p in USER_PANELS])
def test_reasonable_user_panels_fit_the_schema(panel: dict[str, Any]) -> None:
    """Other current panel types, options, transformations, pluginVersion, interval,
    maxDataPoints... validate once merged."""
    _valid(apply_overlay(_orders(), DashboardOverlay(panels=(panel,))))


def test_overrides_may_use_the_panel_keys_overlay_panels_may() -> None:
    """A generated panel may get interval, maxDataPoints, another type or colour mode."""
    overlay = DashboardOverlay(
        overrides=(
            _override(id=7, interval="1m", maxDataPoints=500, pluginVersion="11.2.0"),
            _override(
                "Active requests",
                type="bargauge",
                fieldConfig={"defaults": {"color": {"mode": "continuous-BlPu"}, "unit": None}},
            ),
        )
    )
    _valid(apply_overlay(_orders(), overlay))


@pytest.mark.parametrize(
    ("panel", "message"),
    [
        ({"type": "graph", "title": "Old", "targets": [_QUERY]}, "must be one of"),
        ({"type": "row", "title": "Row", "targets": [_QUERY]}, "must be one of"),
        ({"type": "timeseries", "title": "No query"}, "must contain ['targets']"),
        (
            {
                "type": "timeseries",
                "title": "Elsewhere",
                "datasource": {"type": "loki", "uid": "logs"},
                "targets": [_QUERY],
            },
            "must be same as const definition",
        ),
        (
            {
                "type": "stat",
                "title": "Fixed uid",
                "targets": [dict(_QUERY, datasource={"type": "prometheus", "uid": "abc"})],
            },
            "must be same as const definition",
        ),
        (
            {"type": "stat", "title": "Half placed", "gridPos": {"w": 24}, "targets": [_QUERY]},
            "must contain",
        ),
        (
            {"type": "stat", "title": "Repeated", "repeat": "instance", "targets": [_QUERY]},
            "must not contain",
        ),
        ({"type": "stat", "title": "", "targets": [_QUERY]}, "must be longer than or equal to 1"),
        ({"type": "stat", "title": "No expr", "targets": [{"legendFormat": "x"}]}, "must contain"),
    ],
)
def test_schema_still_refuses_what_the_dashboards_cannot_hold(
    panel: dict[str, Any], message: str
) -> None:
    """Deprecated types, rows, panels without queries, other datasources, half a place,
    unknown keys: refused, with the schema's message."""
    dashboard = apply_overlay(_orders(), DashboardOverlay(panels=(panel,)))
    with pytest.raises(ValidationError) as caught:
        validate_dashboard("dashboards/orders.json", dashboard)
    assert message in caught.value.problem
    assert list(jsonschema.Draft7Validator(dashboard_schema()).iter_errors(dashboard))


# -- the catalog and the docs --------------------------------------------------------


def test_catalog_overlay_applies_and_validates(tmp_path: Path) -> None:
    """From the catalog (a YAML file beside it) to a valid merged dashboard."""
    (tmp_path / "orders.yaml").write_text(
        "overrides:\n"
        "  - title: Active requests\n"
        "    set: {fieldConfig: {defaults: {unit: none}}}\n"
        "panels:\n"
        "  - type: stat\n"
        "    title: Orders today\n"
        "    targets: [{expr: 'sum(increase(orders_total[1d]))', instant: true}]\n"
    )
    catalog = tmp_path / "services.yaml"
    catalog.write_text(
        "services:\n  - name: orders\n    team: checkout\n    slo: {availability: 99.9}\n"
        "    dashboard: orders.yaml\n"
    )
    overlay = load_catalog(catalog).service("orders").dashboard
    assert overlay is not None
    result = apply_overlay(_orders(), overlay)
    assert _panel(result, "Active requests")["fieldConfig"]["defaults"]["unit"] == "none"
    assert _panel(result, "Orders today")["targets"][0]["refId"] == "A"
    _valid(result)


def _section() -> str:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("\n## Customising dashboards: the overlay\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", _section(), re.DOTALL)


def test_docs_section_blocks() -> None:
    """The section's code blocks, in order: what the tests below rely on."""
    assert len(_blocks("yaml")) == 4
    assert len(_blocks("json")) == 1
    assert len(_blocks("console")) == 2


def test_docs_complete_catalog_entry_applies_and_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The complete catalog entry of docs/generate.md loads, merges and validates."""
    monkeypatch.chdir(tmp_path)
    Path("services.yaml").write_text(_blocks("yaml")[0])
    overlay = load_catalog("services.yaml").service("orders").dashboard
    assert overlay is not None
    result = apply_overlay(_orders(), overlay)
    assert _titles(result)[-2:] == ["Checkout queue depth", "On call"]
    assert _panel(result, "Checkout queue depth")["targets"][0]["refId"] == "A"
    _valid(result)


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_docs_overlay_files_apply_and_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """The file-beside-the-catalog examples (YAML, and the JSON one) load and validate."""
    monkeypatch.chdir(tmp_path)
    _, services, overlay_file, _ = _blocks("yaml")
    assert services.startswith("# services.yaml\n")
    assert overlay_file.startswith("# orders.dashboard.yaml")
    Path("services.yaml").write_text(services.replace(".yaml\n", f".{suffix}\n"))
    Path(f"orders.dashboard.{suffix}").write_text(
        overlay_file if suffix == "yaml" else _blocks("json")[0]
    )
    overlay = load_catalog("services.yaml").service("orders").dashboard
    assert overlay is not None
    _valid(apply_overlay(_orders(), overlay))


def test_docs_error_examples_are_what_toolkit_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two console examples: catalog problems in an overlay file, a title that
    matches no panel (as ``toolkit generate`` reports an OverlayError)."""
    monkeypatch.chdir(tmp_path)
    complete, services, _, broken = _blocks("yaml")
    validate_output, generate_output = _blocks("console")

    Path("services.yaml").write_text(services)
    Path("orders.dashboard.yaml").write_text(broken)
    with pytest.raises(CatalogError) as caught:
        load_catalog("services.yaml")
    problems = caught.value.problems
    assert validate_output.splitlines() == [
        "$ toolkit catalog validate services.yaml",
        *(str(problem) for problem in problems),
        f"services.yaml: {len(problems)} problems — invalid",
    ]

    wrong = complete.replace("- title: Request rate by route ", "- title: Request rate ", 1)
    assert wrong != complete
    Path("services.yaml").write_text(wrong)
    overlay = load_catalog("services.yaml").service("orders").dashboard
    assert overlay is not None
    with pytest.raises(OverlayError) as error:
        apply_overlay(_orders(), overlay)
    assert generate_output.splitlines()[1] == (
        f"toolkit generate: dashboards/orders.json: {error.value}"
    )
