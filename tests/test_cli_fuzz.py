"""Fuzzing ``toolkit catalog validate`` and ``toolkit generate`` with broken catalogs.

Valid and invalid catalogs (examples/services.yaml, tests/catalog_cases, the golden
cases) are mutated: keys and items deleted or inserted, values of another type, numbers
of thousands of digits, lists nested hundreds deep, stray bytes, truncation, and other
encodings (UTF-16, a byte-order mark, latin-1). Whatever the input, no exception may
escape a command, every problem is one line, and validate and generate agree.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from toolkit.catalog import schema
from toolkit.catalog.alerting import ALERTING_KEYS
from toolkit.catalog.overlay import OVERLAY_KEYS, OVERRIDE_KEYS
from toolkit.catalog.readiness import ASSESSMENT_KEYS
from toolkit.cli import main

ROOT = Path(__file__).parent.parent
# Valid catalogs, drawn three times as often: most mutations of them stay valid, so
# generate runs too. Then the catalogs of the problem tests.
VALID_SEEDS = sorted(
    [ROOT / "examples" / "services.yaml", *(ROOT / "tests" / "golden").glob("*/catalog.yaml")]
)
BROKEN_SEEDS = sorted(
    [
        *(ROOT / "tests" / "catalog_cases").glob("*.yaml"),
        *(ROOT / "tests" / "catalog_cases" / "overlay").glob("*.yaml"),
    ]
)
# Overlay files the seeds name, copied beside every mutated catalog.
OVERLAYS = sorted(
    [
        *(ROOT / "tests" / "catalog_cases" / "overlay").glob("*.dashboard.*"),
        *(ROOT / "tests" / "golden").glob("*/*.dashboard.*"),
    ]
)
# Every key the catalog knows, and a few of Grafana's.
KEYS = sorted(
    {
        *schema.TOP_KEYS,
        *schema.SERVICE_KEYS,
        *schema.EXTERNAL_KEYS,
        *schema.PROMETHEUS_KEYS,
        *schema.RUNBOOKS_KEYS,
        *ALERTING_KEYS,
        *ASSESSMENT_KEYS,
        *OVERLAY_KEYS,
        *OVERRIDE_KEYS,
        "availability",
        "latency",
        "threshold",
        "target",
        "window",
        "type",
        "gridPos",
        "targets",
        "expr",
    }
)
# Values that fit some catalog key: a swap to one of them often leaves a valid catalog.
FITTING = st.sampled_from(
    [
        "30d",
        "28d",
        "7d",
        99.5,
        99.9,
        95,
        "critical",
        "standard",
        "experimental",
        "250ms",
        "1s",
        [],
        {},
        True,
        False,
        "orders",
        "users",
        "api.example.com",
        1,
        2,
        3,
        100,
        0,
    ]
)
ODD_STRINGS = [
    "30d",
    "1.5d",
    "500ms",
    "2.5s",
    "critical",
    "99.9%",
    "orders",
    "payments",
    "stripe",
    "https://runbooks.example.com/x",
    "{{ $labels.x }}",
    "a\nb",
    "a\rb",
    "\x00",
    "\ud800",
    "\u2028",
    "é",
    "panels.dashboard.yaml",
    "problems.dashboard.json",
    "search.dashboard.json",
    "../../etc/passwd",
    "",
    " ",
]
PLACEHOLDER = "zzmutation{}zz"
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(ODD_STRINGS),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), SCALARS, max_size=3),
)


def _huge(draw: Callable[..., Any]) -> str:
    """A number (or duration) thousands of digits long, as YAML text."""
    digits = "9" * draw(st.sampled_from([19, 400, 4301, 5000, 20000]))
    return draw(
        st.sampled_from(
            [
                digits,
                "-" + digits,
                digits + ".5",
                "0." + digits,
                "0x" + "f" * len(digits),
                digits + "d",
                "1e" + digits,
                "1" + "_0" * 3000,
            ]
        )
    )


def _deep(draw: Callable[..., Any]) -> str:
    """Lists or mappings nested around the limit, or far beyond it, in flow style."""
    depth = draw(st.sampled_from([63, 64, 65, 66, 200, 500, 3000]))
    if draw(st.booleans()):
        return "[" * depth + "1" + "]" * depth
    return "{a: " * depth + "1" + "}" * depth


def _containers(value: Any) -> list[Any]:
    """Every list and mapping in ``value`` (each once: a seed may hold a recursive alias)."""
    found: list[Any] = []
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if not isinstance(item, (list, dict)) or id(item) in seen:
            continue
        seen.add(id(item))
        found.append(item)
        stack.extend(item.values() if isinstance(item, dict) else item)
    return found


def _values_by_key(containers: list[Any]) -> dict[Any, list[Any]]:
    """Every value of each mapping key in the seed: swapping one for another of the same
    key (99.5 for 99.9) often leaves the catalog valid, so generate runs too."""
    found: dict[Any, list[Any]] = {}
    for container in containers:
        if isinstance(container, dict):
            for key, value in container.items():
                found.setdefault(key, []).append(value)
    return found


@st.composite
def mutated_data(draw: Callable[..., Any], data: Any) -> str:
    """YAML text of ``data`` after one to four structural mutations."""
    data = copy.deepcopy(data)
    if not isinstance(data, (list, dict)):
        data = {"services": data}
    raw: dict[str, str] = {}
    same_key = _values_by_key(_containers(data))
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(_containers(data)))
        action = draw(st.sampled_from(["delete", "insert", "swap", "swap", "huge", "deep"]))
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        if action == "delete" and keys:
            del target[draw(st.sampled_from(keys))]
            continue
        if action in ("huge", "deep"):
            token = PLACEHOLDER.format(len(raw))
            raw[token] = _huge(draw) if action == "huge" else _deep(draw)
            value: Any = token
        elif action == "swap" and isinstance(target, dict) and keys and draw(st.booleans()):
            key = draw(st.sampled_from(keys))
            target[key] = copy.deepcopy(draw(st.sampled_from(same_key.get(key) or [None])))
            continue
        else:
            value = copy.deepcopy(draw(FITTING | VALUES))  # FITTING's [] and {} are shared
        if action == "insert" or not keys:
            if isinstance(target, dict):
                target[draw(st.sampled_from(KEYS) | st.text(max_size=8))] = value
            else:
                target.insert(draw(st.integers(0, len(target))), value)
        else:
            target[draw(st.sampled_from(keys))] = value
    text = yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False)
    for token, replacement in raw.items():
        text = text.replace(token, replacement)
    return text


@st.composite
def mutated_lines(draw: Callable[..., Any], text: str) -> str:
    """``text`` with lines deleted, duplicated or replaced (anchors and tags survive)."""
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "replace", "indent"]))
        if action == "delete" and len(lines) > 1:
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "indent":
            lines[index] = "  " + lines[index]
        else:
            key = draw(st.sampled_from(KEYS))
            value = draw(st.sampled_from(ODD_STRINGS) | st.text(max_size=10))
            indent = len(lines[index]) - len(lines[index].lstrip(" "))
            lines[index] = " " * indent + f"{key}: {json.dumps(value)}\n"
    return "".join(lines)


@st.composite
def encoded(draw: Callable[..., Any], text: str) -> bytes:
    """``text`` as bytes: UTF-8 mostly, else another encoding, stray bytes or truncated."""
    encoding = draw(
        st.sampled_from(["utf-8"] * 12 + ["utf-8-sig", "utf-16", "utf-16-be", "latin-1"])
    )
    data = text.encode(encoding, errors="replace")
    if encoding == "latin-1" and draw(st.booleans()):
        data = data.replace(b"checkout", "chéckout".encode("latin-1"))
    change = draw(st.sampled_from(["none"] * 8 + ["bytes", "truncate"]))
    if change == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    elif change == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    return data


@st.composite
def broken_catalogs(draw: Callable[..., Any]) -> tuple[bytes, str | None, bytes | None]:
    """(catalog bytes, the name of an overlay file to replace, its bytes)."""
    seeds = draw(st.sampled_from([VALID_SEEDS] * 3 + [BROKEN_SEEDS]))
    seed = draw(st.sampled_from(seeds))
    text = seed.read_text(encoding="utf-8", errors="replace")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    if data is not None and draw(st.booleans()):
        text = draw(mutated_data(data))
    elif draw(st.booleans()):
        text = draw(mutated_lines(text))
    catalog = draw(encoded(text))
    if draw(st.integers(0, 4)) > 0:  # one catalog in five also breaks an overlay file
        return catalog, None, None
    overlay = draw(st.sampled_from(OVERLAYS))
    overlay_text = overlay.read_text(encoding="utf-8")
    if overlay.suffix == ".json" and draw(st.booleans()):
        deep = _deep(draw).replace("{a: ", '{"a": ')
        overlay_text = overlay_text.replace("[]", deep, 1).replace("1", _huge(draw), 1)
    else:
        overlay_text = draw(mutated_lines(overlay_text))
    return catalog, overlay.name, draw(encoded(overlay_text))


def _no_traceback(result: Result, codes: tuple[int, ...]) -> None:
    """No exception escaped the command; it exited with one of ``codes``."""
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not escaped, "".join(traceback.format_exception(result.exception))
    assert result.exit_code in codes, result.output
    assert "Traceback" not in result.output


def _problem_lines(stderr: str, directory: Path, catalog: Path) -> None:
    """Every problem one line naming a file of ``directory``, then the count line."""
    *problems, summary = stderr.splitlines()
    count = len(problems)
    assert summary == f"{catalog}: {count} {'problem' if count == 1 else 'problems'} — invalid"
    assert stderr.endswith("\n")
    for line in problems:
        assert line.startswith(str(directory)), line


def _overlay_misfit(generated: Result, catalog: bytes) -> bool:
    """Whether ``generate`` refused a dashboard overlay the catalog check accepted.

    By design (docs/generate.md, "Errors" of the overlay) whether an override's title or
    id matches a generated panel, and whether the merged dashboard passes the schema, is
    found when generating: one line naming the dashboard, exit 2.
    """
    return (
        b"dashboard" in catalog
        and generated.exit_code == 2
        and generated.stderr.startswith("toolkit generate: dashboards/")
        and generated.stderr.count("\n") == 1
    )


@pytest.mark.slow
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(broken_catalogs())
def test_broken_catalogs_never_escape_and_validate_agrees_with_generate(
    case: tuple[bytes, str | None, bytes | None],
) -> None:
    """No traceback, ever: each command exits 0 or 2 (problems one a line, a JSON
    document with --format json), `catalog show` exits as validate does, and `catalog
    validate` passes exactly when `generate` succeeds (but for the overlay checks made
    while generating); a failed generate leaves no output directory."""
    catalog_bytes, overlay_name, overlay_bytes = case
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for overlay in OVERLAYS:
            shutil.copy(overlay, directory / overlay.name)
        if overlay_name is not None and overlay_bytes is not None:
            (directory / overlay_name).write_bytes(overlay_bytes)
        catalog = directory / "catalog.yaml"
        catalog.write_bytes(catalog_bytes)
        out = directory / "out"

        validated = runner.invoke(main, ["catalog", "validate", str(catalog)])
        _no_traceback(validated, (0, 2))
        as_json = runner.invoke(main, ["catalog", "validate", str(catalog), "--format", "json"])
        _no_traceback(as_json, (0, 2))
        shown = runner.invoke(main, ["catalog", "show", str(catalog)])
        _no_traceback(shown, (validated.exit_code,))
        generated = runner.invoke(main, ["generate", str(catalog), "--out", str(out)])
        _no_traceback(generated, (0, 2))

        event(f"validate exit {validated.exit_code}")
        document = json.loads(as_json.stdout)
        assert (as_json.exit_code, document["valid"]) == (
            validated.exit_code,
            validated.exit_code == 0,
        )
        assert len(document["problems"]) == len(validated.stderr.splitlines()[:-1])
        if validated.exit_code == 2:
            _problem_lines(validated.stderr, directory, catalog)
        if generated.exit_code == 2:
            assert not out.exists()
        if validated.exit_code == 0 and _overlay_misfit(generated, catalog_bytes):
            return
        assert (validated.exit_code == 0) == (generated.exit_code == 0), generated.stderr
        assert generated.stderr == validated.stderr
