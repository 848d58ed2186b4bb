"""Driving a real third-party app and reading back what toolkit made of it.

Requests are sent with httpx and remembered with the correlation ID the app echoed; the
metrics are read from a real Prometheus' HTTP API, the access lines from the server's
stdout, the spans from a local OTLP receiver. Each reader returns plain tuples, so a test
compares them with what it expects, spelled out.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests._processes import wait_until
from toolkit import semconv
from toolkit.middleware.telemetry import ACCESS_LOGGER
from toolkit.readiness.probe.receiver import SPAN_KIND_SERVER, SpanReceiver

HEX32 = re.compile(r"[0-9a-f]{32}")
HEX16 = re.compile(r"[0-9a-f]{16}")
COUNT = semconv.HTTP_SERVER_REQUEST_DURATION + "_count"
# Variables of the test run that would change what the app under test does.
_OWN_PREFIXES = ("OTEL_", "TOOLKIT_", "PROMETHEUS_MULTIPROC_DIR")


@dataclass(frozen=True)
class Request:
    """A request to send ``times`` times and what toolkit should make of it."""

    path: str
    times: int
    status: int
    route: str  # the expected http_route label and access-log route


@dataclass(frozen=True)
class Sent:
    """A request sent: its path, the status it got, the echoed correlation ID, and the
    route it should be labelled with."""

    path: str
    status: int
    correlation_id: str
    route: str


def app_env(receiver: SpanReceiver, **extra: str) -> dict[str, str]:
    """This environment without OTEL_*/TOOLKIT_* variables, exporting spans to
    ``receiver`` every 200 ms."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
    env["OTEL_BSP_SCHEDULE_DELAY"] = "200"
    return {**env, **extra}


def send(url: str, request: Request) -> Sent:
    """GET ``url + request.path`` once; checks the status, keeps the echoed ID."""
    response = httpx.get(url + request.path, timeout=15)
    assert response.status_code == request.status, (request, response.text[:500])
    return Sent(request.path, request.status, response.headers["x-request-id"], request.route)


