"""The OpenTelemetry SDK gate: every use of the SDK's non-public names lives here.

Two fast paths, each behind its :class:`~toolkit._gate.FastPathGate` (tested range,
self-check at first use, fallback to the public API):

- **The server span** (``SERVER_SPAN_GATE``). ``Tracer.start_span`` cleans every
  attribute it is given (type checks, a lock, a copy), builds an events list, a links
  list and a bounded attribute mapping per span, and ``Span.end`` copies the span into a
  new ``ReadableSpan`` for the processors. :class:`ServerSpanStarter` starts the same
  span (same sampler call, IDs, trace flags, trace state, resource, scope, processors) as
  a :class:`ServerSpan`, an SDK ``Span`` subclass that skips the SDK's ``__init__``,
  keeps the middleware's own attributes in a plain dict and hands itself, ended, to the
  processors. The self-check starts one span each way on a private provider and
  compares the instance fields and everything a processor can read.
- **The batch queue** (``BATCH_QUEUE_GATE``): whether ``BatchSpanProcessor``'s queue is
  full as a span ends (to count the span it drops), and a shutdown bounded in time.

This module stays whole (over 300 lines) because it is the one file that tells what an
SDK upgrade can break.
"""

from __future__ import annotations

import inspect
import json
import logging
import random
import threading
import warnings
from collections.abc import Mapping, Sequence
from time import time_ns
from typing import Any, cast

from opentelemetry import trace as trace_api
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import sampling
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util import types

from toolkit._gate import FastPathGate, declare

_log = logging.getLogger(__name__)

TESTED_RELEASES = ("1.36", "1.46")
"""``opentelemetry-sdk`` releases CI tested these fast paths on: ``>=1.36, <1.46``."""

_UNSET = Status(StatusCode.UNSET)
_ERROR = Status(StatusCode.ERROR)
_NO_EVENTS: tuple[sdk_trace.Event, ...] = ()
_NO_LINKS: tuple[trace_api.Link, ...] = ()
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
_RANDOM_TRACE_ID = getattr(TraceFlags, "RANDOM_TRACE_ID", 0)
_MISSING = object()
_NO_FIELD: Any = object()


def _same_values(sampled: Mapping[str, object], given: dict[str, types.AnyValue]) -> bool:
    # The sampler handed back the very values it was given (the SDK's samplers return a
    # read-only view of the dict): nothing new to clean. An equal value of another type
    # (True for 1) is a new value.
    return len(sampled) == len(given) and all(
        sampled.get(key, _MISSING) is value for key, value in given.items()
    )


