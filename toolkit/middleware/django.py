"""Django: hand the resolved route pattern to the outer WSGI/ASGI middleware.

``toolkit.instrument(get_wsgi_application(), service=...)`` (or the ASGI one) installs
:func:`record_route_on` itself. Projects that wrap the handler otherwise add
``"toolkit.middleware.django.RouteMiddleware"`` to ``MIDDLEWARE`` instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from toolkit.middleware.routes import ROUTE_KEY


def _store_route(request: Any) -> None:
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", None) if match is not None else None
    # None: Django routed the request and no pattern matched (a 404 seen as unmatched).
    template = None if route is None else "/" + str(route).lstrip("/")
    scope = getattr(request, "scope", None)  # ASGIRequest keeps the server's scope dict
    if isinstance(scope, dict):
        scope[ROUTE_KEY] = template
    else:
        request.META[ROUTE_KEY] = template  # WSGIRequest.META is the server's environ


def record_route_on(handler: Any) -> Any:
    """Make a Django ``WSGIHandler``/``ASGIHandler`` report each request's route; returns it.

    Wraps the handler instance's ``get_response``/``get_response_async`` (after URL
    resolution, ``request.resolver_match.route`` holds the pattern, e.g.
    ``items/<int:item_id>``). Idempotent.
    """
    if getattr(handler, "_toolkit_route_hook", False):
        return handler
    sync_get_response = handler.get_response
    async_get_response = getattr(handler, "get_response_async", None)

    def get_response(request: Any) -> Any:
        try:
            return sync_get_response(request)
        finally:
            _store_route(request)

    handler.get_response = get_response
    if async_get_response is not None:

        async def get_response_async(request: Any) -> Any:
            try:
                return await async_get_response(request)
            finally:
                _store_route(request)

        handler.get_response_async = get_response_async
    handler._toolkit_route_hook = True
    return handler


class RouteMiddleware:
    """Django middleware alternative to :func:`record_route_on`: put it first in MIDDLEWARE."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        """Keep Django's next handler; detect whether it is a coroutine function."""
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        """Call the rest of the chain, then store ``request.resolver_match.route``."""
        if self._async:
            return self._acall(request)
        try:
            return self.get_response(request)
        finally:
            _store_route(request)

    async def _acall(self, request: Any) -> Any:
        try:
            response: Awaitable[Any] = self.get_response(request)
            return await response
        finally:
            _store_route(request)
