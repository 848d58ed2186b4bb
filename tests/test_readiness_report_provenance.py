"""Tests for toolkit.readiness.report.provenance: when, by which version, at which commit."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from toolkit._version import __version__
from toolkit.readiness.report.provenance import Provenance, find_commit

SHA = "0123456789abcdef0123456789abcdef01234567"
NOW = datetime(2026, 11, 27, 15, 54, 37, 999999, tzinfo=timezone.utc)


def _git(tmp_path: Path, script: str) -> str:
    """A stand-in ``git`` executable running ``script`` (sh)."""
    path = tmp_path / "git"
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def test_detect_uses_the_given_clock_and_this_version(tmp_path: Path) -> None:
    """The injected time, shown in UTC to the second; the package's version."""
    made = Provenance.detect(now=NOW, environ={}, git=_git(tmp_path, "exit 128"))
    assert (made.timestamp, made.version, made.commit) == (
        "2026-11-27T15:54:37Z",
        __version__,
        None,
    )


@pytest.mark.parametrize("name", ["GITHUB_SHA", "CI_COMMIT_SHA"])
def test_a_ci_variable_names_the_commit(tmp_path: Path, name: str) -> None:
    """GitHub's and GitLab's commit variables win over git (which is not even run)."""
    git = _git(tmp_path, "echo ran > ran; echo ffffffffffffffffffffffffffffffffffffffff")
    assert find_commit({name: f" {SHA.upper()}\n"}, tmp_path, git) == SHA
    assert not (tmp_path / "ran").exists()


def test_git_names_the_commit_of_the_checkout(tmp_path: Path) -> None:
    """Without a CI variable: ``git rev-parse --verify --quiet HEAD`` in ``cwd``."""
    git = _git(tmp_path, f'echo "$@" > args; pwd > cwd; echo {SHA}')
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    assert find_commit({}, checkout, git) == SHA
    assert (checkout / "args").read_text() == "rev-parse --verify --quiet HEAD\n"


@pytest.mark.parametrize(
    ("environ", "script"),
    [
        ({}, "echo 'fatal: not a git repository' >&2; exit 128"),
        ({}, "echo 'not a sha'"),
        ({"GITHUB_SHA": "main"}, "exit 1"),
        ({"CI_COMMIT_SHA": ""}, "exit 1"),
    ],
    ids=["not-a-checkout", "junk-output", "junk-variable", "empty-variable"],
)
def test_an_unknown_commit_is_none(tmp_path: Path, environ: dict[str, str], script: str) -> None:
    """Not a checkout, or nothing that looks like a commit: ``None``, never a guess."""
    assert find_commit(environ, tmp_path, _git(tmp_path, script)) is None


def test_without_git_the_commit_is_none(tmp_path: Path) -> None:
    """A ``git`` that cannot run gives ``None``, not an error."""
    assert find_commit({}, tmp_path, str(tmp_path / "no-such-git")) is None
