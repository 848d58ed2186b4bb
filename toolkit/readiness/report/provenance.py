"""Where a report comes from: when it was made, by which toolkit, at which commit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from toolkit._version import __version__

# CI systems name the commit they build: GitHub Actions, then GitLab CI.
COMMIT_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA")
GIT_TIMEOUT_SECONDS = 5.0
_COMMIT = re.compile(r"[0-9a-f]{7,64}")


@dataclass(frozen=True)
class Provenance:
    """``generated_at`` (UTC), toolkit's ``version`` and the git ``commit`` (``None``: unknown)."""

    generated_at: datetime
    version: str = __version__
    commit: str | None = None

    @property
    def timestamp(self) -> str:
        """``generated_at`` as ISO 8601 in UTC, to the second: ``2026-11-27T15:54:37Z``."""
        return self.generated_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    @classmethod
    def detect(
        cls,
        *,
        now: datetime | None = None,
        environ: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        git: str | None = None,
    ) -> Provenance:
        """The current time, and the commit from CI's variables, else ``git rev-parse HEAD``.

        ``environ`` defaults to ``os.environ``, ``cwd`` to the current directory and
        ``git`` to the ``git`` on ``PATH``; tests pass their own.
        """
        when = now if now is not None else datetime.now(timezone.utc)
        return cls(when, __version__, find_commit(environ, cwd, git))


def _commit(text: str) -> str | None:
    text = text.strip().lower()
    return text if _COMMIT.fullmatch(text) else None


def find_commit(
    environ: Mapping[str, str] | None = None, cwd: Path | None = None, git: str | None = None
) -> str | None:
    """``GITHUB_SHA`` or ``CI_COMMIT_SHA``, else HEAD of the git checkout at ``cwd``."""
    variables = os.environ if environ is None else environ
    for name in COMMIT_VARIABLES:
        found = _commit(variables.get(name, ""))
        if found is not None:
            return found
    executable = git if git is not None else shutil.which("git")
    if executable is None:
        return None
    try:
        done = subprocess.run(
            [executable, "rev-parse", "--verify", "--quiet", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return _commit(done.stdout) if done.returncode == 0 else None
