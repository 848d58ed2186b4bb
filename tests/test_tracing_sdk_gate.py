"""ServerSpanStarter / ServerSpan: the span the SDK's own ``Tracer.start_span`` would give.

The fast path is only ever used on SDK releases inside the gate's tested range: on any
other release these comparisons are skipped (toolkit uses ``start_span`` there; the
gate's own tests and the drift simulations cover that).

Every comparison runs the same steps twice, on two identical fresh pipelines (a provider
each, a counting IdGenerator each, so span IDs match too): once through the SDK's
``start_span(kind=SERVER)`` and once through ``ServerSpanStarter``. The clock of the span
module is fixed to the start time passed to the SDK, so whole exported spans — and their
OTLP protobuf bytes — can be compared for equality.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, cast

import pytest
from opentelemetry import baggage, trace
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.sdk.util.instrumentation import InstrumentationInfo, InstrumentationScope
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util import types

from toolkit import semconv
from toolkit._gate import installed_version, release
from toolkit.tracing import _sdk_gate as span_module
from toolkit.tracing._sdk_gate import ServerSpan, ServerSpanStarter

pytestmark = pytest.mark.skipif(
    not (
        release(span_module.TESTED_RELEASES[0])
        <= release(installed_version("opentelemetry-sdk") or "0")
        < release(span_module.TESTED_RELEASES[1])
    ),
    reason="opentelemetry-sdk outside the fast path's tested range: the fast path is not used",
)

START = 1_700_000_000_000_000_000
END = START + 5_000_000
RESOURCE = Resource({"service.name": "orders"})
LOW_TRACE_ID = 0x0000000000000000_0000000000000100  # sampled by TraceIdRatioBased(0.5)
HIGH_TRACE_ID = 0x0000000000000000_FF00000000000000  # not sampled by TraceIdRatioBased(0.5)
# Where SDK releases differ (toolkit's span follows the installed SDK either way; the
# tests comparing with the SDK hold on every release, the spelled-out values on these):
RANDOM = 0x02 if hasattr(IdGenerator, "is_trace_id_random") else 0x00  # W3C random flag
SDK_CLEANS_AS_1_45 = "probe" in BoundedAttributes(attributes={"probe": {"a": 1}})  # maps kept
REMOTE_TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
REMOTE_SPAN_ID = 0xB7AD6B7169203331
TRACESTATE = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
ATTRIBUTES: dict[str, types.AnyValue] = {
    semconv.SPAN_ATTR_HTTP_METHOD: "GET",
    semconv.SPAN_ATTR_URL_PATH: "/orders/7",
    semconv.SPAN_ATTR_URL_SCHEME: "http",
    semconv.SPAN_ATTR_SERVER_PORT: 8000,
    semconv.SPAN_ATTR_CORRELATION_ID: "cid-1",
}


class Opaque:
    """A value with neither __str__ nor __repr__ of its own: the SDK cleans it to None."""

    __slots__ = ()


LINKED = SpanContext(0x1234, 0x5678, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))


# --- the pipeline -----------------------------------------------------------------------


class CountingIds(IdGenerator):
    """Trace IDs from ``first_trace_id`` and span IDs from 1, counting up."""

    def __init__(self, first_trace_id: int, random: bool) -> None:
        self._trace_id = first_trace_id
        self._span_id = 0
        self._random = random

    def generate_trace_id(self) -> int:
        trace_id = self._trace_id
        self._trace_id += 1
        return trace_id

    def generate_span_id(self) -> int:
        self._span_id += 1
        return self._span_id

    def is_trace_id_random(self) -> bool:
        return self._random


class Recorder(SpanProcessor):
    """Every on_start (name, parent context) and on_end span, sampled or not."""

    def __init__(self) -> None:
        self.started: list[tuple[str, Context | None]] = []
        self.ended: list[ReadableSpan] = []

    def on_start(self, span: sdk_trace.Span, parent_context: Context | None = None) -> None:
        self.started.append((span.name, parent_context))

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span)


class Spy(Sampler):
    """Delegates to ``sampler`` and records every call it gets."""

    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler
        self.calls: list[tuple[Any, ...]] = []

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: types.Attributes = None,
        links: Sequence[trace.Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        self.calls.append(
            (parent_context, trace_id, name, kind, dict(attributes or {}), tuple(links or ()))
        )
        return self.sampler.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"Spy({self.sampler.get_description()})"


class FixedSampler(Sampler):
    """Returns ``decision`` with the span's attributes updated by ``added``, in new state
    (or, ``in_place``, the very dict it was given, edited, and no state)."""

    def __init__(
        self, decision: Decision, added: Mapping[str, Any], *, in_place: bool = False
    ) -> None:
        self.decision = decision
        self.added = dict(added)
        self.in_place = in_place  # edit the attributes it is given and return them

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: types.Attributes = None,
        links: Sequence[trace.Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if self.in_place:
            assert isinstance(attributes, dict)
            attributes.update(self.added)
            return SamplingResult(self.decision, attributes, None)
        return SamplingResult(
            self.decision,
            {**(attributes or {}), **self.added},
            TraceState([("sampler", "fixed")]),
        )

    def get_description(self) -> str:
        return "FixedSampler"


@dataclass
class Pipeline:
    """A fresh provider with an in-memory exporter and a recording processor."""

    provider: TracerProvider
    tracer: sdk_trace.Tracer
    exporter: InMemorySpanExporter
    recorder: Recorder
    sampler: Spy
    metrics: InMemoryMetricReader | None = None
    processors: list[SpanProcessor] = field(default_factory=list)


def pipeline(
    sampler: Sampler | None = None,
    limits: SpanLimits | None = None,
    first_trace_id: int = LOW_TRACE_ID,
    random_ids: bool = True,
    processors: Sequence[SpanProcessor] = (),
    metrics: bool = False,
) -> Pipeline:
    """A fresh pipeline: the same arguments give pipelines that make identical spans."""
    spy = Spy(sampler if sampler is not None else ParentBased(ALWAYS_ON))
    reader = InMemoryMetricReader() if metrics else None
    extra: dict[str, Any] = {}
    if reader is not None:  # SDK releases with their own span metrics only
        extra["meter_provider"] = MeterProvider(metric_readers=[reader])
    provider = TracerProvider(
        sampler=spy,
        resource=RESOURCE,
        shutdown_on_exit=False,
        id_generator=CountingIds(first_trace_id, random_ids),
        span_limits=limits,
        **extra,
    )
    for processor in processors:
        provider.add_span_processor(processor)
    recorder = Recorder()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(recorder)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("toolkit.middleware", "1.2.3", "https://schema/1")
    assert type(tracer) is sdk_trace.Tracer
    return Pipeline(provider, tracer, exporter, recorder, spy, reader, list(processors))


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The span module's clock reads START, the start time the SDK spans are given."""
    monkeypatch.setattr(span_module, "time_ns", lambda: START)


