"""Two real services on 127.0.0.1: orders calls stock; one trace, one correlation ID."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._outbound_services import Service, run_service
from toolkit import semconv
from toolkit.readiness.probe.receiver import ReceivedSpan, SpanReceiver

SPAN_WAIT = 15.0
CLIENT = 3  # OTLP SpanKind.SPAN_KIND_CLIENT
SERVER = 2
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture(scope="module")
def services(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SpanReceiver, Service, Service]]:
    logs = tmp_path_factory.mktemp("outbound")
    with (
        SpanReceiver(port=0) as receiver,
        run_service("stock", logs / "stock.log", receiver.endpoint) as stock,
        run_service(
            "orders", logs / "orders.log", receiver.endpoint, downstream=stock.url
        ) as orders,
    ):
        yield receiver, orders, stock


def child(receiver: SpanReceiver, parent: str, trace_id: str = CALLER_TRACE) -> ReceivedSpan:
    """The span whose parent is ``parent`` (waits for it)."""
    found = receiver.wait_for(trace_id, parent, SPAN_WAIT)
    assert found is not None, f"no span with parent {parent} in {receiver.spans()}"
    return found


def logs_with(path: Path, correlation_id: str) -> list[dict[str, Any]]:
    """The app's and access-log lines of ``path`` with ``correlation_id`` (waits for both)."""
    deadline = time.monotonic() + 5.0
    while True:
        text = path.read_text().splitlines()
        lines = [json.loads(line) for line in text if line.startswith("{")]
        found = [
            line
            for line in lines
            if line.get(semconv.LOG_CORRELATION_ID) == correlation_id
            and line[semconv.LOG_LOGGER] in ("app", "toolkit.access")
        ]
        if len(found) >= 2 or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@pytest.mark.parametrize("route", ["/orders/7", "/orders-sync/7"], ids=["httpx", "requests"])
def test_one_trace_and_one_correlation_id_across_two_services(
    services: tuple[SpanReceiver, Service, Service], route: str
) -> None:
    """The caller's trace continues through orders' server span and client span into
    stock's server span (a child of the client span); both services log the caller's
    correlation ID, and stock saw it."""
    receiver, orders, stock = services
    cid = f"e2e-{route.strip('/').replace('/', '-')}"
    response = httpx.get(
        orders.url + route,
        headers={
            "X-Request-ID": cid,
            "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
        },
        timeout=10.0,
    )
    assert response.status_code == 200
    assert response.json() == {"stock": {"item": "7", "seen": cid}}
    assert response.headers["x-request-id"] == cid

    orders_server = child(receiver, CALLER_SPAN)
    assert (orders_server.service, orders_server.kind) == ("orders", SERVER)
    orders_client = child(receiver, orders_server.span_id)
    assert (orders_client.service, orders_client.kind, orders_client.name) == (
        "orders",
        CLIENT,
        "GET",
    )
    port = int(stock.url.rsplit(":", 1)[1])
    assert orders_client.attributes["server.address"] == "127.0.0.1"
    assert orders_client.attributes["server.port"] == port
    assert orders_client.attributes["http.response.status_code"] == 200
    assert orders_client.attributes["url.full"] == f"{stock.url}/stock/7"
    stock_server = child(receiver, orders_client.span_id)
    assert (stock_server.service, stock_server.kind, stock_server.name) == (
        "stock",
        SERVER,
        "GET /stock/{item_id}",
    )

    for service, expected in ((orders, "order placed"), (stock, "stock checked")):
        lines = logs_with(service.log_file, cid)
        assert [line["event"] for line in lines] == [expected, semconv.ACCESS_LOG_EVENT]
        assert {line[semconv.LOG_TRACE_ID] for line in lines} == {CALLER_TRACE}


def test_orders_counts_its_calls_to_stock(services: tuple[SpanReceiver, Service, Service]) -> None:
    """orders' /metrics has the client histogram with stock as server_address."""
    _, orders, stock = services
    before = client_count(orders, stock)
    assert httpx.get(orders.url + "/orders/1", timeout=10.0).status_code == 200
    assert client_count(orders, stock) == before + 1.0


def client_count(orders: Service, stock: Service) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(orders.url + "/metrics", timeout=5.0).text
    port = stock.url.rsplit(":", 1)[1]
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == semconv.HTTP_CLIENT_REQUEST_DURATION + "_count"
                and sample.labels[semconv.LABEL_SERVER_ADDRESS] == "127.0.0.1"
                and sample.labels[semconv.LABEL_SERVER_PORT] == port
                and sample.labels[semconv.LABEL_STATUS_CODE] == "200"
                and sample.labels[semconv.LABEL_ERROR_TYPE] == ""
            ):
                total += sample.value
    return total
