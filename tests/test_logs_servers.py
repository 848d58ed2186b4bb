"""Logs as framework and server users expect: one traceback with the request's IDs, no
Flask stderr copy, the app's structlog never dropped silently, uvicorn's lines as JSON."""

from __future__ import annotations

import io
import json
import logging
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from middleware_fixtures import Harness, call_asgi, call_wsgi, http_scope, make_harness

import toolkit
from toolkit import semconv
from toolkit.logs import UVICORN_LOG_CONFIG, configure_logging
from toolkit.middleware import ToolkitASGIMiddleware
from toolkit.middleware.instrument import StructlogAlreadyConfigured


@pytest.fixture
def harness() -> Iterator[Harness]:
    yield from make_harness()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every JSON line written to ``stream``."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_an_unhandled_exception_is_logged_once_inside_the_request(
    harness: Harness,
) -> None:
    """The traceback is logged by the middleware with the request's correlation and trace
    IDs; uvicorn's own copy (logged after the request, without them) is dropped."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise KeyError("missing")

    middleware = ToolkitASGIMiddleware(app, **harness.options())
    scope = http_scope("/x", [(b"x-request-id", b"boom-1")])
    with pytest.raises(KeyError) as raised:
        await call_asgi(middleware, scope)
    # What uvicorn does once the exception reached it.
    logging.getLogger("uvicorn.error").error(
        "Exception in ASGI application\n", exc_info=raised.value
    )
    errors = [line for line in harness.logs() if "exception" in line]
    assert len(errors) == 1
    (error,) = errors
    assert error["event"] == "unhandled exception in ASGI app"
    assert error["logger"] == "toolkit.middleware"
    assert error["correlation_id"] == "boom-1"
    (span,) = harness.spans()
    assert error["trace_id"] == f"{span.context.trace_id:032x}"
    assert error["exception"][0]["exc_type"] == "KeyError"


def test_other_server_errors_are_still_logged(harness: Harness) -> None:
    """The filter drops only exceptions toolkit logged: anything else uvicorn logs stays."""
    try:
        raise OSError("address in use")
    except OSError as exc:
        logging.getLogger("uvicorn.error").error("startup failed", exc_info=exc)
    assert [line["event"] for line in harness.logs()] == ["startup failed"]


def test_flask_default_handler_is_removed(
    capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    """A Flask app that touched ``app.logger`` before ``instrument`` logs each error once,
    as JSON; nothing goes to stderr."""
    from flask import Flask

    app = Flask("shop")

    @app.route("/boom")
    def boom() -> str:
        app.logger.error("payment failed")
        return "ok"

    app.logger.info("started")  # as many apps do at import: Flask adds its handler now
    stream = io.StringIO()
    configure_logging(service="shop", stream=stream)
    toolkit.instrument(app, service="shop")
    configure_logging(service="shop", stream=stream)  # back to the test's stream
    response = call_wsgi(app, "/boom")
    assert response.status_code == 200
    errors = [line for line in lines(stream) if line.get("event") == "payment failed"]
    assert len(errors) == 1
    assert errors[0]["correlation_id"] == response.headers["x-request-id"]
    assert "payment failed" not in capsys.readouterr().err


def test_an_app_structlog_configuration_is_not_replaced_silently(restored_logging: None) -> None:
    """The app configured structlog with its own processor: ``instrument`` stops with a
    message naming it and the two ways out, and changes nothing."""

    def add_tenant(logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
        event["tenant"] = "acme"
        return event

    processors = [add_tenant, structlog.processors.JSONRenderer()]
    structlog.configure(processors=processors)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    with pytest.raises(StructlogAlreadyConfigured) as raised:
        toolkit.instrument(app, service="shop")
    message = str(raised.value)
    assert "add_tenant" in message
    assert "configure_logging=False" in message
    assert "toolkit.logs.shared_processors(service)" in message
    assert structlog.get_config()["processors"] == processors


async def test_access_lines_carry_ids_under_the_app_structlog(
    restored_logging: None,
) -> None:
    """With ``configure_logging=False`` and the app's own structlog chain, the access line
    still carries the correlation and trace IDs."""
    from opentelemetry.sdk.trace import TracerProvider

    seen: list[dict[str, Any]] = []

    def capture(logger: Any, method: str, event: dict[str, Any]) -> str:
        seen.append(dict(event))
        return "ignored"

    structlog.configure(processors=[capture], logger_factory=structlog.ReturnLoggerFactory())

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    provider = TracerProvider()
    wrapped = toolkit.instrument(
        app, service="shop", configure_logging=False, tracer_provider=provider
    )
    await call_asgi(wrapped, http_scope("/x", [(b"x-request-id", b"own-1")]))
    (access,) = [event for event in seen if event.get("event") == semconv.ACCESS_LOG_EVENT]
    assert access[semconv.LOG_CORRELATION_ID] == "own-1"
    assert len(access[semconv.LOG_TRACE_ID]) == 32
    assert len(access[semconv.LOG_SPAN_ID]) == 16


def test_uvicorn_log_config_is_shipped_and_valid() -> None:
    """The documented path exists inside the package and is a dictConfig document whose
    factories import."""
    document = json.loads(Path(UVICORN_LOG_CONFIG).read_text())
    assert Path(UVICORN_LOG_CONFIG).parent == Path(toolkit.__file__).parent / "logs"
    assert document["formatters"]["json"]["()"] == "toolkit.logs.JSONFormatter"
    assert document["loggers"]["uvicorn.error"]["filters"] == ["already_logged"]


def test_color_message_is_dropped(harness: Harness) -> None:
    """uvicorn's ``color_message`` extra (the message with terminal colours) never reaches
    a line."""
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 42, extra={"color_message": "\x1b[36m42\x1b[0m"}
    )
    (line,) = harness.logs()
    assert line["event"] == "Started server process [42]"
    assert "color_message" not in line


APP = textwrap.dedent(
    """
    import toolkit
    from starlette.applications import Starlette
    from starlette.routing import Route

    async def boom(request):
        raise RuntimeError("kaboom")

    app = toolkit.instrument(Starlette(routes=[Route("/boom", boom)]), service="shop")
    """
)


@pytest.mark.slow
def test_real_uvicorn_logs_json_and_one_traceback(tmp_path: Path) -> None:
    """uvicorn with toolkit's ``--log-config``: its own lines are JSON without
    ``color_message``, and a failing request gives one traceback, with the request's
    IDs."""
    from tests._processes import free_port, running, uvicorn_command, wait_until_http_ok

    (tmp_path / "shop_app.py").write_text(APP)
    port = free_port()
    command = uvicorn_command(
        "shop_app:app",
        port,
        app_dir=tmp_path,
        options=["--log-config", UVICORN_LOG_CONFIG, "--no-access-log"],
    )
    with running(command, tmp_path / "uvicorn.log") as server:
        wait_until_http_ok(f"http://127.0.0.1:{port}/livez", started=server)
        response = httpx.get(
            f"http://127.0.0.1:{port}/boom", headers={"x-request-id": "real-1"}, timeout=5
        )
        assert response.status_code == 500
    output = server.output().splitlines()
    parsed = [json.loads(line) for line in output if line.startswith("{")]
    assert len(parsed) == len(output), output  # every line is JSON
    assert any(line["logger"] == "uvicorn.error" for line in parsed)
    assert all("color_message" not in line for line in parsed)
    tracebacks = [line for line in parsed if "exception" in line]
    assert len(tracebacks) == 1, tracebacks
    assert tracebacks[0]["correlation_id"] == "real-1"
    assert tracebacks[0]["trace_id"] is not None
