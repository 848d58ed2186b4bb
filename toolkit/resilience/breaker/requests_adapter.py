"""A requests transport adapter that sends every request through a circuit breaker."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from toolkit.resilience.breaker.breaker import CircuitBreaker
from toolkit.resilience.breaker.httpx_transport import server_error


class BreakerAdapter(HTTPAdapter):
    """Mount it for a dependency: ``session.mount("http://billing/", BreakerAdapter(b))``.

    Connection errors and responses for which ``is_failure(status)`` holds (default: 5xx)
    count as failures; a 5xx response is still returned. When the breaker does not permit
    the call, :class:`CallNotPermitted` is raised and nothing is sent. Other keyword
    arguments go to ``HTTPAdapter`` (pool sizes, ``max_retries``).
    """

    def __init__(
        self,
        breaker: CircuitBreaker,
        *,
        is_failure: Callable[[int], bool] = server_error,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.breaker = breaker
        self._is_failure = is_failure

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        """Send ``request`` if the breaker permits it."""
        with self.breaker.guard() as guard:
            response = super().send(request, stream, timeout, verify, cert, proxies)
            if self._is_failure(response.status_code):
                guard.mark_failure()
            return response
