"""``/livez`` and ``/readyz`` served by the toolkit middlewares (or on their own).

Liveness answers ``pass`` as long as the process serves requests (it runs no checks: a
dependency being down is no reason to restart this process). Readiness runs the
registered checks. Both answer ``application/health+json``, never cached; GET and
HEAD only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from toolkit import semconv
from toolkit.health._model import PASS, CheckSpec, HealthReport
from toolkit.health._runner import DEFAULT_TIMEOUT, HealthRunner

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

ENV_LIVEZ_PATH = "TOOLKIT_LIVEZ_PATH"
ENV_READYZ_PATH = "TOOLKIT_READYZ_PATH"
ENV_HEALTH_TIMEOUT = "TOOLKIT_HEALTH_TIMEOUT"

_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_CONTENT_TYPE = semconv.HEALTH_CONTENT_TYPE.encode("latin-1")
_STATUS_LINES = {200: "200 OK", 405: "405 Method Not Allowed", 503: "503 Service Unavailable"}


def _path(
    options: Mapping[str, Any], key: str, env: Mapping[str, str], name: str, default: str
) -> str | None:
    if key in options:
        value: str | None = options[key]
        return value or None
    return env.get(name, default) or None


class HealthEndpoints:
    """The two health endpoints of one middleware. ``paths`` is empty when both are off."""

    def __init__(
        self,
        *,
        livez_path: str | None = semconv.LIVEZ_PATH,
        readyz_path: str | None = semconv.READYZ_PATH,
        checks: Mapping[str, CheckSpec] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        registry: CollectorRegistry | None = None,
        service: str | None = None,
    ) -> None:
        """Precompute both paths and the runner of ``checks``."""
        self.livez_path = livez_path
        self.readyz_path = readyz_path
        self.paths: frozenset[str] = frozenset(p for p in (livez_path, readyz_path) if p)
        self.runner = HealthRunner(checks or {}, timeout=timeout, registry=registry)
        self.service = service

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> HealthEndpoints:
        """Build from middleware options: keyword > ``TOOLKIT_*`` environment > default.

        ``livez_path``/``readyz_path`` (``TOOLKIT_LIVEZ_PATH``/``TOOLKIT_READYZ_PATH``;
        ``None`` or an empty variable turns one off), ``health_checks``,
        ``health_timeout`` (``TOOLKIT_HEALTH_TIMEOUT``, seconds), ``registry``, ``service``.
        """
        env = os.environ if environ is None else environ
        if "health_timeout" in options:
            timeout = float(options["health_timeout"])
        else:
            raw = env.get(ENV_HEALTH_TIMEOUT, "").strip()
            try:
                timeout = float(raw) if raw else DEFAULT_TIMEOUT
            except ValueError:
                raise ValueError(f"{ENV_HEALTH_TIMEOUT} must be seconds, got {raw!r}") from None
        return cls(
            livez_path=_path(options, "livez_path", env, ENV_LIVEZ_PATH, semconv.LIVEZ_PATH),
            readyz_path=_path(options, "readyz_path", env, ENV_READYZ_PATH, semconv.READYZ_PATH),
            checks=options.get("health_checks"),
            timeout=timeout,
            registry=options.get("registry"),
            service=options.get("service") or env.get("OTEL_SERVICE_NAME"),
        )

    def _body(self, report: HealthReport) -> bytes:
        return json.dumps(report.document(self.service), separators=(",", ":")).encode()

    async def report_async(self, path: str) -> HealthReport:
        """The report for ``path`` (readiness runs the checks on the running loop)."""
        if path == self.readyz_path:
            return await self.runner.run_async()
        return HealthReport(PASS)

    def report_sync(self, path: str) -> HealthReport:
        """The report for ``path`` (readiness runs the checks in threads)."""
        if path == self.readyz_path:
            return self.runner.run_sync()
        return HealthReport(PASS)

    async def serve_asgi(self, scope: Mapping[str, Any], send: _Send) -> None:
        """Answer an ASGI HTTP request for one of :attr:`paths`."""
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            status, headers, body = 405, [(b"allow", b"GET, HEAD")], b""
        else:
            report = await self.report_async(scope["path"])
            status, body = report.http_status, self._body(report)
            headers = [(b"content-type", _CONTENT_TYPE), (b"cache-control", b"no-store")]
        headers.append((b"content-length", str(len(body)).encode("latin-1")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})

    def serve_wsgi(
        self, environ: Mapping[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Answer a WSGI request for one of :attr:`paths`."""
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            status, headers, body = 405, [("Allow", "GET, HEAD")], b""
        else:
            report = self.report_sync(environ.get("PATH_INFO") or "/")
            status, body = report.http_status, self._body(report)
            headers = [
                ("Content-Type", semconv.HEALTH_CONTENT_TYPE),
                ("Cache-Control", "no-store"),
            ]
        headers.append(("Content-Length", str(len(body))))
        start_response(_STATUS_LINES[status], headers)
        return [b"" if method == "HEAD" else body]