Start = Callable[[Pipeline, str, Context, Mapping[str, Any]], trace.Span]


def start_sdk(p: Pipeline, name: str, ctx: Context, attrs: Mapping[str, Any]) -> trace.Span:
    """The SDK's way, as the middleware calls it for a non-SDK tracer."""
    return p.tracer.start_span(
        name, context=ctx, kind=SpanKind.SERVER, attributes=dict(attrs), start_time=START
    )


def start_toolkit(p: Pipeline, name: str, ctx: Context, attrs: Mapping[str, Any]) -> trace.Span:
    """ServerSpanStarter's way."""
    starter = ServerSpanStarter.for_tracer(p.tracer)
    assert starter is not None
    return starter.start(name, ctx, dict(attrs))


def outcome(
    span: trace.Span, name: str | None, attrs: dict[str, types.AnyValue], error: bool
) -> None:
    """The middleware's last word on a span, by the path core.py takes for its type."""
    if type(span) is ServerSpan:
        span.record_outcome(name, attrs, error)
        return
    if name is not None:
        span.update_name(name)
    if error:
        span.set_status(Status(StatusCode.ERROR))
    span.set_attributes(attrs)


# --- what is compared -------------------------------------------------------------------


def typed(attributes: types.Attributes) -> dict[str, tuple[str, Any]]:
    """Attributes with each value's type: 1 == True, yet they export differently."""
    return {key: (type(value).__name__, value) for key, value in (attributes or {}).items()}


def context_fields(ctx: SpanContext | None) -> tuple[Any, ...] | None:
    """Every field of a span context; trace state as its header."""
    if ctx is None:
        return None
    return (
        ctx.trace_id,
        ctx.span_id,
        int(ctx.trace_flags),
        ctx.trace_state.to_header(),
        ctx.is_remote,
    )


def fields(span: ReadableSpan) -> dict[str, Any]:
    """Everything an exporter can read from a finished span."""
    scope = span.instrumentation_scope
    assert scope is not None
    return {
        "name": span.name,
        "kind": span.kind,
        "context": context_fields(span.context),
        "parent": context_fields(span.parent),
        "start_time": span.start_time,
        "end_time": span.end_time,
        "attributes": typed(span.attributes),
        "status": (span.status.status_code, span.status.description),
        "resource": (dict(span.resource.attributes), span.resource.schema_url),
        "scope": (scope.name, scope.version, scope.schema_url, dict(scope.attributes or {})),
        "events": [
            (e.name, e.timestamp, typed(e.attributes), e.dropped_attributes) for e in span.events
        ],
        "links": [
            (context_fields(link.context), typed(link.attributes), link.dropped_attributes)
            for link in span.links
        ],
        "dropped": (span.dropped_attributes, span.dropped_events, span.dropped_links),
    }


def otlp(spans: Sequence[ReadableSpan]) -> bytes:
    """The OTLP protobuf an exporter would send."""
    return bytes(encode_spans(spans).SerializeToString(deterministic=True))


@dataclass
class Run:
    """What one way of starting a span produced, for comparison with the other way."""

    recording: bool
    span_type: str
    context: tuple[Any, ...] | None
    sampler_calls: list[tuple[Any, ...]]
    started: list[tuple[str, bool]]
    ended: list[dict[str, Any]]
    exported: list[dict[str, Any]]
    encoded: bytes


