"""Tests for toolkit._terminal: colour settings and progress on a terminal only."""

from __future__ import annotations

import io
import os
import pty
import time
from typing import TextIO

import click
import pytest

from toolkit import _terminal
from toolkit._terminal import color_enabled, color_setting, progress


@pytest.mark.parametrize(
    ("choice", "no_color", "expected"),
    [
        ("auto", None, None),
        ("auto", "", None),
        ("auto", "1", False),
        ("always", "1", True),
        ("never", None, False),
        ("always", None, True),
    ],
)
def test_color_setting_follows_the_flag_then_no_color(
    monkeypatch: pytest.MonkeyPatch, choice: str, no_color: str | None, expected: bool | None
) -> None:
    """--color always/never win; auto is off under a non-empty NO_COLOR, else undecided."""
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    assert color_setting(choice) is expected


def test_color_enabled_asks_the_stream_only_when_undecided(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outside a command: the stream decides; inside one, the context's colour wins."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(_terminal, "is_terminal", lambda stream: True)
    assert color_enabled(io.StringIO()) is True
    with click.Context(click.Command("x"), color=False):
        assert color_enabled(io.StringIO()) is False
    monkeypatch.setattr(_terminal, "is_terminal", lambda stream: False)
    with click.Context(click.Command("x"), color=True):
        assert color_enabled(io.StringIO()) is True


def test_is_terminal_is_false_for_a_closed_stream() -> None:
    """A closed stream is no terminal (isatty would raise ValueError)."""
    stream = io.StringIO()
    stream.close()
    assert _terminal.is_terminal(stream) is False


def test_progress_is_silent_when_not_a_terminal() -> None:
    """Piped or captured output never carries progress, however long the wait."""
    stream = io.StringIO()
    with progress("waiting for spans", stream):
        time.sleep(0.5)
    assert stream.getvalue() == ""


def _pty_pair() -> tuple[int, TextIO]:
    """A pseudo-terminal: (controller fd to read, the terminal side as a text stream)."""
    controller, terminal = pty.openpty()
    return controller, open(terminal, "w", encoding="utf-8", closefd=True)


def _read_all(fd: int) -> str:
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8")


def test_progress_draws_on_a_terminal_then_erases_its_line() -> None:
    """On a pty: a spinner line with the message and the seconds, then a blanked line."""
    controller, terminal = _pty_pair()
    try:
        with progress("waiting for spans", terminal):
            time.sleep(0.7)
        written = _read_all(controller)
    finally:
        terminal.close()
        os.close(controller)
    assert "waiting for spans (0s)" in written
    assert written.startswith("\r")
    width = max(len(line) for line in written.split("\r"))
    assert written.endswith("\r" + " " * width + "\r")


def test_progress_shows_nothing_for_a_short_wait_on_a_terminal() -> None:
    """A block that ends within the delay draws nothing, so quick runs do not flicker."""
    controller, terminal = _pty_pair()
    try:
        with progress("waiting for spans", terminal):
            pass
        written = _read_all(controller)
    finally:
        terminal.close()
        os.close(controller)
    assert written == ""