class ServerSpan(sdk_trace.Span):
    """An SDK span whose own attributes skip the SDK's per-value cleaning.

    Everything public behaves as ``opentelemetry.sdk.trace.Span``: ``set_attribute`` and
    ``set_attributes`` clean values and apply the span limits (the attributes move into
    the SDK's bounded mapping the first time they are called), events and links are
    bounded lists, an ended span refuses changes. Create through
    :class:`ServerSpanStarter`, never directly.
    """

    def __init__(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        tracer: sdk_trace.Tracer,
        limits: sdk_trace.SpanLimits,
        scope: Any,
        attributes: dict[str, types.AnyValue] | BoundedAttributes,
        record_end_metrics: Any,
    ) -> None:
        """Fill the fields the SDK span and ``ReadableSpan`` read; start nothing."""
        # The SDK's __init__ is not called: it is what this class avoids. These are the
        # fields ReadableSpan and Span define, with the values Tracer.start_span gives.
        self._name = name
        self._context = context
        self._kind = SpanKind.SERVER
        self._instrumentation_info = getattr(tracer, "instrumentation_info", None)  # deprecated
        self._instrumentation_scope = scope
        self._parent = parent
        self._start_time: int | None = None
        self._end_time: int | None = None
        self._attributes = attributes
        self._events = _NO_EVENTS
        self._links = _NO_LINKS
        self._resource = tracer.resource
        self._status = _UNSET
        self._sampler = tracer.sampler
        self._trace_config = None
        self._record_exception = True
        self._set_status_on_exception = True
        self._span_processor = tracer.span_processor
        self._limits = limits
        self._lock = threading.Lock()
        if record_end_metrics is not _NO_FIELD:  # only where the SDK's Span has the field
            self._record_end_metrics = record_end_metrics

    def _bounded(self) -> BoundedAttributes:
        # Under self._lock. From now on every value goes through the SDK's cleaning.
        attributes = self._attributes
        if type(attributes) is dict:  # the middleware's own, not yet bounded
            attributes = BoundedAttributes(
                self._limits.max_span_attributes,
                attributes,
                immutable=False,
                max_value_len=self._limits.max_span_attribute_length,
            )
            self._attributes = attributes
        return cast(BoundedAttributes, attributes)

    def set_attributes(self, attributes: Mapping[str, types.AnyValue]) -> None:
        """Set ``attributes``, cleaned and bounded as the SDK does."""
        with self._lock:
            if self._end_time is not None:
                _log.warning("Setting attribute on ended span.")
                return
            bounded = self._bounded()
            set_items = getattr(bounded, "_set_items", None)  # what the SDK span calls
            if set_items is not None:
                set_items(attributes)
            else:  # pragma: no cover - SDK releases without it
                for key, value in attributes.items():
                    bounded[key] = value

    def set_attribute(self, key: str, value: types.AnyValue) -> None:
        """Set one attribute, cleaned and bounded as the SDK does."""
        with self._lock:
            if self._end_time is not None:
                _log.warning("Setting attribute on ended span.")
                return
            self._bounded()[key] = value

    def add_event(
        self,
        name: str,
        attributes: types.Attributes = None,
        timestamp: int | None = None,
    ) -> None:
        """Add an event (the SDK's bounded list is created for the first one)."""
        with self._lock:
            if self._events is _NO_EVENTS and self._end_time is None:
                self._events = BoundedList(self._limits.max_events)
        super().add_event(name, attributes, timestamp)

    def add_link(self, context: SpanContext, attributes: types.Attributes = None) -> None:
        """Add a link (the SDK's bounded list is created for the first one)."""
        with self._lock:
            if self._links is _NO_LINKS and self._end_time is None:
                self._links = BoundedList(self._limits.max_links)
        super().add_link(context, attributes)

    def record_outcome(
        self, name: str | None, attributes: dict[str, types.AnyValue], error: bool
    ) -> None:
        """The middleware's last word, in one step: final name, its own attributes (valid
        values, not cleaned again) and status ERROR if ``error``."""
        with self._lock:
            if self._end_time is not None:
                return
            if name is not None:
                self._name = name
            own = cast("dict[str, types.AnyValue] | BoundedAttributes", self._attributes)
            limit = self._limits.max_span_attributes
            if type(own) is not dict or (limit is not None and len(own) + len(attributes) > limit):
                bounded = self._bounded()  # the SDK drops the oldest and counts them
                for key, value in attributes.items():
                    bounded[key] = value
            else:
                own.update(attributes)
            if error and self._status.status_code is not StatusCode.OK:
                self._status = _ERROR

    def end(self, end_time: int | None = None) -> None:
        """End the span and hand it, no longer writable, to the span processors."""
        with self._lock:
            if self._end_time is not None:
                _log.warning("Calling end() on an ended span.")
                return
            self._end_time = end_time if end_time is not None else time_ns()
            attributes = self._attributes
            if type(attributes) is not dict:  # bounded: frozen, as the SDK's Span.end does
                cast(BoundedAttributes, attributes)._immutable = True
        record_end_metrics = self.__dict__.get("_record_end_metrics")
        if record_end_metrics is not None:
            record_end_metrics()
        processor = self._span_processor
        on_ending = getattr(processor, "_on_ending", None)  # as recent SDKs do; older lack it
        if on_ending is not None:
            on_ending(self)
        # The SDK hands processors a copy; this span is refused every change once ended
        # (attributes, events, links, name, status), so it can be handed over itself.
        processor.on_end(self)


