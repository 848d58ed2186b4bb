"""Tests for a service's ``dashboard`` overlay in the catalog (toolkit.catalog.overlay)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from toolkit.catalog import CatalogError, DashboardOverlay, PanelOverride, load_catalog
from toolkit.catalog.json_nodes import compose_json
from toolkit.catalog.nodes import NodeReader
from toolkit.catalog.overlay import json_data

CASES = Path(__file__).parent / "catalog_cases" / "overlay"
DOCS = Path(__file__).parent.parent / "docs" / "catalog.md"

JSON_DATA = "expected JSON data (a string, number, true, false, null, list or mapping)"
FINITE = "expected a finite number (JSON has no NaN or infinity)"
PANEL_ID = "expected a panel id (a whole number from 1)"
BOTH = (
    "expected exactly one of 'title' or 'id', found both"
    " — an override matches a panel by its title or by its id"
)
NO_ID = "panel links and overrides by id rely on it; add a panel under 'panels'"
TYPE_HINT = "the panel type, e.g. timeseries, stat, gauge, bargauge, table or text"
RELATIVE = "the path is relative to the directory of the catalog"
NOT_A_FILE = "expected a mapping, or the path of a .yaml, .yml or .json file"

# (case file in tests/catalog_cases/overlay, [(file, line, text after "FILE:LINE: ")]):
# the catalog's own problems first, then those of each overlay file, each in file order.
BAD_OVERLAYS: list[tuple[str, list[tuple[str, int, str]]]] = [
    (
        "structure",
        [
            (
                "structure.yaml",
                3,
                "defaults: unknown key 'dashboard'"
                " — a dashboard overlay is set per service, not in defaults",
            ),
            (
                "structure.yaml",
                7,
                "services[0].dashboard: expected a mapping with 'panels' or 'overrides', "
                "or the path of a YAML or JSON file holding one, found the number 5",
            ),
            (
                "structure.yaml",
                11,
                "services[1].dashboard: unknown key 'panel' — did you mean 'panels'?",
            ),
            (
                "structure.yaml",
                12,
                "services[1].dashboard.overrides: expected a list of overrides, "
                "each with 'title' or 'id' and 'set', found a mapping",
            ),
            (
                "structure.yaml",
                16,
                "services[2].dashboard.panels: expected a list of Grafana panels, found a mapping",
            ),
            ("structure.yaml", 18, f"services[2].dashboard.overrides[0]: {BOTH}"),
            (
                "structure.yaml",
                21,
                "services[2].dashboard.overrides[1]: missing required key 'title' or 'id'"
                " — name the panel to change by its title or by its id",
            ),
            (
                "structure.yaml",
                22,
                "services[2].dashboard.overrides[2]: unknown key 'titel' — did you mean 'title'?",
            ),
            (
                "structure.yaml",
                24,
                "services[2].dashboard.overrides[3].title: expected a panel title, found ''",
            ),
            (
                "structure.yaml",
                25,
                "services[2].dashboard.overrides[3].set: "
                "expected a mapping of panel keys to values, found a list",
            ),
            ("structure.yaml", 26, f"services[2].dashboard.overrides[4].id: {PANEL_ID}, found 0"),
            (
                "structure.yaml",
                27,
                f"services[2].dashboard.overrides[4].set: the panel id cannot be changed — {NO_ID}",
            ),
            (
                "structure.yaml",
                28,
                "services[2].dashboard.overrides[5]: missing required key 'set'",
            ),
            (
                "structure.yaml",
                28,
                f"services[2].dashboard.overrides[5].id: {PANEL_ID}, found the string '7'",
            ),
            (
                "structure.yaml",
                29,
                "services[2].dashboard.overrides[6]: expected a mapping, "
                "found the string 'just-a-string'",
            ),
        ],
    ),
    (
        # What YAML can say and JSON cannot.
        "json-data",
        [
            (
                "json-data.yaml",
                9,
                f"services[0].dashboard.overrides[0].set.description: {JSON_DATA}, "
                "found the date 2024-01-01 — quote it to make it a string",
            ),
            (
                "json-data.yaml",
                10,
                "services[0].dashboard.overrides[0].set.options: "
                "expected a string key, found the number 1",
            ),
            (
                "json-data.yaml",
                10,
                "services[0].dashboard.overrides[0].set.options: "
                "expected a string key, found the boolean true",
            ),
            (
                "json-data.yaml",
                11,
                f"services[0].dashboard.overrides[0].set.fieldConfig.defaults.max: {FINITE}, "
                "found .nan",
            ),
            (
                "json-data.yaml",
                11,
                f"services[0].dashboard.overrides[0].set.fieldConfig.defaults.min: {FINITE}, "
                "found -.inf",
            ),
            (
                "json-data.yaml",
                12,
                f"services[0].dashboard.overrides[0].set.links: {JSON_DATA}, "
                "found a value tagged !!binary",
            ),
            (
                "json-data.yaml",
                13,
                f"services[0].dashboard.overrides[0].set.tags: {JSON_DATA}, "
                "found a value tagged !!set",
            ),
            (
                "json-data.yaml",
                14,
                f"services[0].dashboard.overrides[0].set.loop[1]: {JSON_DATA}, "
                "found a recursive alias",
            ),
            (
                "json-data.yaml",
                20,
                "services[0].dashboard.panels[1]: merge keys ('<<') are not supported"
                " — write the keys out, or use an alias (*name) for a whole value",
            ),
            (
                "json-data.yaml",
                20,
                f"services[0].dashboard.panels[1]: missing required key 'type' — {TYPE_HINT}",
            ),
        ],
    ),
    (
        # The keys of an extra panel the merge relies on.
        "panels",
        [
            (
                "panels.yaml",
                7,
                f"services[0].dashboard.panels[0]: missing required key 'type' — {TYPE_HINT}",
            ),
            ("panels.yaml", 8, "services[0].dashboard.panels[1]: missing required key 'title'"),
            (
                "panels.yaml",
                12,
                "services[0].dashboard.panels[2].targets: expected a list of queries, "
                "found a mapping",
            ),
            (
                "panels.yaml",
                15,
                "services[0].dashboard.panels[3].id: duplicate panel id 30: "
                "first used at line 11 (services[0].dashboard.panels[2].id)",
            ),
            (
                "panels.yaml",
                18,
                "services[0].dashboard.panels[3].targets[1]: missing required key 'expr'",
            ),
            (
                "panels.yaml",
                19,
                "services[0].dashboard.panels[3].targets[2].expr: "
                "expected a PromQL expression, found a list",
            ),
            (
                "panels.yaml",
                20,
                "services[0].dashboard.panels[3].targets[3]: "
                "expected a mapping (a query with 'expr'), found the string 'just-a-string'",
            ),
            (
                "panels.yaml",
                21,
                f"services[0].dashboard.panels[4].id: {PANEL_ID}, found the boolean true",
            ),
            (
                "panels.yaml",
                22,
                "services[0].dashboard.panels[4].type: expected a non-empty string, "
                "found the number 5 — quote it to make it a string",
            ),
            (
                "panels.yaml",
                24,
                "services[0].dashboard.panels[5]: expected a mapping (Grafana panel JSON), "
                "found the string 'just-a-string'",
            ),
        ],
    ),
    (
        # Overlay files: the catalog names the file, each problem in it names its line.
        "files",
        [
            (
                "files.yaml",
                6,
                "services[0].dashboard: cannot read the overlay file "
                f"{CASES}/missing.dashboard.yaml: no such file or directory — {RELATIVE}",
            ),
            (
                "files.yaml",
                9,
                f"services[1].dashboard: {NOT_A_FILE}, found 'users.dashboard.txt' — {RELATIVE}",
            ),
            ("files.yaml", 27, f"services[7].dashboard: {NOT_A_FILE}, found ''"),
            (
                "bad-syntax.dashboard.yaml",
                3,
                "services[2].dashboard: not valid YAML: mapping values are not allowed here"
                " — quote a value that contains ': '",
            ),
            (
                "bad-syntax.dashboard.json",
                3,
                "services[3].dashboard: not valid JSON: Expecting ':' delimiter",
            ),
            (
                "problems.dashboard.yaml",
                6,
                f"services[4].dashboard.panels[0].timeFrom: {JSON_DATA}, "
                "found the date 2024-01-01 — quote it to make it a string",
            ),
            ("problems.dashboard.yaml", 8, f"services[4].dashboard.overrides[0]: {BOTH}"),
            (
                "problems.dashboard.yaml",
                11,
                "services[4].dashboard: unknown key 'colour' — valid keys: panels, overrides",
            ),
            (
                "problems.dashboard.json",
                3,
                f"services[5].dashboard.panels[0].maxDataPoints: {FINITE}, found NaN",
            ),
            (
                "problems.dashboard.json",
                4,
                "services[5].dashboard.panels[0].targets[0]: "
                "duplicate key 'expr': first defined at line 4",
            ),
            (
                "problems.dashboard.json",
                6,
                f"services[5].dashboard.overrides[0].id: {PANEL_ID}, found the number 1.5",
            ),
            (
                "problems.dashboard.json",
                6,
                f"services[5].dashboard.overrides[0].set: the panel id cannot be changed — {NO_ID}",
            ),
            (
                "empty.dashboard.yaml",
                1,
                "services[6].dashboard: expected a mapping with 'panels' or 'overrides', "
                "found an empty document",
            ),
        ],
    ),
]


@pytest.mark.parametrize(("case", "expected"), BAD_OVERLAYS, ids=[case for case, _ in BAD_OVERLAYS])
def test_bad_overlay_reports_every_problem_with_file_and_line(
    case: str, expected: list[tuple[str, int, str]]
) -> None:
    """Each problem is one line: FILE:LINE: PATH: MESSAGE, the file an overlay file's own."""
    with pytest.raises(CatalogError) as caught:
        load_catalog(CASES / f"{case}.yaml")
    assert [str(problem) for problem in caught.value.problems] == [
        f"{CASES / file}:{line}: {text}" for file, line, text in expected
    ]


