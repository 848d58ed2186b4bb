"""Per-request overhead of toolkit's middleware against a bare app and the usual peer stack.

In-process, no sockets: each app is called directly, ASGI with a pre-built scope and
no-op ``receive``/``send``, WSGI with a pre-built environ and a no-op ``start_response``.
Every variant runs in every round, interleaved, so drift (frequency scaling, a noisy
neighbour) hits them alike. Time is the thread's CPU time, so time spent descheduled
does not count; the figure per variant is its best round (the median shows the spread).
Before timing, one request through each variant is checked: status 200, and as many
spans, access-log lines, duration observations and ``X-Request-ID`` headers as its row
claims — a benchmark of a middleware that silently does nothing would be worthless.

toolkit runs twice: "toolkit", its fast paths open or closed as their gates decide (see
``toolkit._gate``), and "toolkit (public API only)", every gate forced closed while that
variant is built (a middleware picks its span starter in its constructor), checked and
timed, and decided afresh after each of its rounds. Both rows come from the same run, so
what the fast paths save is measured, not inferred.

Fairness: toolkit and the peers each get their own SDK ``TracerProvider`` with the same
synchronous processor and a span exporter that drops spans; toolkit's logs go to
``/dev/null`` (the peers write no per-request line). The peers run with their defaults,
except that route templates are asked for where that is an option (toolkit always
labels by template).

The last two rows of each table are floors. "SDK span alone": a minimal middleware that
only records a server span with the SDK's ``start_span`` (the attributes issue 3
requires, made current, renamed, route and status set, ended). "toolkit span + line":
the least toolkit's stack records — its own server span (``ServerSpanStarter``, same
attributes) and the access-log line, nothing else (no correlation ID, metrics or
WSGI/ASGI plumbing). Both are printed next to the target's budget, a quarter of what
the peer stack adds.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import logging
import os
import platform
import statistics
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from time import thread_time_ns
from typing import Any, TextIO

import structlog
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from prometheus_client import CollectorRegistry

import toolkit

# Every gate module, so that every gate is declared in GATES before any is forced.
import toolkit.metrics._prometheus_gate
from toolkit import semconv
from toolkit._gate import GATES, GateStatus
from toolkit.logs import configure_logging, write_event_line
from toolkit.logs._structlog_gate import STRUCTLOG_GATE
from toolkit.tracing._sdk_gate import SERVER_SPAN_GATE, ServerSpan, ServerSpanStarter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

SERVICE = "bench"
TARGET_RATIO = 0.25  # issue 3: toolkit adds at most a quarter of what the peer stack adds
FLOOR = "SDK span alone"  # a span recorded by the SDK's start_span, and nothing else
LINE_FLOOR = "toolkit span + line"  # toolkit's span and access line, and nothing else
PUBLIC = "toolkit (public API only)"  # toolkit with every gate forced closed


class DropSpanExporter(SpanExporter):
    """Count every span and keep none: export cost without memory growth."""

    def __init__(self) -> None:
        self.exported = 0
        self.last: ReadableSpan | None = None  # to tell toolkit's own span from the SDK's

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Count and drop ``spans``."""
        self.exported += len(spans)
        if spans:
            self.last = spans[-1]
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release."""


def tracer_provider(exporter: DropSpanExporter | None = None) -> TracerProvider:
    """A fresh SDK provider that samples everything and exports to ``exporter``."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter or DropSpanExporter()))
    return provider


@dataclass
class Variant:
    """One app to time, and what one request through it must produce (None: unchecked)."""

    name: str
    app: Any
    exporter: DropSpanExporter | None = None
    registry: CollectorRegistry | None = None
    spans: int | None = None  # at least this many spans exported per request
    access_lines: int | None = None  # toolkit access-log lines per request
    durations: int | None = None  # toolkit duration-histogram observations per request
    correlation_header: bool = False  # X-Request-ID on the response
    own_span: bool | None = None  # the span is (True) or is not (False) toolkit's ServerSpan
    public_api: bool = False  # run with every gate forced closed


