"""Exemplars: the duration histogram carries the sampled request's trace_id, OpenMetrics only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from middleware_apps import plain_asgi_app, plain_wsgi_app
from middleware_fixtures import Harness, call, make_harness
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from prometheus_client.parser import text_string_to_metric_families

from tests._multiprocess_support import start_worker
from toolkit import semconv
from toolkit.metrics._endpoint import render_metrics
from toolkit.middleware import ToolkitASGIMiddleware, ToolkitWSGIMiddleware

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
BUCKET = semconv.HTTP_SERVER_REQUEST_DURATION + "_bucket"


@pytest.fixture
def harness() -> Iterator[Harness]:
    """Fresh registry, in-memory spans, captured logs."""
    yield from make_harness()


def _app(asgi: bool, **options: Any) -> Any:
    if asgi:
        return ToolkitASGIMiddleware(plain_asgi_app(), **options)
    return ToolkitWSGIMiddleware(plain_wsgi_app(), **options)


def _exemplars(body: str) -> list[tuple[str, dict[str, str]]]:
    """(le, exemplar labels) of every duration bucket that carries an exemplar."""
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as om

    found = []
    for family in om(body):
        for sample in family.samples:
            if sample.name == BUCKET and sample.exemplar is not None:
                found.append((sample.labels["le"], dict(sample.exemplar.labels)))
    return found


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_openmetrics_scrape_carries_the_trace_id(harness: Harness, asgi: bool) -> None:
    """A sampled request's trace_id is the exemplar of the bucket its duration fell in."""
    app = _app(asgi, **harness.options())
    await call(app, asgi, "/items/1")
    (span,) = harness.spans()
    trace_id = format(span.context.trace_id, "032x")
    response = await call(app, asgi, "/metrics", {"accept": "application/openmetrics-text"})
    assert response.headers["content-type"] == OPENMETRICS
    assert _exemplars(response.text) == [("0.005", {"trace_id": trace_id})]


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_plain_text_scrape_has_no_exemplars(harness: Harness, asgi: bool) -> None:
    """Without the OpenMetrics Accept header: text format 0.0.4, which has no exemplars."""
    app = _app(asgi, **harness.options())
    await call(app, asgi, "/items/1")
    response = await call(app, asgi, "/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert " # {" not in response.text
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    count = [
        s.value
        for s in families[semconv.HTTP_SERVER_REQUEST_DURATION].samples
        if s.name.endswith("_count")
    ]
    assert count == [1.0]


@pytest.mark.parametrize("asgi", [True, False], ids=["asgi", "wsgi"])
async def test_unsampled_or_untraced_requests_add_no_exemplar(harness: Harness, asgi: bool) -> None:
    """A span the sampler dropped, or tracing off: no exemplar (it would link to nothing)."""
    unsampled = _app(asgi, **harness.options(tracer_provider=TracerProvider(sampler=ALWAYS_OFF)))
    await call(unsampled, asgi, "/items/1")
    untraced = _app(asgi, **harness.options(tracing=False))
    await call(untraced, asgi, "/items/2")
    response = await call(untraced, asgi, "/metrics", {"accept": "application/openmetrics-text"})
    assert _exemplars(response.text) == []
    assert harness.duration_count("GET", "/items/{item_id}", 200) == 2.0


def test_multiprocess_mode_serves_openmetrics_without_exemplars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker processes observe with an exemplar; prometheus-client's mmap files cannot
    keep it: the OpenMetrics scrape of the directory is valid, counts right, has none."""
    start_worker(tmp_path, 3, exemplar={semconv.EXEMPLAR_TRACE_ID: "ab" * 16})
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    body, content_type = render_metrics(None, "application/openmetrics-text")
    assert content_type == OPENMETRICS
    text = body.decode()
    assert text.endswith("# EOF\n")
    assert _exemplars(text) == []
    assert f"{semconv.HTTP_SERVER_REQUEST_DURATION}_count" in text
