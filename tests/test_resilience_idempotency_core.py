"""The pure decisions behind the Idempotency-Key middleware."""

from __future__ import annotations

import pytest

from toolkit.resilience.idempotency._core import (
    IdempotencyOptions,
    StoredResponse,
    default_should_store,
    parse_key,
    problem,
    replayed,
    request_fingerprint,
)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("abc", "abc"),
        ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ("  padded  ", "padded"),
        ("with space", "with space"),
        ("x" * 255, "x" * 255),
        ("x" * 256, None),
        ("", None),
        ('""', None),
        ("tab\there", None),
        ("caf\u00e9", None),
    ],
)
def test_parse_key(raw: str, key: str | None) -> None:
    """Bare and quoted keys are accepted; empty, too long and non-ASCII keys are not."""
    assert parse_key(raw) == key


def test_fingerprint_depends_on_method_target_and_body() -> None:
    """Changing any of method, path, query or body changes the fingerprint."""
    base = request_fingerprint("POST", "/orders", b"{}")
    assert base == request_fingerprint("POST", "/orders", b"{}")
    variants = {
        request_fingerprint("PATCH", "/orders", b"{}"),
        request_fingerprint("POST", "/orders/1", b"{}"),
        request_fingerprint("POST", "/orders?x=1", b"{}"),
        request_fingerprint("POST", "/orders", b"{ }"),
    }
    assert len(variants) == 4
    assert base not in variants
    assert len(base) == 64


@pytest.mark.parametrize(
    ("status", "stored"),
    [(200, True), (201, True), (302, True), (400, True), (404, True), (409, True),
     (408, False), (425, False), (429, False), (500, False), (503, False)],
)  # fmt: skip
def test_default_should_store(status: int, stored: bool) -> None:
    """Results are stored except 5xx and the 4xx that ask the client to retry later."""
    assert default_should_store(status) is stored


def test_problem_is_rfc9457_json() -> None:
    """problem() builds an application/problem+json response with its exact length."""
    response = problem(409, "slug", "Title", "Detail.")
    body = b'{"type":"https://toolkit.dev/problems/idempotency/slug","title":"Title",'
    body += b'"status":409,"detail":"Detail."}'
    assert response == StoredResponse(
        409,
        (("content-type", "application/problem+json"), ("content-length", str(len(body)))),
        body,
    )


def test_replayed_adds_the_marker_header() -> None:
    """A replayed response carries Idempotent-Replayed: true after its own headers."""
    original = StoredResponse(201, (("location", "/o/1"),), b"x")
    assert replayed(original).headers == (("location", "/o/1"), ("idempotent-replayed", "true"))


@pytest.mark.parametrize(
    "bad",
    [{"lock_ttl": 0}, {"retention": -1}, {"max_body_bytes": 0}, {"wait_for_in_progress": -1},
     {"poll_interval": 0}],
)  # fmt: skip
def test_options_reject_nonsense(bad: dict[str, float]) -> None:
    """Non-positive durations and sizes are refused when the middleware is built."""
    with pytest.raises(ValueError):
        IdempotencyOptions(**bad)  # type: ignore[arg-type]