def run(
    start: Start,
    ctx: Context,
    steps: Callable[[trace.Span], None] = lambda span: None,
    **options: Any,
) -> tuple[Run, Pipeline, trace.Span]:
    """Start a span on a fresh pipeline, apply ``steps``, end it; record what came out."""
    p = pipeline(**options)
    span = start(p, "GET", ctx, ATTRIBUTES)
    steps(span)
    span.end(END)
    exported = list(p.exporter.get_finished_spans())
    result = Run(
        recording=isinstance(span, sdk_trace.Span),
        span_type="NonRecordingSpan" if isinstance(span, NonRecordingSpan) else "Span",
        context=context_fields(span.get_span_context()),
        sampler_calls=[(c[0] is ctx, *c[1:]) for c in p.sampler.calls],
        started=[(name, parent is ctx) for name, parent in p.recorder.started],
        ended=[fields(s) for s in p.recorder.ended],
        exported=[fields(s) for s in exported],
        encoded=otlp(exported),
    )
    return result, p, span


def both(
    ctx: Context, steps: Callable[[trace.Span], None] = lambda span: None, **options: Any
) -> tuple[Run, Run]:
    """The same run through the SDK and through ServerSpanStarter."""
    sdk, _, _ = run(start_sdk, ctx, steps, **options)
    toolkit, _, _ = run(start_toolkit, ctx, steps, **options)
    return sdk, toolkit


def remote(traceparent: str, tracestate: str | None = None) -> Context:
    """The context a server extracts from W3C trace-context headers."""
    carrier = {"traceparent": traceparent}
    if tracestate is not None:
        carrier["tracestate"] = tracestate
    return TraceContextTextMapPropagator().extract(carrier)


PARENTS = {
    "root": (Context(), LOW_TRACE_ID),
    "root-high-trace-id": (Context(), HIGH_TRACE_ID),
    "remote-sampled": (remote(f"00-{REMOTE_TRACE_ID:032x}-{REMOTE_SPAN_ID:016x}-01"), 1),
    "remote-sampled-random": (remote(f"00-{REMOTE_TRACE_ID:032x}-{REMOTE_SPAN_ID:016x}-03"), 1),
    "remote-unsampled": (remote(f"00-{REMOTE_TRACE_ID:032x}-{REMOTE_SPAN_ID:016x}-00"), 1),
    "remote-tracestate": (
        remote(f"00-{REMOTE_TRACE_ID:032x}-{REMOTE_SPAN_ID:016x}-01", TRACESTATE),
        1,
    ),
}
SAMPLERS: dict[str, Callable[[], Sampler]] = {
    "parentbased-always-on": lambda: ParentBased(ALWAYS_ON),
    "always-on": lambda: ALWAYS_ON,
    "always-off": lambda: ALWAYS_OFF,
    "ratio": lambda: TraceIdRatioBased(0.5),
    "parentbased-ratio": lambda: ParentBased(TraceIdRatioBased(0.5)),
    "record-only": lambda: FixedSampler(Decision.RECORD_ONLY, {}),
    "drop-with-attributes": lambda: FixedSampler(Decision.DROP, {"sampler.rule": "r1"}),
    "adds-attributes": lambda: FixedSampler(
        Decision.RECORD_AND_SAMPLE,
        {
            "sampler.rule": "r1",
            "sampler.dict": {"a": 1},
            "sampler.list": [1, 2],
            "sampler.mixed": [1, "a"],
            "sampler.decimal": Decimal("1.5"),
            "sampler.opaque": Opaque(),
            semconv.SPAN_ATTR_SERVER_PORT: "8000",
        },
    ),
}


# --- equivalence with the SDK -----------------------------------------------------------


@pytest.mark.parametrize("random_ids", [True, False], ids=["random-ids", "non-random-ids"])
@pytest.mark.parametrize("sampler", list(SAMPLERS), ids=list(SAMPLERS))
@pytest.mark.parametrize("parent", list(PARENTS), ids=list(PARENTS))
def test_same_span_as_the_sdk(parent: str, sampler: str, random_ids: bool) -> None:
    """For every parent x sampler x ID generator, the starter gives what start_span gives:
    the same sampler call, returned span type and context, on_start/on_end calls and
    exported span (every field, dropped counts, OTLP bytes)."""
    ctx, first_trace_id = PARENTS[parent]
    options: dict[str, Any] = {"first_trace_id": first_trace_id, "random_ids": random_ids}
    sdk, _, _ = run(start_sdk, ctx, sampler=SAMPLERS[sampler](), **options)
    toolkit, _, _ = run(start_toolkit, ctx, sampler=SAMPLERS[sampler](), **options)
    assert toolkit == sdk
    assert len(sdk.sampler_calls) == 1


