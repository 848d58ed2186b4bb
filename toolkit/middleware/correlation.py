"""Correlation IDs: the default validator and generator (plain callables, replaceable)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TypeAlias

CorrelationValidator: TypeAlias = Callable[[str], bool]
"""Decides whether an incoming correlation ID may be reused as is."""
CorrelationGenerator: TypeAlias = Callable[[], str]
"""Makes a new correlation ID when the request brings none, or an invalid one."""

MAX_CORRELATION_ID_LENGTH = 128

# UUIDs of any version (with or without dashes) are a subset of these characters. The set
# is URL- and header-safe and has no separator a log parser or a header could split on.
_OPAQUE_ID = re.compile(rf"[A-Za-z0-9._~+/=-]{{1,{MAX_CORRELATION_ID_LENGTH}}}")


def is_valid_correlation_id(value: str) -> bool:
    """Accept UUIDs of any version and opaque IDs of ``[A-Za-z0-9._~+/=-]``, 1-128 chars."""
    return _OPAQUE_ID.fullmatch(value) is not None


_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_correlation_id() -> str:
    """Return a fresh random correlation ID: a UUID4 as 32 hex digits.

    Equal to ``uuid.uuid4().hex`` (version and variant bits set the same way) at a
    third of its cost: it runs for every request that brings no ID.
    """
    value = int.from_bytes(os.urandom(16), "big") & _UUID4_CLEAR | _UUID4_SET
    return f"{value:032x}"
