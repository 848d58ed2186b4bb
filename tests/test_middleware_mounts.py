"""Route templates through mounts, routers, prefixes and sub-apps, on every framework.

Each request goes through the real middleware (in-process): its ``http_route`` label,
its span's ``http.route`` and what :class:`RouteResolver` reads from the scope/environ
the app left behind are all checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from fastapi import WebSocket  # at module level: FastAPI resolves the annotation here
from middleware_apps import django_asgi_app, django_wsgi_app
from middleware_fixtures import Harness, call, call_asgi, http_scope, make_harness

from toolkit import semconv
from toolkit._http import relative_path
from toolkit.middleware import ToolkitASGIMiddleware, ToolkitWSGIMiddleware
from toolkit.middleware.django import record_route_on as record_django_route
from toolkit.middleware.routes import RouteResolver

UNMATCHED = semconv.UNMATCHED_ROUTE
Scope = MutableMapping[str, Any]

# The URLconf of the Django tests (ROOT_URLCONF=this module), filled once Django is set up.
urlpatterns: list[Any] = []


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.css").write_text("body {}")
    return tmp_path


async def raw_app(scope: Scope, receive: Any, send: Any) -> None:
    """A mounted ASGI app without routes: answers 200 to any path."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"raw"})


async def ok(request: Any) -> Any:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse("ok")


def starlette_app(static_dir: Path) -> Any:
    """Routes, mounts (nested, with parameters), a Router, sub-apps and mounted apps."""
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route, Router
    from starlette.staticfiles import StaticFiles

    return Starlette(
        routes=[
            Route("/", ok),
            Route("/items/{item_id}", ok, methods=["GET"]),
            Mount(
                "/api",
                routes=[
                    Route("/items/{item_id:int}", ok),
                    Mount("/v2", routes=[Route("/users/{name}", ok)]),
                ],
            ),
            Mount("/t/{tenant}", routes=[Route("/orders/{order_id}", ok)]),
            Mount("/router", app=Router(routes=[Route("/things/{thing}", ok)])),
            Mount(
                "/sub",
                app=Starlette(
                    routes=[
                        Route("/hello/{who}", ok),
                        Mount("/deep", routes=[Route("/{leaf}", ok)]),
                    ]
                ),
            ),
            Mount("/fastapi", app=fastapi_sub_app()),
            Mount("/static", app=StaticFiles(directory=static_dir)),
            Mount("/raw", app=raw_app),
        ]
    )


def fastapi_sub_app() -> Any:
    """A FastAPI app with a route and an included, prefixed router: mounted by the others."""
    from fastapi import APIRouter, FastAPI

    sub = FastAPI()

    @sub.get("/hello/{who}")
    async def hello(who: str) -> str:
        return who

    router = APIRouter(prefix="/r")

    @router.get("/{z}")
    async def z(z: str) -> str:
        return z

    sub.include_router(router, prefix="/p")
    return sub


def fastapi_app(static_dir: Path) -> Any:
    """APIRouters (nested, prefixed) holding mounts and plain routes; mounted apps."""
    from fastapi import APIRouter, FastAPI
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    app = FastAPI()

    @app.get("/")
    async def root() -> str:
        return "root"

    orders = APIRouter(prefix="/orders")

    @orders.get("/{order_id}")
    async def order(order_id: int) -> int:
        return order_id

    lines = APIRouter(prefix="/{order_id}/lines")

    @lines.get("/{line}")
    async def line(order_id: int, line: int) -> int:
        return line

    orders.include_router(lines)
    mixed = APIRouter(routes=[Mount("/sub", routes=[Route("/leaf/{leaf}", ok)])])
    mixed.mount("/files", raw_app)
    mixed.add_route("/plain/{p}", ok)
    mixed.include_router(APIRouter(routes=[Mount("/app", app=fastapi_sub_app())]), prefix="/in")
    app.include_router(orders, prefix="/v1")
    app.include_router(mixed, prefix="/m")
    app.mount("/static", StaticFiles(directory=static_dir))
    app.mount("/raw", raw_app)
    app.mount("/subapp", fastapi_sub_app())
    app.mount("/starlette", Starlette(routes=[Route("/s/{x}", ok)]))
    return app


