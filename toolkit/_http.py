"""HTTP helpers the middleware and outbound calls share: methods, errors, headers, hosts.

``server.address`` and ``server.port`` of a server span are taken where the conventions say.

OpenTelemetry's HTTP conventions want the host and port the client asked for, "the same
on the client and server sides": the first of the host a reverse proxy passes on
(``Forwarded: host=...``, ``X-Forwarded-Host``) and the ``Host`` header (``:authority``
in HTTP/2, which ASGI servers present as ``host``), parsed into address and port. A value
without a port means the scheme's default port (80, 443), as it does for the client. The
listening socket is the last resort, for a request that names no valid host at all.

These values come from the request: anything that is not a host (a reg-name, an IPv4
address or a bracketed IPv6 address, at most 255 characters, with an optional port up
to 65535) is skipped for the next source, so a header cannot put arbitrary text into
the span.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from functools import lru_cache
from typing import Any

from toolkit import semconv

ENV_CORRELATION_HEADER = "TOOLKIT_CORRELATION_HEADER"
"""The environment variable naming the correlation header (inbound and outbound)."""

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
"""The port a host without one means, by URL scheme."""

MAX_HOST_LENGTH = 255

_HOST = re.compile(
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9._~%!$&'()*+;=-]+))"
    r"(?::(?P<port>[0-9]{1,5}))?"
)


@lru_cache(maxsize=512)
def parse_host(value: str, scheme: str) -> tuple[str, int | None] | None:
    """Return ``(address, port)`` of a host header value, ``None`` if it is not one.

    The first element of a comma-separated list is taken (proxies append theirs); an
    IPv6 address loses its brackets; a missing port is ``scheme``'s default (``None``
    for an unknown scheme). Cached: a service sees few distinct hosts.
    """
    host = value.split(",", 1)[0].strip()
    if not host or len(host) > MAX_HOST_LENGTH:
        return None
    match = _HOST.fullmatch(host)
    if match is None:
        return None
    port_text = match.group("port")
    if port_text is None:
        port = DEFAULT_PORTS.get(scheme)
    else:
        port = int(port_text)
        if not 0 < port <= 65535:
            return None
    return (match.group("ipv6") or match.group("name"), port)


def forwarded_host(value: str) -> str | None:
    """The ``host`` parameter of the first element of a ``Forwarded`` header (RFC 7239)."""
    first = value.split(",", 1)[0]
    for pair in first.split(";"):
        name, sep, parameter = pair.partition("=")
        if sep and name.strip().lower() == "host":
            return parameter.strip().strip('"')
    return None


def server_address(
    scheme: str,
    *,
    forwarded: str | None = None,
    forwarded_host_header: str | None = None,
    host: str | None = None,
) -> tuple[str, int | None] | None:
    """The request's ``(server.address, server.port)`` from its headers, ``None`` if none
    of ``Forwarded`` host, ``X-Forwarded-Host`` and ``Host`` names a valid host."""
    sources = (forwarded_host(forwarded) if forwarded else None, forwarded_host_header, host)
    for candidate in sources:
        if candidate:
            parsed = parse_host(candidate, scheme)
            if parsed is not None:
                return parsed
    return None


def normalize_method(method: str) -> str:
    """Return ``method`` if the conventions know it, else ``_OTHER`` (bounded cardinality)."""
    return method if method in semconv.KNOWN_METHODS else semconv.OTHER_METHOD


def error_type_of(exc: BaseException) -> str:
    """Return the fully qualified class name of ``exc``, as ``error.type`` wants it."""
    cls = type(exc)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def is_header_safe(value: str) -> bool:
    """Whether ``value`` may go into a response header and a log line as it is: printable
    ASCII, not empty (never CR/LF or another control character)."""
    return value.isascii() and value.isprintable() and bool(value)


def parse_content_length(value: str | None) -> int | None:
    """The body size a ``Content-Length`` header announces, ``None`` unless it is one.

    Only ASCII digits count: ``str.isdigit`` accepts ``"²"``, which ``int`` refuses.
    """
    if value is None or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def relative_path(scope: MutableMapping[str, Any]) -> str:
    """The ASGI request path relative to the app's ``root_path``.

    ASGI servers and Starlette 0.33+ include the root path in ``path`` (``/api/health``
    with ``root_path="/api"``); older ones did not: a path outside the root path is
    returned as it is.
    """
    return strip_root(scope["path"], scope.get("root_path", ""))


def strip_root(path: str, root: str) -> str:
    """``path`` relative to the root path ``root`` (see :func:`relative_path`)."""
    if root and path.startswith(root):
        rest = path[len(root) :]
        if not rest:
            return "/"
        if rest[0] == "/":
            return rest
    return path