def decide_gates() -> list[GateStatus]:
    """Each gate's decision, made now: the self-checks run here, not in a timed request."""
    return [gate.status() for gate in GATES]


@contextmanager
def gates_closed(closed: bool = True) -> Iterator[None]:
    """Force every gate closed for the block (if ``closed``), then let them decide again.

    The decisions are made at both ends, outside any timed request: forcing only drops the
    remembered decision, and the next ``active()`` would otherwise make it (and, going
    back, run the self-checks) inside a timed loop.
    """
    if not closed:
        yield
        return
    for gate in GATES:
        gate.force(False)
    decide_gates()
    try:
        yield
    finally:
        for gate in GATES:
            gate.force(None)
        decide_gates()


# The full stack, then without one part each: what every part costs.
TOOLKIT_VARIANTS: dict[str, str | None] = {
    "toolkit": None,
    "  without access log": "access_log",
    "  without tracing": "tracing",
    "  without metrics": "metrics",
}


def toolkit_variant(
    name: str, app: Any, off: str | None = None, *, public_api: bool = False
) -> Variant:
    """``app`` under ``toolkit.instrument``, with the part named ``off`` switched off; with
    ``public_api``, built (and later run) with every gate closed."""
    exporter, registry = DropSpanExporter(), CollectorRegistry()
    options: dict[str, Any] = {} if off is None else {off: False}
    with gates_closed(public_api):  # the span starter is chosen in the constructor
        wrapped = toolkit.instrument(
            app,
            service=SERVICE,
            registry=registry,
            tracer_provider=tracer_provider(exporter),
            configure_logging=False,
            **options,
        )
    fast_span = SERVER_SPAN_GATE.active() and not public_api
    return Variant(
        name,
        wrapped,
        exporter,
        registry,
        spans=0 if off == "tracing" else 1,
        access_lines=0 if off == "access_log" else 1,
        durations=0 if off == "metrics" else 1,
        correlation_header=True,
        own_span=None if off == "tracing" else fast_span,
        public_api=public_api,
    )


def toolkit_variants(make_app: Callable[[], Any]) -> list[Variant]:
    """toolkit as its gates decide, with the public API only, then part by part."""
    full, *parts = TOOLKIT_VARIANTS.items()
    return [
        toolkit_variant(full[0], make_app(), full[1]),
        toolkit_variant(PUBLIC, make_app(), full[1], public_api=True),
        *(toolkit_variant(name, make_app(), off) for name, off in parts),
    ]


def peer_variant(name: str, wrap: Callable[[TracerProvider], Any], **expect: Any) -> Variant:
    """A peer stack built by ``wrap`` around its own provider."""
    exporter = DropSpanExporter()
    return Variant(name, wrap(tracer_provider(exporter)), exporter, spans=1, **expect)


FLOOR_CORRELATION_ID = "0af7651916cd43dd8448eb211c80319c"


def floor_attributes(method: str, scheme: str, path: str, client: str) -> dict[str, Any]:
    """The span attributes issue 3 requires, as every floor row records them."""
    return {
        semconv.SPAN_ATTR_HTTP_METHOD: method,
        semconv.SPAN_ATTR_URL_SCHEME: scheme,
        semconv.SPAN_ATTR_URL_PATH: path,
        semconv.SPAN_ATTR_CLIENT_ADDRESS: client,
        semconv.SPAN_ATTR_CORRELATION_ID: FLOOR_CORRELATION_ID,
    }


def line_floor_variants(wrap: Callable[[TracerProvider], Any]) -> list[Variant]:
    """The "toolkit span + line" floor built by ``wrap`` (one span, one access line), if
    the fast paths it is made of are open; none otherwise."""
    if not (SERVER_SPAN_GATE.active() and STRUCTLOG_GATE.active()):
        return []
    variant = peer_variant(LINE_FLOOR, wrap)
    variant.access_lines = 1
    variant.own_span = True
    return [variant]