STARLETTE_CASES = [
    ("GET", "/", 200, "/"),
    ("GET", "/items/1", 200, "/items/{item_id}"),
    ("POST", "/items/1", 405, "/items/{item_id}"),
    ("GET", "/api/items/7", 200, "/api/items/{item_id:int}"),
    ("GET", "/api/v2/users/ann", 200, "/api/v2/users/{name}"),
    ("GET", "/t/acme/orders/9", 200, "/t/{tenant}/orders/{order_id}"),
    ("GET", "/router/things/x", 200, "/router/things/{thing}"),
    ("GET", "/sub/hello/bob", 200, "/sub/hello/{who}"),
    ("GET", "/sub/deep/leaf", 200, "/sub/deep/{leaf}"),
    ("GET", "/fastapi/hello/bob", 200, "/fastapi/hello/{who}"),
    ("GET", "/fastapi/p/r/5", 200, "/fastapi/p/r/{z}"),
    ("GET", "/static/css/site.css", 200, "/static/{path:path}"),
    ("GET", "/static/missing.css", 404, "/static/{path:path}"),
    ("GET", "/raw/any/path", 200, "/raw/{path:path}"),
    ("GET", "/api/nothing", 404, UNMATCHED),
    ("GET", "/sub/nothing", 404, UNMATCHED),
    ("GET", "/nothing", 404, UNMATCHED),
]
FASTAPI_CASES = [
    ("GET", "/", 200, "/"),
    ("GET", "/v1/orders/3", 200, "/v1/orders/{order_id}"),
    ("POST", "/v1/orders/3", 405, "/v1/orders/{order_id}"),
    ("GET", "/v1/orders/3/lines/9", 200, "/v1/orders/{order_id}/lines/{line}"),
    ("GET", "/m/sub/leaf/9", 200, "/m/sub/leaf/{leaf}"),
    ("GET", "/m/files/a/b.txt", 200, "/m/files/{path:path}"),
    ("GET", "/m/plain/7", 200, "/m/plain/{p}"),
    ("GET", "/m/in/app/hello/bob", 200, "/m/in/app/hello/{who}"),
    ("GET", "/m/in/app/p/r/5", 200, "/m/in/app/p/r/{z}"),
    ("GET", "/static/css/site.css", 200, "/static/{path:path}"),
    ("GET", "/raw/any/path", 200, "/raw/{path:path}"),
    ("GET", "/subapp/hello/bob", 200, "/subapp/hello/{who}"),
    ("GET", "/subapp/p/r/5", 200, "/subapp/p/r/{z}"),
    ("GET", "/starlette/s/1", 200, "/starlette/s/{x}"),
    ("GET", "/m/sub/nothing", 404, UNMATCHED),
    ("GET", "/nothing", 404, UNMATCHED),
]


def capturing(app: Any, scopes: list[Scope]) -> Any:
    """A pure ASGI layer inside the middleware keeping each scope, as the app leaves it."""

    async def capture(scope: Scope, receive: Any, send: Any) -> None:
        scopes.append(scope)
        await app(scope, receive, send)

    return capture


def assert_recorded(harness: Harness, method: str, status: int, route: str) -> None:
    """One request counted under ``route``; its span carries it (no http.route if unmatched)."""
    assert harness.duration_count(method, route, status) == 1.0
    (span,) = harness.spans()
    attributes = span.attributes or {}
    if route == UNMATCHED:
        assert semconv.SPAN_ATTR_HTTP_ROUTE not in attributes
        assert span.name == method
    else:
        assert attributes[semconv.SPAN_ATTR_HTTP_ROUTE] == route
        assert span.name == f"{method} {route}"


@pytest.mark.parametrize(
    ("factory", "method", "path", "status", "route"),
    [
        *((starlette_app, *case) for case in STARLETTE_CASES),
        *((fastapi_app, *case) for case in FASTAPI_CASES),
    ],
    ids=[
        *(f"starlette-{c[0]}-{c[1]}" for c in STARLETTE_CASES),
        *(f"fastapi-{c[0]}-{c[1]}" for c in FASTAPI_CASES),
    ],
)
async def test_asgi_mount_matrix(
    harness: Harness,
    static_dir: Path,
    factory: Callable[[Path], Any],
    method: str,
    path: str,
    status: int,
    route: str,
) -> None:
    """Mounts, routers, prefixes and sub-apps report the joined template; 404s __unmatched__."""
    scopes: list[Scope] = []
    app = ToolkitASGIMiddleware(capturing(factory(static_dir), scopes), **harness.options())

    response = await call(app, True, path, method=method)

    assert response.status_code == status
    assert_recorded(harness, method, status, route)
    template = None if route == UNMATCHED else route
    assert RouteResolver().asgi(scopes[0], "", path) == (template, route)


