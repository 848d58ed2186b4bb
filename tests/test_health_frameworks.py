"""Health endpoints through toolkit.instrument on every supported framework."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from middleware_apps import ASGI, FACTORIES, FRAMEWORKS
from middleware_fixtures import Harness, call, make_harness

from toolkit import semconv
from toolkit.middleware import instrument

pytestmark = pytest.mark.filterwarnings("ignore::Warning")


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_livez_and_readyz(framework: str, harness: Harness) -> None:
    """instrument(app, health_checks=...) serves both endpoints on every framework,
    without a span or a metric for them; the app's routes still work."""
    app = instrument(
        FACTORIES[framework](),
        configure_logging=False,
        **harness.options(health_checks={"db": lambda: None, "cache": lambda: False}),
    )
    asgi = framework in ASGI
    live = await call(app, asgi, "/livez")
    ready = await call(app, asgi, "/readyz")
    item = await call(app, asgi, "/items/1")
    assert (live.status_code, live.json()) == (200, {"status": "pass", "serviceId": "orders"})
    assert live.headers["content-type"] == semconv.HEALTH_CONTENT_TYPE
    assert ready.status_code == 503
    assert {name: checks[0]["status"] for name, checks in ready.json()["checks"].items()} == {
        "db": "pass",
        "cache": "fail",
    }
    assert item.status_code == 200
    assert len(harness.spans()) == 1
    assert harness.sample(semconv.HEALTH_CHECK_STATUS, {semconv.LABEL_CHECK: "cache"}) == 0.0