class SpanAndLine:
    """What toolkit records at the least for a request: its server span, current while
    the app runs, and the access-log line — the floor of the "toolkit span + line" rows."""

    def __init__(self, provider: TracerProvider, route: str) -> None:
        """Start spans with toolkit's starter for an SDK tracer of ``provider``."""
        from opentelemetry import context

        starter = ServerSpanStarter.for_tracer(provider.get_tracer("bench.floor"))
        assert starter is not None
        self.starter = starter
        self.route = route
        self.root = context.Context()

    def begin(self, method: str, scheme: str, path: str, client: str) -> tuple[Any, object]:
        """Start the span with the attributes issue 3 requires; make it current."""
        from opentelemetry import context, trace

        attributes = floor_attributes(method, scheme, path, client)
        span = self.starter.start(method, self.root, attributes)
        return span, context.attach(trace.set_span_in_context(span, self.root))

    def end(self, span: Any, token: Any, method: str, path: str) -> None:
        """Name the span, set route and status, write the access line, end and detach."""
        from opentelemetry import context

        route = self.route
        span.record_outcome(
            f"{method} {route}",
            {semconv.SPAN_ATTR_HTTP_ROUTE: route, semconv.SPAN_ATTR_HTTP_STATUS_CODE: 200},
            False,
        )
        write_event_line(
            "toolkit.access",
            semconv.ACCESS_LOG_EVENT,
            {
                semconv.LOG_METHOD: method,
                semconv.LOG_ROUTE: route,
                semconv.LOG_PATH: path,
                semconv.LOG_STATUS: 200,
                semconv.LOG_DURATION_MS: 0.05,
                semconv.LOG_RESPONSE_BYTES: 2,
            },
            correlation_id=FLOOR_CORRELATION_ID,
            span_context=span.get_span_context(),
        )
        span.end()
        context.detach(token)


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


def asgi_peer_stack(provider: TracerProvider) -> ASGIApp:
    """The peer stack around the Starlette app: asgi-correlation-id and starlette-exporter
    inside, OpenTelemetry's ASGI middleware outside, spans to ``provider``."""
    from asgi_correlation_id import CorrelationIdMiddleware
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from starlette.middleware import Middleware
    from starlette_exporter import PrometheusMiddleware

    inner = starlette_app(
        [Middleware(CorrelationIdMiddleware), Middleware(PrometheusMiddleware, group_paths=True)]
    )
    return OpenTelemetryMiddleware(inner, tracer_provider=provider)


def starlette_app(middleware: Sequence[Any] = ()) -> ASGIApp:
    """A Starlette app with one templated route answering ``ok``."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def item(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/items/{item_id}", item)], middleware=list(middleware))


def asgi_variants() -> list[Variant]:
    """The bare app; under toolkit (both paths, part by part); under the peer stack."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return [
        Variant("bare Starlette", starlette_app()),
        *toolkit_variants(starlette_app),
        peer_variant("peer stack", asgi_peer_stack, correlation_header=True),
        peer_variant(
            "OTel ASGI alone",
            lambda tp: OpenTelemetryMiddleware(starlette_app(), tracer_provider=tp),
        ),
        peer_variant(FLOOR, lambda tp: asgi_span_floor(starlette_app(), tp)),
        *line_floor_variants(lambda tp: asgi_line_floor(starlette_app(), tp)),
    ]