@pytest.mark.parametrize("factory", [starlette_app, fastapi_app])
async def test_one_middleware_serves_the_matrix_twice(
    harness: Harness, static_dir: Path, factory: Callable[[Path], Any]
) -> None:
    """One middleware, so one resolver, for every request of the matrix, in order then
    in reverse, plus a second tenant: the walks through mounts it remembers give each
    request its own template, as a fresh resolver does."""
    cases = STARLETTE_CASES if factory is starlette_app else FASTAPI_CASES
    if factory is starlette_app:
        cases = [*cases, ("GET", "/t/globex/orders/1", 200, "/t/{tenant}/orders/{order_id}")]
    scopes: list[Scope] = []
    app = ToolkitASGIMiddleware(capturing(factory(static_dir), scopes), **harness.options())

    for method, path, status, route in [*cases, *reversed(cases)]:
        response = await call(app, True, path, method=method)
        assert response.status_code == status, path
        assert harness.access_logs()[-1][semconv.LOG_ROUTE] == route, (method, path)
        template = None if route == UNMATCHED else route
        assert RouteResolver().asgi(scopes[-1], "", path) == (template, route)


def test_a_walk_is_remembered_per_router_route_and_root_paths(
    static_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests through the same mounts to the same route walk once; another value of a
    mount's parameter (another root path), another route or another router walk again;
    a full memory is cleared."""
    import asyncio

    from toolkit.middleware import routes

    walks: list[str] = []
    walk = routes._walk

    def counting(scope: Scope, root_path: str) -> str | None:
        walks.append(scope["path"])
        return walk(scope, root_path)

    monkeypatch.setattr(routes, "_walk", counting)
    app = starlette_app(static_dir)
    resolver = RouteResolver()

    def resolve(path: str, target: Any = app) -> str | None:
        scope = http_scope(path)
        asyncio.run(call_asgi(target, scope))
        return resolver.asgi(scope, "", path)[0]

    assert resolve("/t/acme/orders/1") == "/t/{tenant}/orders/{order_id}"
    assert resolve("/t/acme/orders/2") == "/t/{tenant}/orders/{order_id}"
    assert walks == ["/t/acme/orders/1"]
    assert resolve("/t/globex/orders/3") == "/t/{tenant}/orders/{order_id}"
    assert resolve("/api/v2/users/ann") == "/api/v2/users/{name}"
    assert resolve("/api/items/7") == "/api/items/{item_id:int}"
    assert resolve("/api/items/8") == "/api/items/{item_id:int}"
    assert walks[1:] == ["/t/globex/orders/3", "/api/v2/users/ann", "/api/items/7"]
    other = starlette_app(static_dir)  # the same routes, other objects: walked again
    assert resolve("/api/items/9", other) == "/api/items/{item_id:int}"
    assert walks[-1] == "/api/items/9"

    monkeypatch.setattr(routes, "_MOUNTED_ENTRIES", 2)
    assert resolve("/t/initech/orders/4") == "/t/{tenant}/orders/{order_id}"
    assert len(resolver._mounted) == 1  # it was full: cleared, then this one kept


@pytest.mark.parametrize(
    ("root_path", "app_root_path", "path", "route"),
    [
        ("/prefix", None, "/prefix/m/sub/leaf/9", "/m/sub/leaf/{leaf}"),
        ("/prefix", None, "/prefix/v1/orders/3/lines/9", "/v1/orders/{order_id}/lines/{line}"),
        ("", "/api", "/api/m/files/x", "/m/files/{path:path}"),
        ("", "/api", "/api/v1/orders/3", "/v1/orders/{order_id}"),
    ],
)
async def test_root_paths(
    harness: Harness,
    static_dir: Path,
    root_path: str,
    app_root_path: str | None,
    path: str,
    route: str,
) -> None:
    """Templates stay relative to the root path: the server's, or FastAPI(root_path=...)."""
    app = fastapi_app(static_dir)
    if app_root_path is not None:
        app.root_path = app_root_path
    scopes: list[Scope] = []
    middleware = ToolkitASGIMiddleware(capturing(app, scopes), **harness.options())
    scope = http_scope(path)
    scope["root_path"] = root_path
    relative = relative_path(scope)  # what the middleware takes on entry

    sent = await call_asgi(middleware, scope)

    assert sent[0]["status"] == 200
    assert_recorded(harness, "GET", 200, route)
    assert RouteResolver().asgi(scopes[0], root_path, relative) == (
        route,
        route,
    )


def websocket_apps() -> dict[str, Any]:
    """A websocket route in a Starlette mount, and in a FastAPI router included with a prefix."""
    from fastapi import APIRouter, FastAPI
    from starlette.applications import Starlette
    from starlette.routing import Mount, WebSocketRoute

    async def chat(websocket: Any) -> None:
        await websocket.accept()
        await websocket.close()

    starlette = Starlette(routes=[Mount("/chat", routes=[WebSocketRoute("/{room}", chat)])])
    router = APIRouter(prefix="/ws")

    @router.websocket("/{room}")
    async def room(websocket: WebSocket, room: str) -> None:
        await chat(websocket)

    fastapi = FastAPI()
    fastapi.include_router(router, prefix="/m")
    return {"starlette": starlette, "fastapi": fastapi}


@pytest.mark.parametrize(
    ("framework", "path", "route"),
    [("starlette", "/chat/lobby", "/chat/{room}"), ("fastapi", "/m/ws/lobby", "/m/ws/{room}")],
)
async def test_websocket_through_mounts_and_prefixes(
    harness: Harness, framework: str, path: str, route: str
) -> None:
    """A websocket's span is named after the joined template, as an HTTP request's is."""
    scopes: list[Scope] = []
    app = capturing(websocket_apps()[framework], scopes)
    middleware = ToolkitASGIMiddleware(app, **harness.options())
    scope = http_scope(path)
    scope.update(type="websocket", scheme="ws", subprotocols=[])
    del scope["method"]
    inbox = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]
    sent: list[dict[str, Any]] = []

    async def receive() -> Any:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await middleware(scope, receive, send)

    assert sent[0]["type"] == "websocket.accept"
    (span,) = harness.spans()
    assert span.name == f"WEBSOCKET {route}"
    assert (span.attributes or {})[semconv.SPAN_ATTR_HTTP_ROUTE] == route
    assert RouteResolver().asgi(scopes[0], "", path) == (route, route)


