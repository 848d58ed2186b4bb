"""httpx transports that make every outbound request observable."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import SplitResult

import httpx

from toolkit.outbound._telemetry import OutboundTelemetry

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from toolkit.outbound._options import OutboundOptions


def _parts(url: httpx.URL) -> SplitResult:
    # Only the pieces the span and labels need; httpx has already parsed them.
    netloc = url.netloc.decode("ascii", "replace")
    if url.userinfo:
        netloc = f"{url.userinfo.decode('ascii', 'replace')}@{netloc}"
    query = url.query.decode("ascii", "replace")
    return SplitResult(url.scheme, netloc, url.path, query, url.fragment)


class Transport(httpx.BaseTransport):
    """``httpx.Client(transport=toolkit.outbound.Transport())``: traced, measured, correlated.

    Adds the current correlation ID and ``traceparent`` to every request, wraps it in a
    CLIENT span and records ``http_client_request_duration_seconds`` (until the response
    headers arrived). ``transport`` is the one that really sends (default
    ``httpx.HTTPTransport()``); it may be a breaker transport, and this one may be
    wrapped by one. Options: see :class:`toolkit.outbound.OutboundOptions`.
    """

    def __init__(
        self, transport: httpx.BaseTransport | None = None, **options: Unpack[OutboundOptions]
    ) -> None:
        """Wrap ``transport``; resolve the options once."""
        self._transport = transport if transport is not None else httpx.HTTPTransport()
        self.telemetry = OutboundTelemetry(**options)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` with the headers added, inside a CLIENT span."""
        call = self.telemetry.start(request.method, _parts(request.url), request.headers, request)
        try:
            response = self._transport.handle_request(request)
        except BaseException as exc:
            call.finish(None, exc)
            raise
        call.finish(response.status_code, None, response)
        return response

    def close(self) -> None:
        """Close the wrapped transport."""
        self._transport.close()


class AsyncTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=toolkit.outbound.AsyncTransport())``: as :class:`Transport`."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Unpack[OutboundOptions],
    ) -> None:
        """Wrap ``transport`` (default ``httpx.AsyncHTTPTransport()``); resolve the options."""
        self._transport = transport if transport is not None else httpx.AsyncHTTPTransport()
        self.telemetry = OutboundTelemetry(**options)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` with the headers added, inside a CLIENT span."""
        call = self.telemetry.start(request.method, _parts(request.url), request.headers, request)
        try:
            response = await self._transport.handle_async_request(request)
        except BaseException as exc:
            call.finish(None, exc)
            raise
        call.finish(response.status_code, None, response)
        return response

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._transport.aclose()


def httpx_transport(
    transport: httpx.BaseTransport | None = None, **options: Unpack[OutboundOptions]
) -> Transport:
    """Return an observable sync transport: ``httpx.Client(transport=httpx_transport())``."""
    return Transport(transport, **options)


def async_httpx_transport(
    transport: httpx.AsyncBaseTransport | None = None, **options: Unpack[OutboundOptions]
) -> AsyncTransport:
    """Return an observable async transport for ``httpx.AsyncClient``."""
    return AsyncTransport(transport, **options)