def test_every_overlay_case_is_in_the_table() -> None:
    """No case in tests/catalog_cases/overlay is left untested (the rest are its files)."""
    cases = sorted(p.stem for p in CASES.glob("*.yaml") if ".dashboard" not in p.name)
    assert cases == sorted(case for case, _ in BAD_OVERLAYS)


def test_problem_in_an_overlay_file_carries_structured_fields() -> None:
    """File, line, column, path, expected and found are those of the overlay file."""
    with pytest.raises(CatalogError) as caught:
        load_catalog(CASES / "files.yaml")
    (problem,) = [p for p in caught.value.problems if "maxDataPoints" in p.path]
    assert problem.file == str(CASES / "problems.dashboard.json")
    assert (problem.line, problem.column) == (3, 58)
    assert problem.path == "services[5].dashboard.panels[0].maxDataPoints"
    assert (problem.expected, problem.found) == (
        "a finite number (JSON has no NaN or infinity)",
        "NaN",
    )


def _write(tmp_path: Path, text: str, **files: str) -> Path:
    """Write a catalog (and overlay files: file name -> text) into tmp_path."""
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    catalog = tmp_path / "services.yaml"
    catalog.write_text(text, encoding="utf-8")
    return catalog


SERVICE = "services:\n  - name: orders\n    team: checkout\n    slo: {availability: 99.9}\n"


