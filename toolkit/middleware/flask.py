"""Flask: hand the matched URL rule (``/items/<item_id>``) to the outer WSGI middleware."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FLASK_REQUEST_KEY = "toolkit.flask_request"
"""Environ key under which the Flask request object is kept for the route lookup."""
FLASK_APP_KEY = "toolkit.flask_app"
"""Environ key under which the Flask app is kept (a 405's rule is matched again)."""


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
        environ[FLASK_APP_KEY] = app
        return context

    app.request_context = request_context
    app._toolkit_route_hook = True
    return app


def matched_rule(environ: Mapping[str, Any]) -> str | None:
    """The URL rule of the request Flask handled (``environ`` holds it under
    ``FLASK_REQUEST_KEY``): the rule it matched; for a 405 (the path matched a rule, the
    method did not) the rule of the path, as Starlette's partial match gives; ``None``
    when no rule matched the path (a 404)."""
    request = environ[FLASK_REQUEST_KEY]
    rule = request.url_rule
    if rule is not None:
        return str(rule.rule)
    error = getattr(request, "routing_exception", None)
    methods = getattr(error, "valid_methods", None)
    app = environ.get(FLASK_APP_KEY)
    if getattr(error, "code", None) != 405 or not methods or app is None:
        return None
    try:  # Werkzeug's public matching, with a method the path allows
        adapter = app.create_url_adapter(request)
        rule, _arguments = adapter.match(method=methods[0], return_rule=True)
    except Exception:  # no rule after all (or an app that overrides the adapter oddly)
        return None
    return str(rule.rule)
