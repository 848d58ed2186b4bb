"""Two real third-party apps from the package index, instrumented with one line, under
real servers and scraped by a real Prometheus: httpbin (Flask, WSGI) under gunicorn with
2 workers, and datasette (ASGI, its own router) under uvicorn.

Route labels and exact counts are read from Prometheus' HTTP API, access lines from the
server's stdout, server spans from a local OTLP receiver. The apps come from the
``realapps`` extra (``pip install -e '.[realapps]'``); without it these tests skip.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import sys
from pathlib import Path

import pytest

from tests._processes import (
    PROMETHEUS,
    free_port,
    run_prometheus,
    running,
    uvicorn_command,
    wait_until,
    wait_until_http_ok,
)
from tests._real_apps_support import (
    HEX32,
    Observed,
    Request,
    Sent,
    access_projection,
    app_env,
    drive,
    expected_access,
    expected_spans,
    ids_agree,
    observe,
)
from toolkit.readiness.probe.receiver import SpanReceiver

GUNICORN = Path(sys.executable).with_name("gunicorn")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.prometheus,
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed"),
]

HTTPBIN_APP = """\
import toolkit
from httpbin import app

app = toolkit.instrument(app, service="httpbin")
"""
# Two slow requests at once: while one sync worker sleeps in the first, the other
# worker has to serve the second.
HTTPBIN_SPREAD = [Request("/delay/1", 2, 200, "/delay/<delay>")]
HTTPBIN_PLAN = [
    Request("/get", 5, 200, "/get"),
    Request("/status/418", 3, 418, "/status/<codes>"),
    Request("/anything/abc", 2, 200, "/anything/<path:anything>"),
    Request("/no/such/path", 2, 404, "__unmatched__"),
]


@pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn not installed")
def test_httpbin_under_gunicorn_with_two_workers(tmp_path: Path) -> None:
    """httpbin under ``gunicorn -c python:toolkit.gunicorn --workers 2``, both workers
    serving: Prometheus holds exactly 2 ``/delay/<delay>``, 5 ``/get``, 3
    ``/status/<codes>`` (418), 2 ``/anything/<path:anything>`` and 2 ``__unmatched__``
    (404) requests — httpbin's Flask rules, no raw path on any series; stdout has one JSON
    access line per request, with the correlation ID the response echoed in
    ``x-request-id`` and the trace and span IDs of the one SERVER span received for it,
    named ``GET <rule>``, with ``http.route`` and an integer status code."""
    httpbin = pytest.importorskip("httpbin")
    rules = {rule.rule for rule in httpbin.app.url_map.iter_rules()}
    # The installed httpbin defines the templates expected below.
    assert {"/delay/<delay>", "/get", "/status/<codes>", "/anything/<path:anything>"} <= rules
    (tmp_path / "httpbin_app.py").write_text(HTTPBIN_APP)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        str(GUNICORN),
        *("-c", "python:toolkit.gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"),
        *("--chdir", str(tmp_path), "httpbin_app:app"),
    ]
    stdout, stderr = tmp_path / "gunicorn.out", tmp_path / "gunicorn.err"
    with SpanReceiver(port=0) as receiver:
        env = app_env(
            receiver,
            PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
            # gunicorn >= 25.1 makes a control socket there, else under $HOME.
            XDG_RUNTIME_DIR=str(tmp_path),
        )
        with (
            running(command, stdout, env=env, stderr=stderr) as server,
            run_prometheus(
                _made(tmp_path / "prometheus"), {"httpbin": f"127.0.0.1:{port}"}
            ) as prom,
        ):
            wait_until_http_ok(url + "/metrics", started=server)
            wait_until(lambda: server.output().count("Booting worker with pid") == 2)
            sent = drive(url, HTTPBIN_SPREAD, concurrently=2)
            sent += drive(url, HTTPBIN_PLAN, concurrently=4)
            # prometheus-client's multi-process mode: one file per worker that observed.
            assert len(list(metrics_dir.glob("histogram_*.db"))) == 2
            seen = observe(prom, "httpbin", receiver, stdout, requests=14)
    assert seen.counts == {
        ("/delay/<delay>", "200"): 2,
        ("/get", "200"): 5,
        ("/status/<codes>", "418"): 3,
        ("/anything/<path:anything>", "200"): 2,
        ("__unmatched__", "404"): 2,
    }
    assert seen.routes == {
        "/delay/<delay>",
        "/get",
        "/status/<codes>",
        "/anything/<path:anything>",
        "__unmatched__",
    }
    _check_logs_and_spans(seen, sent, "httpbin")


DATASETTE_ROUTES = [
    "/-/{page}",
    "/{database}",
    "/{database}/{table}",
    "/{database}/{table}/{pk:int}",
]
DATASETTE_PLAN = [
    Request("/fixtures/items", 4, 200, "/{database}/{table}"),
    Request("/fixtures", 2, 200, "/{database}"),
    Request("/-/versions", 3, 200, "/-/{page}"),
    Request("/fixtures/items/2", 1, 200, "/{database}/{table}/{pk:int}"),
    # Four segments: datasette answers 404, and no declared template has that shape.
    Request("/fixtures/items/2/extra", 2, 404, "__unrouted__"),
]


def test_datasette_without_declared_routes_is_unrouted(tmp_path: Path) -> None:
    """datasette routes itself, out of toolkit's sight: without ``routes=`` every
    response, 200s included, is ``__unrouted__``, never ``__unmatched__`` — exactly 10
    with 200 and 2 with 404 in Prometheus; one access line per request with route
    ``__unrouted__``; one SERVER span each, named ``GET``, without ``http.route``."""
    pytest.importorskip("datasette")
    sent, seen = _run_datasette(tmp_path, routes=None)
    assert seen.counts == {("__unrouted__", "200"): 10, ("__unrouted__", "404"): 2}
    assert seen.routes == {"__unrouted__"}
    unrouted = [dataclasses.replace(request, route="__unrouted__") for request in sent]
    _check_logs_and_spans(seen, unrouted, "datasette")


def test_datasette_with_declared_routes(tmp_path: Path) -> None:
    """With ``routes=["/-/{page}", "/{database}", "/{database}/{table}",
    "/{database}/{table}/{pk:int}"]``: Prometheus holds exactly 4 ``/{database}/{table}``,
    2 ``/{database}``, 3 ``/-/{page}`` and 1 ``/{database}/{table}/{pk:int}`` (200), and
    the 2 four-segment 404s, which fit no template, stay ``__unrouted__``; access lines
    carry the same routes; spans are named ``GET /{database}/{table}`` and so on, with
    ``http.route`` (none on the ``__unrouted__`` ones)."""
    pytest.importorskip("datasette")
    sent, seen = _run_datasette(tmp_path, routes=DATASETTE_ROUTES)
    assert seen.counts == {
        ("/{database}/{table}", "200"): 4,
        ("/{database}", "200"): 2,
        ("/-/{page}", "200"): 3,
        ("/{database}/{table}/{pk:int}", "200"): 1,
        ("__unrouted__", "404"): 2,
    }
    assert seen.routes == {
        "/{database}/{table}",
        "/{database}",
        "/-/{page}",
        "/{database}/{table}/{pk:int}",
        "__unrouted__",
    }
    _check_logs_and_spans(seen, sent, "datasette")


def _run_datasette(tmp_path: Path, routes: list[str] | None) -> tuple[list[Sent], Observed]:
    """datasette over a ``fixtures`` database (table ``items``, 3 rows), instrumented with
    ``routes`` (``None``: none declared), under uvicorn and scraped by Prometheus; sends
    DATASETTE_PLAN and returns the requests sent and what was observed."""
    database = tmp_path / "fixtures.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany("INSERT INTO items (name) VALUES (?)", [("apple",), ("pear",), ("fig",)])
    declared = "" if routes is None else f"    routes={routes!r},\n"
    (tmp_path / "datasette_app.py").write_text(
        "import toolkit\n"
        "from datasette.app import Datasette\n"
        "\n"
        "app = toolkit.instrument(\n"
        f"    Datasette(files=[{str(database)!r}]).app(),\n"
        '    service="datasette",\n'
        f"{declared}"
        ")\n"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = uvicorn_command(
        "datasette_app:app", port, app_dir=tmp_path, options=["--no-access-log"]
    )
    stdout, stderr = tmp_path / "uvicorn.out", tmp_path / "uvicorn.err"
    with (
        SpanReceiver(port=0) as receiver,
        running(command, stdout, env=app_env(receiver), stderr=stderr) as server,
        run_prometheus(_made(tmp_path / "prometheus"), {"datasette": f"127.0.0.1:{port}"}) as prom,
    ):
        wait_until_http_ok(url + "/metrics", started=server)
        sent = drive(url, DATASETTE_PLAN)
        seen = observe(prom, "datasette", receiver, stdout, requests=12)
    return sent, seen


def _made(directory: Path) -> Path:
    directory.mkdir()
    return directory


def _check_logs_and_spans(seen: Observed, sent: list[Sent], service: str) -> None:
    """Server-made correlation IDs, one access line and one SERVER span per request,
    agreeing on the trace and span IDs."""
    ids = [request.correlation_id for request in sent]
    assert [cid for cid in ids if not HEX32.fullmatch(cid)] == []
    assert len(set(ids)) == len(ids)
    assert access_projection(seen.access) == expected_access(sent, service)
    assert seen.spans == expected_spans(sent, service)
    assert ids_agree(seen.access, seen.raw_spans) == []