class ServerSpanStarter:
    """Start SERVER spans for one SDK ``Tracer`` as :class:`ServerSpan` objects.

    Use :meth:`for_tracer`, which returns ``None`` for a tracer that is not the SDK's
    own class (call its ``start_span`` then).
    """

    __slots__ = (
        "_always_on_root",
        "_enabled",
        "_end_metrics_field",
        "_id_generator",
        "_limits",
        "_processor",
        "_random_flag",
        "_random_ids",
        "_sampler",
        "_scope",
        "_tracer",
        "_tracer_metrics",
        "_trusted",
    )

    def __init__(self, tracer: sdk_trace.Tracer) -> None:
        """Read what every span of ``tracer`` shares; ``for_tracer`` checks it first."""
        self._tracer = tracer
        self._sampler = tracer.sampler
        self._id_generator = tracer.id_generator
        self._processor = tracer.span_processor
        self._limits: sdk_trace.SpanLimits = tracer._span_limits
        self._scope = tracer._instrumentation_scope
        self._enabled = getattr(tracer, "_is_enabled", None)  # SDK >= 1.37: configurator
        tracer_metrics = getattr(tracer, "_tracer_metrics", None)  # SDK >= 1.39
        # The SDK's no-op self-metrics (the default) record nothing: skip the calls.
        self._tracer_metrics = (
            None if type(tracer_metrics).__name__ == "NoOpTracerMetrics" else tracer_metrics
        )
        # The default sampler (and AlwaysOn) samples every root span, keeps the attributes
        # and gives it no trace state: the result is known without asking.
        self._always_on_root = (
            self._sampler is sampling.DEFAULT_ON or self._sampler is sampling.ALWAYS_ON
        )
        # The default generator's IDs, drawn as it draws them, without two method calls.
        self._random_ids = type(self._id_generator) is RandomIdGenerator
        self._random_flag = self._random_trace_id_flag() if self._random_ids else 0
        # SDK releases with self-metrics give every Span a _record_end_metrics field (the
        # callback their tracer metrics hand back); older ones have neither.
        self._end_metrics_field = hasattr(tracer, "_tracer_metrics")
        # The middleware's own values are valid attribute values; they skip cleaning
        # unless a limit could cut one of them (or drop some: checked per span).
        self._trusted = self._limits.max_span_attribute_length is None

    def _random_trace_id_flag(self) -> int:
        # The W3C random-trace-id flag, when the generator says its trace IDs are random
        # (SDK releases without the flag or the method: never).
        is_random = getattr(self._id_generator, "is_trace_id_random", None)
        return _RANDOM_TRACE_ID if is_random is not None and is_random() else 0

    @classmethod
    def for_tracer(cls, tracer: trace_api.Tracer) -> ServerSpanStarter | None:
        """A starter for ``tracer`` if it is the SDK's ``Tracer``, else ``None``."""
        if type(tracer) is not sdk_trace.Tracer:
            return None
        needed = ("_span_limits", "_instrumentation_scope", "sampler", "id_generator")
        if not all(hasattr(tracer, name) for name in needed):
            return None  # an SDK release this module does not know
        return cls(tracer)

    def start(
        self, name: str, parent_context: Context, attributes: dict[str, types.AnyValue]
    ) -> trace_api.Span:
        """Start a SERVER span, child of ``parent_context``'s span if it has a valid one.

        ``attributes`` must hold valid attribute values (str, bool, int, float or tuples
        of one of them): the span keeps the dict itself.
        """
        enabled = self._enabled
        parent: SpanContext | None = trace_api.get_current_span(parent_context).get_span_context()
        assert parent is not None  # every span's get_span_context returns one
        if enabled is not None and not enabled():
            return trace_api.NonRecordingSpan(parent)
        if parent.is_valid:
            trace_id = parent.trace_id
            random_trace_id = parent.trace_flags & _RANDOM_TRACE_ID
        else:
            parent = None
            if self._random_ids:
                trace_id = random.getrandbits(128)
                while trace_id == trace_api.INVALID_TRACE_ID:  # pragma: no cover - 2**-128
                    trace_id = random.getrandbits(128)
                random_trace_id = self._random_flag
            else:
                trace_id = self._id_generator.generate_trace_id()
                random_trace_id = self._random_trace_id_flag()
        own: dict[str, types.AnyValue] | BoundedAttributes
        trace_state = None
        limit = self._limits.max_span_attributes
        trusted = self._trusted and (limit is None or len(attributes) <= limit)
        if parent is None and self._always_on_root and trusted:
            decision = Decision.RECORD_AND_SAMPLE
            own = attributes
        else:
            # A copy: a sampler that edits what it is given in place cannot slip an
            # uncleaned value into the dict the span keeps.
            result = self._sampler.should_sample(
                parent_context, trace_id, name, SpanKind.SERVER, dict(attributes), ()
            )
            decision = result.decision
            trace_state = result.trace_state
            sampled_attributes = result.attributes
            if trusted and _same_values(sampled_attributes, attributes):
                own = attributes
            else:  # limits that may cut values, or a sampler that changed the attributes
                limits = self._limits
                own = BoundedAttributes(
                    limits.max_span_attributes,
                    sampled_attributes,
                    immutable=False,
                    max_value_len=limits.max_span_attribute_length,
                )
        flags = _SAMPLED if decision is Decision.RECORD_AND_SAMPLE else _NOT_SAMPLED
        if random_trace_id:
            flags = TraceFlags(flags | _RANDOM_TRACE_ID)
        if self._random_ids:
            span_id = random.getrandbits(64)
            while span_id == trace_api.INVALID_SPAN_ID:  # pragma: no cover - 2**-64
                span_id = random.getrandbits(64)
        else:
            span_id = self._id_generator.generate_span_id()
        context = SpanContext(
            trace_id, span_id, is_remote=False, trace_flags=flags, trace_state=trace_state
        )
        tracer_metrics = self._tracer_metrics
        record_end_metrics = (
            tracer_metrics.start_span(parent, decision) if tracer_metrics is not None else None
        )
        if not self._end_metrics_field:
            record_end_metrics = _NO_FIELD
        if decision is Decision.DROP:
            return trace_api.NonRecordingSpan(context)
        span = ServerSpan(
            name,
            context,
            parent,
            self._tracer,
            self._limits,
            self._scope,
            own,
            record_end_metrics,
        )
        span._start_time = time_ns()
        self._processor.on_start(span, parent_context=parent_context)
        return span