def drive(url: str, plan: Sequence[Request], *, concurrently: int = 1) -> list[Sent]:
    """Send every request of ``plan`` its number of times, ``concurrently`` at a time."""
    requests = [request for request in plan for _ in range(request.times)]
    with ThreadPoolExecutor(concurrently) as pool:
        return list(pool.map(lambda request: send(url, request), requests))


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    """The result vector of an instant query (raises unless Prometheus says success)."""
    response = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=10)
    body = response.json()
    assert body["status"] == "success", (expr, body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def request_counts(prometheus: str, job: str) -> dict[tuple[str, str], float]:
    """``(http_route, http_response_status_code) -> requests`` of ``job`` in Prometheus."""
    expr = (
        f"sum by ({semconv.LABEL_ROUTE}, {semconv.LABEL_STATUS_CODE}) "
        f'({COUNT}{{{semconv.JOB}="{job}"}})'
    )
    return {
        (row["metric"][semconv.LABEL_ROUTE], row["metric"][semconv.LABEL_STATUS_CODE]): float(
            row["value"][1]
        )
        for row in query(prometheus, expr)
    }


def scraped_counts(prometheus: str, job: str, total: int) -> dict[tuple[str, str], float]:
    """:func:`request_counts` once Prometheus scraped ``total`` requests of ``job`` (or
    what it holds after 30 s, for the test's assertion to show)."""
    seen: dict[tuple[str, str], float] = {}

    def all_scraped() -> bool:
        seen.clear()
        seen.update(request_counts(prometheus, job))
        return sum(seen.values()) >= total

    with contextlib.suppress(TimeoutError):
        wait_until(all_scraped, 30)
    return dict(seen)


def route_labels(prometheus: str, job: str) -> set[str]:
    """Every ``http_route`` value on any series of ``job``, whatever the family."""
    expr = (
        f'group by ({semconv.LABEL_ROUTE}) ({{{semconv.JOB}="{job}", {semconv.LABEL_ROUTE}!=""}})'
    )
    return {row["metric"][semconv.LABEL_ROUTE] for row in query(prometheus, expr)}


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of ``path`` parsed as JSON (fails on a line that is not)."""
    lines = path.read_text().splitlines()
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON line in {path.name}: {line!r}") from None
    return parsed


def access_lines(path: Path) -> list[dict[str, Any]]:
    """The toolkit access lines among the JSON lines of ``path``."""
    return [line for line in json_lines(path) if line.get(semconv.LOG_LOGGER) == ACCESS_LOGGER]


def expected_access(sent: Sequence[Sent], service: str) -> list[tuple[Any, ...]]:
    """One access line per request sent, as :func:`access_projection` shows it."""
    return sorted(
        (s.correlation_id, "GET", s.path, s.route, s.status, service, "info", "request")
        for s in sent
    )


def access_projection(lines: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Access lines as (correlation_id, method, path, route, status, service, level, event)."""
    return sorted(
        (
            line.get(semconv.LOG_CORRELATION_ID),
            line.get(semconv.LOG_METHOD),
            line.get(semconv.LOG_PATH),
            line.get(semconv.LOG_ROUTE),
            line.get(semconv.LOG_STATUS),
            line.get(semconv.LOG_SERVICE),
            line.get(semconv.LOG_LEVEL),
            line.get(semconv.LOG_EVENT),
        )
        for line in lines
    )


def server_spans(receiver: SpanReceiver, count: int) -> list[Any]:
    """The SERVER spans received, once there are ``count`` (or after 30 s)."""

    def received() -> list[Any]:
        return [span for span in receiver.spans() if span.kind == SPAN_KIND_SERVER]

    with contextlib.suppress(TimeoutError):
        wait_until(lambda: len(received()) >= count, 30)
    return received()


def expected_spans(sent: Sequence[Sent], service: str) -> list[tuple[Any, ...]]:
    """One server span per request sent, as :func:`span_projection` shows it: named
    ``GET <template>`` with ``http.route`` when a template labelled it, plain ``GET``
    without that attribute when the label is ``__unmatched__``/``__unrouted__``."""
    rows = []
    for s in sent:
        templated = s.route.startswith("/")
        name = f"GET {s.route}" if templated else "GET"
        rows.append((s.correlation_id, service, name, s.route if templated else None, s.status))
    return sorted(rows)


def span_projection(spans: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Spans as (correlation.id, service, name, http.route, http.response.status_code)."""
    return sorted(
        (
            span.attributes.get(semconv.SPAN_ATTR_CORRELATION_ID),
            span.service,
            span.name,
            span.attributes.get(semconv.SPAN_ATTR_HTTP_ROUTE),
            span.attributes.get(semconv.SPAN_ATTR_HTTP_STATUS_CODE),
        )
        for span in spans
    )


def ids_agree(lines: Sequence[dict[str, Any]], spans: Sequence[Any]) -> list[str]:
    """Problems tying each access line to its span: 32/16-hex trace and span IDs on the
    line, equal to those of the span with the same correlation ID, and one trace per
    request. Empty when everything agrees."""
    by_correlation: Mapping[str, Any] = {
        span.attributes.get(semconv.SPAN_ATTR_CORRELATION_ID): span for span in spans
    }
    problems = []
    for line in lines:
        cid = line.get(semconv.LOG_CORRELATION_ID)
        trace_id, span_id = line.get(semconv.LOG_TRACE_ID), line.get(semconv.LOG_SPAN_ID)
        if not (isinstance(trace_id, str) and HEX32.fullmatch(trace_id)):
            problems.append(f"{cid}: trace_id {trace_id!r}")
        if not (isinstance(span_id, str) and HEX16.fullmatch(span_id)):
            problems.append(f"{cid}: span_id {span_id!r}")
        span = by_correlation.get(cid)
        if span is not None and (span.trace_id, span.span_id) != (trace_id, span_id):
            problems.append(
                f"{cid}: line {trace_id}/{span_id}, span {span.trace_id}/{span.span_id}"
            )
    if len({line.get(semconv.LOG_TRACE_ID) for line in lines}) != len(lines):
        problems.append("two requests share a trace_id")
    return problems


@dataclass(frozen=True)
class Observed:
    """What toolkit made of the requests to one service."""

    counts: dict[tuple[str, str], float]  # Prometheus: (http_route, status) -> requests
    routes: set[str]  # every http_route label of the job in Prometheus
    access: list[dict[str, Any]]  # the access lines on the server's stdout
    spans: list[tuple[Any, ...]]  # the SERVER spans received, as span_projection shows them
    raw_spans: list[Any]


def observe(
    prometheus: str, job: str, receiver: SpanReceiver, stdout: Path, *, requests: int
) -> Observed:
    """Read back ``requests`` requests of ``job``: once Prometheus scraped them and the
    receiver has their spans (or after 30 s each, for the assertions to show)."""
    counts = scraped_counts(prometheus, job, requests)
    spans = server_spans(receiver, requests)
    return Observed(
        counts=counts,
        routes=route_labels(prometheus, job),
        access=access_lines(stdout),
        spans=span_projection(spans),
        raw_spans=spans,
    )