def flask_app() -> Any:
    """Blueprints with url_prefix: nested, re-prefixed at registration, and without one."""
    from flask import Blueprint, Flask

    app = Flask("mounts_test_app")

    @app.get("/")
    def home() -> str:
        return "home"

    parent = Blueprint("parent", __name__, url_prefix="/parent")
    child = Blueprint("child", __name__, url_prefix="/child")

    @parent.get("/<name>")
    def named(name: str) -> str:
        return name

    @child.get("/items/<int:item_id>")
    def item(item_id: int) -> str:
        return str(item_id)

    parent.register_blueprint(child)
    app.register_blueprint(parent, url_prefix="/v1")
    bare = Blueprint("bare", __name__)

    @bare.get("/files/<path:rest>")
    def files(rest: str) -> str:
        return rest

    app.register_blueprint(bare, url_prefix="/bare")
    plain = Blueprint("plain", __name__)

    @plain.get("/plain/<slug>")
    def slug(slug: str) -> str:
        return slug

    app.register_blueprint(plain)
    return app


@pytest.mark.parametrize(
    ("path", "status", "route"),
    [
        ("/", 200, "/"),
        ("/v1/ann", 200, "/v1/<name>"),
        ("/v1/child/items/3", 200, "/v1/child/items/<int:item_id>"),
        ("/bare/files/a/b.txt", 200, "/bare/files/<path:rest>"),
        ("/plain/x", 200, "/plain/<slug>"),
        ("/v1/child/items/x", 404, UNMATCHED),
        ("/parent/ann", 404, UNMATCHED),
    ],
)
async def test_flask_blueprints(harness: Harness, path: str, status: int, route: str) -> None:
    """A Blueprint's url_prefix (nested, overridden at registration) is in the rule."""
    import toolkit

    app = flask_app()
    environs: list[dict[str, Any]] = []
    inner = app.wsgi_app

    def spy(environ: dict[str, Any], start_response: Any) -> Any:
        result = inner(environ, start_response)
        environs.append(dict(environ))  # the middleware drops the request once done
        return result

    app.wsgi_app = spy
    toolkit.instrument(app, configure_logging=False, **harness.options())

    response = await call(app, False, path)

    assert response.status_code == status
    assert_recorded(harness, "GET", status, route)
    template = None if route == UNMATCHED else route
    assert RouteResolver().wsgi(environs[0], path) == (template, route)