def replay(span: ServerSpan, tracer: trace_api.Tracer) -> sdk_trace.ReadableSpan:
    """Hand ``span`` to the tracer's processors again, built with the public
    ``ReadableSpan`` constructor, after its fast ending raised before reaching them.

    Everything is kept, its IDs included: child spans, log lines and exemplars still
    point at it.
    """
    readable = sdk_trace.ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=dict(span.attributes or {}),
        events=tuple(span.events),
        links=tuple(span.links),
        kind=SpanKind.SERVER,
        status=span.status,
        start_time=span.start_time,
        end_time=time_ns(),
        instrumentation_scope=span.instrumentation_scope,
    )
    processor = getattr(tracer, "span_processor", None)
    if processor is None:
        raise RuntimeError("the tracer has no span_processor to hand the span to")
    processor.on_end(readable)
    return readable


# -- the self-check of the server span -----------------------------------------------

_CHECK_TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
_CHECK_PARENT_ID = 0x00F067AA0BA902B7
_CHECK_SPAN_ID = 0x53995C3F42CD8AD8
_CHECK_TIME = 1_700_000_000_000_000_000


def _no_meter(factory: Any) -> dict[str, Any]:
    """``meter_provider=`` a no-op one where ``factory`` takes it: a self-check counts
    nothing in the app's SDK self-metrics and loads no configured meter provider."""
    if "meter_provider" not in inspect.signature(factory).parameters:
        return {}
    from opentelemetry.metrics import NoOpMeterProvider

    return {"meter_provider": NoOpMeterProvider()}


class _FixedIds(IdGenerator):
    def generate_span_id(self) -> int:
        return _CHECK_SPAN_ID

    def generate_trace_id(self) -> int:
        return _CHECK_TRACE_ID


class _Capture(sdk_trace.SpanProcessor):
    def __init__(self) -> None:
        self.started: list[sdk_trace.Span] = []
        self.ended: list[sdk_trace.ReadableSpan] = []

    def on_start(self, span: sdk_trace.Span, parent_context: Context | None = None) -> None:
        self.started.append(span)

    def on_end(self, span: sdk_trace.ReadableSpan) -> None:
        self.ended.append(span)


def _plain(value: object, ids: bool = True) -> object:
    # Something two spans' property values can be compared by (their IDs left out when
    # the two were drawn at random).
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, SpanContext):  # a tuple subclass: before the sequences
        drawn = (value.trace_id, value.span_id) if ids else ()
        return (*drawn, int(value.trace_flags), repr(value.trace_state))
    if isinstance(value, Mapping):
        return {key: _plain(item, ids) for key, item in value.items()}
    if isinstance(value, (tuple, list, BoundedList)):
        return [_plain(item, ids) for item in value]
    if isinstance(value, (Status, sdk_trace.Event, trace_api.Link)):
        return repr(sorted(vars(value).items(), key=lambda item: item[0]))
    return type(value).__name__