def test_overlay_mapping_in_the_catalog(tmp_path: Path) -> None:
    """A mapping becomes a DashboardOverlay: JSON data, each part located for messages."""
    path = _write(
        tmp_path,
        SERVICE + "    dashboard:\n"
        "      overrides:\n"
        "        - title: Request rate by route\n"
        "          set:\n"
        "            fieldConfig: {defaults: {unit: short, min: null}}\n"
        "            options: {legend: {calcs: [mean, max]}}\n"
        "        - id: 7\n"
        "          set: {interval: 1m, maxDataPoints: 500, transparent: true}\n"
        "      panels:\n"
        "        - type: gauge\n"
        "          title: Queue depth\n"
        "          targets:\n"
        "            - expr: sum(queue_depth)\n"
        "              legendFormat: '{{queue}}'\n"
        "          fieldConfig: {defaults: {max: 1.5e+3}, overrides: []}\n",
    )
    overlay = load_catalog(path).service("orders").dashboard
    assert overlay == DashboardOverlay(
        panels=(
            {
                "type": "gauge",
                "title": "Queue depth",
                "targets": [{"expr": "sum(queue_depth)", "legendFormat": "{{queue}}"}],
                "fieldConfig": {"defaults": {"max": 1500.0}, "overrides": []},
            },
        ),
        overrides=(
            PanelOverride(
                title="Request rate by route",
                id=None,
                set={
                    "fieldConfig": {"defaults": {"unit": "short", "min": None}},
                    "options": {"legend": {"calcs": ["mean", "max"]}},
                },
                where=f"{path}:7 (services[0].dashboard.overrides[0])",
            ),
            PanelOverride(
                title=None,
                id=7,
                set={"interval": "1m", "maxDataPoints": 500, "transparent": True},
                where=f"{path}:11 (services[0].dashboard.overrides[1])",
            ),
        ),
        where=f"{path}:6 (services[0].dashboard)",
        panel_where=(f"{path}:14 (services[0].dashboard.panels[0])",),
    )


