"""The FastAPI gate: every use of FastAPI's non-public names lives here.

Recent FastAPI releases (0.141 and 0.165, those CI tests) keep a router added with
``include_router()`` as one entry of the app's routes and apply the include prefixes
when they match a request: the route left in ``scope["route"]`` is the ``APIRoute`` as
declared, without them. The whole template is only in FastAPI's own request state
(``scope["fastapi"]``: the effective route context's ``path``, the path a frontend
(``app.frontend()``) serves) and, for a request matched again after a mount, in the
entries' effective candidates. None of it is public, so it is read here only:

- :func:`state_template`: the template FastAPI's state holds for a request it routed;
- :func:`expanded`: an entry of FastAPI's routes as the routes it tries, include
  prefixes in their paths (``None`` for any other route).

Both answer only while ``GATE`` is open: FastAPI installed, and a self-check at first
use (as an ASGI app is instrumented in a process that loaded FastAPI: ``decide_at_start``)
that routes requests through a FastAPI app with a prefixed router included with a
prefix (and a frontend, where FastAPI has them) and finds, through these functions and
Starlette's public ``matches()``, the templates declared. Its requests run in a thread
of their own (the caller may be running an event loop), 5 s at most each, marked as
instrumented so that FastAPI's own telemetry leaves them out, and write nothing. Either
function raising later closes the gate for good (one warning) and answers ``None``.

It is not a speed option (there is no public way to the prefixes: ``TOOLKIT_FAST_PATHS``
is ignored); past the tested range, the self-check alone decides. Closed, templates come from public
Starlette API only (``scope["route"].path``, the routes' ``matches()``): a route of an
included router then lacks its include prefixes (after a mount, the mount's template is
all there is), and the decision is logged once (``toolkit doctor`` shows it). A release
that copies routes with their prefixes when they are included, as earlier ones did,
needs none of this: the public path gives their templates, and the self-check passes.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

from toolkit._gate import FastPathGate, declare
from toolkit._http import relative_path

TESTED_RELEASES = ("0.141", "0.166")
"""``fastapi`` releases CI tested: ``>=0.141, <0.166``."""

STATE = "fastapi"
"""The scope key of FastAPI's request state (a dict), filled as it routes."""
_CONTEXT = "effective_route_context"  # its route context, whose path has the prefixes
_FRONTEND_PATH = "frontend_path"  # the path a frontend serves, below its prefix


def decide_at_start() -> None:
    """Decide now if FastAPI is loaded (an ASGI app is being instrumented), so that the
    self-check runs as the app starts rather than during its first request."""
    if "fastapi" in sys.modules:
        GATE.active()


def state_template(scope: MutableMapping[str, Any]) -> str | None:
    """The template FastAPI's request state holds for a request it routed (``None``:
    none, or the gate is closed). Called once a request is handled, before any mount was
    crossed: the scope's path is the router's own."""
    state = scope.get(STATE)
    if not state or not GATE.active():
        return None
    try:
        return _state_template(scope, state)
    except Exception as exc:  # FastAPI changed under us: public path from now on
        GATE.disable(exc)
        return None


def _state_template(scope: MutableMapping[str, Any], state: Any) -> str | None:
    context_path = getattr(state.get(_CONTEXT), "path", None)
    if context_path:
        return str(context_path)
    served = state.get(_FRONTEND_PATH)
    if isinstance(served, str):
        # app.frontend("/app", ...): the frontend's literal prefix, then the rest.
        path = relative_path(scope)
        if path.endswith(served):
            return path[: len(path) - len(served)].rstrip("/") + "/{path:path}"
    return None


def expanded(route: Any) -> list[tuple[Any, str]] | None:
    """``route`` as ``(route, its path template)`` pairs, in the order FastAPI tries them,
    if it is one of FastAPI's entries for an included router (or its routes); ``None``
    for any other route, or when the gate is closed."""
    if not _is_entry(route) or not GATE.active():
        return None
    try:
        return list(_expanded(route))
    except Exception as exc:  # FastAPI changed under us: public path from now on
        GATE.disable(exc)
        return None


