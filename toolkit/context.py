"""The request's correlation ID, visible to app code, logs and outbound calls."""

from __future__ import annotations

from contextvars import ContextVar

correlation_id_var: ContextVar[str | None] = ContextVar("toolkit_correlation_id", default=None)


def get_correlation_id() -> str | None:
    """Return the correlation ID of the request being handled, or ``None`` outside one."""
    return correlation_id_var.get()
