"""The apps ``bench.e2e`` serves, one per uvicorn process: ``bench._e2e_apps:app``.

``BENCH_E2E_APP`` chooses what ``app`` is, built by the same functions as the
in-process ASGI benchmark (``bench.middleware``), so both measure the same stacks:

- ``bare``: the Starlette app with its one route, ``GET /items/{item_id}``;
- ``toolkit``: that app under ``toolkit.instrument`` (logging configured by it, to the
  process's stdout, which ``bench.e2e`` sends to ``/dev/null``);
- ``peer``: that app under the peer stack (asgi-correlation-id, starlette-exporter,
  OpenTelemetry's ASGI middleware);
- ``span-floor`` and ``line-floor``: the in-process benchmark's floors around that app
  (an SDK span alone; toolkit's span and access line alone), served only when asked for.

Every stack that traces gets an SDK ``TracerProvider`` with a synchronous processor and
an exporter that drops spans. ``TOOLKIT_FAST_PATHS=off`` in the environment closes
toolkit's gates (the public-API variant).
"""

from __future__ import annotations

import os
from typing import Any

from bench.e2e import APP_ENV
from bench.middleware import (
    SERVICE,
    asgi_line_floor,
    asgi_peer_stack,
    asgi_span_floor,
    starlette_app,
    tracer_provider,
)

APPS = ("bare", "toolkit", "peer", "span-floor", "line-floor")


def build(name: str) -> Any:
    """The ASGI app called ``name`` (one of ``APPS``)."""
    if name == "bare":
        return starlette_app()
    if name == "toolkit":
        import toolkit

        return toolkit.instrument(
            starlette_app(), service=SERVICE, tracer_provider=tracer_provider()
        )
    if name == "peer":
        return asgi_peer_stack(tracer_provider())
    if name == "span-floor":
        return asgi_span_floor(starlette_app(), tracer_provider())
    if name == "line-floor":
        from toolkit.logs import configure_logging

        configure_logging(service=SERVICE)  # the access line needs toolkit's chain
        return asgi_line_floor(starlette_app(), tracer_provider())
    raise RuntimeError(f"{APP_ENV}={name!r}: expected one of {', '.join(APPS)}")


app = build(os.environ.get(APP_ENV, ""))
