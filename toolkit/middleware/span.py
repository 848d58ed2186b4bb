"""Server spans recorded straight into an SDK tracer's pipeline, at a third of the cost.

``Tracer.start_span`` of the OpenTelemetry SDK cleans every attribute it is given (about a
microsecond each: type checks, a lock, a copy), builds an events list, a links list and a
bounded attribute mapping per span, and ``Span.end`` copies the span into a new
``ReadableSpan`` for the processors. For the one span a middleware records per request,
whose attributes it builds itself from values it knows the types of, that is most of
the cost of tracing a request.

``ServerSpanStarter`` starts the same span the SDK would — same sampler call, IDs, trace
flags, trace state, resource, instrumentation scope and processors — as a
:class:`ServerSpan`, an SDK ``Span`` subclass that keeps the middleware's own attributes
in a plain dict, creates its events list only when an event is added and hands itself
(ended, so no longer writable) to the processors. Whatever anyone else sets on it — the
app, a hook, a span processor, a sampler — goes through the SDK's own cleaning and span
limits. The starter is used only for the SDK's own ``Tracer`` class; any other tracer
(a vendor's, the API's no-op one) is called through ``start_span`` as usual.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Mapping
from time import time_ns
from typing import Any, cast

from opentelemetry import trace as trace_api
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk.trace import sampling
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util import types

_log = logging.getLogger(__name__)

_UNSET = Status(StatusCode.UNSET)
_ERROR = Status(StatusCode.ERROR)
_NO_EVENTS: tuple[sdk_trace.Event, ...] = ()
_NO_LINKS: tuple[trace_api.Link, ...] = ()
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
_RANDOM_TRACE_ID = getattr(TraceFlags, "RANDOM_TRACE_ID", 0)
_MISSING = object()


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
            if self._events is _NO_EVENTS:
                self._events = BoundedList(self._limits.max_events)
        super().add_event(name, attributes, timestamp)

    def add_link(self, context: SpanContext, attributes: types.Attributes = None) -> None:
        """Add a link (the SDK's bounded list is created for the first one)."""
        with self._lock:
            if self._links is _NO_LINKS:
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
        if self._record_end_metrics is not None:
            self._record_end_metrics()
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
