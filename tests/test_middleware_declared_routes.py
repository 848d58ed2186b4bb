"""Apps whose routes toolkit cannot see: ``__unrouted__``, and templates declared for them.

``RouteResolver`` is asked directly (with the scope/environ the app left behind) and
through the real middleware (label, span).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
from middleware_fixtures import Harness, call, make_harness

from toolkit import semconv
from toolkit.middleware import ROUTE_KEY, ToolkitASGIMiddleware, ToolkitWSGIMiddleware
from toolkit.middleware.config import resolve_settings
from toolkit.middleware.routes import RouteResolver

UNMATCHED = semconv.UNMATCHED_ROUTE
UNROUTED = semconv.UNROUTED_ROUTE
TABLE = "/{database}/{table}"
DATASETTE = ("/-/{page}", "/{database}", "/{database}/{table}", "/{database}/{table}/{pk:int}")
Scope = MutableMapping[str, Any]


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


@pytest.mark.parametrize(
    ("declared", "path", "label"),
    [
        (DATASETTE, "/fixtures/facets", "/{database}/{table}"),
        (DATASETTE, "/fixtures", "/{database}"),
        (DATASETTE, "/fixtures/facets/12", "/{database}/{table}/{pk:int}"),
        (DATASETTE, "/fixtures/facets/x12", UNROUTED),
        (DATASETTE, "/-/versions", "/-/{page}"),  # declared first, so it wins
        (DATASETTE, "/fixtures//", UNROUTED),  # {name} never matches an empty segment
        (DATASETTE, "/a/b/1/c", UNROUTED),  # no template has 4 segments
        (DATASETTE, "/", UNROUTED),
        (("/",), "/", "/"),
        (("/",), "", "/"),  # the root path itself (Starlette's route path "")
        (("/items/{item_id}/",), "/items/3/", "/items/{item_id}/"),
        (("/items/{item_id}/",), "/items/3", UNROUTED),
        (("/static/{rest:path}",), "/static/", "/static/{rest:path}"),
        (("/static/{rest:path}",), "/static/css/a/b.css", "/static/{rest:path}"),
        (("/static/{rest:path}",), "/static", UNROUTED),
        (("/{rest:path}", "/never/{x}"), "/never/reached", "/{rest:path}"),
        (("/never/{x}", "/{rest:path}"), "/never/reached", "/never/{x}"),
        (("/n/{x:int}",), "/n/²", UNROUTED),  # ASCII digits only
        (("/n/{x:str}",), "/n/two", "/n/{x:str}"),
    ],
)
def test_declared_templates_match_by_segment(
    declared: tuple[str, ...], path: str, label: str
) -> None:
    """{name} takes one non-empty segment, {name:int} ASCII digits, {name:path} the rest."""
    resolver = RouteResolver(declared)
    template = None if label == UNROUTED else label

    assert resolver.match_declared(path, (None, UNROUTED)) == (template, label)


@pytest.mark.parametrize(
    "template",
    [
        "",
        "items/{id}",
        "/items/{id",
        "/items/id}",
        "/items/{}",
        "/items/{1st}",
        "/items/{id:uuid}",
        "/items/x{id}",
        "/items/{a}{b}",
        "/files/{rest:path}/more",
        "/a//b",
    ],
)
def test_malformed_templates_are_refused_by_name(template: str) -> None:
    """Compiling a malformed template raises ValueError naming it."""
    with pytest.raises(ValueError, match=re.escape(f"route template {template!r}")):
        RouteResolver(["/fine/{x}", template])


@pytest.mark.parametrize("declared", ["/items/{id}", ["/ok", 3]])
def test_non_strings_are_refused(declared: Any) -> None:
    """A lone string (not a list of them) or a non-string template is a TypeError."""
    with pytest.raises(TypeError):
        RouteResolver(declared)


def test_routes_option_is_resolved_into_settings() -> None:
    """routes=... is kept as a tuple in Settings (default empty); a lone string is refused."""
    assert resolve_settings({"routes": iter(DATASETTE)}, environ={}).routes == DATASETTE
    assert resolve_settings({}, environ={}).routes == ()
    with pytest.raises(TypeError):
        resolve_settings({"routes": "/{database}"}, environ={})


def test_labels_stay_bounded() -> None:
    """Whatever the paths, the labels are the declared templates plus __unrouted__."""
    resolver = RouteResolver(DATASETTE)
    labels = {resolver.asgi({}, "", f"/db{i}/t{i}/{i}{'/x' * (i % 4)}")[1] for i in range(500)}

    assert labels == {"/{database}/{table}/{pk:int}", UNROUTED}


def test_duplicates_are_kept_once() -> None:
    """A template declared twice is compiled once, in its first position."""
    assert RouteResolver(["/a", "/{x}", "/a"]).templates == ("/a", "/{x}")


async def self_routing(scope: Scope, receive: Any, send: Any) -> None:
    """Routes /{database}/{table} itself and tells toolkit nothing: 200 there, 404 elsewhere."""
    parts = scope["path"].strip("/").split("/")
    status = 200 if len(parts) == 2 and all(parts) else 404
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"self"})


async def says_unmatched(scope: Scope, receive: Any, send: Any) -> None:
    """Routes itself and says so: ROUTE_KEY None when nothing matched (then 404)."""
    scope[ROUTE_KEY] = None
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def scope_copying() -> Any:
    """A Starlette app reached through a layer that routes a copy of the scope."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def table(request: Any) -> Any:
        return PlainTextResponse("table")

    app = Starlette(routes=[Route("/{database}/{table}", table)])

    async def copying(scope: Scope, receive: Any, send: Any) -> None:
        await app(dict(scope), receive, send)

    return copying


