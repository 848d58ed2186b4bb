"""/livez and /readyz served by the ASGI and WSGI middlewares as application/health+json."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.middleware_apps import ok_asgi_app as asgi_app
from tests.middleware_apps import ok_wsgi_app as wsgi_app
from tests.middleware_fixtures import Harness, make_harness
from toolkit import semconv
from toolkit.health import ENV_HEALTH_TIMEOUT, ENV_LIVEZ_PATH, ENV_READYZ_PATH, HealthEndpoints
from toolkit.middleware import ToolkitASGIMiddleware, ToolkitWSGIMiddleware
from toolkit.readiness import checks as c
from toolkit.readiness.model import Status
from toolkit.readiness.probe.health import check_health


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture(params=["asgi", "wsgi"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def get(kind: str, path: str, method: str = "GET", **options: Any) -> httpx.Response:
    """One request to an app wrapped by the ``kind`` middleware with ``options``."""
    if kind == "asgi":
        app = ToolkitASGIMiddleware(asgi_app, **options)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path)
    wsgi = ToolkitWSGIMiddleware(wsgi_app, **options)
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi), base_url="http://test") as client:
        return client.request(method, path)


async def test_livez_passes(kind: str, harness: Harness) -> None:
    """/livez answers 200 health+json, status pass, never cached."""
    response = await get(kind, "/livez", **harness.options())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/health+json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {"status": "pass", "serviceId": "orders"}


async def test_readyz_document(kind: str, harness: Harness) -> None:
    """/readyz lists each check with status, time, observed value and output; a failed
    check makes it 503 fail."""
    checks = {"db": lambda: None, "cache": lambda: False}
    response = await get(kind, "/readyz", health_checks=checks, **harness.options())
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert sorted(body["checks"]) == ["cache", "db"]
    (db,) = body["checks"]["db"]
    assert (db["status"], db["observedUnit"]) == ("pass", "ms")
    assert isinstance(db["observedValue"], float)
    assert db["time"].endswith("Z")
    (cache,) = body["checks"]["cache"]
    assert (cache["status"], cache["output"]) == ("fail", "check returned False")


async def test_hanging_check_does_not_hang_readyz(
    kind: str, harness: Harness, release: threading.Event
) -> None:
    """A check that never returns makes /readyz answer 503 with a timeout, not hang."""
    response = await get(
        kind,
        "/readyz",
        health_checks={"db": release.wait},
        health_timeout=0.2,
        **harness.options(),
    )
    assert response.status_code == 503
    assert response.json()["checks"]["db"][0]["output"] == "timed out after 0.2 s"


async def test_probe_accepts_both_endpoints(kind: str, harness: Harness) -> None:
    """The readiness probe's own check passes on both endpoints (pass and warn)."""
    for spec, path in ((c.HEALTH_LIVEZ, "/livez"), (c.HEALTH_READYZ, "/readyz")):
        response = await get(kind, path, **harness.options())
        check = check_health(
            spec, path, response.status_code, response.headers["content-type"], response.content
        )
        assert check.status == Status.PASS


async def test_probe_sees_failure(kind: str, harness: Harness) -> None:
    """A failed readiness is a failed probe check, as the draft wants (503 + fail)."""
    response = await get(kind, "/readyz", health_checks={"db": lambda: 1 / 0}, **harness.options())
    check = check_health(
        c.HEALTH_READYZ,
        "/readyz",
        response.status_code,
        response.headers["content-type"],
        response.content,
    )
    assert check.status == Status.FAIL
    assert check.reason == "GET /readyz: status fail (HTTP 503)"


async def test_not_observed(kind: str, harness: Harness) -> None:
    """Health endpoints make no span, no metrics and no access-log line."""
    await get(kind, "/livez", **harness.options())
    await get(kind, "/readyz", **harness.options())
    assert harness.spans() == []
    assert harness.access_logs() == []
    assert harness.sample(semconv.HTTP_SERVER_REQUEST_DURATION + "_count") is None
    assert harness.sample(
        semconv.HTTP_SERVER_ACTIVE_REQUESTS, {"http_request_method": "GET", "url_scheme": "http"}
    ) in (None, 0.0)


async def test_head_and_wrong_method(kind: str, harness: Harness) -> None:
    """HEAD gets the headers without a body; POST gets 405 with Allow."""
    head = await get(kind, "/readyz", method="HEAD", **harness.options())
    assert (head.status_code, head.content) == (200, b"")
    post = await get(kind, "/livez", method="POST", **harness.options())
    assert (post.status_code, post.headers["allow"]) == (405, "GET, HEAD")


@pytest.mark.parametrize(
    ("options", "env", "live", "ready", "off"),
    [
        ({}, {}, "/livez", "/readyz", "/healthz"),
        ({"livez_path": "/health/live"}, {}, "/health/live", "/readyz", "/livez"),
        ({}, {ENV_READYZ_PATH: "/ready"}, "/livez", "/ready", "/readyz"),
        ({"readyz_path": "/r"}, {ENV_READYZ_PATH: "/ready"}, "/livez", "/r", "/ready"),
        ({"livez_path": None}, {}, None, "/readyz", "/livez"),
        ({}, {ENV_LIVEZ_PATH: "", ENV_READYZ_PATH: ""}, None, None, "/readyz"),
    ],
)
def test_paths_keyword_over_environment_over_default(
    options: dict[str, Any], env: dict[str, str], live: str, ready: str, off: str
) -> None:
    """Paths resolve keyword > TOOLKIT_LIVEZ_PATH/TOOLKIT_READYZ_PATH > default; empty: off."""
    endpoints = HealthEndpoints.from_options(options, env)
    assert (endpoints.livez_path, endpoints.readyz_path) == (live, ready)
    assert off not in endpoints.paths


@pytest.mark.parametrize(
    ("options", "env", "expected"),
    [({}, {}, 1.0), ({}, {ENV_HEALTH_TIMEOUT: "2.5"}, 2.5), ({"health_timeout": 3}, {}, 3.0)],
)
def test_timeout_resolution(options: dict[str, Any], env: dict[str, str], expected: float) -> None:
    """The default per-check timeout: keyword > TOOLKIT_HEALTH_TIMEOUT > 1 s."""
    endpoints = HealthEndpoints.from_options({**options, "health_checks": {"a": lambda: None}}, env)
    assert endpoints.runner.checks[0].timeout == expected


def test_bad_timeout_variable() -> None:
    """A timeout variable that is not a number is refused with its name."""
    with pytest.raises(ValueError, match="TOOLKIT_HEALTH_TIMEOUT must be seconds, got 'soon'"):
        HealthEndpoints.from_options({}, {ENV_HEALTH_TIMEOUT: "soon"})


async def test_disabled_path_reaches_the_app(kind: str, harness: Harness) -> None:
    """With livez_path=None, /livez is the app's again."""
    response = await get(kind, "/livez", livez_path=None, **harness.options())
    assert response.text == "app"


async def test_gauge_on_the_middleware_registry(kind: str, harness: Harness) -> None:
    """Readiness results land in the middleware's registry."""
    await get(kind, "/readyz", health_checks={"db": lambda: None}, **harness.options())
    assert harness.sample(semconv.HEALTH_CHECK_STATUS, {semconv.LABEL_CHECK: "db"}) == 1.0


def test_body_is_compact_json() -> None:
    """The body is JSON without spaces (what the probe parses)."""
    endpoints = HealthEndpoints(service="orders")
    assert json.loads(endpoints._body(endpoints.report_sync("/livez"))) == {
        "status": "pass",
        "serviceId": "orders",
    }
