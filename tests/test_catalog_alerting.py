"""The catalog's ``alerting`` settings: read, checked, inherited key by key."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.catalog import Alerting, CatalogError, load_catalog

HEAD = """\
version: 1
defaults:
  slo: {availability: 99.9}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "services.yaml"
    path.write_text(HEAD + text, encoding="utf-8")
    return path


def test_defaults_when_nothing_is_written(tmp_path: Path) -> None:
    """100 requests, traffic expected, a page when every target is down."""
    catalog = load_catalog(_write(tmp_path, "services:\n  - {name: orders, team: t}\n"))
    assert catalog.services[0].alerting == Alerting(100, True, 100.0)


def test_a_service_overrides_the_defaults_key_by_key(tmp_path: Path) -> None:
    """``defaults.alerting`` applies to every service; a service's own keys win."""
    path = tmp_path / "services.yaml"
    path.write_text(
        """\
version: 1
defaults:
  slo: {availability: 99.9}
  alerting: {min_requests: 20, page_targets_down: 50}
services:
  - name: orders
    team: t
  - name: batch
    team: t
    alerting: {expect_traffic: false, min_requests: 0}
""",
        encoding="utf-8",
    )
    orders, batch = load_catalog(path).services
    assert orders.alerting == Alerting(min_requests=20, expect_traffic=True, page_targets_down=50)
    assert batch.alerting == Alerting(min_requests=0, expect_traffic=False, page_targets_down=50)


def test_bad_values_are_located_and_named(tmp_path: Path) -> None:
    """Each bad key is reported at its line, with what was expected."""
    text = """\
services:
  - name: orders
    team: t
    alerting:
      min_requests: -3
      expect_traffic: maybe
      page_targets_down: 0
      owner: me
  - name: users
    team: t
    alerting: {min_requests: 10000000000000000000000000000000000000000}
  - name: search
    team: t
    alerting: [1]
"""
    with pytest.raises(CatalogError) as caught:
        load_catalog(_write(tmp_path, text))
    found = [(p.line, p.path, p.message) for p in caught.value.problems]
    assert found == [
        (
            8,
            "services[0].alerting.min_requests",
            "expected a whole number of requests, 0 or more, found -3",
        ),
        (
            9,
            "services[0].alerting.expect_traffic",
            "expected true or false, found the string 'maybe'",
        ),
        (
            10,
            "services[0].alerting.page_targets_down",
            "expected a percentage of the job's targets above 0, at most 100, found 0",
        ),
        (
            11,
            "services[0].alerting",
            "unknown key 'owner'",
        ),
        (
            14,
            "services[1].alerting.min_requests",
            "expected a whole number of requests, 0 or more, found a number of 41 digits",
        ),
        (17, "services[2].alerting", "expected a mapping, found a list"),
    ]