def router_fallback() -> Any:
    """A Starlette app whose router hands unknown paths to an app that routes itself."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def health(request: Any) -> Any:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/health", health)])
    app.router.default = self_routing
    return app


def factory(name: str) -> Any:
    """The ASGI app of a case, built fresh."""
    return {
        "self_routing": lambda: self_routing,
        "says_unmatched": lambda: says_unmatched,
        "scope_copying": scope_copying,
        "router_fallback": router_fallback,
    }[name]()


ASGI_CASES = [
    # (app, declared, path, status, template, label)
    ("self_routing", (), "/fixtures/facets", 200, None, UNROUTED),
    ("self_routing", DATASETTE, "/fixtures/facets", 200, TABLE, TABLE),
    ("self_routing", DATASETTE, "/a/b/c/d", 404, None, UNROUTED),
    ("scope_copying", (), "/fixtures/facets", 200, None, UNROUTED),
    ("scope_copying", DATASETTE, "/fixtures/facets", 200, TABLE, TABLE),
    ("says_unmatched", (), "/anything", 404, None, UNMATCHED),
    ("router_fallback", (), "/health", 200, "/health", "/health"),
    ("router_fallback", DATASETTE, "/health", 200, "/health", "/health"),  # framework's wins
    ("router_fallback", (), "/fixtures/facets", 200, None, UNMATCHED),
    ("router_fallback", DATASETTE, "/fixtures/facets", 200, TABLE, TABLE),
]


def capturing(app: Any, scopes: list[Scope]) -> Any:
    """A pure ASGI layer inside the middleware keeping the scope, as the app leaves it."""

    async def capture(scope: Scope, receive: Any, send: Any) -> None:
        scopes.append(scope)
        await app(scope, receive, send)

    return capture


@pytest.mark.parametrize(
    ("app_name", "declared", "path", "status", "template", "label"), ASGI_CASES
)
async def test_asgi_resolution(
    harness: Harness,
    app_name: str,
    declared: tuple[str, ...],
    path: str,
    status: int,
    template: str | None,
    label: str,
) -> None:
    """The resolver tells unrouted from unmatched and falls back on declared templates."""
    scopes: list[Scope] = []
    app = ToolkitASGIMiddleware(capturing(factory(app_name), scopes), **harness.options())

    response = await call(app, True, path)

    assert response.status_code == status
    resolved = RouteResolver(declared).asgi(scopes[0], "", path)
    assert resolved == (template, label)


@pytest.mark.parametrize(
    ("app_name", "declared", "path", "status", "template", "label"),
    ASGI_CASES,
)
async def test_asgi_labels_end_to_end(
    harness: Harness,
    app_name: str,
    declared: tuple[str, ...],
    path: str,
    status: int,
    template: str | None,
    label: str,
) -> None:
    """Through the middleware: the metric label, and http.route on the span when known."""
    app = ToolkitASGIMiddleware(factory(app_name), routes=declared, **harness.options())

    response = await call(app, True, path)

    assert response.status_code == status
    assert harness.duration_count("GET", label, status) == 1.0
    (span,) = harness.spans()
    assert (span.attributes or {}).get(semconv.SPAN_ATTR_HTTP_ROUTE) == template
    assert span.name == ("GET" if template is None else f"GET {template}")


def plain_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Routes /{database}/{table} itself; /unmatched/... sets ROUTE_KEY None (404)."""
    parts = environ["PATH_INFO"].strip("/").split("/")
    if parts[0] == "unmatched":
        environ[ROUTE_KEY] = None
        start_response("404 Not Found", [])
    elif len(parts) == 2 and all(parts):
        start_response("200 OK", [])
    else:
        start_response("404 Not Found", [])
    return [b"wsgi"]


WSGI_CASES = [
    # (declared, path, status, template, label)
    ((), "/fixtures/facets", 200, None, UNROUTED),
    (DATASETTE, "/fixtures/facets", 200, TABLE, TABLE),
    (DATASETTE, "/a/b/c/d", 404, None, UNROUTED),
    ((), "/unmatched/x", 404, None, UNMATCHED),
]


@pytest.mark.parametrize(("declared", "path", "status", "template", "label"), WSGI_CASES)
def test_wsgi_resolution(
    declared: tuple[str, ...], path: str, status: int, template: str | None, label: str
) -> None:
    """A WSGI app that routes itself: __unrouted__ unless declared; ROUTE_KEY None: unmatched."""
    environ: dict[str, Any] = {"PATH_INFO": path}

    plain_wsgi(environ, lambda status, headers: None)

    assert RouteResolver(declared).wsgi(environ, path) == (template, label)


@pytest.mark.parametrize(
    ("declared", "path", "status", "template", "label"),
    WSGI_CASES,
)
async def test_wsgi_labels_end_to_end(
    harness: Harness,
    declared: tuple[str, ...],
    path: str,
    status: int,
    template: str | None,
    label: str,
) -> None:
    """Through the WSGI middleware: the metric label, and http.route on the span when known."""
    app = ToolkitWSGIMiddleware(plain_wsgi, routes=declared, **harness.options())

    response = await call(app, False, path)

    assert response.status_code == status
    assert harness.duration_count("GET", label, status) == 1.0
    (span,) = harness.spans()
    assert (span.attributes or {}).get(semconv.SPAN_ATTR_HTTP_ROUTE) == template


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
def test_malformed_template_fails_at_construction(asgi: bool) -> None:
    """instrument(app, routes=[...]) compiles the templates: a bad one fails right away."""
    import toolkit

    app: Any = self_routing if asgi else plain_wsgi
    with pytest.raises(ValueError, match=re.escape("route template 'items/{id}'")):
        toolkit.instrument(app, configure_logging=False, tracing=False, routes=["items/{id}"])
