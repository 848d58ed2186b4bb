"""Correlation IDs: the default validator and generator (plain callables, replaceable)."""

from __future__ import annotations

import re
from collections.abc import Callable
from random import getrandbits
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

    Formatted as ``uuid.uuid4().hex`` (version and variant bits set the same way), drawn
    from ``random.getrandbits`` as the OpenTelemetry SDK draws trace IDs: a correlation ID
    must be unique, not secret, and ``os.urandom`` costs a system call per request. The
    ``random`` module reseeds itself in a forked child, so workers forked from one master
    do not repeat each other's IDs.
    """
    return f"{getrandbits(128) & _UUID4_CLEAR | _UUID4_SET:032x}"
