"""Default correlation ID validator and generator."""

from __future__ import annotations

import os
import uuid

import pytest

from toolkit.middleware.correlation import is_valid_correlation_id, new_correlation_id


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (str(uuid.UUID(int=1, version=1)), True),
        (str(uuid.UUID(int=2, version=4)), True),
        ("018f3a4b-7c2d-7e5f-8a9b-0c1d2e3f4a5b", True),  # UUIDv7
        ("0af7651916cd43dd8448eb211c80319c", True),
        ("req_2024.11~a+b/c=", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("", False),
        ("abc def", False),
        ("abc\r\nX-Injected: 1", False),
        ("naïve", False),
        ('quote"d', False),
    ],
)
def test_validator_accepts_uuids_and_safe_opaque_ids(value: str, valid: bool) -> None:
    """UUIDs of any version and 1-128 chars of [A-Za-z0-9._~+/=-] pass; nothing else."""
    assert is_valid_correlation_id(value) is valid


def test_generator_makes_uuid4_hex() -> None:
    """Generated IDs are uuid4 in 32 lower-case hex digits, distinct, and valid."""
    ids = {new_correlation_id() for _ in range(1000)}

    assert len(ids) == 1000
    for value in ids:
        parsed = uuid.UUID(hex=value)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert parsed.hex == value
        assert is_valid_correlation_id(value)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_workers_do_not_repeat_ids() -> None:
    """A worker forked from a master draws other IDs than the master's next ones (the
    random module reseeds in the child), as gunicorn's pre-forked workers need."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.write(write_end, new_correlation_id().encode())
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        child = os.read(read_end, 64).decode()
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    assert len(child) == 32
    assert child != new_correlation_id()
