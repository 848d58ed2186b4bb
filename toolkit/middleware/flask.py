"""Flask: hand the matched URL rule (``/items/<item_id>``) to the outer WSGI middleware."""

from __future__ import annotations

from typing import Any

FLASK_REQUEST_KEY = "toolkit.flask_request"
"""Environ key under which the Flask request object is kept for the route lookup."""


def record_route_on(app: Any) -> Any:
    """Make a Flask app report each request's URL rule; returns it. Idempotent.

    Wraps the instance's ``request_context`` (which ``Flask.wsgi_app`` calls first) to
    keep the request object in the environ: Flask matches the URL when it pushes that
    context and clears ``environ["werkzeug.request"]`` when it pops it, so the middleware
    reads ``request.url_rule`` from this key once the app has run. No per-request
    ``before_request`` hook (Flask inspects those for coroutines on every call).
    """
    if getattr(app, "_toolkit_route_hook", False):
        return app
    original = app.request_context

    def request_context(environ: dict[str, Any]) -> Any:
        context = original(environ)
        environ[FLASK_REQUEST_KEY] = context.request
        return context

    app.request_context = request_context
    app._toolkit_route_hook = True
    return app