@pytest.mark.parametrize(
    ("parent", "random_ids", "expected_context", "expected_parent"),
    [
        ("root", True, (LOW_TRACE_ID, 1, 0x01 | RANDOM, "", False), None),
        ("root", False, (LOW_TRACE_ID, 1, 0x01, "", False), None),
        (
            "remote-sampled",
            True,
            (REMOTE_TRACE_ID, 1, 0x01, "", False),
            (REMOTE_TRACE_ID, REMOTE_SPAN_ID, 0x01, "", True),
        ),
        (
            "remote-sampled-random",
            False,
            (REMOTE_TRACE_ID, 1, 0x01 | RANDOM, "", False),
            (REMOTE_TRACE_ID, REMOTE_SPAN_ID, 0x03, "", True),
        ),
        (
            "remote-tracestate",
            True,
            (REMOTE_TRACE_ID, 1, 0x01, TRACESTATE, False),
            (REMOTE_TRACE_ID, REMOTE_SPAN_ID, 0x01, TRACESTATE, True),
        ),
    ],
)
def test_exported_span_fields(
    parent: str,
    random_ids: bool,
    expected_context: tuple[Any, ...],
    expected_parent: tuple[Any, ...] | None,
) -> None:
    """The exported ServerSpan carries the expected IDs, flags (random-trace-id from the
    generator for a root, from the parent otherwise), trace state, parent, resource, scope."""
    ctx, first_trace_id = PARENTS[parent]
    result, _, span = run(start_toolkit, ctx, first_trace_id=first_trace_id, random_ids=random_ids)
    assert type(span) is ServerSpan
    assert result.exported == [
        {
            "name": "GET",
            "kind": SpanKind.SERVER,
            "context": expected_context,
            "parent": expected_parent,
            "start_time": START,
            "end_time": END,
            "attributes": typed(ATTRIBUTES),
            "status": (StatusCode.UNSET, None),
            "resource": ({"service.name": "orders"}, ""),
            "scope": ("toolkit.middleware", "1.2.3", "https://schema/1", {}),
            "events": [],
            "links": [],
            "dropped": (0, 0, 0),
        }
    ]
    assert result.sampler_calls == [
        (True, expected_context[0], "GET", SpanKind.SERVER, ATTRIBUTES, ())
    ]


@pytest.mark.parametrize(
    ("parent", "sampler", "expected_context"),
    [
        ("root", "always-off", (LOW_TRACE_ID, 1, RANDOM, "", False)),
        ("remote-unsampled", "parentbased-always-on", (REMOTE_TRACE_ID, 1, 0x00, "", False)),
        ("root-high-trace-id", "ratio", (HIGH_TRACE_ID, 1, RANDOM, "", False)),
    ],
)
def test_dropped_span_is_non_recording(
    parent: str, sampler: str, expected_context: tuple[Any, ...]
) -> None:
    """A DROP decision gives a NonRecordingSpan with a new span ID and unsampled flags;
    no processor sees it, nothing is exported."""
    ctx, first_trace_id = PARENTS[parent]
    result, _, span = run(
        start_toolkit, ctx, sampler=SAMPLERS[sampler](), first_trace_id=first_trace_id
    )
    assert type(span) is NonRecordingSpan
    assert result.context == expected_context
    assert (result.started, result.ended, result.exported) == ([], [], [])


@pytest.mark.skipif(not SDK_CLEANS_AS_1_45, reason="values as SDK 1.45 cleans them")
def test_sampler_attributes_are_cleaned() -> None:
    """Attributes a sampler adds go through the SDK's cleaning (SDK 1.45: maps and mixed
    sequences are valid values): lists made tuples, a dict copied, a Decimal made its
    str, an object without a str of its own made None, a replaced value as given."""
    result, _, _ = run(start_toolkit, Context(), sampler=SAMPLERS["adds-attributes"]())
    assert result.exported[0]["attributes"] == typed(
        {
            **ATTRIBUTES,
            semconv.SPAN_ATTR_SERVER_PORT: "8000",
            "sampler.rule": "r1",
            "sampler.dict": {"a": 1},
            "sampler.list": (1, 2),
            "sampler.mixed": (1, "a"),
            "sampler.decimal": "1.5",
            "sampler.opaque": None,
        }
    )
    assert result.exported[0]["context"] == (LOW_TRACE_ID, 1, 0x01 | RANDOM, "sampler=fixed", False)


def test_record_only_span_reaches_processors_but_not_the_exporter() -> None:
    """RECORD_ONLY: a recording ServerSpan, unsampled; on_end gets it, the sampled-only
    SimpleSpanProcessor does not export it."""
    result, _, span = run(start_toolkit, Context(), sampler=SAMPLERS["record-only"]())
    assert type(span) is ServerSpan
    assert [e["context"] for e in result.ended] == [
        (LOW_TRACE_ID, 1, RANDOM, "sampler=fixed", False)
    ]
    assert result.exported == []


def test_sampler_replacing_a_value_by_an_equal_one_of_another_type() -> None:
    """A sampler that returns {port: True} for {port: 1} gets True exported, as the SDK does."""
    sampler = FixedSampler(Decision.RECORD_AND_SAMPLE, {semconv.SPAN_ATTR_SERVER_PORT: True})
    p = pipeline(sampler=sampler)
    span = start_toolkit(p, "GET", Context(), {semconv.SPAN_ATTR_SERVER_PORT: 1})
    span.end(END)
    exported = p.exporter.get_finished_spans()[0]
    assert typed(exported.attributes) == {semconv.SPAN_ATTR_SERVER_PORT: ("bool", True)}


def test_sampler_editing_the_attributes_in_place() -> None:
    """A sampler that puts a value in the very dict it was given gets it cleaned (a list
    becomes a tuple) as the SDK does, and the caller's dict is left as it was."""
    added = {"sampler.list": [1, 2]}
    own = {semconv.SPAN_ATTR_SERVER_PORT: 1}
    exported = []
    for start in (start_sdk, start_toolkit):
        p = pipeline(sampler=FixedSampler(Decision.RECORD_AND_SAMPLE, added, in_place=True))
        start(p, "GET", Context(), own).end(END)
        exported.append(p.exporter.get_finished_spans()[0])
    sdk, toolkit = exported
    assert typed(toolkit.attributes) == {
        semconv.SPAN_ATTR_SERVER_PORT: ("int", 1),
        "sampler.list": ("tuple", (1, 2)),
    }
    assert typed(toolkit.attributes) == typed(sdk.attributes)


