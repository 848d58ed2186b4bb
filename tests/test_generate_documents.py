"""Serialisation: one JSON encoder and one YAML writer, both read back to the data.

The YAML writer's own proofs (random data, every committed file) are in
``test_generate_yaml.py``; here every generated document of two catalogs is checked to
parse back to exactly the data it was built from, in both formats.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from _generate_support import EXAMPLE_CATALOG, varied_catalog

from toolkit.catalog import load_catalog
from toolkit.generate.documents import HEADER, dump_json, dump_yaml, load_json, load_yaml
from toolkit.generate.pipeline import DashboardMode, GenerateOptions, build_documents

CATALOGS = [varied_catalog, lambda: load_catalog(EXAMPLE_CATALOG)]


def _documents() -> list[tuple[str, Any]]:
    found = []
    for make in CATALOGS:
        catalog = make()
        found += list(build_documents(catalog).items())
    templated = build_documents(
        load_catalog(EXAMPLE_CATALOG).__class__(
            EXAMPLE_CATALOG,
            tuple(s for s in load_catalog(EXAMPLE_CATALOG).services if not s.prometheus.labels),
        ),
        GenerateOptions(dashboards=DashboardMode.TEMPLATED),
    )
    return found + list(templated.items())


@pytest.mark.parametrize(
    ("path", "document"), _documents(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_generated_document_reads_back_to_its_data(path: str, document: Any) -> None:
    """JSON documents through ``json.loads``, YAML ones through PyYAML's safe loader."""
    if path.endswith(".json"):
        assert json.loads(dump_json(document)) == document
    else:
        assert yaml.safe_load(dump_yaml(document, "s")) == document


def test_yaml_is_headed_and_keeps_key_order() -> None:
    """The do-not-edit comment and the source come first; keys stay in build order."""
    text = dump_yaml({"z": 1, "a": ["x"]}, "services.yaml")
    assert text == f"# {HEADER}\n# source: services.yaml\nz: 1\na:\n- x\n"


def test_json_two_space_indent_utf8_and_newline() -> None:
    """Two-space indent, non-ASCII kept as is, newline-terminated."""
    assert dump_json({"a": ["é"], "b": {}}) == '{\n  "a": [\n    "é"\n  ],\n  "b": {}\n}\n'


def test_json_is_what_the_standard_library_writes_for_the_generated_dashboards() -> None:
    """orjson and ``json.dumps(indent=2)`` agree on every dashboard the generator builds
    (no float below 1e-4 in them, where the two spell numbers differently)."""
    for path, document in _documents():
        if path.endswith(".json"):
            expected = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
            assert dump_json(document) == expected, path


def test_load_yaml_reads_json_as_yaml_would() -> None:
    """JSON text is YAML."""
    assert load_yaml('{"a": [1, "x"]}') == {"a": [1, "x"]}


def test_load_json_refuses_nan() -> None:
    """NaN and Infinity are not JSON."""
    with pytest.raises(ValueError, match="NaN is not JSON"):
        load_json('{"x": NaN}')
