"""``toolkit assess``: the "signs you are distributing too early" diagnostic, with numbers.

Five questions, each answered from a flag or the catalog's ``assessment`` section (the
observability level from the readiness checks): team size, peak load against the
measured capacity of one server, observability, automated deploys, a concrete scaling
timeline. Any sign of splitting too early makes the verdict "not yet", with its numbers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from toolkit.catalog.model import SplitAnswers
from toolkit.readiness.checks import READY_LEVEL
from toolkit.readiness.model import (
    VERDICT_NOT_YET,
    VERDICT_READY,
    VERDICT_UNKNOWN,
    Assessment,
    Sign,
)

# Below about two teams' worth of engineers one team can own one codebase: services cost
# more in coordination and operations than they save.
MIN_TEAM_SIZE = 10
# One server with twice the peak's capacity (or more) scales by replicas, not by a split.
MAX_HEADROOM = 2.0
_CONCRETE = re.compile(r"\d")  # a date or a number makes a timeline concrete


@dataclass(frozen=True)
class AssessmentInput:
    """The answers (``None``: not answered) and the observability level from the checks.

    ``unmeasured`` names the services of the system the level does not cover (missing
    from the report it came from): the level then speaks for the others only.
    """

    answers: SplitAnswers
    observability_level: int | None = None
    unmeasured: tuple[str, ...] = ()


def merge_answers(catalog: SplitAnswers | None, flags: SplitAnswers) -> SplitAnswers:
    """Each answer given as a flag wins over the catalog's."""
    merged = catalog or SplitAnswers()
    for name in ("team_size", "peak_rps", "capacity_rps", "deploys_automated", "scaling_timeline"):
        value = getattr(flags, name)
        if value is not None:
            merged = replace(merged, **{name: value})
    return merged


def _rps(value: float) -> str:
    return f"{value:,.0f} req/s"


def _team(size: int | None) -> tuple[Sign, str]:
    question = "team size"
    if size is None:
        reason = "say how many engineers work on the system (--team-size)"
        return Sign(question, "not answered", None, reason), ""
    noun = "engineer" if size == 1 else "engineers"
    short = f"{size} {noun}"
    if size < MIN_TEAM_SIZE:
        reason = f"fewer than {MIN_TEAM_SIZE}: one team can own one codebase"
        return Sign(question, short, True, reason), short
    return Sign(question, short, False, "enough people to need independent deploys"), short


def _load(peak: float | None, capacity: float | None) -> tuple[Sign, str]:
    question = "peak load vs one server"
    if peak is None or capacity is None:
        reason = (
            "give today's peak traffic and what one server sustained in a load test "
            "(--peak-rps, --capacity-rps)"
        )
        return Sign(question, "not answered", None, reason), ""
    short = f"peak {_rps(peak)} on a server measured at {_rps(capacity)}"
    headroom = capacity / peak
    if headroom >= MAX_HEADROOM:
        reason = f"{headroom:.1f}x headroom: add replicas or a bigger server before a split"
        return Sign(question, short, True, reason), short
    reason = f"{peak / capacity:.0%} of one server's capacity: scale is a real reason"
    return Sign(question, short, False, reason), short


def _observability(level: int | None, unmeasured: Sequence[str]) -> tuple[Sign, str]:
    question = "observability"
    if level is None:
        reason = (
            "probe the running services and give their report to the assessment "
            "(toolkit probe --format json, then --report FILE)"
        )
        return Sign(question, "not measured", None, reason), ""
    missing = ", ".join(unmeasured)
    suffix = f" (no level for {missing})" if unmeasured else ""
    answer = f"level {level}{suffix}"
    if level < READY_LEVEL:
        reason = "you cannot yet see a request cross services: fix the failing checks first"
        short = f"{question} at level {level} of {READY_LEVEL}{suffix}"
        return Sign(question, answer, True, reason), short
    if unmeasured:
        reason = f"the report has no level for {missing}: probe them too, then assess again"
        return Sign(question, answer, None, reason), f"{question}{suffix}"
    short = f"{question} at level {level} of {READY_LEVEL}"
    return Sign(question, answer, False, "logs, traces, metrics and SLOs in place"), short


def _deploys(automated: bool | None) -> tuple[Sign, str]:
    question = "deploys automated"
    if automated is None:
        reason = (
            "say whether a deploy is one automated pipeline run "
            "(--deploys-automated or --manual-deploys)"
        )
        return Sign(question, "not answered", None, reason), ""
    if not automated:
        reason = "every new service multiplies the manual deploys"
        return Sign(question, "no", True, reason), "manual deploys"
    return Sign(
        question, "yes", False, "a new service costs one more pipeline"
    ), "automated deploys"


def _timeline(timeline: str | None) -> tuple[Sign, str]:
    question = "concrete scaling timeline"
    if timeline is None or not timeline.strip():
        reason = "no dated event needs the scale a split would buy"
        return Sign(question, "none", True, reason), "no concrete scaling timeline"
    if not _CONCRETE.search(timeline):
        reason = "no date or number in it: not concrete yet"
        return Sign(question, timeline, True, reason), f"a vague timeline ({timeline!r})"
    return Sign(question, timeline, False, "a dated need for scale"), f"timeline: {timeline}"


def assess(given: AssessmentInput) -> Assessment:
    """The verdict: "not yet" on any sign of splitting early, "unknown" on missing answers."""
    answers = given.answers
    results = [
        _team(answers.team_size),
        _load(answers.peak_rps, answers.capacity_rps),
        _observability(given.observability_level, given.unmeasured),
        _deploys(answers.deploys_automated),
        _timeline(answers.scaling_timeline),
    ]
    signs = tuple(sign for sign, _ in results)
    early = [short for sign, short in results if sign.early]
    if early:
        return Assessment(VERDICT_NOT_YET, "not yet: " + ", ".join(early), signs)
    missing = [short or sign.question for sign, short in results if sign.early is None]
    if missing:
        return Assessment(VERDICT_UNKNOWN, "unknown: answer " + ", ".join(missing), signs)
    shown = ", ".join(short for _, short in results)
    return Assessment(VERDICT_READY, "split: " + shown, signs)