# --- the public API, limits and the middleware's outcome --------------------------------


def exception() -> ValueError:
    """An exception that was raised, so it has a traceback."""
    try:
        raise ValueError("boom")
    except ValueError as exc:
        return exc


BOOM = exception()


def public_api(span: trace.Span) -> None:
    """What an app, a hook or another library may do to the server span."""
    span.set_attribute("app.list", [1, 2])
    span.set_attribute("app.dict", {"a": 1})
    span.set_attribute("app.mixed", [1, "a"])
    span.set_attribute("app.decimal", Decimal("1.5"))  # type: ignore[arg-type]
    span.set_attribute("app.opaque", Opaque())  # type: ignore[arg-type]
    span.set_attribute("", "empty key")
    span.set_attribute("app.text", "abcdefgh")
    span.set_attributes({"app.float": 1.5, "app.tuple": ("abcdefgh", "ij")})
    span.add_event("cache.miss", {"cache.key": "abcdefgh", "cache.dict": {}}, timestamp=START + 1)
    span.add_event("cache.fill", {"cache.key": "k", "cache.size": 3}, timestamp=START + 2)
    span.record_exception(BOOM, {"app.extra": "e"}, timestamp=START + 3)
    span.add_link(LINKED, {"link.kind": "follows", "link.other": "abcdefgh"})
    span.add_link(trace.INVALID_SPAN_CONTEXT)  # invalid without attributes: ignored
    span.add_link(LINKED)
    span.update_name("GET /orders/{id}")
    outcome(
        span,
        "GET /orders/{id}",
        {
            semconv.SPAN_ATTR_HTTP_ROUTE: "/orders/{id}",
            semconv.SPAN_ATTR_HTTP_STATUS_CODE: 500,
            semconv.SPAN_ATTR_ERROR_TYPE: "500",
        },
        True,
    )


LIMITS = {
    "default": SpanLimits(),
    "span-value-length-4": SpanLimits(max_span_attribute_length=4),
    "value-length-4": SpanLimits(max_attribute_length=4),
    "span-attributes-2": SpanLimits(max_span_attributes=2),
    "attributes-2": SpanLimits(max_attributes=2),
    "events-links-1": SpanLimits(max_events=1, max_links=1),
    "event-link-attributes-1": SpanLimits(max_event_attributes=1, max_link_attributes=1),
    "span-attributes-32": SpanLimits(max_span_attributes=32),
}


@pytest.mark.parametrize("limits", list(LIMITS), ids=list(LIMITS))
def test_public_api_and_limits_as_the_sdk(limits: str) -> None:
    """Attributes, events, exception events, links, name and outcome set through the
    public API are cleaned and bounded as the SDK does under each span-limit setting
    (values cut, attributes/events/links dropped and counted the same)."""
    sdk, toolkit = both(Context(), public_api, limits=LIMITS[limits])
    assert toolkit == sdk


@pytest.mark.skipif(not SDK_CLEANS_AS_1_45, reason="values as SDK 1.45 cleans them")
def test_public_api_exported_values() -> None:
    """The exported values under default limits, spelled out: lists become tuples, a
    Decimal its str, an opaque object None, an empty key is dropped and counted, the link
    with an invalid context is ignored, the outcome renames, merges and sets ERROR."""
    result, _, _ = run(start_toolkit, Context(), public_api)
    exported = result.exported[0]
    assert exported["name"] == "GET /orders/{id}"
    assert exported["status"] == (StatusCode.ERROR, None)
    assert exported["attributes"] == typed(
        {
            **ATTRIBUTES,
            "app.list": (1, 2),
            "app.dict": {"a": 1},
            "app.mixed": (1, "a"),
            "app.decimal": "1.5",
            "app.opaque": None,
            "app.text": "abcdefgh",
            "app.float": 1.5,
            "app.tuple": ("abcdefgh", "ij"),
            semconv.SPAN_ATTR_HTTP_ROUTE: "/orders/{id}",
            semconv.SPAN_ATTR_HTTP_STATUS_CODE: 500,
            semconv.SPAN_ATTR_ERROR_TYPE: "500",
        }
    )
    assert [(name, ts) for name, ts, _, _ in exported["events"]] == [
        ("cache.miss", START + 1),
        ("cache.fill", START + 2),
        ("exception", START + 3),
    ]
    exception_attributes = exported["events"][2][2]
    assert exception_attributes["exception.type"] == ("str", "ValueError")
    assert exception_attributes["exception.message"] == ("str", "boom")
    assert exception_attributes["exception.escaped"] == ("str", "False")
    assert exception_attributes["app.extra"] == ("str", "e")
    assert exception_attributes["exception.stacktrace"][1].startswith("Traceback")
    assert exported["links"] == [
        (
            (0x1234, 0x5678, 0x01, "", True),
            typed({"link.kind": "follows", "link.other": "abcdefgh"}),
            0,
        ),
        ((0x1234, 0x5678, 0x01, "", True), {}, 0),
    ]
    assert exported["dropped"] == (1, 0, 0)


