"""Route templates: read from what the framework left in the ASGI scope or WSGI environ.

Only templates are returned, never a raw path. A middleware builds one
:class:`RouteResolver` and asks it, once a request is handled, for the route::

    resolver = RouteResolver(settings.routes)         # once, at construction
    template, label = resolver.asgi(scope, root_path, path)
    template, label = resolver.wsgi(environ, path)

For ASGI, ``root_path`` is the scope's ``root_path`` when the request entered the
middleware (the app may change the scope's as it routes) and ``path`` the request path
relative to it, also taken on entry (``toolkit._http.relative_path(scope)``); for WSGI,
``path`` is ``PATH_INFO``. Both only serve declared templates: framework templates
come from the scope.

``template`` is what the span's ``http.route`` gets (``None``: no attribute); ``label``
is the ``http_route`` metric label and access-log ``route``, always set:

- the template: the framework's (Starlette/FastAPI mounts, routers and sub-apps joined
  into one), the one an app put under :data:`ROUTE_KEY`, else the first template the
  app declared (``routes=[...]``) that matches the path;
- :data:`~toolkit.semconv.UNMATCHED_ROUTE` (``__unmatched__``): a router toolkit can see
  handled the request and no route matched (404s). Seen: Starlette/FastAPI (their router
  puts itself in ``scope["router"]``), Flask (its request, with ``url_rule`` ``None``), or
  an app or hook that set ``ROUTE_KEY`` to ``None`` ("I routed, nothing matched");
- :data:`~toolkit.semconv.UNROUTED_ROUTE` (``__unrouted__``): no routing toolkit can see
  (an app that routes itself, or routes a copy of the scope) and no declared template
  matched.

Declared templates are compiled once (:class:`RouteResolver` raises ``ValueError``
naming a malformed one) and only consulted when the framework gave no template:
``{name}`` (or ``{name:str}``) matches one non-empty segment, ``{name:int}`` one of ASCII
digits, ``{name:path}`` (last segment only) the rest of the path; anything else is
literal. Candidates are looked up by segment count; the first declared that matches wins.

Over 300 lines and kept whole: the framework's templates, the walk through mounts (and
the resolver's memory of it) and the declared templates answer one question, which
template a request had, in an order that only reads right in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any, Final

from toolkit import semconv
from toolkit.middleware import _fastapi_gate as fastapi_gate
from toolkit.middleware.flask import FLASK_REQUEST_KEY, matched_rule

ROUTE_KEY = "toolkit.route"
"""Scope/environ key under which an app (or the Django hook) stores the route template.

``None`` under this key means the app routed the request and no route matched.
"""

Resolved = tuple[str | None, str]
"""``(template or None, label)``: what :meth:`RouteResolver.asgi`/``wsgi`` return."""

UNMATCHED: Final[Resolved] = (None, semconv.UNMATCHED_ROUTE)
UNROUTED: Final[Resolved] = (None, semconv.UNROUTED_ROUTE)
_MISSING: Final = object()
_MOUNTED_ENTRIES: Final = 4096  # walked templates a resolver keeps (cleared when full)
_MountKey = tuple[int, int, str, str, object, object, str | None]
_CONVERTERS = frozenset({"", "str", "int", "path"})


class _Template:
    """One declared template, split into the checks a path's segments must pass."""

    __slots__ = ("ints", "literals", "min_segments", "resolved", "singles", "tail")

    def __init__(self, template: object) -> None:
        if not isinstance(template, str):
            raise TypeError(f"route template must be a string, not {template!r}")
        if not template.startswith("/"):
            raise ValueError(f"route template {template!r} must start with '/'")
        parts = template.split("/")  # parts[0] == "", as for the path's segments
        literals: list[tuple[int, str]] = []
        singles: list[int] = []
        ints: list[int] = []
        self.tail = False
        last = len(parts) - 1
        for index, part in enumerate(parts[1:], 1):
            if not part.startswith("{"):
                if "{" in part or "}" in part:
                    raise ValueError(
                        f"route template {template!r}: a parameter must be a whole "
                        f"segment, not {part!r}"
                    )
                if not part and index != last:
                    raise ValueError(f"route template {template!r} has an empty segment")
                literals.append((index, part))
                continue
            name, _, converter = part[1:-1].partition(":")
            if (
                not part.endswith("}")
                or not name.isidentifier()
                or converter not in _CONVERTERS
                or "{" in part[1:-1]
            ):
                raise ValueError(
                    f"route template {template!r}: {part!r} is not {{name}}, "
                    f"{{name:str}}, {{name:int}} or {{name:path}}"
                )
            if converter == "path":
                if index != last:
                    raise ValueError(
                        f"route template {template!r}: {{{name}:path}} must be the last segment"
                    )
                self.tail = True
            elif converter == "int":
                ints.append(index)
            else:
                singles.append(index)
        # Segments of a path, its leading "" included: "/a/b" has 3, "/" has 2.
        self.min_segments = len(parts)
        self.literals = tuple(literals)
        self.singles = tuple(singles)
        self.ints = tuple(ints)
        self.resolved: Resolved = (template, template)

    def matches(self, segments: list[str]) -> bool:
        """Whether a path split on "/" (as many segments, or more for a tail) fits."""
        for index, literal in self.literals:
            if segments[index] != literal:
                return False
        for index in self.singles:
            if not segments[index]:
                return False
        for index in self.ints:
            segment = segments[index]
            if not (segment.isascii() and segment.isdigit()):
                return False
        return True