def asgi_span_floor(app: ASGIApp, provider: TracerProvider) -> ASGIApp:
    """The floor for any stack that records a span: around ``app``, only an SDK server
    span with the attributes issue 3 requires, current while the app runs, renamed and
    given route and status at the end. No correlation ID, metrics or log line."""
    from opentelemetry import context, trace

    tracer = provider.get_tracer("bench.floor")
    root = context.Context()
    route = "/items/{item_id}"

    async def floor(scope: Scope, receive: Any, send: Any) -> None:
        attributes = floor_attributes(
            scope["method"], scope["scheme"], scope["path"], scope["client"][0]
        )
        span = tracer.start_span(
            scope["method"], root, trace.SpanKind.SERVER, attributes=attributes
        )
        token = context.attach(trace.set_span_in_context(span, root))
        try:
            await app(scope, receive, send)
            span.update_name(f"{scope['method']} {route}")
            span.set_attributes(
                {semconv.SPAN_ATTR_HTTP_ROUTE: route, semconv.SPAN_ATTR_HTTP_STATUS_CODE: 200}
            )
        finally:
            span.end()
            context.detach(token)

    return floor


def asgi_line_floor(app: ASGIApp, provider: TracerProvider) -> ASGIApp:
    """The "toolkit span + line" floor around an ASGI ``app``."""
    floor = SpanAndLine(provider, "/items/{item_id}")

    async def span_and_line(scope: Scope, receive: Any, send: Any) -> None:
        path, method = scope["path"], scope["method"]
        span, token = floor.begin(method, scope["scheme"], path, scope["client"][0])
        try:
            await app(scope, receive, send)
        finally:
            floor.end(span, token, method, path)

    return span_and_line


async def _time_asgi(app: ASGIApp, requests: int) -> float:
    scope = ASGI_SCOPE
    start = thread_time_ns()
    for _ in range(requests):
        await app(dict(scope), _receive, _send)
    return (thread_time_ns() - start) / requests / 1000.0


async def _asgi_response(app: ASGIApp) -> tuple[int, set[str]]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(dict(ASGI_SCOPE), _receive, send)
    start = sent[0]
    return start["status"], {k.decode().lower() for k, _ in start["headers"]}


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


