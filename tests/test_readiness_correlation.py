"""Tests for toolkit.readiness.probe.correlation: echo and replacement verdicts."""

from __future__ import annotations

import pytest

from toolkit.readiness.model import Status
from toolkit.readiness.probe.correlation import Attempt, check_echo, check_replaced, malicious_ids

H = "X-Request-ID"


@pytest.mark.parametrize(
    ("returned", "status", "reason"),
    [
        ("probe-1", Status.PASS, "X-Request-ID: probe-1 echoed unchanged"),
        ("other", Status.FAIL, "sent X-Request-ID: probe-1, got back other"),
        (None, Status.FAIL, "no X-Request-ID in the response (HTTP 200)"),
    ],
)
def test_valid_id_must_come_back_unchanged(
    returned: str | None, status: Status, reason: str
) -> None:
    """Only the exact ID passes."""
    check = check_echo(H, "probe-1", returned, 200)
    assert (check.status, check.reason) == (status, reason)


def test_malicious_ids_are_oversized_markup_and_encoded_crlf() -> None:
    """The client-sendable attacks: 1024+ characters, markup, percent-encoded CR/LF."""
    ids = dict(malicious_ids("p"))
    assert len(ids["oversized"]) == 1025
    assert ids["markup"] == "p<script>alert(1)</script>"
    assert ids["percent-encoded CR/LF"] == "p%0d%0aSet-Cookie:%20probe=1"


def test_replaced_and_refused_ids_pass() -> None:
    """Fresh IDs, a 400 refusal and a CR/LF split by the server are all safe."""
    attempts = [
        Attempt("oversized", "p" + "x" * 1024, "0f3c", 200),
        Attempt("CR/LF", "p\r\nX: 1", None, 400, injection_only=True),
        Attempt("bare CR", "p\rX: 1", "p", 200, injection_only=True),
    ]
    check = check_replaced(H, attempts, echo_works=True)
    assert (check.status, check.reason) == (
        Status.PASS,
        "oversized: replaced by fresh IDs; raw CR/LF, bare CR: never reached the response",
    )


@pytest.mark.parametrize(
    ("attempt", "reason"),
    [
        (Attempt("markup", "p<b>", "p<b>", 200), "markup: echoed back as sent"),
        (
            Attempt("oversized", "pxxxx", "pxx", 200),
            "oversized: echoed back truncated or unescaped",
        ),
        (Attempt("markup", "p<b>", None, 200), "markup: no X-Request-ID in the response"),
        (Attempt("CR/LF", "p\r\nX: 1", "p\r\nX: 1", 200, True), "CR/LF: echoed back as sent"),
    ],
)
def test_echoed_or_dropped_ids_fail(attempt: Attempt, reason: str) -> None:
    """An ID echoed as sent, truncated, or with no ID at all fails."""
    check = check_replaced(H, [attempt], echo_works=True)
    assert (check.status, check.reason) == (Status.FAIL, reason)


def test_replacement_is_skipped_when_nothing_is_echoed() -> None:
    """Without any echo, replacement cannot be judged: skipped (the echo check fails)."""
    assert check_replaced(H, [], echo_works=False).status is Status.SKIPPED