def test_service_without_overlay_has_none(tmp_path: Path) -> None:
    """``dashboard`` is optional; an empty mapping is an overlay that changes nothing."""
    path = _write(
        tmp_path,
        SERVICE + "  - name: users\n    team: identity\n    slo: {availability: 99.9}\n"
        "    dashboard: {}\n",
    )
    catalog = load_catalog(path)
    assert catalog.service("orders").dashboard is None
    assert catalog.service("users").dashboard == DashboardOverlay(
        where=f"{path}:8 (services[1].dashboard)"
    )


OVERLAY_YAML = """\
# Beside the catalog: customises the orders dashboard.
overrides:
  - title: Active requests
    set: {description: "In flight, per instance."}
panels:
  - type: stat
    title: Orders today
    id: 40
    targets: [{expr: 'sum(increase(orders_total[1d]))', instant: true}]
"""

OVERLAY_JSON = """\
{
\t"overrides": [
\t\t{"id": 10, "set": {"description": "In flight, per instance."}}
\t],
\t"panels": [
\t\t{"type": "stat", "title": "Orders today", "id": 40, "maxDataPoints": 1e3,
\t\t "targets": [{"expr": "sum(increase(orders_total[1d]))", "instant": true}],
\t\t "options": {"text": {"valueSize": 2.5E1}, "colorMode": null, "graphMode": "none"}}
\t]
}
"""


def test_overlay_file_in_yaml(tmp_path: Path) -> None:
    """A string is the path of a YAML file, relative to the catalog's directory."""
    path = _write(
        tmp_path,
        SERVICE + "    dashboard: dashboards/orders.overlay.yaml\n",
        **{"dashboards/orders.overlay.yaml": OVERLAY_YAML},
    )
    overlay = load_catalog(path).service("orders").dashboard
    file = tmp_path / "dashboards" / "orders.overlay.yaml"
    assert overlay is not None
    assert overlay.overrides == (
        PanelOverride(
            title="Active requests",
            id=None,
            set={"description": "In flight, per instance."},
            where=f"{file}:3 (services[0].dashboard.overrides[0])",
        ),
    )
    assert overlay.panels == (
        {
            "type": "stat",
            "title": "Orders today",
            "id": 40,
            "targets": [{"expr": "sum(increase(orders_total[1d]))", "instant": True}],
        },
    )
    assert overlay.where == f"{file}:2 (services[0].dashboard)"
    assert overlay.panel_where == (f"{file}:6 (services[0].dashboard.panels[0])",)