def _expanded(route: Any) -> Iterator[tuple[Any, str]]:
    expand = getattr(route, "effective_candidates", None)
    if expand is not None:  # an included router: its routes, the prefixes included
        for candidate in expand():
            if _is_entry(candidate):
                yield from _expanded(candidate)
            else:
                yield candidate, getattr(candidate, "path", "")
        return
    starlette_route = getattr(route, "starlette_route", None)
    if starlette_route is None:
        if getattr(route, "path", ""):
            yield route, route.path  # an APIRoute, the prefixes included
        return
    yield starlette_route, getattr(starlette_route, "path", "")  # a copy, prefixed


def _is_entry(route: Any) -> bool:
    return hasattr(route, "effective_candidates") or hasattr(route, "original_route")


# --- the self-check ---------------------------------------------------------------------

_SELF_CHECK_SECONDS = 5.0  # per request: a self-check that hangs closes the gate
_ROUTE = "/v1/orders/{order_id}"
_FRONTEND = "/app/{path:path}"


def _self_check() -> None:
    """Route requests through a FastAPI app and find their templates as the middleware
    does: through FastAPI's state, else ``scope["route"]``; and by matching the path
    again over the app's routes, expanded (the walk after a mount)."""
    # From their modules: under opentelemetry-instrument, fastapi.FastAPI is the
    # instrumentor's subclass, which would trace the self-check's requests.
    from fastapi.applications import FastAPI
    from fastapi.routing import APIRouter

    router = APIRouter(prefix="/orders")

    @router.get("/{order_id}")
    async def order(order_id: int) -> dict[str, int]:
        return {"order_id": order_id}

    app = FastAPI()
    app.include_router(router, prefix="/v1")
    requests = [("/v1/orders/3", _ROUTE)]
    frontend = getattr(app, "frontend", None)
    served = Path(__file__).parent  # any directory: its requests find no file (a 404)
    if callable(frontend) and served.is_dir():
        frontend("/app", directory=served)
        requests.append(("/app/reports/7", _FRONTEND))
    for path, template in requests:
        scope = _routed(app, path)
        found = _state_template(scope, scope.get(STATE) or {})
        if found is None:
            route = scope.get("route")
            found = getattr(route, "path", None) if route is not None else None
        if found != template:
            raise AssertionError(f"{path}: the route read is {found!r}, not {template!r}")
    matched = _matched_again(app, "/v1/orders/3")
    if matched != _ROUTE:
        raise AssertionError(f"/v1/orders/3 matched again as {matched!r}, not {_ROUTE!r}")


def _matched_again(app: Any, path: str) -> str | None:
    """The template of the first of the app's routes (expanded) that fully matches."""
    from starlette.routing import Match

    probe = {"type": "http", "path": path, "root_path": "", "method": "GET", "headers": []}
    for route in app.router.routes:
        pairs = _expanded(route) if _is_entry(route) else [(route, getattr(route, "path", ""))]
        for candidate, template in pairs:
            match, _child = candidate.matches(probe)
            if match is Match.FULL:
                return str(template)
    return None


def _routed(app: Any, path: str) -> dict[str, Any]:
    """The scope of a GET ``path`` once ``app`` handled it (in a thread of its own: the
    caller may be running an event loop)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        # Already instrumented, as toolkit's middleware marks every scope: FastAPI's own
        # telemetry stays out, so the app's spans and metrics never see these requests.
        "fastapi.telemetry": None,
    }
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        return None

    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(app(scope, receive, send))
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="toolkit-fastapi-self-check", daemon=True)
    thread.start()
    thread.join(_SELF_CHECK_SECONDS)
    if thread.is_alive():
        raise TimeoutError(f"a request to {path} took over {_SELF_CHECK_SECONDS:g} s")
    if failure:
        error = failure[0]
        if isinstance(error, Exception):
            raise error
        raise RuntimeError(f"a request to {path} ended with {error!r}") from error
    return scope


GATE = declare(
    FastPathGate(
        "fastapi route templates",
        distribution="fastapi",
        tested=TESTED_RELEASES,
        self_check=_self_check,
        speed_only=False,
    )
)
"""Whether FastAPI's request state and included-router entries are read."""
