"""Ready-made checks: a downstream service's URL."""

from __future__ import annotations

from collections.abc import Callable

from toolkit.health._model import FAIL, CheckResult


def url_check(
    url: str,
    *,
    timeout: float = 1.0,
    healthy: Callable[[int], bool] = lambda status: 200 <= status < 400,
) -> Callable[[], CheckResult]:
    """A check that GETs ``url`` (e.g. a dependency's ``/livez``) and passes on 2xx-3xx.

    ``timeout`` bounds the HTTP call itself (keep it below the check's timeout). The
    observed value is the response's status code.
    """

    def check() -> CheckResult:
        import httpx

        try:
            response = httpx.get(url, timeout=timeout)
        except httpx.HTTPError as exc:
            return CheckResult(FAIL, output=f"GET {url}: {type(exc).__name__}: {exc}")
        status = response.status_code
        if healthy(status):
            return CheckResult(observed_value=status, observed_unit="status")
        return CheckResult(
            FAIL, observed_value=status, observed_unit="status", output=f"GET {url}: {status}"
        )

    check.__name__ = f"url_check({url})"
    return check