def _read_properties(span: sdk_trace.ReadableSpan, seen: dict[str, object], ids: bool) -> None:
    for cls in type(span).__mro__:
        for name, member in vars(cls).items():
            if name.startswith("_") or name in seen or not isinstance(member, property):
                continue
            try:
                seen[name] = _plain(getattr(span, name), ids)
            except Exception as exc:  # a property the span cannot answer
                seen[name] = f"raises {type(exc).__name__}"


def _readable(span: sdk_trace.ReadableSpan, ids: bool = True) -> dict[str, object]:
    """Everything a span processor or exporter can read of ``span``, times (and, unless
    ``ids``, the random IDs) left out."""
    seen: dict[str, object] = {}
    with warnings.catch_warnings():  # deprecated properties are read too
        warnings.simplefilter("ignore", DeprecationWarning)
        _read_properties(span, seen, ids)
    document = json.loads(span.to_json())
    if not ids:
        for key in ("trace_id", "span_id"):
            document.get("context", {}).pop(key, None)
    for key in ("start_time", "end_time"):
        document.pop(key, None)
    for event in document.get("events", ()):
        event.pop("timestamp", None)
    seen["to_json"] = document
    for key in ("start_time", "end_time"):
        seen.pop(key, None)
    return seen


def _check_server_span() -> None:
    """Start one span each way on a private provider; raise if anything differs."""
    capture = _Capture()
    provider = sdk_trace.TracerProvider(
        shutdown_on_exit=False,  # no atexit hook kept for a throwaway provider
        **_no_meter(sdk_trace.TracerProvider),
        resource=Resource({"service.name": "toolkit-self-check"}),
        id_generator=_FixedIds(),
        sampler=sampling.ParentBased(sampling.ALWAYS_ON),
    )
    provider.add_span_processor(capture)
    tracer = provider.get_tracer("toolkit.self_check", "1")
    starter = ServerSpanStarter.for_tracer(tracer)
    if starter is None:
        raise RuntimeError("the SDK's Tracer lacks a field the fast path reads")
    parent = trace_api.set_span_in_context(
        trace_api.NonRecordingSpan(
            SpanContext(_CHECK_TRACE_ID, _CHECK_PARENT_ID, is_remote=True, trace_flags=_SAMPLED)
        )
    )
    attributes: dict[str, types.AnyValue] = {
        "url.scheme": "http",
        "url.path": "/items/1",
        "server.port": 8000,
        "http.request.method": "GET",
    }
    fast = starter.start("GET", parent, dict(attributes))
    public = tracer.start_span(
        "GET", context=parent, kind=SpanKind.SERVER, attributes=dict(attributes)
    )
    final: dict[str, types.AnyValue] = {
        "http.route": "/items/{id}",
        "http.response.status_code": 500,
        "error.type": "500",
    }
    for span in (fast, public):
        span.set_attribute("app.tenant", "acme")
        span.add_event("app.event", {"n": 1}, timestamp=_CHECK_TIME)
    if type(fast) is not ServerSpan:
        raise RuntimeError(f"the fast path started a {type(fast).__name__}")
    fast.record_outcome("GET /items/{id}", dict(final), True)
    public.update_name("GET /items/{id}")
    public.set_attributes(final)
    public.set_status(Status(StatusCode.ERROR))
    fast.end(_CHECK_TIME)
    public.end(_CHECK_TIME)
    _compare(fast, public, capture)
    _check_plain_root_span(attributes, final)


def _compare(fast: ServerSpan, public: trace_api.Span, capture: _Capture, ids: bool = True) -> None:
    """Raise unless ``fast`` has an SDK span's fields and reads as ``public`` does."""
    fields, expected_fields = set(vars(fast)), set(vars(public))
    if fields != expected_fields:
        raise RuntimeError(
            f"instance fields differ from an SDK span's: missing "
            f"{sorted(expected_fields - fields)}, extra {sorted(fields - expected_fields)}"
        )
    if len(capture.started) != 2 or len(capture.ended) != 2:
        raise RuntimeError("the processors did not see one start and one end per span")
    got = _readable(capture.ended[0], ids)
    expected = _readable(capture.ended[1], ids)
    if got != expected:
        keys = sorted(
            key for key in expected.keys() | got.keys() if got.get(key) != expected.get(key)
        )
        raise RuntimeError(f"what processors read differs from an SDK span's: {keys}")