@pytest.mark.skipif(not SDK_CLEANS_AS_1_45, reason="values as SDK 1.45 cleans them")
def test_public_api_exported_values_under_limits() -> None:
    """Under max_span_attribute_length=4 the span's values are cut (own ones too), and
    event/link values keep their length (their limit is max_attribute_length)."""
    result, _, _ = run(start_toolkit, Context(), public_api, limits=LIMITS["span-value-length-4"])
    exported = result.exported[0]
    assert exported["attributes"][semconv.SPAN_ATTR_URL_PATH] == ("str", "/ord")
    assert exported["attributes"]["app.tuple"] == ("tuple", ("abcd", "ij"))
    assert exported["attributes"][semconv.SPAN_ATTR_HTTP_ROUTE] == ("str", "/ord")
    assert exported["events"][0][2] == {
        "cache.key": ("str", "abcdefgh"),
        "cache.dict": ("dict", {}),
    }


@pytest.mark.parametrize(("at_start", "at_outcome"), [(33, 0), (30, 3)])
def test_own_attributes_beyond_a_count_limit(at_start: int, at_outcome: int) -> None:
    """max_span_attributes=32 and 33 own attributes: 32 exported and 1 dropped, as the SDK."""
    own = {f"own.{i:02d}": i for i in range(at_start)}
    final: dict[str, types.AnyValue] = {f"final.{i}": i for i in range(at_outcome)}
    exported = []
    for start in (start_sdk, start_toolkit):
        p = pipeline(limits=SpanLimits(max_span_attributes=32))
        span = start(p, "GET", Context(), own)
        outcome(span, None, final, False)
        span.end(END)
        exported.append(p.exporter.get_finished_spans()[0])
    sdk, toolkit = exported
    assert (len(sdk.attributes or {}), sdk.dropped_attributes) == (32, 1)
    assert fields(toolkit) == fields(sdk)


def ended_then_changed(span: trace.Span) -> None:
    """Changes after end(), and a second end(): all refused."""
    span.end(END)
    assert span.is_recording() is False
    span.set_attribute("late.one", 1)
    span.set_attributes({"late.two": 2})
    span.update_name("late")
    span.add_event("late.event", timestamp=START + 9)
    span.add_link(LINKED, {"late": True})
    span.set_status(Status(StatusCode.ERROR, "late"))
    outcome(span, "late", {"late.three": 3}, True)
    span.end(END + 1)


@pytest.mark.parametrize("before", ["nothing", "public-api"])
def test_ended_span_refuses_changes(before: str) -> None:
    """After end() nothing changes the span (attributes, name, events, links, status,
    record_outcome) and a second end() exports nothing more, as with the SDK."""

    def steps(span: trace.Span) -> None:
        assert span.is_recording() is True
        if before == "public-api":
            public_api(span)
        ended_then_changed(span)

    sdk, toolkit = both(Context(), steps)
    assert toolkit == sdk
    assert len(toolkit.exported) == 1
    assert len(toolkit.ended) == 1
    assert toolkit.exported[0]["end_time"] == END
    assert "late.one" not in toolkit.exported[0]["attributes"]


def test_set_status_ok_wins_over_a_later_error() -> None:
    """set_status(OK) then an error outcome: the status stays OK, as the SDK's set_status."""

    def steps(span: trace.Span) -> None:
        span.set_status(Status(StatusCode.OK))
        outcome(span, None, {semconv.SPAN_ATTR_ERROR_TYPE: "500"}, True)

    sdk, toolkit = both(Context(), steps)
    assert toolkit == sdk
    assert toolkit.exported[0]["status"] == (StatusCode.OK, None)


def test_set_attributes_with_a_non_str_key() -> None:
    """set_attributes({7: "x"}) exports what the SDK exports ({"7": "x"}, nothing dropped,
    in SDK 1.45)."""
    sdk, toolkit = both(Context(), lambda span: span.set_attributes({7: "x"}))  # type: ignore[dict-item]
    assert toolkit == sdk
    if SDK_CLEANS_AS_1_45:
        assert (toolkit.exported[0]["attributes"].get("7"), toolkit.exported[0]["dropped"]) == (
            ("str", "x"),
            (0, 0, 0),
        )


# --- record_outcome ---------------------------------------------------------------------


FINAL: dict[str, types.AnyValue] = {
    semconv.SPAN_ATTR_HTTP_ROUTE: "/orders/{id}",
    semconv.SPAN_ATTR_HTTP_STATUS_CODE: 404,
}


