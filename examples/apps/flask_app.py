"""Flask, instrumented with one line.

Run:  gunicorn --chdir examples/apps --bind 127.0.0.1:8000 flask_app:app
      (or: flask --app examples/apps/flask_app.py run)
Try:  curl -i localhost:8000/items/42 ; curl localhost:8000/metrics
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from flask import Flask, Response

import toolkit

log = logging.getLogger("flask_app")
app = Flask(__name__)


@app.get("/items/<int:item_id>")
def read_item(item_id: int) -> dict[str, object]:
    """A route template with a parameter: metrics say /items/<int:item_id>."""
    log.info("reading item %s", item_id)
    return {"item_id": item_id, "correlation_id": toolkit.get_correlation_id()}


@app.get("/boom")
def boom() -> str:
    """An unhandled exception: Flask answers 500, which still carries X-Request-ID."""
    raise RuntimeError("boom")


@app.get("/stream")
def stream() -> Response:
    """A streamed body: the duration ends when the server closes the response."""

    def chunks() -> Iterator[str]:
        for number in range(5):
            yield f"chunk {number}\n"
            time.sleep(0.1)

    return Response(chunks(), mimetype="text/plain")


app = toolkit.instrument(app, service="flask-example")  # the one line (returns the Flask app)
