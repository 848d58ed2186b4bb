"""A traced ASGI app for the Prometheus exemplar test: its body is the request's trace ID."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from toolkit.middleware import ROUTE_KEY, ToolkitASGIMiddleware


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    scope[ROUTE_KEY] = "/traced"
    trace_id = format(trace.get_current_span().get_span_context().trace_id, "032x")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": trace_id.encode()})


app = ToolkitASGIMiddleware(
    _app, service="exemplars", tracer_provider=TracerProvider(), access_log=False
)