@pytest.mark.parametrize(
    ("before", "name", "error", "expected_name", "expected_status", "extra"),
    [
        ("nothing", "GET /orders/{id}", True, "GET /orders/{id}", StatusCode.ERROR, {}),
        ("nothing", None, False, "GET", StatusCode.UNSET, {}),
        ("set-attribute", "GET /orders/{id}", True, "GET /orders/{id}", StatusCode.ERROR, {"a": 1}),
        ("set-attributes", None, True, "GET", StatusCode.ERROR, {"a": 1}),
        ("status-error-described", None, True, "GET", StatusCode.ERROR, {}),
    ],
)
def test_record_outcome(
    before: str,
    name: str | None,
    error: bool,
    expected_name: str,
    expected_status: StatusCode,
    extra: dict[str, Any],
) -> None:
    """record_outcome sets the name (if given), merges its attributes into the span's
    (plain dict or, after a user set_attribute, the SDK's bounded mapping) and sets ERROR
    if asked: the same span as update_name + set_status + set_attributes on the SDK's."""

    def steps(span: trace.Span) -> None:
        if before == "set-attribute":
            span.set_attribute("a", 1)
        elif before == "set-attributes":
            span.set_attributes({"a": 1})
        elif before == "status-error-described":
            span.set_status(Status(StatusCode.ERROR, "first"))
        outcome(span, name, dict(FINAL), error)

    sdk, toolkit = both(Context(), steps)
    assert toolkit == sdk
    exported = toolkit.exported[0]
    assert exported["name"] == expected_name
    assert exported["status"] == (expected_status, None)
    assert exported["attributes"] == typed({**ATTRIBUTES, **extra, **FINAL})


def test_record_outcome_after_end_does_nothing() -> None:
    """record_outcome on an ended span changes neither name, attributes nor status."""
    p = pipeline()
    span = start_toolkit(p, "GET", Context(), ATTRIBUTES)
    assert type(span) is ServerSpan
    span.end(END)
    span.record_outcome("GET /late", {"late": 1}, True)
    exported = p.exporter.get_finished_spans()[0]
    assert (exported.name, exported.status.status_code) == ("GET", StatusCode.UNSET)
    assert typed(exported.attributes) == typed(ATTRIBUTES)


# --- processors -------------------------------------------------------------------------


class BaggageToAttributes(SpanProcessor):
    """Like BaggageSpanProcessor: copies the parent context's baggage onto the span, plus
    values that need cleaning."""

    def __init__(self) -> None:
        self.parents: list[Context | None] = []

    def on_start(self, span: sdk_trace.Span, parent_context: Context | None = None) -> None:
        self.parents.append(parent_context)
        for key, value in baggage.get_all(parent_context).items():
            span.set_attribute(key, str(value))
        span.set_attribute("processor.list", ["x", "y"])
        span.set_attribute("processor.dict", {"a": 1})


@pytest.mark.parametrize("limits", ["default", "span-value-length-4"])
def test_processor_on_start_sets_attributes(limits: str) -> None:
    """A processor's on_start gets the parent context and what it sets is cleaned and
    exported as with the SDK; the middleware's outcome still merges afterwards."""
    ctx = baggage.set_baggage("tenant.id", "acme-corp", context=PARENTS["remote-sampled"][0])
    runs = []
    for start in (start_sdk, start_toolkit):
        processor = BaggageToAttributes()
        result, _, _ = run(
            start,
            ctx,
            lambda span: outcome(span, None, dict(FINAL), False),
            processors=[processor],
            limits=LIMITS[limits],
        )
        assert processor.parents == [ctx]
        runs.append(result)
    sdk, toolkit = runs
    assert toolkit == sdk
    if limits == "default" and SDK_CLEANS_AS_1_45:
        assert toolkit.exported[0]["attributes"] == typed(
            {
                **ATTRIBUTES,
                "tenant.id": "acme-corp",
                "processor.list": ("x", "y"),
                "processor.dict": {"a": 1},
                **FINAL,
            }
        )


# --- which tracers get a starter --------------------------------------------------------


class VendorTracer(sdk_trace.Tracer):
    """A subclass of the SDK's Tracer, as a vendor distribution might ship."""


def vendor_tracer() -> trace.Tracer:
    """A VendorTracer built like TracerProvider.get_tracer builds the SDK's."""
    p = pipeline()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        info = InstrumentationInfo("vendor")
    return VendorTracer(
        p.provider.sampler,
        RESOURCE,
        p.provider._active_span_processor,
        p.provider.id_generator,
        info,
        SpanLimits(),
        InstrumentationScope("vendor"),
    )


@pytest.mark.parametrize(
    "make",
    [trace.NoOpTracer, lambda: trace.ProxyTracer("toolkit.middleware"), vendor_tracer],
    ids=["noop", "proxy", "sdk-subclass"],
)
def test_for_tracer_refuses_other_tracers(make: Callable[[], trace.Tracer]) -> None:
    """Only the SDK's own Tracer class gets a starter; any other is called as usual."""
    assert ServerSpanStarter.for_tracer(make()) is None


def test_for_tracer_of_a_disabled_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_SDK_DISABLED=true: the provider hands out the API's no-op tracer, no starter."""
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    tracer = TracerProvider(shutdown_on_exit=False).get_tracer("toolkit.middleware")
    assert ServerSpanStarter.for_tracer(tracer) is None


