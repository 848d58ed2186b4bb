"""The tracer provider ``toolkit.instrument`` builds when the app brings none."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider

from toolkit._otel_env import sdk_disabled

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter
    from prometheus_client import CollectorRegistry

ENV_TRACES_EXPORTER = "OTEL_TRACES_EXPORTER"
ENV_OTLP_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
ENV_OTLP_TRACES_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
ENV_OTLP_PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"
ENV_OTLP_TRACES_PROTOCOL = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
EXPORTER_ENTRY_POINTS = "opentelemetry_traces_exporter"
"""The entry-point group the SDK finds span exporters in (``console``, ``otlp_proto_http``...)."""
GRPC = "grpc"
HTTP_PROTOBUF = "http/protobuf"
OTLP_PROTOCOLS = (GRPC, HTTP_PROTOBUF)
DEFAULT_OTLP_PROTOCOL = HTTP_PROTOBUF
INSTALL_GRPC = "pip install 'toolkit-observability[grpc]'"
_OTLP, _NONE = "otlp", "none"


class TracingConfigError(ValueError):
    """The ``OTEL_*`` environment asks for span export toolkit cannot set up.

    ``variable`` and ``value`` name the setting; the message is one line that says the fix.
    """

    def __init__(self, variable: str, value: str, message: str) -> None:
        """Carry the variable, its value and the one-line message."""
        self.variable = variable
        self.value = value
        super().__init__(message)


def _exporters(environ: Mapping[str, str]) -> list[str]:
    raw = environ.get(ENV_TRACES_EXPORTER, "")
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    if _NONE in names:
        return []
    if not names and (environ.get(ENV_OTLP_ENDPOINT) or environ.get(ENV_OTLP_TRACES_ENDPOINT)):
        # An endpoint without an exporter name means OTLP; nothing configured means
        # nothing exported (unlike the SDK's default, which would retry localhost:4318).
        return [_OTLP]
    return names


def otlp_protocol(environ: Mapping[str, str]) -> tuple[str, str | None]:
    """``(protocol, variable)``: ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL``, else
    ``OTEL_EXPORTER_OTLP_PROTOCOL``, else ``http/protobuf`` (variable ``None``).

    :class:`TracingConfigError` for a value other than ``grpc`` and ``http/protobuf``.
    """
    for variable in (ENV_OTLP_TRACES_PROTOCOL, ENV_OTLP_PROTOCOL):
        raw = environ.get(variable, "").strip()
        if not raw:
            continue
        if raw.lower() not in OTLP_PROTOCOLS:
            raise TracingConfigError(
                variable,
                raw,
                f"{variable}={raw!r} is not supported: set it to {GRPC} or {HTTP_PROTOBUF}",
            )
        return raw.lower(), variable
    return DEFAULT_OTLP_PROTOCOL, None


def installed_exporters() -> list[str]:
    """Every name ``OTEL_TRACES_EXPORTER`` accepts here: ``otlp``, ``none`` and the
    exporters registered in the ``opentelemetry_traces_exporter`` entry points."""
    registered = {entry.name for entry in entry_points(group=EXPORTER_ENTRY_POINTS)}
    return sorted(registered | {_OTLP, _NONE})


def _otlp_exporter(environ: Mapping[str, str]) -> SpanExporter:
    protocol, variable = otlp_protocol(environ)
    if protocol == GRPC:
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcSpanExporter,
            )
        except ImportError as error:
            raise TracingConfigError(
                variable or ENV_OTLP_PROTOCOL,
                GRPC,
                f"{variable}=grpc needs the OTLP/gRPC exporter, which is not installed "
                f"({error}): {INSTALL_GRPC}, or set it to {HTTP_PROTOBUF}",
            ) from None
        return _create(variable or ENV_OTLP_PROTOCOL, GRPC, GrpcSpanExporter)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return _create(ENV_TRACES_EXPORTER, _OTLP, OTLPSpanExporter)


def _registered_exporter(name: str) -> SpanExporter:
    from opentelemetry.sdk.trace.export import SpanExporter

    found = list(entry_points(group=EXPORTER_ENTRY_POINTS, name=name))
    if not found:
        hint = f"{INSTALL_GRPC}, or" if name == "otlp_proto_grpc" else "install its package, or"
        raise TracingConfigError(
            ENV_TRACES_EXPORTER,
            name,
            f"{ENV_TRACES_EXPORTER}: no span exporter {name!r} is installed ({hint} use one "
            f"of: {', '.join(installed_exporters())})",
        )
    entry = found[0]
    try:
        exporter_class = entry.load()
    except Exception as error:
        raise TracingConfigError(
            ENV_TRACES_EXPORTER,
            name,
            f"{ENV_TRACES_EXPORTER}: span exporter {name!r} ({entry.value}) cannot be "
            f"loaded: {type(error).__name__}: {error}",
        ) from None
    if not (isinstance(exporter_class, type) and issubclass(exporter_class, SpanExporter)):
        raise TracingConfigError(
            ENV_TRACES_EXPORTER,
            name,
            f"{ENV_TRACES_EXPORTER}: {name!r} ({entry.value}) is not a span exporter",
        )
    return _create(ENV_TRACES_EXPORTER, name, exporter_class)


def _create(variable: str, value: str, exporter_class: type[SpanExporter]) -> SpanExporter:
    try:
        return exporter_class()
    except Exception as error:  # the exporter read a bad OTEL_EXPORTER_* value
        raise TracingConfigError(
            variable,
            value,
            f"{exporter_class.__name__} ({variable}={value}) cannot be created: "
            f"{type(error).__name__}: {error}",
        ) from None


def build_exporter(name: str, environ: Mapping[str, str]) -> SpanExporter:
    """The span exporter ``OTEL_TRACES_EXPORTER`` calls ``name``.

    ``otlp`` is OTLP over the protocol of :func:`otlp_protocol`: ``http/protobuf``, or
    ``grpc`` with the ``grpc`` extra. Any other name is looked up in the
    ``opentelemetry_traces_exporter`` entry points, as the SDK does (``console``, or a
    third-party exporter's). The exporter reads its own ``OTEL_EXPORTER_*`` variables from
    the process environment. :class:`TracingConfigError` when it cannot be had.
    """
    if name == _OTLP:
        return _otlp_exporter(environ)
    return _registered_exporter(name)


def build_tracer_provider(
    service: str,
    environ: Mapping[str, str] | None = None,
    *,
    registry: CollectorRegistry | None = None,
) -> TracerProvider:
    """Return an SDK provider with ``service.name`` and the exporters ``environ`` asks for.

    ``OTEL_TRACES_EXPORTER`` (``otlp``, ``console``, ``none``, or any exporter registered
    in the ``opentelemetry_traces_exporter`` entry points) or an
    ``OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`` turn export on; OTLP goes over
    ``OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`` (``http/protobuf`` by default, or ``grpc``).
    A setting that cannot be honoured raises :class:`TracingConfigError` (one line, naming
    the fix) before anything is exported. Spans go through a
    :class:`~toolkit.tracing.BoundedBatchSpanProcessor`, off the request path:
    spans it drops are counted in ``registry`` (default prometheus-client's) and its
    shutdown is bounded. Without any of these variables spans are recorded (trace IDs
    reach the logs) but exported nowhere. With ``OTEL_SDK_DISABLED=true`` the provider
    hands out no-op tracers (the SDK's rule) and no exporter is built.
    """
    env = os.environ if environ is None else environ
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    if sdk_disabled(env):
        return provider
    from toolkit.tracing._export import BoundedBatchSpanProcessor

    # Every exporter first: a bad one fails before any export thread has started.
    exporters = [build_exporter(name, env) for name in _exporters(env)]
    for exporter in exporters:
        provider.add_span_processor(BoundedBatchSpanProcessor(exporter, registry=registry))
    return provider
