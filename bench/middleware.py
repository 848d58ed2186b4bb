"""Per-request overhead of toolkit's middleware against a bare app and the usual peer stack.

In-process, no sockets: each app is called directly, ASGI with a pre-built scope and
no-op ``receive``/``send``, WSGI with a pre-built environ and a no-op ``start_response``.
Every variant runs in every round, interleaved, so drift (frequency scaling, a noisy
neighbour) hits them alike; the figure per variant is the median over rounds.

Fairness: toolkit and the peers each get their own SDK ``TracerProvider`` with the same
synchronous processor and a span exporter that drops spans; toolkit's logs go to
``/dev/null`` (the peers write no per-request line). The peers run with their defaults,
except that route templates are asked for where that is an option (toolkit always
labels by template).
"""

from __future__ import annotations

import asyncio
import gc
import io
import os
import platform
import statistics
import sys
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from time import thread_time_ns
from typing import Any, TextIO

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from prometheus_client import CollectorRegistry

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

SERVICE = "bench"
TARGET_RATIO = 0.25  # issue 3: toolkit adds at most a quarter of what the peer stack adds


class DropSpanExporter(SpanExporter):
    """Accept every span and keep none: export cost without memory growth."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Drop ``spans``."""
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release."""


def tracer_provider() -> TracerProvider:
    """A fresh SDK provider that samples everything and exports to nowhere."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(DropSpanExporter()))
    return provider


# The full stack, then without one part each: what every part costs.
TOOLKIT_VARIANTS: dict[str, str | None] = {
    "toolkit": None,
    "  without access log": "access_log",
    "  without tracing": "tracing",
    "  without metrics": "metrics",
}


def toolkit_app(app: Any, off: str | None) -> Any:
    """``app`` under ``toolkit.instrument``, with the part named ``off`` switched off."""
    import toolkit

    options: dict[str, Any] = {} if off is None else {off: False}
    return toolkit.instrument(
        app,
        service=SERVICE,
        registry=CollectorRegistry(),
        tracer_provider=tracer_provider(),
        configure_logging=False,
        **options,
    )


# --- ASGI ---------------------------------------------------------------------------------

ASGI_SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.3"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/items/42",
    "raw_path": b"/items/42",
    "root_path": "",
    "query_string": b"",
    "headers": [(b"host", b"bench.local"), (b"user-agent", b"bench/1"), (b"accept", b"*/*")],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
}
_REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}


async def _receive() -> Message:
    return _REQUEST


async def _send(message: Message) -> None:
    return None


def starlette_app(middleware: Sequence[Any] = ()) -> ASGIApp:
    """A Starlette app with one templated route answering ``ok``."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def item(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/items/{item_id}", item)], middleware=list(middleware))


def asgi_variants() -> dict[str, ASGIApp]:
    """The bare app, the same app under toolkit, and under the peer stack."""
    from asgi_correlation_id import CorrelationIdMiddleware
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from starlette.middleware import Middleware
    from starlette_exporter import PrometheusMiddleware

    peer_inner = starlette_app(
        [Middleware(CorrelationIdMiddleware), Middleware(PrometheusMiddleware, group_paths=True)]
    )
    return {
        "bare Starlette": starlette_app(),
        **{name: toolkit_app(starlette_app(), off) for name, off in TOOLKIT_VARIANTS.items()},
        "peer stack": OpenTelemetryMiddleware(peer_inner, tracer_provider=tracer_provider()),
        "OTel ASGI alone": OpenTelemetryMiddleware(
            starlette_app(), tracer_provider=tracer_provider()
        ),
    }


async def _time_asgi(app: ASGIApp, requests: int) -> float:
    scope = ASGI_SCOPE
    start = thread_time_ns()
    for _ in range(requests):
        await app(dict(scope), _receive, _send)
    return (thread_time_ns() - start) / requests / 1000.0


async def _check_asgi(name: str, app: ASGIApp) -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(dict(ASGI_SCOPE), _receive, send)
    start = sent[0]
    headers = {k.decode().lower() for k, _ in start["headers"]}
    expects_id = name in TOOLKIT_VARIANTS or name == "peer stack"
    if start["status"] != 200 or (expects_id and "x-request-id" not in headers):
        raise RuntimeError(f"{name}: unexpected response start {start!r}")


# --- WSGI ---------------------------------------------------------------------------------

WSGI_ENVIRON: dict[str, Any] = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/items/42",
    "QUERY_STRING": "",
    "SERVER_NAME": "bench.local",
    "SERVER_PORT": "8000",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "REMOTE_PORT": "50000",
    "HTTP_HOST": "bench.local",
    "HTTP_USER_AGENT": "bench/1",
    "HTTP_ACCEPT": "*/*",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.input": io.BytesIO(b""),
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": False,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}


def _write(data: bytes) -> None:
    return None


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return _write


def flask_app() -> Any:
    """A Flask app with one templated route answering ``ok``."""
    from flask import Flask

    app = Flask("bench")

    @app.get("/items/<int:item_id>")
    def item(item_id: int) -> str:
        return "ok"

    return app


def wsgi_variants() -> dict[str, WSGIApp]:
    """The bare app, toolkit, the peer stack, and OpenTelemetry's middleware alone."""
    from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
    from prometheus_flask_exporter import PrometheusMetrics

    peer = flask_app()
    PrometheusMetrics(peer, registry=CollectorRegistry(), group_by="url_rule")
    peer.wsgi_app = OpenTelemetryMiddleware(peer.wsgi_app, tracer_provider=tracer_provider())
    otel_only = flask_app()
    otel_only.wsgi_app = OpenTelemetryMiddleware(
        otel_only.wsgi_app, tracer_provider=tracer_provider()
    )
    return {
        "bare Flask": flask_app(),
        **{name: toolkit_app(flask_app(), off) for name, off in TOOLKIT_VARIANTS.items()},
        "peer stack": peer,
        "OTel WSGI alone": otel_only,
    }


