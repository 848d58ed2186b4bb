"""metrics_token: /metrics answers 401 with a Bearer challenge unless the token is sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from middleware_apps import plain_asgi_app, plain_wsgi_app
from middleware_fixtures import Harness, call, make_harness

from toolkit.metrics._endpoint import is_authorized
from toolkit.middleware import ToolkitASGIMiddleware, ToolkitWSGIMiddleware
from toolkit.middleware.config import resolve_settings

TOKEN = "s3cret-token"
ASGI = [True, False]


@pytest.fixture
def harness() -> Iterator[Harness]:
    """Fresh registry, in-memory spans, captured logs."""
    yield from make_harness()


def _app(asgi: bool, **options: Any) -> Any:
    if asgi:
        return ToolkitASGIMiddleware(plain_asgi_app(), **options)
    return ToolkitWSGIMiddleware(plain_wsgi_app(), **options)


@pytest.mark.parametrize("asgi", ASGI, ids=["asgi", "wsgi"])
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"],
    ids=["none", "wrong", "basic", "empty", "longer"],
)
async def test_scrape_without_the_token_is_refused(
    harness: Harness, asgi: bool, authorization: str | None
) -> None:
    """No token, a wrong one or another scheme: 401, a Bearer challenge, no metrics."""
    app = _app(asgi, **harness.options(metrics_token=TOKEN))
    headers = {} if authorization is None else {"authorization": authorization}
    response = await call(app, asgi, "/metrics", headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert response.content == b"Unauthorized"


@pytest.mark.parametrize("asgi", ASGI, ids=["asgi", "wsgi"])
async def test_scrape_with_the_token_gets_the_metrics(harness: Harness, asgi: bool) -> None:
    """``Authorization: Bearer <token>`` (scheme case-insensitive): 200 and the metrics."""
    app = _app(asgi, **harness.options(metrics_token=TOKEN))
    await call(app, asgi, "/items/1")
    response = await call(app, asgi, "/metrics", {"authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200
    assert "http_server_request_duration_seconds_count" in response.text


@pytest.mark.parametrize("asgi", ASGI, ids=["asgi", "wsgi"])
async def test_the_token_comes_from_the_environment(
    harness: Harness, asgi: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TOOLKIT_METRICS_TOKEN protects the endpoint when no keyword is given."""
    monkeypatch.setenv("TOOLKIT_METRICS_TOKEN", TOKEN)
    app = _app(asgi, **harness.options())
    assert (await call(app, asgi, "/metrics")).status_code == 401
    ok = await call(app, asgi, "/metrics", {"authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200


def test_keyword_wins_over_environment() -> None:
    """metrics_token keyword > TOOLKIT_METRICS_TOKEN > None."""
    env = {"TOOLKIT_METRICS_TOKEN": "from-env"}
    assert resolve_settings({"metrics_token": "kw"}, env).metrics_token == "kw"
    assert resolve_settings({}, env).metrics_token == "from-env"
    assert resolve_settings({}, {}).metrics_token is None


def test_is_authorized() -> None:
    """No token configured: everyone; otherwise exactly the bearer token."""
    assert is_authorized(None, None) is True
    assert is_authorized(TOKEN, None) is False
    assert is_authorized(TOKEN, f"Bearer {TOKEN}") is True
    assert is_authorized(TOKEN, f"  Bearer   {TOKEN} ") is True
    assert is_authorized(TOKEN, f"Token {TOKEN}") is False
    assert is_authorized("é", "Bearer é") is True
