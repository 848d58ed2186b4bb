"""What the command line shows on a terminal only: colour, and progress while it waits.

Colour follows ``toolkit --color auto|always|never`` (kept on click's context) and the
``NO_COLOR`` convention (https://no-color.org): ``auto`` colours a terminal unless
``NO_COLOR`` is set to anything but the empty string; ``always`` and ``never`` win over
it. Progress goes to standard error, and only when that is a terminal: piped or
captured output never carries it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, TextIO

import click

COLOR_CHOICES: Final = ("auto", "always", "never")
_FRAMES: Final = "|/-\\"
_INTERVAL_SECONDS: Final = 0.1
_DELAY_SECONDS: Final = 0.3  # what finishes sooner shows no progress (no flicker)


def color_setting(choice: str) -> bool | None:
    """``--color`` as click's ``Context.color``: ``True``, ``False``, or ``None`` (ask the
    stream whether it is a terminal)."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR", ""):
        return False
    return None


def color_enabled(stream: TextIO) -> bool:
    """Whether to colour what is written to ``stream``."""
    context = click.get_current_context(silent=True)
    setting = context.color if context is not None else color_setting("auto")
    return is_terminal(stream) if setting is None else setting


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (``False`` for a closed or detached stream)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


@contextmanager
def progress(message: str, stream: TextIO | None = None) -> Iterator[None]:
    """Show a spinner, ``message`` and the seconds elapsed on ``stream`` (standard error)
    while the block runs, if it is a terminal; erase the line afterwards.

    Nothing shows for a block that ends within a third of a second.
    """
    out = sys.stderr if stream is None else stream
    if not is_terminal(out):
        yield
        return
    done = threading.Event()
    thread = threading.Thread(target=_spin, args=(out, message, done), daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _spin(out: TextIO, message: str, done: threading.Event) -> None:
    """Redraw the progress line until ``done``, then blank it."""
    start, frame, width = time.monotonic(), 0, 0
    if done.wait(_DELAY_SECONDS):
        return
    try:
        while True:
            elapsed = int(time.monotonic() - start)
            line = f"{_FRAMES[frame % len(_FRAMES)]} {message} ({elapsed}s)"
            out.write("\r" + line.ljust(width))
            out.flush()
            width, frame = max(width, len(line)), frame + 1
            if done.wait(_INTERVAL_SECONDS):
                break
        out.write("\r" + " " * width + "\r")
        out.flush()
    except (OSError, ValueError):  # the terminal went away: progress is not worth an error
        return