def _check_plain_root_span(
    attributes: dict[str, types.AnyValue], final: dict[str, types.AnyValue]
) -> None:
    """The path most requests take: a root span, the default sampler and ID generator,
    nothing but the middleware's own attributes (kept in a plain dict, no event list)."""
    capture = _Capture()
    provider = sdk_trace.TracerProvider(
        shutdown_on_exit=False,
        resource=Resource({"service.name": "toolkit-self-check"}),
        **_no_meter(sdk_trace.TracerProvider),
    )
    provider.add_span_processor(capture)
    tracer = provider.get_tracer("toolkit.self_check", "1")
    starter = ServerSpanStarter.for_tracer(tracer)
    if starter is None:
        raise RuntimeError("the SDK's Tracer lacks a field the fast path reads")
    fast = starter.start("GET", Context(), dict(attributes))
    public = tracer.start_span(
        "GET", context=Context(), kind=SpanKind.SERVER, attributes=dict(attributes)
    )
    if type(fast) is not ServerSpan:
        raise RuntimeError(f"the fast path started a {type(fast).__name__}")
    fast.record_outcome("GET /items/{id}", dict(final), True)
    public.update_name("GET /items/{id}")
    public.set_attributes(final)
    public.set_status(Status(StatusCode.ERROR))
    fast.end(_CHECK_TIME)
    public.end(_CHECK_TIME)
    _compare(fast, public, capture, ids=False)


SERVER_SPAN_GATE = declare(
    FastPathGate(
        "opentelemetry-sdk server span",
        distribution="opentelemetry-sdk",
        tested=TESTED_RELEASES,
        self_check=_check_server_span,
    )
)
"""Whether the middleware may start its server spans with :class:`ServerSpanStarter`."""


def server_span_starter(tracer: trace_api.Tracer) -> ServerSpanStarter | None:
    """A fast starter for ``tracer`` if the gate allows it and ``tracer`` is the SDK's."""
    if type(tracer) is not sdk_trace.Tracer or not SERVER_SPAN_GATE.active():
        return None
    try:
        return ServerSpanStarter.for_tracer(tracer)
    except Exception as exc:
        SERVER_SPAN_GATE.disable(exc)
        return None


# -- the batch queue ------------------------------------------------------------------


def _check_batch_queue() -> None:
    processor = BatchSpanProcessor(
        _NullExporter(),
        max_queue_size=3,
        max_export_batch_size=3,
        **_no_meter(BatchSpanProcessor),
    )
    try:
        batch = processor._batch_processor
        if not isinstance(batch._max_queue_size, int) or batch._max_queue_size != 3:
            raise RuntimeError("the batch processor's queue size is not where it was")
        if len(batch._queue) != 0:
            raise RuntimeError("the batch processor's queue is not a sized container")
        if "timeout_millis" not in inspect.signature(batch.shutdown).parameters:
            raise RuntimeError("the batch processor's shutdown takes no timeout")
    finally:
        processor.shutdown()  # type: ignore[no-untyped-call]


class _NullExporter(SpanExporter):
    def export(self, spans: Sequence[sdk_trace.ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


BATCH_QUEUE_GATE = declare(
    FastPathGate(
        "opentelemetry-sdk batch queue",
        distribution="opentelemetry-sdk",
        tested=TESTED_RELEASES,
        self_check=_check_batch_queue,
    )
)
"""Whether ``BoundedBatchSpanProcessor`` may look at the SDK batch processor's queue."""


def batch_queue_full(processor: BatchSpanProcessor) -> bool:
    """Whether ``processor``'s queue is full (the span ending now would push one out).

    ``False`` when the gate is closed: the drop is then not counted (the SDK logs it).
    """
    if not BATCH_QUEUE_GATE.active():
        return False
    try:
        batch = processor._batch_processor
        return bool(len(batch._queue) >= batch._max_queue_size)
    except Exception as exc:
        BATCH_QUEUE_GATE.disable(exc)
        return False


def shutdown_batch_processor(processor: BatchSpanProcessor, timeout_seconds: float) -> None:
    """Shut ``processor`` down, returning within ``timeout_seconds``.

    Through the batch processor's own timeout when the gate is open; otherwise the
    public ``shutdown()`` runs in a daemon thread that is waited for that long.
    """
    if BATCH_QUEUE_GATE.active():
        try:
            processor._batch_processor.shutdown(timeout_millis=int(timeout_seconds * 1000))
            return
        except Exception as exc:
            BATCH_QUEUE_GATE.disable(exc)
    worker = threading.Thread(target=processor.shutdown, name="toolkit-span-shutdown", daemon=True)
    worker.start()
    worker.join(timeout_seconds)