class RouteResolver:
    """The route of a handled request: ``(template or None, label)``; built once per app.

    ``declared`` are the templates of routes toolkit cannot see (``routes=[...]``),
    compiled here: ``ValueError`` names a malformed one, ``TypeError`` a non-string (or a
    single string given instead of an iterable of them). See the module docstring.
    """

    __slots__ = ("_by_count", "_mounted", "_tails", "templates")

    def __init__(self, declared: Iterable[str] = ()) -> None:
        """Compile ``declared`` into candidate lists by segment count."""
        if isinstance(declared, str):
            raise TypeError(f"routes must be an iterable of templates, not the string {declared!r}")
        compiled: list[_Template] = []
        seen: set[str] = set()
        for template in declared:
            checked = _Template(template)
            if template not in seen:
                seen.add(template)
                compiled.append(checked)
        self.templates: tuple[str, ...] = tuple(t.resolved[1] for t in compiled)
        # Declaration order kept in every list: a path of n segments is tried against the
        # templates of n segments and the tails ({name:path}) that fit in n.
        self._tails = tuple(t for t in compiled if t.tail)
        longest = max((t.min_segments for t in compiled), default=0)
        self._by_count: dict[int, tuple[_Template, ...]] = {
            count: tuple(
                t
                for t in compiled
                if (count >= t.min_segments if t.tail else count == t.min_segments)
            )
            for count in range(2, longest + 1)
        }
        # Templates of requests that crossed a mount, found by walking the routes again
        # (a regex match per route tried: ≈ 1 µs each): see _walk_once.
        self._mounted: dict[_MountKey, tuple[object, object, str | None]] = {}

    def match_declared(self, path: str, otherwise: Resolved) -> Resolved:
        """The first declared template matching ``path``, else ``otherwise``."""
        if not self.templates:
            return otherwise
        if not path:
            path = "/"
        count = path.count("/") + 1
        candidates = self._by_count.get(count)
        if candidates is None:
            candidates = self._tails if count > 1 else ()
        if candidates:
            segments = path.split("/")
            for template in candidates:
                if template.matches(segments):
                    return template.resolved
        return otherwise

    def asgi(self, scope: MutableMapping[str, Any], root_path: str, path: str) -> Resolved:
        """The route of a handled ASGI request (``root_path``, ``path``: as on entry)."""
        route = scope.get(ROUTE_KEY, _MISSING)
        if route is not _MISSING:
            if route is not None:
                template = str(route)
                return template, template
            return self.match_declared(path, UNMATCHED)
        if "router" not in scope:  # no Starlette/FastAPI router saw this scope
            return self.match_declared(path, UNROUTED)
        matched = _starlette_template(scope, root_path, self._walk_once)
        if matched is not None:
            return matched, matched
        return self.match_declared(path, UNMATCHED)

    def _walk_once(self, scope: MutableMapping[str, Any], root_path: str) -> str | None:
        """:func:`_walk`, once per top-level router, route that handled the request
        (the innermost router's choice, with FastAPI's template of it: one route may be
        included at several prefixes), root paths on entry and on return, and scope
        type: given those, the mounts crossed and so the template are the same whatever
        the rest of the path (a mount matches on its prefix alone, and the first route
        that matches wins). Held with the router and route it is for (ids are reused);
        cleared when full (mount prefixes with parameters make many keys)."""
        router, route = scope.get("router"), scope.get("route")
        if router is None or route is None:
            return _walk(scope, root_path)
        key = (
            id(router),
            id(route),
            scope["type"],
            root_path,
            scope.get("root_path"),
            scope.get("app_root_path"),
            # FastAPI shares one route between the prefixes a router is included at:
            # its own template tells them apart.
            fastapi_gate.state_template(scope) if fastapi_gate.STATE in scope else None,
        )
        found = self._mounted.get(key)
        if found is not None and found[0] is router and found[1] is route:
            return found[2]
        template = _walk(scope, root_path)
        if len(self._mounted) >= _MOUNTED_ENTRIES:
            self._mounted.clear()
        self._mounted[key] = (router, route, template)
        return template

    def wsgi(self, environ: MutableMapping[str, Any], path: str) -> Resolved:
        """The route of a handled WSGI request (``path``: ``PATH_INFO``)."""
        route = environ.get(ROUTE_KEY, _MISSING)
        if route is not _MISSING:
            if route is not None:
                template = str(route)
                return template, template
            return self.match_declared(path, UNMATCHED)
        if environ.get(FLASK_REQUEST_KEY) is not None:
            rule = matched_rule(environ)
            if rule is not None:
                return rule, rule
            return self.match_declared(path, UNMATCHED)
        return self.match_declared(path, UNROUTED)


