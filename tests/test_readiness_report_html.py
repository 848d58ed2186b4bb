"""Tests for toolkit.readiness.report.html: the self-contained page, in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests._readiness_reports import sample_report
from toolkit.readiness.report import render_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)


def _render_in_chromium(page: Path, profile: Path) -> tuple[str, list[str]]:
    """``(DOM after load, console messages)`` of ``page`` in headless Chromium."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


def test_page_is_self_contained_and_escapes_text() -> None:
    """No scripts, no external URLs, reasons escaped."""
    page = render_html(sample_report())
    assert "<script" not in page
    assert re.search(r"""(src|href)=["']?(https?:)?//""", page) is None
    assert "raw &lt;path&gt; &amp; &quot;quotes&quot;" in page
    assert page.startswith("<!DOCTYPE html>")


def test_page_has_the_matrix_and_the_assessment() -> None:
    """One matrix row per service, one column per check, and the verdict."""
    page = render_html(sample_report())
    assert page.count('<tr><th scope="row">') == 2
    assert page.count('<th class="check" scope="col">') == 4
    assert "not yet: 6 engineers, peak 800 req/s on a server measured at 9,000 req/s" in page


@needs_chromium
def test_page_renders_in_chromium_without_console_errors(tmp_path: Path) -> None:
    """Chromium loads the page, shows every service and the verdict, logs nothing."""
    page = tmp_path / "report.html"
    page.write_text(render_html(sample_report()), encoding="utf-8")
    dom, console = _render_in_chromium(page, tmp_path / "profile")
    assert console == []
    assert '<a href="#svc-orders">orders</a>' in dom
    assert '<a href="#svc-users">users</a>' in dom
    assert 'id="assessment"' in dom
    assert "GET /livez returned 404" in dom


@needs_chromium
def test_console_errors_would_be_caught(tmp_path: Path) -> None:
    """The console capture works: a page that throws is seen (guards the test above)."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><body><script>missingFunction()</script></body>")
    _, console = _render_in_chromium(page, tmp_path / "profile")
    assert len(console) == 1
    assert "Uncaught ReferenceError: missingFunction is not defined" in console[0]
