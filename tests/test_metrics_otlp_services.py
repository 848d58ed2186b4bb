"""Two real uvicorn services push their HTTP metrics over OTLP to toolkit's receiver:
``stock`` instead of ``/metrics`` (``OTEL_METRICS_EXPORTER=otlp``), ``orders`` beside it
(``otlp,prometheus``), configured by the environment alone through ``toolkit.instrument``."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests._outbound_services import SHUTDOWN_MARK, Service, run_service
from toolkit import semconv
from toolkit.readiness.probe.receiver import ReceivedPoint, SpanReceiver

pytestmark = pytest.mark.slow

EXIT_SECONDS = 15.0
SERVER = semconv.OTLP_HTTP_SERVER_REQUEST_DURATION
CLIENT = semconv.OTLP_HTTP_CLIENT_REQUEST_DURATION


def stop(service: Service) -> None:
    """SIGTERM, as a deploy would; the app's lifespan shuts its providers down."""
    os.killpg(service.process.pid, signal.SIGTERM)
    service.process.wait(timeout=EXIT_SECONDS)
    assert SHUTDOWN_MARK in service.log_file.read_text()


def point(receiver: SpanReceiver, name: str, service: str, route: str = "") -> ReceivedPoint:
    """The newest point of ``name`` from ``service`` (and ``route``, for server metrics)."""

    def wanted(p: ReceivedPoint) -> bool:
        return p.service == service and (
            not route or p.attributes.get(semconv.SPAN_ATTR_HTTP_ROUTE) == route
        )

    found = receiver.wait_for_point(name, 10.0, wanted)
    assert found is not None, f"no {name} from {service} in {receiver.points()}"
    return found


def scraped_count(text: str, name: str, **labels: str) -> float | None:
    """The ``_count`` sample of histogram ``name`` with ``labels`` in a scrape."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == f"{name}_count" and all(
                sample.labels.get(k) == v for k, v in labels.items()
            ):
                return float(sample.value)
    return None


def test_two_services_push_server_and_client_metrics(tmp_path: Path) -> None:
    """With the push a minute away, the metrics arrive because SIGTERM's shutdown pushes
    them: each service's request durations (seconds, route templates, counts), orders'
    client durations to stock from both HTTP libraries. orders still serves /metrics
    with the same counts; stock serves none."""
    with SpanReceiver(port=0) as receiver:
        with run_service(
            "stock",
            tmp_path / "stock.log",
            receiver.endpoint,
            extra_env={"OTEL_METRICS_EXPORTER": "otlp"},
        ) as stock:
            with run_service(
                "orders",
                tmp_path / "orders.log",
                receiver.endpoint,
                downstream=stock.url,
                extra_env={"OTEL_METRICS_EXPORTER": "otlp,prometheus"},
            ) as orders:
                with httpx.Client(timeout=10.0) as client:
                    assert client.get(orders.url + "/orders/1").status_code == 200
                    assert client.get(orders.url + "/orders-sync/2").status_code == 200
                    scrape = client.get(orders.url + "/metrics")
                    stock_scrape = client.get(stock.url + "/metrics")
                assert receiver.points() == []  # nothing pushed yet: the interval is 60 s
                stop(orders)
            stop(stock)

        stock_server = point(receiver, SERVER, "stock", "/stock/{item_id}")
        orders_server = point(receiver, SERVER, "orders", "/orders/{order_id}")
        orders_sync = point(receiver, SERVER, "orders", "/orders-sync/{order_id}")
        orders_client = point(receiver, CLIENT, "orders")

    assert (stock_server.unit, stock_server.count) == ("s", 2)
    assert stock_server.attributes == {
        semconv.SPAN_ATTR_HTTP_METHOD: "GET",
        semconv.SPAN_ATTR_URL_SCHEME: "http",
        semconv.SPAN_ATTR_HTTP_ROUTE: "/stock/{item_id}",
        semconv.SPAN_ATTR_HTTP_STATUS_CODE: 200,
    }
    assert (orders_server.count, orders_sync.count) == (1, 1)
    port = int(stock.url.rsplit(":", 1)[1])
    assert (orders_client.unit, orders_client.count, orders_client.scope) == (
        "s",
        2,
        "toolkit.outbound",
    )
    assert orders_client.attributes == {
        semconv.SPAN_ATTR_HTTP_METHOD: "GET",
        semconv.SPAN_ATTR_SERVER_ADDRESS: "127.0.0.1",
        semconv.SPAN_ATTR_SERVER_PORT: port,
        semconv.SPAN_ATTR_HTTP_STATUS_CODE: 200,
    }
    assert orders_client.bounds == semconv.DURATION_BUCKETS
    assert scrape.status_code == 200
    route = {semconv.LABEL_ROUTE: "/orders/{order_id}"}
    assert scraped_count(scrape.text, semconv.HTTP_SERVER_REQUEST_DURATION, **route) == 1.0
    assert scraped_count(scrape.text, semconv.HTTP_CLIENT_REQUEST_DURATION) == 2.0
    assert stock_scrape.status_code == 404
