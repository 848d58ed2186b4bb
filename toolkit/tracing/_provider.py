"""The tracer provider ``toolkit.instrument`` builds when the app brings none."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

ENV_TRACES_EXPORTER = "OTEL_TRACES_EXPORTER"
ENV_OTLP_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
ENV_OTLP_TRACES_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"


def _exporters(environ: Mapping[str, str]) -> list[str]:
    raw = environ.get(ENV_TRACES_EXPORTER, "")
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    if "none" in names:
        return []
    if not names and (environ.get(ENV_OTLP_ENDPOINT) or environ.get(ENV_OTLP_TRACES_ENDPOINT)):
        # An endpoint without an exporter name means OTLP; nothing configured means
        # nothing exported (unlike the SDK's default, which would retry localhost:4318).
        return ["otlp"]
    return names


def build_tracer_provider(
    service: str,
    environ: Mapping[str, str] | None = None,
    *,
    registry: CollectorRegistry | None = None,
) -> TracerProvider:
    """Return an SDK provider with ``service.name`` and the exporters ``environ`` asks for.

    ``OTEL_TRACES_EXPORTER`` (``otlp``, ``console``, ``none``) or an
    ``OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`` turn export on; the OTLP/HTTP exporter reads
    its own ``OTEL_EXPORTER_OTLP_*`` variables. Spans go through a
    :class:`~toolkit.tracing.BoundedBatchSpanProcessor`, off the request path:
    spans it drops are counted in ``registry`` (default prometheus-client's) and its
    shutdown is bounded. Without any of these variables spans are recorded (trace IDs
    reach the logs) but exported nowhere.
    """
    env = os.environ if environ is None else environ
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    from opentelemetry.sdk.trace.export import SpanExporter

    from toolkit.tracing._export import BoundedBatchSpanProcessor

    for name in _exporters(env):
        exporter: SpanExporter
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        elif name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporter = ConsoleSpanExporter()
        else:
            raise ValueError(f"{ENV_TRACES_EXPORTER}: unsupported exporter {name!r}")
        provider.add_span_processor(BoundedBatchSpanProcessor(exporter, registry=registry))
    return provider
