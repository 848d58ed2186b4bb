"""User hooks on the server span, OpenTelemetry style, that can never break a request."""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Span

if TYPE_CHECKING:
    from toolkit.middleware.telemetry import Telemetry

HOOK_COMPONENT = "hook"

ServerRequestHook = Callable[[Span, MutableMapping[str, Any]], object]
"""``request_hook(span, scope_or_environ)``: called once the server span started."""
ServerResponseHook = Callable[[Span, MutableMapping[str, Any], int], object]
"""``response_hook(span, scope_or_environ, status)``: called before the server span ends."""

# PEP 3333: the two request headers a WSGI environ keeps without the HTTP_ prefix.
_UNPREFIXED = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


def call_hook(telemetry: Telemetry, hook: Callable[..., object], *args: Any) -> None:
    """Call ``hook``; an exception is counted (``component="hook"``) and logged once."""
    try:
        hook(*args)
    except Exception as exc:
        telemetry.report_error(HOOK_COMPONENT, exc)


def request_header(scope_or_environ: Mapping[str, Any], name: str) -> str | None:
    """The request header ``name`` (any case) from what a hook receives, an ASGI scope or
    a WSGI environ; ``None`` when the request has none.

    One hook then serves both middlewares: ``request_header(scope_or_environ, "x-tenant")``.
    A header an ASGI client repeated comes back joined with ``", "``, as WSGI servers
    join it.
    """
    if "REQUEST_METHOD" in scope_or_environ:  # every WSGI environ has it, no scope does
        key = name.upper().replace("-", "_")
        value = scope_or_environ.get(key if key in _UNPREFIXED else "HTTP_" + key)
        return value if isinstance(value, str) else None
    wanted = name.lower().encode("latin-1")
    values = [v.decode("latin-1") for k, v in scope_or_environ.get("headers", ()) if k == wanted]
    return ", ".join(values) if values else None
