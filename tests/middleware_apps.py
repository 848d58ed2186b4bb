"""One small app per framework, all with the same routes, for the middleware tests.

Routes: ``GET /items/{item_id}`` (JSON with the correlation and trace IDs the handler
saw; logs one line), ``GET /boom`` (raises ``RuntimeError``), ``GET /stream`` (three
chunks: ``a``, ``bb``, ``ccc``). ``ROUTE`` gives each framework's template for items.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from opentelemetry import trace

from toolkit import get_correlation_id
from toolkit.middleware import ROUTE_KEY

FRAMEWORKS = (
    "starlette",
    "fastapi",
    "flask",
    "django_wsgi",
    "django_asgi",
    "plain_asgi",
    "plain_wsgi",
)
ASGI = frozenset({"starlette", "fastapi", "django_asgi", "plain_asgi"})
ROUTE = {
    "starlette": "/items/{item_id}",
    "fastapi": "/items/{item_id}",
    "flask": "/items/<item_id>",
    "django_wsgi": "/items/<item_id>",
    "django_asgi": "/items/<item_id>",
    "plain_asgi": "/items/{item_id}",
    "plain_wsgi": "/items/{item_id}",
}
# error_type of GET /boom: frameworks that turn the exception into a 500 response
# themselves hide it from the middleware, which then reports the status code.
BOOM_ERROR = {
    "starlette": "RuntimeError",
    "fastapi": "RuntimeError",
    "flask": "500",
    "django_wsgi": "500",
    "django_asgi": "500",
    "plain_asgi": "RuntimeError",
    "plain_wsgi": "RuntimeError",
}
CHUNKS = (b"a", b"bb", b"ccc")
app_log = logging.getLogger("app")


def seen(item_id: str) -> dict[str, Any]:
    """What a handler reports back: the IDs it saw while it ran."""
    app_log.info("item handled")
    context = trace.get_current_span().get_span_context()
    return {
        "item_id": item_id,
        "correlation_id": get_correlation_id(),
        "trace_id": format(context.trace_id, "032x"),
    }


def starlette_app() -> Any:
    """A Starlette app with the test routes and a websocket at /ws/{room}."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route, WebSocketRoute

    async def item(request: Any) -> Any:
        return JSONResponse(seen(request.path_params["item_id"]))

    async def boom(request: Any) -> Any:
        raise RuntimeError("boom")

    async def stream(request: Any) -> Any:
        async def chunks() -> AsyncIterator[bytes]:
            for chunk in CHUNKS:
                yield chunk

        return StreamingResponse(chunks())

    async def ws(websocket: Any) -> None:
        await websocket.accept()
        await websocket.send_json({"correlation_id": get_correlation_id()})
        await websocket.close()

    return Starlette(
        routes=[
            Route("/items/{item_id}", item),
            Route("/boom", boom),
            Route("/stream", stream),
            WebSocketRoute("/ws/{room}", ws),
        ]
    )


def fastapi_app() -> Any:
    """A FastAPI app with the test routes."""
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, Any]:
        return seen(item_id)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/stream")
    async def stream() -> Any:
        async def chunks() -> AsyncIterator[bytes]:
            for chunk in CHUNKS:
                yield chunk

        return StreamingResponse(chunks())

    return app


def flask_app() -> Any:
    """A Flask app with the test routes."""
    from flask import Flask, Response

    app = Flask("flask_test_app")

    @app.get("/items/<item_id>")
    def item(item_id: str) -> Any:
        return seen(item_id)

    @app.get("/boom")
    def boom() -> Any:
        raise RuntimeError("boom")

    @app.get("/stream")
    def stream() -> Any:
        return Response(iter(CHUNKS))

    return app


def _django_views() -> list[Any]:
    from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
    from django.urls import path

    def item(request: Any, item_id: str) -> Any:
        return JsonResponse(seen(item_id))

    def boom(request: Any) -> Any:
        raise RuntimeError("boom")

    def stream(request: Any) -> Any:
        return StreamingHttpResponse(iter(CHUNKS))

    def home(request: Any) -> Any:
        return HttpResponse(b"home")

    return [
        path("", home),
        path("items/<item_id>", item),
        path("boom", boom),
        path("stream", stream),
    ]


urlpatterns: list[Any] = []


def _configure_django() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF=__name__,
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
            LOGGING_CONFIG=None,
        )
        import django

        django.setup()
        urlpatterns.extend(_django_views())


def django_wsgi_app() -> Any:
    """Django's WSGI handler over this module's urlpatterns."""
    _configure_django()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def django_asgi_app() -> Any:
    """Django's ASGI handler over this module's urlpatterns."""
    _configure_django()
    from django.core.asgi import get_asgi_application

    return get_asgi_application()


def plain_asgi_app() -> Any:
    """A bare ASGI callable that routes by hand and reports its template under ROUTE_KEY."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
            assert message["type"] == "lifespan.shutdown"
            await send({"type": "lifespan.shutdown.complete"})
            return
        path = scope["path"]
        if path.startswith("/items/"):
            scope[ROUTE_KEY] = "/items/{item_id}"
            body = json.dumps(seen(path[len("/items/") :])).encode()
            chunks: tuple[bytes, ...] = (body,)
            content_type = b"application/json"
        elif path == "/boom":
            scope[ROUTE_KEY] = "/boom"
            raise RuntimeError("boom")
        elif path == "/stream":
            scope[ROUTE_KEY] = "/stream"
            chunks, content_type = CHUNKS, b"text/plain"
        else:
            scope[ROUTE_KEY] = None  # routed by hand, nothing matched: __unmatched__
            chunks, content_type = (b"not found",), b"text/plain"
        status = 404 if chunks == (b"not found",) else 200
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type)],
            }
        )
        for index, chunk in enumerate(chunks):
            more = index < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

    return app


def plain_wsgi_app() -> Any:
    """A bare WSGI callable that routes by hand and reports its template under ROUTE_KEY."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ["PATH_INFO"]
        if path.startswith("/items/"):
            environ[ROUTE_KEY] = "/items/{item_id}"
            body = json.dumps(seen(path[len("/items/") :])).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if path == "/boom":
            environ[ROUTE_KEY] = "/boom"
            raise RuntimeError("boom")
        if path == "/stream":
            environ[ROUTE_KEY] = "/stream"
            start_response("200 OK", [("Content-Type", "text/plain")])
            return _generate()
        environ[ROUTE_KEY] = None  # routed by hand, nothing matched: __unmatched__
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return app


def _generate() -> Iterator[bytes]:
    yield from CHUNKS


FACTORIES: dict[str, Callable[[], Any]] = {
    "starlette": starlette_app,
    "fastapi": fastapi_app,
    "flask": flask_app,
    "django_wsgi": django_wsgi_app,
    "django_asgi": django_asgi_app,
    "plain_asgi": plain_asgi_app,
    "plain_wsgi": plain_wsgi_app,
}


async def ok_asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers 200 "app" to anything."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"app"})


def ok_wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers 200 "app" to anything."""
    start_response("200 OK", [])
    return [b"app"]


def prefixed_fastapi() -> Any:
    """A FastAPI app whose one route is in a prefixed router included with a prefix:
    ``/v1/orders/{order_id}/lines/{line}``."""
    from fastapi import APIRouter, FastAPI

    router = APIRouter(prefix="/orders")

    @router.get("/{order_id}/lines/{line}")
    async def line(order_id: int, line: int) -> dict[str, int]:
        return {"order_id": order_id, "line": line}

    app = FastAPI()
    app.include_router(router, prefix="/v1")
    return app
