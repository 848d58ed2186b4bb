"""build_tracer_provider(): resource and exporters from the OTEL_* environment."""

from __future__ import annotations

import pytest

from toolkit.tracing._provider import build_tracer_provider


def processor_exporters(environ: dict[str, str]) -> list[str]:
    provider = build_tracer_provider("orders", environ)
    found = [
        # The batch processor's exporter is toolkit's counting wrapper around the real one.
        type(p._batch_processor._exporter.exporter).__name__  # type: ignore[attr-defined]
        for p in provider._active_span_processor._span_processors
    ]
    provider.shutdown()
    return found


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, []),
        ({"OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, ["OTLPSpanExporter"]),
        (
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"},
            ["OTLPSpanExporter"],
        ),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, ["OTLPSpanExporter"]),
        ({"OTEL_TRACES_EXPORTER": "console"}, ["ConsoleSpanExporter"]),
        ({"OTEL_TRACES_EXPORTER": "otlp,console"}, ["OTLPSpanExporter", "ConsoleSpanExporter"]),
    ],
)
def test_exporters_only_when_configured(environ: dict[str, str], expected: list[str]) -> None:
    """Spans are exported (through a BatchSpanProcessor) only when the environment asks."""
    assert processor_exporters(environ) == expected


def test_resource_names_the_service() -> None:
    """service.name is the service given."""
    provider = build_tracer_provider("orders", {})
    assert provider.resource.attributes["service.name"] == "orders"


def test_unknown_exporter_is_a_configuration_error() -> None:
    """A misspelt exporter fails at start-up, not silently."""
    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER: unsupported exporter 'jaeger'"):
        build_tracer_provider("orders", {"OTEL_TRACES_EXPORTER": "jaeger"})
