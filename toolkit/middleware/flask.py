"""Flask: hand the matched URL rule (``/items/<item_id>``) to the outer WSGI middleware."""

from __future__ import annotations

from typing import Any

from toolkit.middleware.routes import ROUTE_KEY


def _store_rule() -> None:
    from flask import request

    rule = request.url_rule
    if rule is not None:
        request.environ[ROUTE_KEY] = rule.rule


def record_route_on(app: Any) -> Any:
    """Make a Flask app report each request's URL rule; returns it. Idempotent.

    Registers a ``before_request`` function ahead of the app's own (Flask has matched the
    URL by then, including for 404s, where there is no rule). Flask clears its request
    from the environ when the request ends, so the rule is copied out while it runs.
    """
    funcs = app.before_request_funcs.setdefault(None, [])
    if _store_rule not in funcs:
        funcs.insert(0, _store_rule)
    return app
