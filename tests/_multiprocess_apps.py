"""Apps the multi-process tests run under real gunicorn and uvicorn workers."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterable
from typing import Any

from toolkit.middleware import ToolkitASGIMiddleware, ToolkitWSGIMiddleware

SLOW_PID_FILE = "TEST_SLOW_PID_FILE"
_OPTIONS: dict[str, Any] = {"service": "mp", "tracing": False, "access_log": False}


def _note_slow_pid() -> None:
    with open(os.environ[SLOW_PID_FILE], "w") as handle:
        handle.write(str(os.getpid()))


def _wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    if environ["PATH_INFO"] == "/slow":
        _note_slow_pid()
        time.sleep(60)
    else:
        time.sleep(0.05)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]


async def _asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/slow":
        _note_slow_pid()
        await asyncio.sleep(60)
    else:
        await asyncio.sleep(0.05)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(os.getpid()).encode()})


wsgi = ToolkitWSGIMiddleware(_wsgi, **_OPTIONS)
asgi = ToolkitASGIMiddleware(_asgi, **_OPTIONS)
