"""The example apps run under real servers (uvicorn, gunicorn) on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from _processes import free_port, gunicorn_command, running, uvicorn_command, wait_until_http_ok

from toolkit import semconv

APPS_DIR = Path(__file__).resolve().parent.parent / "examples" / "apps"

# (server, "module:attribute", item route template)
EXAMPLES = {
    "fastapi": ("uvicorn", "fastapi_app:app", "/items/{item_id}"),
    "starlette": ("uvicorn", "starlette_app:app", "/items/{item_id}"),
    "flask": ("gunicorn", "flask_app:app", "/items/<int:item_id>"),
    "django_wsgi": ("gunicorn", "django_app.wsgi:application", "/items/<int:item_id>"),
    "django_asgi": ("uvicorn", "django_app.asgi:application", "/items/<int:item_id>"),
    "plain_asgi": ("uvicorn", "plain_asgi:app", "/items/{item_id}"),
    "plain_wsgi": ("gunicorn", "plain_wsgi:app", "/items/{item_id}"),
}

pytestmark = pytest.mark.slow


@pytest.fixture(params=sorted(EXAMPLES))
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """Start one example app; yield (name, base URL, stdout file); stop it."""
    name = request.param
    kind, target, _ = EXAMPLES[name]
    port = free_port()
    if kind == "uvicorn":
        command = uvicorn_command(target, port, app_dir=APPS_DIR, options=["--no-access-log"])
    else:
        command = gunicorn_command(target, port, chdir=APPS_DIR, options=["--workers", "1"])
    stdout = tmp_path / "stdout.log"
    with running(command, stdout, stderr=tmp_path / "stderr.log") as started:
        base = f"http://127.0.0.1:{port}"
        wait_until_http_ok(base + "/metrics", started=started, any_status=True)
        yield name, base, stdout


def test_example_app_is_observable(server: tuple[str, str, Path]) -> None:
    """Under its real server each example echoes the correlation ID (500s too), streams,
    serves /metrics with the route template, and logs JSON access lines."""
    name, base, stdout = server
    route = EXAMPLES[name][2]

    item = httpx.get(base + "/items/42", headers={"X-Request-ID": "example-1"})
    boom = httpx.get(base + "/boom", headers={"X-Request-ID": "example-2"})
    stream = httpx.get(base + "/stream")
    metrics = httpx.get(base + "/metrics").text

    assert item.status_code == 200
    assert item.headers["x-request-id"] == "example-1"
    assert item.json()["correlation_id"] == "example-1"
    assert boom.status_code == 500
    assert boom.headers["x-request-id"] == "example-2"
    assert stream.text == "".join(f"chunk {n}\n" for n in range(5))
    count = (
        f'{semconv.HTTP_SERVER_REQUEST_DURATION}_count{{error_type="",'
        f'http_request_method="GET",http_response_status_code="200",http_route="{route}"}} 1.0'
    )
    assert count in metrics
    time.sleep(0.2)  # let the server flush stdout
    lines = [json.loads(line) for line in stdout.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "toolkit.access"]
    assert [(a[semconv.LOG_ROUTE], a[semconv.LOG_STATUS]) for a in access] == [
        (route, 200),
        ("/boom", 500),
        ("/stream", 200),
    ]
    assert access[0][semconv.LOG_CORRELATION_ID] == "example-1"
    assert access[0][semconv.LOG_SERVICE].endswith("-example")
    assert len(access[0][semconv.LOG_TRACE_ID]) == 32
