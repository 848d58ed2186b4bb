"""gunicorn server hooks for correct metrics with several workers (``toolkit.metrics.gunicorn``).

In ``gunicorn.conf.py``::

    from toolkit.gunicorn import *  # noqa: F403

or, without a config file of your own, ``gunicorn -c python:toolkit.gunicorn app:app``.
Importing this module does nothing; gunicorn calls the hooks.
"""

from __future__ import annotations

from toolkit.metrics.gunicorn import child_exit, on_exit, on_starting, post_fork, when_ready

__all__ = ["child_exit", "on_exit", "on_starting", "post_fork", "when_ready"]