def asgi_route(scope: MutableMapping[str, Any], root_path: str) -> str | None:
    """Return the route template of a handled ASGI request, ``None`` if none is known.

    ``root_path`` is the scope's ``root_path`` when the request entered the middleware.
    No declared templates, no label: see :class:`RouteResolver` for those.
    """
    route = scope.get(ROUTE_KEY)
    if route is not None:
        return str(route)
    if "router" not in scope:
        return None
    return _starlette_template(scope, root_path)


def _starlette_template(
    scope: MutableMapping[str, Any],
    root_path: str,
    walk: Callable[[MutableMapping[str, Any], str], str | None] | None = None,
) -> str | None:
    """The template of a request a Starlette/FastAPI router handled, ``None`` if no match.

    What the router left in the scope answers the usual requests; a request that went
    through a mount (the scope's ``root_path`` changed) or a route FastAPI does not record
    is matched again against the routes, from the top-level router down (``walk``,
    default :func:`_walk`).
    """
    current_root = scope.get("root_path", "")
    if current_root == root_path or "app_root_path" not in scope:
        # No mount crossed (each sets app_root_path): what the scope holds is top-level.
        if fastapi_gate.STATE in scope:
            # FastAPI routes included routers itself: scope["route"] is the APIRoute
            # without the include_router() prefixes; its own state has them.
            template = fastapi_gate.state_template(scope)
            if template is not None:
                return template
        route = scope.get("route")
        if route is not None and not hasattr(route, "routes"):  # a route, not a mount
            matched = getattr(route, "path", None)
            if matched is not None:
                return str(matched) or "/"
        if "endpoint" not in scope:
            return None  # no route of any router matched: nothing to walk
    return (walk or _walk)(scope, root_path)


def _walk(scope: MutableMapping[str, Any], root_path: str) -> str | None:
    """Match the path again from ``scope["router"]`` down, joining the templates crossed.

    The walk starts from the root path the top-level router saw: the one the request
    entered with, unless the app set a longer one itself (``FastAPI(root_path=...)``);
    the first mount crossed keeps it in ``app_root_path``.
    """
    from starlette.routing import Match

    routes = getattr(scope.get("router"), "routes", None)
    base = scope.get("app_root_path", scope.get("root_path", ""))
    probe: dict[str, Any] = {
        "type": scope["type"],
        "path": scope["path"],
        "root_path": base if isinstance(base, str) and base.startswith(root_path) else root_path,
        "method": scope.get("method", "GET"),
        "headers": scope.get("headers", []),
        "path_params": {},
    }
    template = ""
    while routes is not None:
        selected = None
        for route, route_template in _candidates(routes):
            match, child = route.matches(probe)
            if match is Match.FULL:
                selected = (route, route_template, child)
                break
            if match is Match.PARTIAL and selected is None:
                selected = (route, route_template, child)  # 405: a later FULL match wins
        if selected is None:
            return None
        route, route_template, child = selected
        template += route_template
        routes = getattr(route, "routes", None)
        if routes is None:
            return template or "/"
        if not routes:  # a mounted app without routes (static files): its whole subtree
            return f"{template}/{{path:path}}"
        probe.update(child)
    return None


def _candidates(routes: Iterable[Any]) -> Iterator[tuple[Any, str]]:
    """``(route, its path template)`` in the order the router tries them.

    FastAPI keeps an included router as one entry whose effective candidates carry
    the include prefixes: they are expanded in place, as FastAPI tries them (through the
    FastAPI gate, ``toolkit.middleware._fastapi_gate``). A route with
    ``routes`` (a mount, a host) is entered once it matched; the others are leaves.
    """
    for route in routes:
        expanded = fastapi_gate.expanded(route)
        if expanded is not None:
            yield from expanded
            continue
        yield route, getattr(route, "path", "")


def wsgi_route(environ: MutableMapping[str, Any]) -> str | None:
    """Return the route template of a handled WSGI request, ``None`` if none is known.

    Django puts it under ``ROUTE_KEY`` and Flask leaves its request object under
    ``FLASK_REQUEST_KEY``, through the hooks ``instrument`` installs.
    """
    route = environ.get(ROUTE_KEY)
    if route is not None:
        return str(route)
    if environ.get(FLASK_REQUEST_KEY) is not None:
        return matched_rule(environ)
    return None
