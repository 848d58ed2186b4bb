"""requests: an adapter that makes every outbound request observable, and a session helper."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter

from toolkit.outbound._telemetry import OutboundTelemetry

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from toolkit.outbound._options import OutboundOptions


class TelemetryAdapter(BaseAdapter):
    """Wraps another adapter (default ``HTTPAdapter()``): traced, measured, correlated.

    ``session.mount("https://", TelemetryAdapter(BreakerAdapter(breaker)))`` keeps the
    wrapped adapter's behaviour (pools, retries, breaker). Each request the adapter sends
    (each redirect hop too) gets the correlation ID and ``traceparent``, a CLIENT span and
    an observation in ``http_client_request_duration_seconds`` (until the response
    headers arrived). Attributes it does not have are read from the wrapped adapter.
    """

    def __init__(self, adapter: BaseAdapter | None = None, **options: Unpack[OutboundOptions]):
        """Wrap ``adapter``; resolve the options once."""
        super().__init__()
        self.adapter = adapter if adapter is not None else HTTPAdapter()
        self.telemetry = OutboundTelemetry(**options)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send ``request`` through the wrapped adapter, inside a CLIENT span."""
        call = self.telemetry.start(
            request.method or "GET", urlsplit(request.url or ""), request.headers, request
        )
        try:
            response = self.adapter.send(request, stream, timeout, verify, cert, proxies)
        except BaseException as exc:
            call.finish(None, exc)
            raise
        call.finish(response.status_code, None, response)
        return response

    def close(self) -> None:
        """Close the wrapped adapter."""
        self.adapter.close()

    def __getattr__(self, name: str) -> Any:
        # Code that reaches into a mounted adapter (pool sizes, max_retries) still works.
        if name in ("adapter", "telemetry") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.adapter, name)

    @classmethod
    def sharing(cls, adapter: BaseAdapter, telemetry: OutboundTelemetry) -> TelemetryAdapter:
        """Wrap ``adapter`` with an existing ``telemetry`` (several mounts, one set of options)."""
        wrapper = cls.__new__(cls)
        BaseAdapter.__init__(wrapper)
        wrapper.adapter = adapter
        wrapper.telemetry = telemetry
        return wrapper


def instrument_session(
    session: requests.Session, **options: Unpack[OutboundOptions]
) -> requests.Session:
    """Wrap every adapter mounted on ``session`` in a :class:`TelemetryAdapter`; return it.

    Mount custom adapters (a breaker's) first: adapters mounted afterwards are not
    wrapped. Instrumenting twice changes nothing. All adapters share one set of options.
    """
    telemetry: OutboundTelemetry | None = None
    for prefix, adapter in list(session.adapters.items()):
        if isinstance(adapter, TelemetryAdapter):
            continue
        if telemetry is None:
            telemetry = OutboundTelemetry(**options)
        session.adapters[prefix] = TelemetryAdapter.sharing(adapter, telemetry)
    return session
