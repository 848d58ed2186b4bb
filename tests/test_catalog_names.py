"""Tests for toolkit.catalog.names."""

from __future__ import annotations

import pytest

from toolkit.catalog.names import (
    is_host,
    is_http_url,
    is_label_name,
    is_valid_name,
    suggest_label_name,
    suggest_name,
)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("orders", True),
        ("order-history", True),
        ("v2", True),
        ("a" * 32, True),
        ("a" * 33, False),
        ("x", False),
        ("Orders", False),
        ("orders-", False),
        ("1orders", False),
        ("order_history", False),
        ("users/v2", False),
        ("", False),
    ],
)
def test_is_valid_name(name: str, valid: bool) -> None:
    """Names are 2-32 lowercase letters, digits or '-', from a letter, not ending in '-'."""
    assert is_valid_name(name) is valid


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("Order_Service", "order-service"),
        ("users/v2", "users-v2"),
        ("orders-", "orders"),
        ("orders", None),
        ("123", None),
    ],
)
def test_suggest_name(name: str, suggestion: str | None) -> None:
    """An invalid name gets the nearest valid one; nothing when none is obvious."""
    assert suggest_name(name) == suggestion


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("team", True),
        ("_x", True),
        ("Env2", True),
        ("__meta", False),
        ("1a", False),
        ("a-b", False),
    ],
)
def test_is_label_name(name: str, valid: bool) -> None:
    """Label names follow Prometheus' syntax; '__' names are reserved."""
    assert is_label_name(name) is valid


@pytest.mark.parametrize(
    ("name", "suggestion"), [("team-name", "team_name"), ("__meta", "meta"), ("team", None)]
)
def test_suggest_label_name(name: str, suggestion: str | None) -> None:
    """An invalid label name gets the nearest valid one."""
    assert suggest_label_name(name) == suggestion


@pytest.mark.parametrize(
    ("host", "valid"),
    [
        ("api.stripe.com", True),
        ("payments", True),
        ("10.0.0.7", True),
        ("::1", True),
        ("https://api.stripe.com", False),
        ("api.stripe.com:443", False),
        ("api.stripe.com/v1", False),
        ("-bad.example.com", False),
    ],
)
def test_is_host(host: str, valid: bool) -> None:
    """Addresses are bare hosts as they appear in server_address."""
    assert is_host(host) is valid


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("https://runbooks.example.com/orders", True),
        ("http://wiki/runbooks#orders", True),
        ("runbooks/orders.md", False),
        ("ftp://runbooks.example.com", False),
        ("https://", False),
        ("https://example.com/a b", False),
        ("https://wiki/{{page}}/orders", False),
        ("https://wiki/%7B%7Bpage%7D%7D/orders", True),
    ],
)
def test_is_http_url(url: str, valid: bool) -> None:
    """Runbooks are absolute http(s) URLs with a host, without ``{{``: the URL becomes an
    alert annotation, which Prometheus expands as a template (a rule file with ``{{page}}``
    in it fails to load)."""
    assert is_http_url(url) is valid
