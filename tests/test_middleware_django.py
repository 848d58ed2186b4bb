"""Django: route patterns reach the outer middleware, via instrument() or MIDDLEWARE."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from middleware_apps import django_asgi_app, django_wsgi_app
from middleware_fixtures import Harness, call, make_harness

from toolkit import semconv
from toolkit.middleware import ToolkitASGIMiddleware, ToolkitWSGIMiddleware
from toolkit.middleware.django import RouteMiddleware, record_route_on


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
@pytest.mark.parametrize(("path", "route"), [("/", "/"), ("/items/9", "/items/<item_id>")])
async def test_record_route_on_handler(harness: Harness, asgi: bool, path: str, route: str) -> None:
    """record_route_on() hands ``resolver_match.route`` over, with a leading slash."""
    handler = record_route_on(django_asgi_app() if asgi else django_wsgi_app())
    assert record_route_on(handler) is handler  # idempotent
    middleware_class: Any = ToolkitASGIMiddleware if asgi else ToolkitWSGIMiddleware
    app = middleware_class(handler, **harness.options())

    response = await call(app, asgi, path)

    assert response.status_code == 200
    (access,) = harness.access_logs()
    assert access[semconv.LOG_ROUTE] == route


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
async def test_route_middleware_in_settings(harness: Harness, asgi: bool) -> None:
    """The MIDDLEWARE alternative: RouteMiddleware records the same template."""
    from django.test import override_settings

    with override_settings(MIDDLEWARE=["toolkit.middleware.django.RouteMiddleware"]):
        handler = django_asgi_app() if asgi else django_wsgi_app()
        middleware_class: Any = ToolkitASGIMiddleware if asgi else ToolkitWSGIMiddleware
        app = middleware_class(handler, **harness.options())
        response = await call(app, asgi, "/items/5")

    assert response.status_code == 200
    (access,) = harness.access_logs()
    assert access[semconv.LOG_ROUTE] == "/items/<item_id>"


def test_route_middleware_is_sync_and_async_capable() -> None:
    """Django may use it in either mode."""
    assert RouteMiddleware.sync_capable is True
    assert RouteMiddleware.async_capable is True
