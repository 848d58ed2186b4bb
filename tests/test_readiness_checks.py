"""Tests for toolkit.readiness.checks: the list of checks and how a result is built."""

from __future__ import annotations

import re

from toolkit.readiness import checks as c
from toolkit.readiness.model import Check, Status


def test_check_ids_are_unique_and_levels_are_one_to_three() -> None:
    """26 checks, each id once; live checks at levels 1-2, static ones at 3."""
    ids = [spec.id for spec in c.ALL_CHECKS]
    assert len(ids) == len(set(ids)) == 26
    assert {spec.level for spec in c.LIVE_CHECKS} == {1, 2}
    assert {spec.level for spec in c.STATIC_CHECKS} == {3}


def test_fix_is_given_only_where_there_is_something_to_do() -> None:
    """Pass and skip carry no fix; fail, warn and not measured carry the spec's."""
    spec = c.HEALTH_LIVEZ
    fix = "enable health endpoints: /livez and /readyz answering application/health+json"
    assert spec.passed("ok") == Check("health.livez", 2, spec.title, Status.PASS, "ok", "")
    assert spec.skipped("n/a").fix == ""
    assert spec.failed("404").fix == fix
    assert spec.warned("warn").fix == fix
    assert spec.not_measured("?").fix == fix
    assert spec.failed("404", "do this").fix == "do this"


def test_spec_is_found_by_id() -> None:
    """``spec(id)`` returns the spec of that id."""
    assert c.spec("metrics.routes") is c.METRICS_ROUTES


def test_every_fix_is_plain_words_with_any_flag_in_a_trailing_hint() -> None:
    """A fix reads as an instruction; an exact command may follow in parentheses."""
    words = [re.sub(r" \([^()]*\)$", "", spec.fix) for spec in c.ALL_CHECKS]
    assert [fix for fix in words if "--" in fix or "`" in fix] == []
    assert c.DASHBOARD_CURRENT.fix == (
        "regenerate the dashboards and alert rules from the catalog and commit them "
        "(toolkit generate CATALOG --out DIR)"
    )
