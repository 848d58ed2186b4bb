"""Outbound calls that carry the request's correlation ID and trace, measured per target.

httpx: ``httpx.Client(transport=Transport())`` / ``httpx.AsyncClient(transport=
AsyncTransport())``; requests: ``instrument_session(requests.Session())``. Each call
gets ``X-Request-ID`` and ``traceparent``, a CLIENT span and an observation in
``http_client_request_duration_seconds{server_address=...}``.
"""

from __future__ import annotations

from toolkit.outbound._httpx import (
    AsyncTransport,
    Transport,
    async_httpx_transport,
    httpx_transport,
)
from toolkit.outbound._metrics import ClientMetrics, OTLPClientMetrics, client_metrics
from toolkit.outbound._options import OutboundOptions
from toolkit.outbound._requests import TelemetryAdapter, instrument_session
from toolkit.outbound._telemetry import OutboundTelemetry, RequestHook, ResponseHook

__all__ = [
    "AsyncTransport",
    "ClientMetrics",
    "OTLPClientMetrics",
    "OutboundOptions",
    "OutboundTelemetry",
    "RequestHook",
    "ResponseHook",
    "TelemetryAdapter",
    "Transport",
    "async_httpx_transport",
    "client_metrics",
    "httpx_transport",
    "instrument_session",
]
