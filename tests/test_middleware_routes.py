"""Route templates from Starlette/FastAPI scopes (mounts too) and the ROUTE_KEY contract."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from middleware_apps import prefixed_fastapi
from middleware_fixtures import Harness, call_asgi, http_scope, make_harness

from toolkit import semconv
from toolkit.middleware import ROUTE_KEY, ToolkitASGIMiddleware
from toolkit.middleware.routes import asgi_route, wsgi_route


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


def mounted_starlette() -> Any:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route

    async def ok(request: Any) -> Any:
        return PlainTextResponse("ok")

    async def files(scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("file")(scope, receive, send)

    return Starlette(
        routes=[
            Route("/", ok),
            Mount(
                "/api",
                routes=[
                    Route("/items/{item_id:int}", ok),
                    Mount("/v2", routes=[Route("/users/{name}", ok, methods=["GET"])]),
                ],
            ),
            Mount("/static", app=files),
        ]
    )


@pytest.mark.parametrize(
    ("factory", "path", "method", "route", "status"),
    [
        (mounted_starlette, "/", "GET", "/", 200),
        (mounted_starlette, "/api/items/7", "GET", "/api/items/{item_id:int}", 200),
        (mounted_starlette, "/api/v2/users/ann", "GET", "/api/v2/users/{name}", 200),
        (mounted_starlette, "/api/v2/users/ann", "POST", "/api/v2/users/{name}", 405),
        (mounted_starlette, "/static/css/site.css", "GET", "/static/{path:path}", 200),
        (mounted_starlette, "/api/nothing", "GET", semconv.UNMATCHED_ROUTE, 404),
        (
            prefixed_fastapi,
            "/v1/orders/3/lines/9",
            "GET",
            "/v1/orders/{order_id}/lines/{line}",
            200,
        ),
        (
            prefixed_fastapi,
            "/v1/orders/x/lines/9",
            "GET",
            "/v1/orders/{order_id}/lines/{line}",
            422,
        ),
    ],
)
async def test_starlette_templates(
    harness: Harness, factory: Any, path: str, method: str, route: str, status: int
) -> None:
    """Mounts, nested mounts, sub-apps, 405 partial matches and router prefixes."""
    middleware = ToolkitASGIMiddleware(factory(), **harness.options())
    sent = await call_asgi(middleware, http_scope(path, method=method))

    assert sent[0]["status"] == status
    (access,) = harness.access_logs()
    assert access[semconv.LOG_ROUTE] == route


def test_route_key_wins_everywhere() -> None:
    """A template under ROUTE_KEY is used as is, for ASGI and WSGI."""

    class FakeRoute:
        path = "/from-starlette"

    scope = {ROUTE_KEY: "/mine/{id}", "route": FakeRoute(), "root_path": ""}
    assert asgi_route(scope, "") == "/mine/{id}"
    assert wsgi_route({ROUTE_KEY: "/mine/<id>"}) == "/mine/<id>"
    assert wsgi_route({"PATH_INFO": "/raw/path"}) is None
    assert asgi_route({"path": "/raw/path"}, "") is None