def test_overlay_file_in_json_keeps_json_types_and_lines(tmp_path: Path) -> None:
    """A JSON file is read as JSON (1e3 is a number, tabs are blanks), with every line."""
    path = _write(
        tmp_path,
        SERVICE + "    dashboard: orders.dashboard.json\n",
        **{"orders.dashboard.json": OVERLAY_JSON},
    )
    overlay = load_catalog(path).service("orders").dashboard
    file = tmp_path / "orders.dashboard.json"
    assert overlay is not None
    assert overlay.overrides == (
        PanelOverride(
            title=None,
            id=10,
            set={"description": "In flight, per instance."},
            where=f"{file}:3 (services[0].dashboard.overrides[0])",
        ),
    )
    (panel,) = overlay.panels
    assert panel["maxDataPoints"] == 1000.0 and isinstance(panel["maxDataPoints"], float)
    assert panel["id"] == 40 and isinstance(panel["id"], int)
    assert panel["options"] == {"text": {"valueSize": 25.0}, "colorMode": None, "graphMode": "none"}
    assert overlay.panel_where == (f"{file}:6 (services[0].dashboard.panels[0])",)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, -0, 2.5, -1.5e-3, 1E400, true, false, null, "x\\u00e9\\n"], "b": {}}',
        '[{"k": "v", "n": [[], {}]}, "\\ud83d\\ude00", 9007199254740991, -9007199254740991]',
        '  "just a string"  ',
        "-Infinity",
    ],
)
def test_json_nodes_hold_what_json_loads_reads(text: str) -> None:
    """The position-keeping JSON reader gives the values json.loads gives (NaN and
    infinities aside, which it reports)."""
    import json

    reader = NodeReader("f.json")
    value = json_data(reader, compose_json("f.json", text), "")
    if reader.problems:
        assert all("finite number" in p.message for p in reader.problems)
    else:
        assert value == json.loads(text)
        assert type(value) is type(json.loads(text))


def test_json_reader_places_each_value_on_its_line() -> None:
    """Problems in a JSON file point at the line and column of the value."""
    reader = NodeReader("f.json")
    json_data(reader, compose_json("f.json", '{\n  "a": [1,\n    NaN]\n}'), "x")
    assert [str(p) for p in reader.problems] == [f"f.json:3: x.a[1]: {FINITE}, found NaN"]
    assert reader.problems[0].column == 5


def test_unreadable_and_non_utf8_overlay_files(tmp_path: Path) -> None:
    """A directory named as the file, or bytes that are not UTF-8: one problem each."""
    (tmp_path / "dir.yaml").mkdir()
    (tmp_path / "latin1.json").write_bytes(b'{"panels": [\n{"title": "caf\xe9"}]}')
    path = _write(
        tmp_path,
        SERVICE + "    dashboard: dir.yaml\n"
        "  - name: users\n    team: identity\n    slo: {availability: 99.9}\n"
        "    dashboard: latin1.json\n",
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:5: services[0].dashboard: cannot read the overlay file {tmp_path}/dir.yaml: "
        f"is a directory — {RELATIVE}",
        f"{tmp_path}/latin1.json:2: services[1].dashboard: "
        "not valid JSON: not UTF-8 text (byte 0xe9)",
    ]