def wsgi_span_floor(app: Any, provider: TracerProvider) -> Any:
    """``asgi_span_floor`` for a Flask app: the span ends once the body is closed."""
    from opentelemetry import context, trace

    tracer = provider.get_tracer("bench.floor")
    root = context.Context()
    route = "/items/<int:item_id>"
    inner = app.wsgi_app

    def floor(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ["REQUEST_METHOD"]
        attributes = floor_attributes(
            method, environ["wsgi.url_scheme"], environ["PATH_INFO"], environ["REMOTE_ADDR"]
        )
        span = tracer.start_span(method, root, trace.SpanKind.SERVER, attributes=attributes)
        token = context.attach(trace.set_span_in_context(span, root))
        try:
            result = inner(environ, start_response)
            try:
                body = list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            span.update_name(f"{method} {route}")
            span.set_attributes(
                {semconv.SPAN_ATTR_HTTP_ROUTE: route, semconv.SPAN_ATTR_HTTP_STATUS_CODE: 200}
            )
            return body
        finally:
            span.end()
            context.detach(token)

    app.wsgi_app = floor
    return app


def wsgi_line_floor(app: Any, provider: TracerProvider) -> Any:
    """The "toolkit span + line" floor around a Flask ``app``: ends once the body is closed."""
    floor = SpanAndLine(provider, "/items/<int:item_id>")
    inner = app.wsgi_app

    def span_and_line(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        span, token = floor.begin(method, environ["wsgi.url_scheme"], path, environ["REMOTE_ADDR"])
        try:
            result = inner(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        finally:
            floor.end(span, token, method, path)

    app.wsgi_app = span_and_line
    return app


def wsgi_variants() -> list[Variant]:
    """The bare app; toolkit (both paths, part by part); the peer stack; OpenTelemetry alone."""
    from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
    from prometheus_flask_exporter import PrometheusMetrics

    def peer(provider: TracerProvider) -> Any:
        app = flask_app()
        PrometheusMetrics(app, registry=CollectorRegistry(), group_by="url_rule")
        app.wsgi_app = OpenTelemetryMiddleware(app.wsgi_app, tracer_provider=provider)
        return app

    def otel_only(provider: TracerProvider) -> Any:
        app = flask_app()
        app.wsgi_app = OpenTelemetryMiddleware(app.wsgi_app, tracer_provider=provider)
        return app

    return [
        Variant("bare Flask", flask_app()),
        *toolkit_variants(flask_app),
        peer_variant("peer stack", peer),
        peer_variant("OTel WSGI alone", otel_only),
        peer_variant(FLOOR, lambda tp: wsgi_span_floor(flask_app(), tp)),
        *line_floor_variants(lambda tp: wsgi_line_floor(flask_app(), tp)),
    ]


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


def _wsgi_response(app: WSGIApp) -> tuple[int, set[str]]:
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append((status, headers))
        return _write

    _call_wsgi(app, start_response)
    status, headers = seen[0]
    return int(status.split()[0]), {k.lower() for k, _ in headers}


# --- Checking that each variant does what its row claims -----------------------------------


def _durations(registry: CollectorRegistry | None) -> float:
    if registry is None:
        return 0.0
    name = f"{semconv.HTTP_SERVER_REQUEST_DURATION}_count"
    return sum(
        sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name == name
    )


async def check(
    variant: Variant, respond: Callable[[Any], Awaitable[tuple[int, set[str]]]]
) -> None:
    """Send one request through ``variant``; raise if it does not do what its row claims."""
    log = io.StringIO()
    configure_logging(service=SERVICE, stream=log)
    spans_before = variant.exporter.exported if variant.exporter else 0
    durations_before = _durations(variant.registry)
    status, headers = await respond(variant.app)
    spans = (variant.exporter.exported if variant.exporter else 0) - spans_before
    access = [
        line
        for line in log.getvalue().splitlines()
        if json.loads(line).get(semconv.LOG_EVENT) == semconv.ACCESS_LOG_EVENT
    ]
    problems = []
    if status != 200:
        problems.append(f"status {status}")
    if variant.correlation_header and "x-request-id" not in headers:
        problems.append("no X-Request-ID on the response")
    if variant.spans is not None and not (spans >= variant.spans if variant.spans else spans == 0):
        problems.append(f"{spans} spans exported")
    if variant.access_lines is not None and len(access) != variant.access_lines:
        problems.append(f"{len(access)} access-log lines")
    if variant.durations is not None:
        observed = _durations(variant.registry) - durations_before
        if observed != variant.durations:
            problems.append(f"{observed:g} duration observations")
    if variant.own_span is not None and variant.exporter is not None and spans:
        own = isinstance(variant.exporter.last, ServerSpan)
        if own != variant.own_span:
            kind = "toolkit's own" if own else "the SDK's"
            problems.append(f"the server span was started by {kind} starter")
    if problems:
        raise RuntimeError(f"{variant.name.strip()}: {'; '.join(problems)}")


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


async def _measure(
    variants: list[Variant],
    respond: Callable[[Any], Awaitable[tuple[int, set[str]]]],
    timer: Callable[[Any, int], Awaitable[float]],
    rounds: int,
    requests: int,
    log: TextIO,
) -> dict[str, list[float]]:
    for variant in variants:
        with gates_closed(variant.public_api):
            await check(variant, respond)
    configure_logging(service=SERVICE, stream=log)
    samples: dict[str, list[float]] = {v.name: [] for v in variants}
    for variant in variants:  # warm-up: imports, caches, first-request paths
        with gates_closed(variant.public_api):
            await timer(variant.app, max(requests // 10, 10))
    for _ in range(rounds):
        for variant in variants:
            with gates_closed(variant.public_api):
                gc.collect()
                samples[variant.name].append(await timer(variant.app, requests))
    return samples


def run_asgi(rounds: int, requests: int, log: TextIO) -> list[Figure]:
    """Check and time the ASGI variants; return their figures."""
    measure = _measure(asgi_variants(), _asgi_response, _time_asgi, rounds, requests, log)
    return _figures(asyncio.run(measure))


def run_wsgi(rounds: int, requests: int, log: TextIO) -> list[Figure]:
    """Check and time the WSGI variants; return their figures."""

    async def respond(app: Any) -> tuple[int, set[str]]:
        return _wsgi_response(app)

    async def timer(app: Any, n: int) -> float:
        return _time_wsgi(app, n)  # synchronous inside: no event-loop work is timed

    measure = _measure(wsgi_variants(), respond, timer, rounds, requests, log)
    return _figures(asyncio.run(measure))


def ratio(figures: list[Figure], name: str = "toolkit") -> float:
    """What the variant ``name`` adds as a fraction of what the peer stack adds."""
    added = {f.name: f.added_us for f in figures}
    return added[name] / added["peer stack"]


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
    found = ", ".join(f"{name} {metadata.version(name)}" for name in names)
    try:
        encoder = f"orjson {metadata.version('orjson')}"
    except metadata.PackageNotFoundError:
        encoder = "stdlib json (orjson not installed)"
    return f"{found}; log encoder: {encoder}"


def _print_table(title: str, figures: list[Figure], out: TextIO) -> None:
    print(title, file=out)
    print(f"  {'variant':<28}{'µs/request':>11}{'(median)':>10}{'added µs':>10}", file=out)
    for figure in figures:
        added = "—" if figure is figures[0] else f"{figure.added_us:.1f}"
        print(
            f"  {figure.name:<28}{figure.best_us:>11.1f}{figure.median_us:>10.1f}{added:>10}",
            file=out,
        )
    for name, label in (("toolkit", "toolkit"), (PUBLIC, "public API only")):
        share = ratio(figures, name)
        verdict = "met" if share <= TARGET_RATIO else "NOT met"
        print(
            f"  {label} / peer stack (added): {share:.3f}  (target ≤ {TARGET_RATIO}: {verdict})",
            file=out,
        )
    added = {f.name: f.added_us for f in figures}
    budget = TARGET_RATIO * added["peer stack"]
    floors = f"an SDK span alone adds {added[FLOOR]:.1f} µs"
    if LINE_FLOOR in added:
        floors += f", toolkit's span + access line {added[LINE_FLOOR]:.1f} µs"
    else:
        floors += f"; no {LINE_FLOOR!r} row: the fast paths it is made of are closed"
    print(f"  budget: {budget:.1f} µs added; floors: {floors}", file=out)


def benchmark(rounds: int = 7, requests: int = 600, out: TextIO | None = None) -> None:
    """Measure and print the per-request overhead of every variant, ASGI then WSGI."""
    stream = sys.stdout if out is None else out
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        with open(os.devnull, "w", encoding="utf-8") as null:
            asgi = run_asgi(rounds, requests, null)
            wsgi = run_wsgi(rounds, requests, null)
    finally:  # leave logging as it was: the next benchmark must not write to a closed file
        structlog.reset_defaults()
        root.handlers[:] = handlers
        root.setLevel(level)
    print(
        f"Middleware overhead: CPU µs per request, best (and median) of {rounds} rounds "
        f"x {requests} requests;\nin-process (no sockets), spans dropped by a no-op "
        "exporter, logs to /dev/null.",
        file=stream,
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Machine: {machine()}; load average {load}", file=stream)
    print(f"Versions: {versions()}", file=stream)
    print('Gates, as they decide for the "toolkit" rows:', file=stream)
    for status in decide_gates():
        state = "fast path" if status.active else "public API"
        print(f"  {status.name}: {state} ({status.reason})", file=stream)
    print(file=stream)
    _print_table("ASGI — Starlette route /items/{item_id}", asgi, stream)
    print(file=stream)
    _print_table("WSGI — Flask route /items/<int:item_id>", wsgi, stream)


def main() -> None:
    """``python -m bench.middleware``: run with the default rounds."""
    benchmark()


if __name__ == "__main__":
    main()
