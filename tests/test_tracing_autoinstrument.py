"""toolkit under ``opentelemetry-instrument`` (zero-code instrumentation): one request, one span.

The real command runs a FastAPI app under uvicorn on 127.0.0.1 with the FastAPI
instrumentor installed; spans go over OTLP/HTTP to the probe's receiver. Without toolkit
stepping aside one request gave four spans (toolkit's server span, the instrumentor's,
and one per response message).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests._processes import free_port, running, wait_until_http_ok
from toolkit import semconv
from toolkit.readiness.probe import SpanReceiver
from toolkit.readiness.probe.receiver import SPAN_KIND_SERVER

pytest.importorskip("opentelemetry.instrumentation.fastapi")
pytestmark = pytest.mark.slow

OPENTELEMETRY_INSTRUMENT = Path(sys.executable).with_name("opentelemetry-instrument")
TESTS = Path(__file__).parent
PARENT_ID = "00f067aa0ba902b7"
CORRELATION_ID = "autoinstrument-0001"
SETTLE_SECONDS = 1.5  # the batch processor exports every 50 ms: later spans would be in


@pytest.fixture(scope="module")
def receiver() -> Iterator[SpanReceiver]:
    """The OTLP/HTTP receiver the app exports to."""
    with SpanReceiver(port=0) as started:
        yield started


def _environment(receiver: SpanReceiver, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TOOLKIT_"))}
    return {
        **env,
        "PYTHONUNBUFFERED": "1",
        "OTEL_SERVICE_NAME": "orders",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        **extra,
    }


@pytest.mark.parametrize(
    "configurator",
    [{}, {"OTEL_PYTHON_CONFIGURATOR": "no-such-configurator"}],
    ids=["distro-sdk", "toolkit-provider"],
)
def test_one_request_gives_one_server_span(
    receiver: SpanReceiver, tmp_path: Path, configurator: dict[str, str]
) -> None:
    """opentelemetry-instrument + FastAPI instrumentor + toolkit: exactly one span per
    request, toolkit's server span (correlation ID, route template), child of the caller,
    with the access line carrying its trace ID; toolkit says once that it stepped aside.

    With the distro configuring the SDK (toolkit uses its provider) and without (a
    configurator that does not exist: toolkit builds the provider).
    """
    port = free_port()
    trace_id = os.urandom(16).hex()  # the receiver is shared: each test its own trace
    command = [
        str(OPENTELEMETRY_INSTRUMENT),
        sys.executable,
        "-m",
        "uvicorn",
        "_autoinstrument_app:app",
        "--app-dir",
        str(TESTS),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]
    env = _environment(receiver, **configurator)
    url = f"http://127.0.0.1:{port}"
    with running(command, tmp_path / "app.log", env=env) as started:
        wait_until_http_ok(url + "/livez", started=started)
        response = httpx.get(
            url + "/items/7",
            headers={
                "traceparent": f"00-{trace_id}-{PARENT_ID}-01",
                "X-Request-ID": CORRELATION_ID,
            },
        )
        assert response.status_code == 200
        server = receiver.wait_for(trace_id, PARENT_ID, 10.0)
        time.sleep(SETTLE_SECONDS)
        output = started.output()
    spans = [span for span in receiver.spans() if span.trace_id == trace_id]
    assert [(s.name, s.kind, s.parent_span_id) for s in spans] == [
        ("GET /items/{item_id}", SPAN_KIND_SERVER, PARENT_ID)
    ]
    assert server is not None
    assert server.attributes[semconv.SPAN_ATTR_CORRELATION_ID] == CORRELATION_ID
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "toolkit.access"]
    assert [(a["trace_id"], a["span_id"]) for a in access] == [(trace_id, server.span_id)]
    stepped = [line["event"] for line in lines if "opentelemetry-instrumentation-" in line["event"]]
    assert stepped == [
        "this FastAPI app was instrumented by opentelemetry-instrumentation-fastapi "
        "(opentelemetry-instrument): its middleware is removed from the app and toolkit "
        "records the server span; set OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=fastapi to skip "
        "this step"
    ]