def _call_wsgi(app: WSGIApp, start_response: Callable[..., Any]) -> None:
    body = app(dict(WSGI_ENVIRON), start_response)
    try:
        for _ in body:
            pass
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def _time_wsgi(app: WSGIApp, requests: int) -> float:
    start = thread_time_ns()
    for _ in range(requests):
        _call_wsgi(app, _start_response)
    return (thread_time_ns() - start) / requests / 1000.0


def _check_wsgi(name: str, app: WSGIApp) -> None:
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append((status, headers))
        return _write

    _call_wsgi(app, start_response)
    status, headers = seen[0]
    names = {k.lower() for k, _ in headers}
    if not status.startswith("200") or (name in TOOLKIT_VARIANTS and "x-request-id" not in names):
        raise RuntimeError(f"{name}: unexpected response {status!r} {headers!r}")


# --- Running and reporting ----------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One variant's CPU time per request (best and median round) and what it adds."""

    name: str
    best_us: float
    median_us: float
    added_us: float


def _figures(samples: dict[str, list[float]]) -> list[Figure]:
    # The best round is the least disturbed by other processes; the median shows spread.
    best = {name: min(values) for name, values in samples.items()}
    bare = next(iter(best.values()))  # the first variant is the bare app
    return [
        Figure(name, best[name], statistics.median(values), best[name] - bare)
        for name, values in samples.items()
    ]


def _rounds(
    variants: dict[str, Any], timer: Callable[[Any, int], float], rounds: int, requests: int
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for app in variants.values():  # warm-up: imports, caches, first-request paths
        timer(app, max(requests // 10, 10))
    for _ in range(rounds):
        for name, app in variants.items():
            gc.collect()
            samples[name].append(timer(app, requests))
    return samples


def run_asgi(rounds: int, requests: int) -> list[Figure]:
    """Time the ASGI variants; return their figures."""

    async def measure() -> dict[str, list[float]]:
        variants = asgi_variants()
        for name, app in variants.items():
            await _check_asgi(name, app)
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for app in variants.values():
            await _time_asgi(app, max(requests // 10, 10))
        for _ in range(rounds):
            for name, app in variants.items():
                gc.collect()
                samples[name].append(await _time_asgi(app, requests))
        return samples

    return _figures(asyncio.run(measure()))


def run_wsgi(rounds: int, requests: int) -> list[Figure]:
    """Time the WSGI variants; return their figures."""
    variants = wsgi_variants()
    for name, app in variants.items():
        _check_wsgi(name, app)
    return _figures(_rounds(variants, _time_wsgi, rounds, requests))


def ratio(figures: list[Figure]) -> float:
    """What toolkit adds as a fraction of what the peer stack adds."""
    added = {f.name: f.added_us for f in figures}
    return added["toolkit"] / added["peer stack"]


def machine() -> str:
    """CPU model, core count, OS and Python, for the record."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


def versions() -> str:
    """Versions of the measured packages."""
    names = [
        "starlette",
        "flask",
        "opentelemetry-sdk",
        "opentelemetry-instrumentation-asgi",
        "opentelemetry-instrumentation-wsgi",
        "asgi-correlation-id",
        "starlette-exporter",
        "prometheus-flask-exporter",
        "prometheus-client",
        "structlog",
    ]
    return ", ".join(f"{name} {metadata.version(name)}" for name in names)


def _print_table(title: str, figures: list[Figure], out: TextIO) -> None:
    print(title, file=out)
    print(f"  {'variant':<22}{'µs/request':>11}{'(median)':>10}{'added µs':>10}", file=out)
    for figure in figures:
        added = "—" if figure is figures[0] else f"{figure.added_us:.1f}"
        print(
            f"  {figure.name:<22}{figure.best_us:>11.1f}{figure.median_us:>10.1f}{added:>10}",
            file=out,
        )
    share = ratio(figures)
    verdict = "met" if share <= TARGET_RATIO else "NOT met"
    print(
        f"  toolkit / peer stack (added): {share:.2f}  (target ≤ {TARGET_RATIO}: {verdict})",
        file=out,
    )


def benchmark(rounds: int = 9, requests: int = 800, out: TextIO | None = None) -> None:
    """Measure and print the per-request overhead of every variant, ASGI then WSGI."""
    from toolkit.logs import configure_logging

    stream = sys.stdout if out is None else out
    with open(os.devnull, "w", encoding="utf-8") as null:
        configure_logging(service=SERVICE, stream=null)
        asgi = run_asgi(rounds, requests)
        wsgi = run_wsgi(rounds, requests)
    print(
        f"Middleware overhead: CPU µs per request, best (and median) of {rounds} rounds "
        f"x {requests} requests;\nin-process (no sockets), spans dropped by a no-op "
        "exporter, logs to /dev/null.",
        file=stream,
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Machine: {machine()}; load average {load}", file=stream)
    print(f"Versions: {versions()}", file=stream)
    print(file=stream)
    _print_table("ASGI — Starlette route /items/{item_id}", asgi, stream)
    print(file=stream)
    _print_table("WSGI — Flask route /items/<int:item_id>", wsgi, stream)


def main() -> None:
    """``python -m bench.middleware``: run with the default rounds."""
    benchmark()


if __name__ == "__main__":
    main()
