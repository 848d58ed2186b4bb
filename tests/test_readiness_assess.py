"""Tests for toolkit.readiness.assess: the "distributing too early" verdict, with numbers."""

from __future__ import annotations

import pytest

from toolkit.catalog import SplitAnswers
from toolkit.readiness.assess import AssessmentInput, assess, merge_answers

READY = SplitAnswers(40, 8000.0, 9000.0, True, "5x traffic by Black Friday 2027")


def test_the_issue_example_is_not_yet_with_its_numbers() -> None:
    """6 engineers and 11x headroom are signs of splitting too early, quoted with numbers."""
    result = assess(AssessmentInput(SplitAnswers(6, 800.0, 9000.0, True, "Q3 2027: 3x"), 3))
    assert result.verdict == "not yet"
    assert result.summary == (
        "not yet: 6 engineers, peak 800 req/s on a server measured at 9,000 req/s"
    )
    assert [(s.question, s.early) for s in result.signs] == [
        ("team size", True),
        ("peak load vs one server", True),
        ("observability", False),
        ("deploys automated", False),
        ("concrete scaling timeline", False),
    ]
    assert result.signs[1].reason == (
        "11.2x headroom: add replicas or a bigger server before a split"
    )


def test_everything_in_place_says_split() -> None:
    """A big team near one server's limit, level 3, automated deploys, a dated need: split."""
    result = assess(AssessmentInput(READY, 3))
    assert result.verdict == "split"
    assert result.summary == (
        "split: 40 engineers, peak 8,000 req/s on a server measured at 9,000 req/s, "
        "observability at level 3 of 3, automated deploys, "
        "timeline: 5x traffic by Black Friday 2027"
    )


@pytest.mark.parametrize(
    ("change", "level", "summary"),
    [
        ({"deploys_automated": False}, 3, "not yet: manual deploys"),
        ({}, 2, "not yet: observability at level 2 of 3"),
        ({"scaling_timeline": None}, 3, "not yet: no concrete scaling timeline"),
        ({"scaling_timeline": "soon"}, 3, "not yet: a vague timeline ('soon')"),
    ],
)
def test_each_sign_alone_says_not_yet(change: dict[str, object], level: int, summary: str) -> None:
    """One sign is enough for "not yet"; the summary names just that sign."""
    answers = SplitAnswers(**{**READY.__dict__, **change})  # type: ignore[arg-type]
    assert assess(AssessmentInput(answers, level)).summary == summary


def test_missing_answers_make_the_verdict_unknown() -> None:
    """No sign, but unanswered questions: "unknown", naming them."""
    answers = SplitAnswers(
        team_size=None,
        peak_rps=None,
        capacity_rps=None,
        deploys_automated=True,
        scaling_timeline="2027-11: 5x",
    )
    result = assess(AssessmentInput(answers, None))
    assert result.verdict == "unknown"
    assert result.summary == "unknown: answer team size, peak load vs one server, observability"


def test_unanswered_questions_say_what_to_do_in_plain_words() -> None:
    """Each unanswered sign says what to do; the exact flag is a trailing hint only."""
    result = assess(AssessmentInput(SplitAnswers(scaling_timeline="2027-11: 5x"), None))
    assert [s.reason for s in result.signs if s.early is None] == [
        "say how many engineers work on the system (--team-size)",
        "give today's peak traffic and what one server sustained in a load test "
        "(--peak-rps, --capacity-rps)",
        "probe the running services and give their report to the assessment "
        "(toolkit probe --format json, then --report FILE)",
        "say whether a deploy is one automated pipeline run "
        "(--deploys-automated or --manual-deploys)",
    ]


def test_a_level_that_leaves_services_out_does_not_speak_for_the_system() -> None:
    """Level 3 without some services: "unknown", naming them; never "split"."""
    result = assess(AssessmentInput(READY, 3, ("users", "payments")))
    assert result.verdict == "unknown"
    assert result.summary == "unknown: answer observability (no level for users, payments)"
    sign = result.signs[2]
    assert (sign.answer, sign.early, sign.reason) == (
        "level 3 (no level for users, payments)",
        None,
        "the report has no level for users, payments: probe them too, then assess again",
    )


def test_a_low_level_with_services_left_out_is_still_a_sign() -> None:
    """Below level 3 the system cannot be ready whatever the others: "not yet", naming them."""
    result = assess(AssessmentInput(READY, 1, ("users",)))
    assert result.summary == "not yet: observability at level 1 of 3 (no level for users)"
    assert (result.signs[2].answer, result.signs[2].early) == ("level 1 (no level for users)", True)


def test_flags_win_over_the_catalog() -> None:
    """Each answer given as a flag replaces the catalog's; the others are kept."""
    merged = merge_answers(READY, SplitAnswers(team_size=6))
    assert merged == SplitAnswers(6, 8000.0, 9000.0, True, "5x traffic by Black Friday 2027")
    assert merge_answers(None, SplitAnswers(peak_rps=5.0)) == SplitAnswers(peak_rps=5.0)
