"""Tests for toolkit.catalog.problems."""

from __future__ import annotations

import pytest

from toolkit.catalog import CatalogError, Problem


def test_problem_text_has_location_path_message_and_hint() -> None:
    """A problem reads FILE:LINE: PATH: MESSAGE — HINT."""
    problem = Problem(
        "c.yaml", 4, 5, "services[0]", "unknown key 'slos'", hint="did you mean 'slo'?"
    )
    assert str(problem) == "c.yaml:4: services[0]: unknown key 'slos' — did you mean 'slo'?"


def test_problem_without_path_line_or_hint() -> None:
    """Parts that do not apply are left out, not printed empty."""
    assert str(Problem("c.yaml", 1, 1, "", "not valid YAML: x")) == "c.yaml:1: not valid YAML: x"
    assert str(Problem("c.yaml", None, None, "", "cannot read")) == "c.yaml: cannot read"


def test_catalog_error_sorts_problems_by_line() -> None:
    """Problems come out in file order whatever order they were found in."""
    late = Problem("c.yaml", 9, 1, "services[1]", "b")
    early = Problem("c.yaml", 2, 3, "defaults", "a")
    error = CatalogError([late, early])
    assert error.problems == (early, late)
    assert str(error) == "c.yaml:2: defaults: a\nc.yaml:9: services[1]: b"


def test_catalog_error_needs_a_problem() -> None:
    """An error without a problem would be a bug in the loader."""
    with pytest.raises(ValueError):
        CatalogError([])
