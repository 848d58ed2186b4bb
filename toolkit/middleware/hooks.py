"""User hooks on the server span, OpenTelemetry style, that can never break a request."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Span

if TYPE_CHECKING:
    from toolkit.middleware.telemetry import Telemetry

HOOK_COMPONENT = "hook"

ServerRequestHook = Callable[[Span, MutableMapping[str, Any]], object]
"""``request_hook(span, scope_or_environ)``: called once the server span started."""
ServerResponseHook = Callable[[Span, MutableMapping[str, Any], int], object]
"""``response_hook(span, scope_or_environ, status)``: called before the server span ends."""


def call_hook(telemetry: Telemetry, hook: Callable[..., object], *args: Any) -> None:
    """Call ``hook``; an exception is counted (``component="hook"``) and logged once."""
    try:
        hook(*args)
    except Exception as exc:
        telemetry.report_error(HOOK_COMPONENT, exc)
