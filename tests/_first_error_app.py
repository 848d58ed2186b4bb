"""An instrumented Starlette app whose routes answer the status in their path."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import toolkit


async def answer(request: Any) -> Any:
    return PlainTextResponse("x", status_code=int(request.path_params["code"]))


routes = [Route(f"/{area}/{{code:int}}", answer) for area in ("a", "b", "c", "d", "e")]
app = toolkit.instrument(Starlette(routes=routes), service="shop")
