"""gunicorn server hooks for correct metrics with several workers: the one set-up step.

In ``gunicorn.conf.py``::

    from toolkit.gunicorn import *  # noqa: F403

or, without a config file of your own, ``gunicorn -c python:toolkit.gunicorn app:app``.

- ``on_starting`` (master): picks the metrics directory (``PROMETHEUS_MULTIPROC_DIR``, or
  a new temporary directory), empties it, and exports it to the workers.
- ``post_fork`` (each worker, before the app is loaded): switches prometheus-client to its
  multi-process values and registers the worker as live.
- ``child_exit`` (master, when a worker exits for any reason, SIGKILL included): folds the
  worker's counters and histograms into the archive and drops its gauges.
- ``when_ready`` / ``on_exit`` (master): start and stop the separate metrics server when
  ``TOOLKIT_METRICS_PORT`` is set, so one port serves the sum over all workers.

Importing this module does nothing; gunicorn calls the hooks.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from toolkit.metrics._http_server import MetricsServer, start_metrics_server
from toolkit.metrics.multiprocess import (
    ENV_MULTIPROC_DIR,
    clear_directory,
    enable_multiprocess,
    mark_worker_dead,
    multiprocess_directory,
)

__all__ = ["child_exit", "on_exit", "on_starting", "post_fork", "when_ready"]

_log = logging.getLogger("toolkit.gunicorn")
# Master-process state, set by the hooks (gunicorn runs one arbiter per process).
_state: dict[str, Any] = {}


def _logger(server: Any) -> Any:
    # gunicorn's own error log (where its operators look), else ours.
    return getattr(server, "log", None) or _log


def on_starting(server: Any) -> None:
    """Master, before any worker: choose, empty and export the metrics directory."""
    directory = multiprocess_directory()
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="toolkit-metrics-"))
        _state["temporary"] = directory
    os.makedirs(directory, exist_ok=True)
    clear_directory(directory)
    os.environ[ENV_MULTIPROC_DIR] = str(directory)
    _logger(server).info("toolkit: worker metrics in %s", directory)


def post_fork(server: Any, worker: Any) -> None:
    """Worker, right after the fork: write metrics into the shared directory."""
    enable_multiprocess()


def child_exit(server: Any, worker: Any) -> None:
    """Master, after a worker exited: keep its counters once, drop its gauges."""
    try:
        mark_worker_dead(worker.pid)
    except Exception:
        # Never break the arbiter: the next scrape compacts this worker anyway.
        _logger(server).exception("toolkit: compacting the metrics of worker %s failed", worker.pid)


def when_ready(server: Any) -> None:
    """Master, once listening: serve the metrics on their own port if one is configured."""
    try:
        server_: MetricsServer | None = start_metrics_server(required=False)
    except Exception:
        _logger(server).exception("toolkit: the metrics server did not start")
        return
    if server_ is not None:
        _state["metrics_server"] = server_
        _logger(server).info("toolkit: metrics on %s:%s", server_.host, server_.port)


def on_exit(server: Any) -> None:
    """Master, on shutdown: stop the metrics server, remove a directory we created."""
    metrics_server = _state.pop("metrics_server", None)
    if metrics_server is not None:
        metrics_server.stop()
    temporary = _state.pop("temporary", None)
    if temporary is not None:
        shutil.rmtree(temporary, ignore_errors=True)