def django_urlpatterns() -> list[Any]:
    """include() (nested, with parameters), namespaces and re_path, top-level and included."""
    from django.http import HttpResponse
    from django.urls import include, path, re_path

    def view(request: Any, **kwargs: Any) -> Any:
        return HttpResponse(b"ok")

    api = (
        [
            path("items/<int:item_id>", view, name="item"),
            re_path(r"^archive/(?P<year>[0-9]{4})/$", view, name="archive"),
        ],
        "api",
    )
    deep = [path("deep/", include([path("x/<int:x_id>", view)]))]
    return [
        path("", view),
        path("v1/", include(api, namespace="v1")),
        path("v2/", include(api, namespace="v2")),
        path("t/<slug:tenant>/", include(deep)),
        re_path(r"^legacy/(?P<slug>[-\w]+)/$", view),
        re_path(r"^re/", include([path("p/<int:p_id>", view)])),
    ]


@pytest.fixture
def django_urls() -> Iterator[None]:
    from django.test import override_settings

    django_wsgi_app()  # configures Django once for the whole session
    if not urlpatterns:
        urlpatterns.extend(django_urlpatterns())
    with override_settings(ROOT_URLCONF=__name__):
        yield


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/", "/"),
        ("/v1/items/3", "/v1/items/<int:item_id>"),
        ("/v2/items/3", "/v2/items/<int:item_id>"),
        ("/v1/archive/2024/", "/v1/archive/(?P<year>[0-9]{4})/$"),
        ("/t/acme/deep/x/4", "/t/<slug:tenant>/deep/x/<int:x_id>"),
        ("/legacy/a-b/", "/^legacy/(?P<slug>[-\\w]+)/$"),
        ("/re/p/4", "/^re/p/<int:p_id>"),
    ],
)
async def test_django_includes(
    harness: Harness, django_urls: None, asgi: bool, path: str, route: str
) -> None:
    """include() joins the patterns, whatever the namespace; re_path keeps Django's regex."""
    captured: list[Any] = []
    if asgi:
        handler = record_django_route(django_asgi_app())
        app: Any = ToolkitASGIMiddleware(capturing(handler, captured), **harness.options())
    else:
        handler = record_django_route(django_wsgi_app())

        def spy(environ: dict[str, Any], start_response: Any) -> Any:
            captured.append(environ)
            return handler(environ, start_response)

        app = ToolkitWSGIMiddleware(spy, **harness.options())

    response = await call(app, asgi, path)

    assert response.status_code == 200
    assert_recorded(harness, "GET", 200, route)
    resolver = RouteResolver()
    resolved = resolver.asgi(captured[0], "", path) if asgi else resolver.wsgi(captured[0], path)
    assert resolved == (route, route)


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
async def test_django_404_is_unmatched(harness: Harness, django_urls: None, asgi: bool) -> None:
    """A path Django's resolver matched nowhere is counted as __unmatched__, no http.route."""
    handler = record_django_route(django_asgi_app() if asgi else django_wsgi_app())
    middleware_class: Any = ToolkitASGIMiddleware if asgi else ToolkitWSGIMiddleware
    app = middleware_class(handler, **harness.options())

    response = await call(app, asgi, "/v1/nothing")

    assert response.status_code == 404
    assert_recorded(harness, "GET", 404, UNMATCHED)


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
async def test_django_404_is_seen_as_routed(
    harness: Harness, django_urls: None, asgi: bool
) -> None:
    """The Django hook marks a request its resolver matched nowhere: __unmatched__, not unrouted."""
    captured: list[Any] = []
    if asgi:
        handler = record_django_route(django_asgi_app())
        app: Any = ToolkitASGIMiddleware(capturing(handler, captured), **harness.options())
    else:
        wsgi_handler = record_django_route(django_wsgi_app())

        def spy(environ: dict[str, Any], start_response: Any) -> Any:
            captured.append(environ)
            return wsgi_handler(environ, start_response)

        app = ToolkitWSGIMiddleware(spy, **harness.options())

    response = await call(app, asgi, "/v1/nothing")

    assert response.status_code == 404
    resolver = RouteResolver()
    scope = captured[0]
    resolved = (
        resolver.asgi(scope, "", "/v1/nothing") if asgi else resolver.wsgi(scope, "/v1/nothing")
    )
    assert resolved == (None, UNMATCHED)
