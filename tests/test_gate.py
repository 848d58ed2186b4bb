"""toolkit._gate: a fast path runs only in the tested range, after its self-check, and
switches to the public API for good the first time it raises."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from toolkit._gate import ENV_FAST_PATHS, FastPathGate, release


def make_gate(
    check: Callable[[], None] | None = None, tested: tuple[str, str] = ("0", "999")
) -> FastPathGate:
    """A gate over pytest itself (always installed), not declared in GATES."""
    calls: list[int] = []

    def counted() -> None:
        calls.append(1)
        if check is not None:
            check()

    gate = FastPathGate("test gate", distribution="pytest", tested=tested, self_check=counted)
    gate.calls = calls  # type: ignore[attr-defined]
    return gate


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.45.2", (1, 45, 2)),
        ("1.46.0rc1", (1, 46, 0)),
        ("0.57b0", (0, 57)),
        ("26.1.0.dev3", (26, 1, 0)),
        ("v2", (2,)),
        ("unknown", ()),
    ],
)
def test_release_reads_the_numeric_part(version: str, expected: tuple[int, ...]) -> None:
    """Pre-releases count as their release: 1.46.0rc1 is outside a range ending below 1.46."""
    assert release(version) == expected


def test_in_range_and_self_check_passed_is_active(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check runs once, at the first question; the answer is remembered."""
    monkeypatch.delenv(ENV_FAST_PATHS, raising=False)
    gate = make_gate()
    assert gate.active() is True
    assert gate.active() is True
    assert gate.calls == [1]  # type: ignore[attr-defined]
    status = gate.status()
    assert status.active is True
    assert status.distribution == "pytest"
    assert status.reason.endswith("in the tested range, self-check passed")


def test_outside_the_tested_range_is_public_without_a_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A release CI never tested gets the public API; the self-check is not even run."""
    monkeypatch.delenv(ENV_FAST_PATHS, raising=False)
    gate = make_gate(tested=("0", "1"))
    assert gate.active() is False
    assert gate.calls == []  # type: ignore[attr-defined]
    assert "is outside the tested range >=0, <1" in gate.status().reason


def test_failed_self_check_is_public_and_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The check's exception is the reason, logged once as a warning."""
    monkeypatch.delenv(ENV_FAST_PATHS, raising=False)

    def check() -> None:
        raise RuntimeError("fields differ")

    gate = make_gate(check)
    with caplog.at_level(logging.DEBUG, logger="toolkit.gate"):
        assert gate.active() is False
        assert gate.active() is False
    assert gate.status().reason == "self-check failed: RuntimeError: fields differ"
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (
            logging.WARNING,
            "toolkit test gate: public API (self-check failed: RuntimeError: fields differ)",
        )
    ]


@pytest.mark.parametrize("value", ["off", "0", "false", "NO"])
def test_environment_turns_fast_paths_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """TOOLKIT_FAST_PATHS=off closes the gate before any check."""
    monkeypatch.setenv(ENV_FAST_PATHS, value)
    gate = make_gate()
    assert gate.active() is False
    assert gate.calls == []  # type: ignore[attr-defined]
    assert gate.status().reason == f"turned off by {ENV_FAST_PATHS}"


def test_disable_switches_for_good_and_warns_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The first failure logs one warning naming the cause; later ones are silent."""
    monkeypatch.delenv(ENV_FAST_PATHS, raising=False)
    gate = make_gate()
    assert gate.active() is True
    with caplog.at_level(logging.WARNING, logger="toolkit.gate"):
        assert gate.disable(KeyError("_new_field")) is True
        assert gate.disable(KeyError("_new_field")) is False
    assert gate.active() is False
    assert gate.status().reason == "raised KeyError: '_new_field'; public API from now on"
    assert [r.getMessage() for r in caplog.records] == [
        "toolkit test gate: the fast path raised KeyError: '_new_field'; this process uses "
        "the public API from now on (the request is recorded through it)"
    ]


def test_force_decides_without_checks() -> None:
    """force(True/False) is for toolkit's tests; force(None) decides afresh."""
    gate = make_gate(tested=("0", "1"))
    gate.force(True)
    assert gate.active() is True
    gate.force(False)
    assert gate.active() is False
    gate.force(None)
    assert gate.active() is False
    assert "outside the tested range" in gate.status().reason


def test_a_gate_that_is_not_a_speed_option_ignores_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """TOOLKIT_FAST_PATHS=off leaves a gate over a mechanism without public equivalent
    (speed_only=False) to its range and self-check."""
    monkeypatch.setenv(ENV_FAST_PATHS, "off")
    gate = FastPathGate(
        "mechanism",
        distribution="pytest",
        tested=("0", "999"),
        self_check=lambda: None,
        speed_only=False,
    )
    assert gate.active() is True


def test_a_mechanism_gate_outside_its_range_trusts_its_self_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A gate without public alternative (speed_only=False) outside its tested range opens
    if its self-check passes, saying so; a failing check still closes it."""
    gate = FastPathGate(
        "mechanism",
        distribution="pytest",
        tested=("0", "1"),
        self_check=lambda: None,
        speed_only=False,
    )
    assert gate.active() is True
    assert gate.status().reason.endswith("self-check passed (no public alternative)")

    def check() -> None:
        raise RuntimeError("no MultiProcessValue")

    closed = FastPathGate(
        "mechanism",
        distribution="pytest",
        tested=("0", "1"),
        self_check=check,
        speed_only=False,
    )
    assert closed.active() is False
