"""server.address and server.port: parsed from the request's host headers, in order."""

from __future__ import annotations

import pytest

from toolkit._http import forwarded_host, parse_host, server_address


@pytest.mark.parametrize(
    ("value", "scheme", "expected"),
    [
        ("shop.example", "http", ("shop.example", 80)),
        ("shop.example", "https", ("shop.example", 443)),
        ("shop.example", "wss", ("shop.example", 443)),
        ("shop.example", "gopher", ("shop.example", None)),
        ("shop.example:8443", "http", ("shop.example", 8443)),
        ("10.1.2.80:8000", "http", ("10.1.2.80", 8000)),
        ("[::1]:8000", "http", ("::1", 8000)),
        ("[2001:db8::7]", "https", ("2001:db8::7", 443)),
        ("  edge.example , inner.example", "http", ("edge.example", 80)),
        ("xn--caf-dma.example", "http", ("xn--caf-dma.example", 80)),
        ("", "http", None),
        ("shop.example:0", "http", None),
        ("shop.example:65536", "http", None),
        ("shop.example:http", "http", None),
        ("shop example", "http", None),
        ("shop.example/path", "http", None),
        ("user@shop.example", "http", None),
        ("caf\u00e9.example", "http", None),
        ("shop.example\r\nX-Evil: 1", "http", None),
        ("[::1", "http", None),
        ("a" * 256, "http", None),
    ],
)
def test_parse_host(value: str, scheme: str, expected: tuple[str, int | None] | None) -> None:
    """Address and port of a host value; the scheme's port when none is given; None for
    anything that is not a host (so the next source is used)."""
    assert parse_host(value, scheme) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('for=192.0.2.60;proto=https;host="edge.example:443"', "edge.example:443"),
        ("Host=edge.example", "edge.example"),
        ("for=192.0.2.60, host=second.example", None),
        ("for=192.0.2.60;proto=https", None),
        ("", None),
    ],
)
def test_forwarded_host(value: str, expected: str | None) -> None:
    """The host parameter of the first Forwarded element only (RFC 7239), unquoted."""
    assert forwarded_host(value) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"host": "shop.example:8000"}, ("shop.example", 8000)),
        (
            {"host": "shop.example", "forwarded_host_header": "public.example"},
            ("public.example", 80),
        ),
        (
            {
                "host": "shop.example",
                "forwarded_host_header": "public.example",
                "forwarded": "host=edge.example:8443",
            },
            ("edge.example", 8443),
        ),
        ({"host": "shop.example", "forwarded": "for=1.2.3.4"}, ("shop.example", 80)),
        ({"host": "shop.example", "forwarded_host_header": "not a host"}, ("shop.example", 80)),
        ({"host": "not a host"}, None),
        ({}, None),
    ],
)
def test_server_address_order(
    headers: dict[str, str], expected: tuple[str, int | None] | None
) -> None:
    """Forwarded host, then X-Forwarded-Host, then Host; an invalid one is skipped."""
    assert server_address("http", **headers) == expected