def test_catalog_problems_come_before_overlay_file_problems(tmp_path: Path) -> None:
    """The catalog's own problems in file order, then each overlay file's, even when an
    overlay file's lines are smaller."""
    path = _write(
        tmp_path,
        SERVICE + "    dashboard: o.yaml\n" + "    tier: gold\n",
        **{"o.yaml": "panels: [{title: x}]\n"},
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert [(Path(p.file).name, p.line) for p in caught.value.problems] == [
        ("services.yaml", 6),
        ("o.yaml", 1),
    ]


def test_one_overlay_file_shared_by_two_services(tmp_path: Path) -> None:
    """Services may share a file; each gets its own overlay (paths name the service)."""
    path = _write(
        tmp_path,
        SERVICE + "    dashboard: shared.yaml\n"
        "  - name: users\n    team: identity\n    slo: {availability: 99.9}\n"
        "    dashboard: shared.yaml\n",
        **{"shared.yaml": "panels: [{type: text, title: Notes}]\n"},
    )
    catalog = load_catalog(path)
    orders, users = (s.dashboard for s in catalog.services)
    assert orders is not None and users is not None
    assert orders.panels == users.panels == ({"type": "text", "title": "Notes"},)
    assert orders.where.endswith("(services[0].dashboard)")
    assert users.where.endswith("(services[1].dashboard)")


def _docs_dashboard_blocks() -> list[str]:
    """The YAML blocks of docs/catalog.md that show the ``dashboard`` field."""
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    return [block for block in blocks if "dashboard:" in block]


def test_dashboard_examples_in_the_catalog_docs_load(tmp_path: Path) -> None:
    """docs/catalog.md's ``dashboard`` examples are whole catalogs that load."""
    blocks = _docs_dashboard_blocks()
    assert blocks
    for index, block in enumerate(blocks):
        path = tmp_path / f"docs-{index}.yaml"
        path.write_text(block, encoding="utf-8")
        services: Any = load_catalog(path).services
        assert any(service.dashboard is not None for service in services)


def test_overlay_files_nested_too_deep_are_one_problem(tmp_path: Path) -> None:
    """JSON and YAML overlay files nested past 64 levels (or far past Python's recursion
    limit): one problem at the line where the 65th level opens, no RecursionError."""
    deep_json = '{"panels": [\n' + "[" * 62 + "\n" + "[" * 3000 + "]" * 3062 + "]}"
    deep_yaml = "panels:\n  - type: text\n    title: t\n    options: " + "[" * 70 + "]" * 70
    path = _write(
        tmp_path,
        SERVICE + "    dashboard: deep.json\n"
        "  - name: users\n    team: identity\n    slo: {availability: 99.9}\n"
        "    dashboard: deep.yaml\n",
        **{"deep.json": deep_json, "deep.yaml": deep_yaml},
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path}/deep.json:3: services[0].dashboard: "
        "lists and mappings nested more than 64 levels deep",
        f"{tmp_path}/deep.yaml:4: services[1].dashboard: "
        "lists and mappings nested more than 64 levels deep",
    ]


@pytest.mark.parametrize(
    ("value", "found", "id_hint"),
    [
        ("9007199254740992", "9007199254740992", True),
        ("-9007199254740992", "-9007199254740992", False),
        ("9" * 5000, "a number of 5000 digits", True),
    ],
)
def test_overlay_whole_numbers_must_fit_javascript(
    tmp_path: Path, value: str, found: str, id_hint: bool
) -> None:
    """Grafana reads numbers as JavaScript: a whole number past 2^53 - 1 is a problem (in
    panel JSON and as a panel id), also past Python's 4,300-digit limit."""
    path = _write(
        tmp_path,
        SERVICE + "    dashboard:\n      panels:\n"
        f"        - {{type: text, title: t, maxDataPoints: {value}}}\n"
        f"        - {{type: text, title: u, id: {value}}}\n",
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    hint = "Grafana reads numbers as JavaScript does, exactly only up to 2^53 - 1"
    panels = "services[0].dashboard.panels"
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:7: {panels}[0].maxDataPoints: expected a whole number from -9007199254740991 "
        f"to 9007199254740991, found {found} — {hint}",
        f"{path}:8: {panels}[1].id: {PANEL_ID}, found {found}" + (f" — {hint}" if id_hint else ""),
    ]


def test_a_lone_surrogate_in_a_json_overlay_is_one_problem(tmp_path: Path) -> None:
    """JSON's "\\udc00" escape gives half a UTF-16 pair, which no file can hold: a problem
    at its line, not an encoding error when the dashboard is written."""
    path = _write(
        tmp_path,
        SERVICE + "    dashboard: o.json\n",
        **{"o.json": '{"panels": [\n  {"type": "text", "title": "a\\udc00"}]}'},
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path}/o.json:2: services[0].dashboard: not text: \\udc00 is half of a UTF-16 "
        "surrogate pair — write the character itself, or both halves of its pair "
        "(\\ud83d\\ude00)"
    ]