@pytest.mark.skipif(
    not hasattr(TracerProvider, "_set_tracer_configurator"),
    reason="this SDK release has no tracer configurator",
)
@pytest.mark.parametrize("parent", ["root", "remote-sampled"])
def test_tracer_disabled_by_the_configurator(parent: str) -> None:
    """A tracer disabled by the tracer configurator (also after the starter was made)
    starts NonRecordingSpans carrying the parent's context, as start_span does; enabled
    again, it records again."""
    ctx, _ = PARENTS[parent]
    expected_parent = context_fields(trace.get_current_span(ctx).get_span_context())
    p = pipeline()
    starter = ServerSpanStarter.for_tracer(p.tracer)
    assert starter is not None
    p.provider._set_tracer_configurator(tracer_configurator=sdk_trace._disable_tracer_configurator)
    spans = [starter.start("GET", ctx, dict(ATTRIBUTES)), start_sdk(p, "GET", ctx, ATTRIBUTES)]
    assert [type(s) for s in spans] == [NonRecordingSpan, NonRecordingSpan]
    assert [context_fields(s.get_span_context()) for s in spans] == [expected_parent] * 2
    assert p.sampler.calls == []
    p.provider._set_tracer_configurator(tracer_configurator=sdk_trace._default_tracer_configurator)
    assert type(starter.start("GET", ctx, dict(ATTRIBUTES))) is ServerSpan


# --- what exporters and the SDK's own metrics see ---------------------------------------


def test_exported_span_is_a_read_only_readable_span() -> None:
    """The ServerSpan handed to processors is a ReadableSpan whose attributes cannot be
    written, and it encodes to OTLP with its attributes typed as set."""
    p = pipeline()
    span = start_toolkit(p, "GET", Context(), ATTRIBUTES)
    span.end(END)
    exported = p.exporter.get_finished_spans()[0]
    assert exported is cast(ReadableSpan, span)
    assert isinstance(exported, ReadableSpan)
    assert type(exported.attributes) is MappingProxyType
    with pytest.raises(TypeError):
        exported.attributes["late"] = 1  # type: ignore[index]
    request = encode_spans([exported])
    encoded = request.resource_spans[0].scope_spans[0].spans[0]
    assert [(kv.key, kv.value.WhichOneof("value")) for kv in encoded.attributes] == [
        (semconv.SPAN_ATTR_HTTP_METHOD, "string_value"),
        (semconv.SPAN_ATTR_URL_PATH, "string_value"),
        (semconv.SPAN_ATTR_URL_SCHEME, "string_value"),
        (semconv.SPAN_ATTR_SERVER_PORT, "int_value"),
        (semconv.SPAN_ATTR_CORRELATION_ID, "string_value"),
    ]
    assert (encoded.kind, encoded.start_time_unix_nano, encoded.end_time_unix_nano) == (
        2,  # SPAN_KIND_SERVER
        START,
        END,
    )
    assert encoded.trace_id == LOW_TRACE_ID.to_bytes(16, "big")


@pytest.fixture
def sdk_metrics(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The SDK's internal span metrics switched on (read when a tracer is made)."""
    monkeypatch.setenv("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "true")
    yield


def span_metrics(reader: InMemoryMetricReader) -> list[tuple[str, dict[str, Any], int]]:
    """The SDK's span metrics points, sorted."""
    data = reader.get_metrics_data()
    assert data is not None
    return sorted(
        (metric.name, dict(point.attributes or {}), int(point.value))  # type: ignore[union-attr]
        for resource_metrics in data.resource_metrics
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
        for point in metric.data.data_points
    )


@pytest.mark.usefixtures("sdk_metrics")
@pytest.mark.parametrize(
    ("parent", "sampler", "expected"),
    [
        (
            "root",
            "parentbased-always-on",
            [
                ("otel.sdk.span.live", {"otel.span.sampling_result": "RECORD_AND_SAMPLE"}, 0),
                (
                    "otel.sdk.span.started",
                    {
                        "otel.span.parent.origin": "none",
                        "otel.span.sampling_result": "RECORD_AND_SAMPLE",
                    },
                    1,
                ),
            ],
        ),
        (
            "remote-unsampled",
            "parentbased-always-on",
            [
                (
                    "otel.sdk.span.started",
                    {"otel.span.parent.origin": "remote", "otel.span.sampling_result": "DROP"},
                    1,
                ),
            ],
        ),
    ],
)
@pytest.mark.skipif(
    "meter_provider" not in inspect.signature(TracerProvider.__init__).parameters,
    reason="this SDK release has no span metrics of its own",
)
def test_sdk_span_metrics(parent: str, sampler: str, expected: list[Any]) -> None:
    """The SDK's own otel.sdk.span.* metrics count a started span the same way."""
    ctx, _ = PARENTS[parent]
    found = []
    for start in (start_sdk, start_toolkit):
        p = pipeline(sampler=SAMPLERS[sampler](), metrics=True)
        start(p, "GET", ctx, ATTRIBUTES).end(END)
        assert p.metrics is not None
        found.append(span_metrics(p.metrics))
    assert found == [expected, expected]


@pytest.mark.skipif(
    not hasattr(TracerProvider, "_update_resource"),
    reason="this SDK release cannot update a provider's resource",
)
def test_resource_updated_after_the_starter_was_made() -> None:
    """A resource the provider merges in later (as after a fork) is on later spans."""
    p = pipeline()
    starter = ServerSpanStarter.for_tracer(p.tracer)
    assert starter is not None
    p.provider._update_resource(Resource({"process.pid": 42}))
    starter.start("GET", Context(), dict(ATTRIBUTES)).end(END)
    start_sdk(p, "GET", Context(), ATTRIBUTES).end(END)
    resources = [fields(s)["resource"] for s in p.exporter.get_finished_spans()]
    assert resources == [({"service.name": "orders", "process.pid": 42}, "")] * 2
