"""Where the probe reads the service's logs: a file it tails, or a command's stdout."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from toolkit import semconv
from toolkit.readiness import checks as c
from toolkit.readiness.model import Check

COMMAND_TIMEOUT_SECONDS = 10.0


class LogSourceError(Exception):
    """The log source cannot be read; ``problem`` says why, naming it."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class LogSource(Protocol):
    """Lines the service logged since :meth:`mark` was called."""

    def mark(self) -> None:
        """Remember where the log is now: :meth:`lines` returns what comes after."""

    def lines(self) -> list[str]:
        """The lines logged since :meth:`mark` (a command source returns all it prints).

        May raise :class:`LogSourceError` when the source cannot be read at all.
        """

    def describe(self) -> str:
        """Where the lines come from, for a reason."""


class FileLogSource:
    """A log file the service appends to; ``path`` is a ``str`` or a path."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._offset = 0

    def mark(self) -> None:
        """Start after the current end of the file."""
        try:
            self._offset = self.path.stat().st_size
        except OSError:
            self._offset = 0

    def lines(self) -> list[str]:
        """The complete lines appended since :meth:`mark`.

        Raises :class:`LogSourceError` when the file does not exist or cannot be read.
        """
        try:
            with self.path.open("rb") as stream:
                stream.seek(self._offset)
                data = stream.read()
        except FileNotFoundError:
            raise LogSourceError(f"log file {self.path} does not exist") from None
        except OSError as error:
            reason = error.strerror or str(error)
            raise LogSourceError(f"cannot read log file {self.path}: {reason}") from None
        text = data.decode("utf-8", errors="replace")
        return text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]

    def describe(self) -> str:
        """The file's path."""
        return str(self.path)


class CommandLogSource:
    """A command that prints the service's recent logs (``docker logs --since 1m app``)."""

    def __init__(self, command: str | Sequence[str]) -> None:
        self.argv = shlex.split(command) if isinstance(command, str) else list(command)

    def mark(self) -> None:
        """Nothing to remember: the probe's IDs are unique, so old lines never match."""

    def lines(self) -> list[str]:
        """The command's stdout, line by line.

        Raises :class:`LogSourceError` when the command does not run, does not finish
        within ``COMMAND_TIMEOUT_SECONDS``, or fails and prints nothing (its last line of
        stderr says why): a log the probe could not read is not an empty log. A command
        that fails but prints lines (``docker logs`` of a stopped container) gives them.
        """
        command = self.describe()
        try:
            done = subprocess.run(
                self.argv,
                capture_output=True,
                timeout=COMMAND_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise LogSourceError(
                f"log command {command!r} did not finish within {COMMAND_TIMEOUT_SECONDS:g} s"
            ) from None
        except OSError as error:
            reason = error.strerror or str(error)
            raise LogSourceError(f"cannot run log command {command!r}: {reason}") from None
        lines = done.stdout.decode("utf-8", errors="replace").splitlines()
        if done.returncode != 0 and not any(line.strip() for line in lines):
            errors = done.stderr.decode("utf-8", errors="replace").splitlines()
            last = next((line.strip() for line in reversed(errors) if line.strip()), "")
            reason = f"log command {command!r} exited with status {done.returncode}"
            raise LogSourceError(f"{reason}: {last}" if last else reason)
        return lines

    def describe(self) -> str:
        """The command line."""
        return shlex.join(self.argv)


def parse_lines(lines: Sequence[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """``(JSON objects, lines that are not JSON objects)``; blank lines are ignored."""
    objects: list[dict[str, Any]] = []
    other: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            other.append(line)
            continue
        if isinstance(value, dict):
            objects.append(value)
        else:
            other.append(line)
    return objects, other


def matching(objects: Sequence[dict[str, Any]], correlation_id: str, trace_id: str) -> bool:
    """Whether a line carries both the probe's correlation ID and its trace ID."""
    return any(
        o.get(semconv.LOG_CORRELATION_ID) == correlation_id
        and o.get(semconv.LOG_TRACE_ID) == trace_id
        for o in objects
    )


def check_logs(
    lines: Sequence[str], correlation_id: str, trace_id: str, source: str
) -> list[Check]:
    """The log checks on what the service logged during the probe."""
    objects, other = parse_lines(lines)
    if not objects and not other:
        reason = f"nothing logged to {source} during the probe"
        return [
            c.LOGS_JSON.failed(reason, "log every request (toolkit.instrument's access log)"),
            c.LOGS_CORRELATION.skipped("no log lines"),
        ]
    if other:
        sample = other[0] if len(other[0]) <= 80 else other[0][:77] + "..."
        logs_json = c.LOGS_JSON.failed(
            f"{len(other)} of {len(objects) + len(other)} lines are not JSON, e.g. {sample!r}"
        )
    else:
        logs_json = c.LOGS_JSON.passed(f"{len(objects)} JSON lines from {source}")
    if not objects:
        return [logs_json, c.LOGS_CORRELATION.skipped("no JSON lines to search")]
    if matching(objects, correlation_id, trace_id):
        found = c.LOGS_CORRELATION.passed(
            f"a line with {semconv.LOG_CORRELATION_ID}={correlation_id} and the probe's trace_id"
        )
    else:
        has_id = any(o.get(semconv.LOG_CORRELATION_ID) == correlation_id for o in objects)
        missing = semconv.LOG_TRACE_ID if has_id else semconv.LOG_CORRELATION_ID
        found = c.LOGS_CORRELATION.failed(
            f"no JSON line carries the probe's {missing} ({len(objects)} lines searched)"
        )
    return [logs_json, found]
