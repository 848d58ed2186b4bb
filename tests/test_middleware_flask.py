"""Flask route hook: the matched URL rule reaches the WSGI middleware."""

from __future__ import annotations

from typing import Any

import pytest
from middleware_fixtures import call_wsgi

from toolkit.middleware.flask import FLASK_REQUEST_KEY, record_route_on
from toolkit.middleware.routes import wsgi_route


def flask_app() -> Any:
    from flask import Flask

    app = Flask("route_hook_test")

    @app.get("/orders/<int:order_id>/lines/<line>")
    def line(order_id: int, line: str) -> str:
        return "ok"

    return app


@pytest.mark.parametrize(
    ("path", "status", "route"),
    [
        ("/orders/7/lines/a", 200, "/orders/<int:order_id>/lines/<line>"),
        ("/orders/x/lines/a", 404, None),
        ("/nowhere", 404, None),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_rule_is_read_after_the_request(
    path: str, status: int, route: str | None, method: str
) -> None:
    """After Flask ran, the environ still leads to the matched rule (None for 404s). A
    method the rule does not allow (405) still gives the rule of the path, as a partial
    match does on Starlette."""
    if method == "POST" and status == 200:
        status = 405
    app = record_route_on(flask_app())
    seen: list[dict[str, Any]] = []
    inner = app.wsgi_app

    def spy(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(environ)
        return inner(environ, start_response)

    app.wsgi_app = spy
    response = call_wsgi(app, path, method=method)

    assert response.status_code == status
    assert FLASK_REQUEST_KEY in seen[0]
    assert wsgi_route(seen[0]) == route


def test_hook_is_installed_once() -> None:
    """A second call leaves the wrapper as it is."""
    app = record_route_on(flask_app())
    wrapper = app.request_context

    assert record_route_on(app) is app
    assert app.request_context is wrapper


def test_instrumented_request_leaves_no_reference_cycle() -> None:
    """The middleware drops the kept request once it has read the rule: request and environ
    are freed by reference counting, not left as a cycle for the garbage collector."""
    import gc
    import weakref

    from opentelemetry.sdk.trace import TracerProvider
    from prometheus_client import CollectorRegistry

    import toolkit

    app = toolkit.instrument(
        flask_app(),
        service="orders",
        registry=CollectorRegistry(),
        tracer_provider=TracerProvider(),
        configure_logging=False,
    )
    kept: list[Any] = []
    inner = app.wsgi_app.app

    def spy(environ: dict[str, Any], start_response: Any) -> Any:
        result = inner(environ, start_response)
        kept.append(weakref.ref(environ[FLASK_REQUEST_KEY]))
        return result

    app.wsgi_app.app = spy
    gc.disable()
    try:
        response = call_wsgi(app, "/orders/7/lines/a")
        assert response.status_code == 200
        assert kept[0]() is None
    finally:
        gc.enable()
