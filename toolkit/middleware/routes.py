"""Route templates: read from what the framework left in the ASGI scope or WSGI environ.

Only templates are returned, never a raw path; ``None`` means "no route matched".
A framework the middleware does not know can hand its template over by setting
``scope[ROUTE_KEY]`` / ``environ[ROUTE_KEY]`` while it handles the request.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from toolkit.middleware.flask import FLASK_REQUEST_KEY

ROUTE_KEY = "toolkit.route"
"""Scope/environ key under which an app (or the Django hook) stores the route template."""


def asgi_route(scope: MutableMapping[str, Any], root_path: str) -> str | None:
    """Return the route template of a handled ASGI request, ``None`` if none matched.

    ``root_path`` is the scope's ``root_path`` when the request entered the middleware:
    if the app changed it, the request went through a Starlette ``Mount`` and the
    template is rebuilt from the mount prefixes.
    """
    route = scope.get(ROUTE_KEY)
    if route is not None:
        return str(route)
    fastapi_state = scope.get("fastapi")
    if fastapi_state is not None and scope.get("root_path", "") == root_path:
        # Recent FastAPI (0.165 here) routes included routers itself: scope["route"] is the
        # APIRoute without the include_router() prefix; the effective context has it all.
        effective = fastapi_state.get("effective_route_context")
        path = getattr(effective, "path", None)
        if path:
            return str(path)
    matched = scope.get("route")
    if matched is None:
        return None
    if scope.get("root_path", "") == root_path:
        return _starlette_path(matched)
    return _starlette_mounted_path(scope, root_path)


def _starlette_path(route: Any) -> str | None:
    path = getattr(route, "path", None)
    if path is None:
        return None
    if hasattr(route, "routes") and not route.routes:
        # A Mount of an app without routes (StaticFiles, a sub-app): its whole subtree.
        return f"{path}/{{path:path}}"
    return str(path) or "/"


def _starlette_mounted_path(scope: MutableMapping[str, Any], root_path: str) -> str | None:
    """Walk the top-level router again to join the templates of the mounts matched."""
    from starlette.routing import Match

    router = scope.get("router")
    routes = getattr(router, "routes", None)
    probe: dict[str, Any] = {
        "type": scope["type"],
        "path": scope["path"],
        "root_path": root_path,
        "method": scope.get("method", "GET"),
        "headers": scope.get("headers", []),
        "path_params": {},
    }
    template = ""
    while routes:
        for route in routes:
            match, child = route.matches(probe)
            if match is not Match.NONE:
                break
        else:
            return None
        path = getattr(route, "path", "")
        template += path
        sub_routes = getattr(route, "routes", None)
        if sub_routes is None:
            return template or "/"
        if not sub_routes:
            return f"{template}/{{path:path}}"
        probe.update(child)
        routes = sub_routes
    return template or None


def wsgi_route(environ: MutableMapping[str, Any]) -> str | None:
    """Return the route template of a handled WSGI request, ``None`` if none matched.

    Django puts it under ``ROUTE_KEY`` and Flask leaves its request object under
    ``FLASK_REQUEST_KEY``, through the hooks ``instrument`` installs.
    """
    route = environ.get(ROUTE_KEY)
    if route is not None:
        return str(route)
    request = environ.get(FLASK_REQUEST_KEY)
    if request is not None:
        rule = request.url_rule
        return None if rule is None else str(rule.rule)
    return None
