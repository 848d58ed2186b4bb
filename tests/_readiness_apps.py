"""Fake services for the live probe tests: one good app and one broken app per signal.

Run as ``python tests/_readiness_apps.py KIND PORT``: serves the app under uvicorn on
127.0.0.1:PORT, logging to stdout. Every app has ``GET /`` and ``GET /items/{item_id}``;
each broken kind lacks exactly one signal:

- ``good``: ``toolkit.instrument`` plus hand-made ``/livez`` and ``/readyz``;
- ``good_fastapi``: the same on FastAPI, which emits a server span of its own too;
- ``good_token``: ``good`` with ``/metrics`` behind the bearer token ``PROBE_TOKEN``;
- ``metrics_port``: ``good`` with its metrics on their own port, ``PROBE_METRICS_PORT``
  (``start_metrics_server``), not on the app's;
- ``no_echo``: the correlation header is stripped from responses;
- ``no_span``: spans are recorded but exported nowhere (no OTLP endpoint);
- ``wrong_metrics``: its own metrics under other names (``http_requests_total``);
- ``raw_routes``: the right metrics, but ``http_route`` holds the raw path;
- ``text_logs``: plain-text logs instead of JSON lines;
- ``no_health``: no ``/livez`` or ``/readyz``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

import toolkit
from toolkit import semconv
from toolkit.middleware import start_metrics_server

KINDS = (
    "good",
    "good_fastapi",
    "good_token",
    "metrics_port",
    "no_echo",
    "no_span",
    "wrong_metrics",
    "raw_routes",
    "text_logs",
    "no_health",
)
PROBE_TOKEN = "probe-metrics-token"
Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


async def home(request: Request) -> Response:
    """The page the probe calls."""
    logging.getLogger("app").info("home served")
    return PlainTextResponse("ok")


async def item(request: Request) -> Response:
    """A templated route."""
    return JSONResponse({"id": request.path_params["item_id"]})


def health(request: Request) -> Response:
    """draft-inadarei-api-health-check: pass."""
    return JSONResponse({"status": "pass"}, media_type=semconv.HEALTH_CONTENT_TYPE)


def starlette_app(*, with_health: bool = True, extra: list[Route] | None = None) -> Starlette:
    """The app every kind starts from."""
    routes = [Route("/", home), Route("/items/{item_id}", item), *(extra or [])]
    if with_health:
        routes += [Route(semconv.LIVEZ_PATH, health), Route(semconv.READYZ_PATH, health)]
    return Starlette(routes=routes)


def fastapi_app() -> ASGIApp:
    """The good app on FastAPI (its own OpenTelemetry spans included)."""
    from fastapi import FastAPI

    app = FastAPI()
    app.add_api_route("/", home)
    app.add_api_route("/items/{item_id}", item)
    app.add_api_route(semconv.LIVEZ_PATH, health)
    app.add_api_route(semconv.READYZ_PATH, health)
    return toolkit.instrument(app, service="probe-test")  # type: ignore[no-any-return]


def strip_correlation(app: ASGIApp) -> ASGIApp:
    """Wrap ``app`` so that responses lose the correlation header."""
    header = semconv.CORRELATION_HEADER.lower().encode()

    async def wrapped(scope: Scope, receive: Any, send: Any) -> None:
        async def strip(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != header
                ]
            await send(message)

        await app(scope, receive, strip)

    return wrapped


def own_metrics_app(*, right_names: bool) -> ASGIApp:
    """An app with hand-made metrics: wrong names, or right names with raw-path routes."""
    registry = CollectorRegistry()
    labels = (semconv.LABEL_METHOD, semconv.LABEL_ROUTE, semconv.LABEL_STATUS_CODE)
    if right_names:
        duration = Histogram(
            semconv.HTTP_SERVER_REQUEST_DURATION,
            "d",
            labels,
            buckets=semconv.DURATION_BUCKETS,
            registry=registry,
        )
        Gauge(semconv.HTTP_SERVER_ACTIVE_REQUESTS, "a", registry=registry)
        for name in (semconv.HTTP_SERVER_REQUEST_BODY_SIZE, semconv.HTTP_SERVER_RESPONSE_BODY_SIZE):
            Histogram(name, "s", labels, buckets=semconv.BODY_SIZE_BUCKETS, registry=registry)
    else:
        duration = Histogram(
            "http_request_duration_seconds", "d", ("method", "path"), registry=registry
        )

    def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")

    inner = toolkit.instrument(
        starlette_app(extra=[Route("/metrics", metrics)]),
        service="probe-test",
        metrics=False,
        metrics_path=None,
    )

    async def counted(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] == "/metrics":
            await inner(scope, receive, send)
            return
        status = {"code": 500}

        async def record(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        start = time.perf_counter()
        await inner(scope, receive, record)
        if right_names:  # the mistake: the raw path where the template belongs
            values = (scope["method"], scope["path"], str(status["code"]))
        else:
            values = (scope["method"], scope["path"])
        duration.labels(*values).observe(time.perf_counter() - start)

    return counted


def build(kind: str) -> ASGIApp:
    """The app of ``kind``."""
    if kind == "no_span":
        os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    if kind in ("good", "no_span"):
        return toolkit.instrument(starlette_app(), service="probe-test")  # type: ignore[no-any-return]
    if kind == "good_fastapi":
        return fastapi_app()
    if kind == "good_token":
        app = toolkit.instrument(starlette_app(), service="probe-test", metrics_token=PROBE_TOKEN)
        return app  # type: ignore[no-any-return]
    if kind == "metrics_port":
        port = int(os.environ["PROBE_METRICS_PORT"])
        start_metrics_server(port, host="127.0.0.1")
        app = toolkit.instrument(starlette_app(), service="probe-test", metrics_port=port)
        return app  # type: ignore[no-any-return]
    if kind == "no_echo":
        return strip_correlation(toolkit.instrument(starlette_app(), service="probe-test"))
    if kind == "wrong_metrics":
        return own_metrics_app(right_names=False)
    if kind == "raw_routes":
        return own_metrics_app(right_names=True)
    if kind == "text_logs":
        logging.basicConfig(
            stream=sys.stdout, level=logging.INFO, format="%(levelname)s %(message)s"
        )
        app = toolkit.instrument(starlette_app(), service="probe-test", configure_logging=False)
        return app  # type: ignore[no-any-return]
    if kind == "no_health":
        # toolkit serves /livez and /readyz by default: this kind turns them off.
        app = toolkit.instrument(
            starlette_app(with_health=False),
            service="probe-test",
            livez_path=None,
            readyz_path=None,
        )
        return app  # type: ignore[no-any-return]
    raise SystemExit(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")


def main() -> None:
    """Serve ``KIND`` on 127.0.0.1:``PORT``."""
    kind, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(build(kind), host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
