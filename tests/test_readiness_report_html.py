"""Tests for toolkit.readiness.report.html: the self-contained page, in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests._readiness_reports import sample_report
from toolkit.catalog import SplitAnswers
from toolkit.cli import main
from toolkit.readiness.assess import AssessmentInput, assess
from toolkit.readiness.checks import HEALTH_LIVEZ
from toolkit.readiness.levels import service_report
from toolkit.readiness.model import Assessment, Report, Sign
from toolkit.readiness.report import Provenance, render_html
from toolkit.readiness.report.html import TEMPLATE

MADE = Provenance(
    datetime(2026, 11, 27, 15, 54, 37, 500, tzinfo=timezone.utc),
    "1.2.3",
    "0123456789abcdef0123456789abcdef01234567",
)

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


def test_page_says_when_by_which_version_and_at_which_commit() -> None:
    """The generation time (UTC, ISO 8601, to the second), the version and the commit."""
    page = render_html(sample_report(), provenance=MADE)
    assert (
        '<h1>Readiness of the shop</h1><p class="made">Generated '
        '<time datetime="2026-11-27T15:54:37Z">2026-11-27T15:54:37Z</time> by toolkit 1.2.3 '
        "at commit <code>0123456789abcdef0123456789abcdef01234567</code>.</p>"
    ) in page


def test_an_unknown_commit_is_left_out_and_the_time_is_utc() -> None:
    """No commit: no commit text; a time in another zone is shown in UTC."""
    paris = timezone(timedelta(hours=1))
    made = Provenance(datetime(2026, 11, 27, 16, 54, 37, tzinfo=paris), "1.2.3", None)
    page = render_html(sample_report(), provenance=made)
    assert (
        '<p class="made">Generated <time datetime="2026-11-27T15:54:37Z">'
        "2026-11-27T15:54:37Z</time> by toolkit 1.2.3.</p>"
    ) in page
    assert "commit" not in page


def test_the_same_report_and_provenance_give_the_same_page() -> None:
    """With the clock and commit injected the page is byte-identical from run to run."""
    assert render_html(sample_report(), provenance=MADE) == render_html(
        sample_report(), provenance=MADE
    )


def test_failing_services_come_first() -> None:
    """Matrix rows and sections list services that are not ready before ready ones."""
    orders, users = sample_report().services
    page = render_html(Report((users, orders), "Shop"), provenance=MADE)
    assert re.findall(r'<a href="#svc-(\w+)">', page) == ["orders", "users"]
    assert re.findall(r'<h2 id="svc-(\w+)">', page) == ["orders", "users"]


HEADING = re.compile(r"<h[1-6][^>]*>Split assessment</h[1-6]>")


def test_the_split_assessment_has_one_heading() -> None:
    """With services, one h2 heads the assessment; alone (``toolkit assess``) the title does."""
    report = sample_report()
    page = render_html(report, provenance=MADE)
    assert HEADING.findall(page) == ['<h2 id="assessment">Split assessment</h2>']
    alone = render_html(Report((), "Split assessment", report.assessment), provenance=MADE)
    assert HEADING.findall(alone) == ["<h1>Split assessment</h1>"]


def test_advice_on_the_page_is_plain_words() -> None:
    """Unanswered questions say what to do; a flag appears only as a trailing hint."""
    assessment = assess(AssessmentInput(SplitAnswers(), None))
    page = render_html(Report((), "Split assessment", assessment), provenance=MADE)
    advice = re.findall(r'<td class="not_measured">[^<]*</td><td>[^<]*</td><td>([^<]*)</td>', page)
    assert advice[0] == "say how many engineers work on the system (--team-size)"
    assert len(advice) == 4
    assert [a for a in advice if "--" in re.sub(r" \([^()]*\)$", "", a)] == []


def _tagged_report() -> Report:
    """A service, a check and an assessment whose texts carry markup."""
    service = service_report(
        "<script>alert('svc')</script>",
        [HEALTH_LIVEZ.failed("<script>alert(1)</script> & more")],
        2,
        "http://127.0.0.1:8001/?a=1&b=<i>",
    )
    sign = Sign("<b>team size</b>", "6 <engineers>", True, "it's <em>small</em>")
    assessment = Assessment("not yet", "<script>x()</script>", (sign,))
    return Report((service,), "<title>", assessment)


def test_markup_in_any_text_comes_out_escaped() -> None:
    """Service names, URLs, reasons, the title and the assessment are text, never markup."""
    page = render_html(_tagged_report())
    assert "<script" not in page
    assert "<b>" not in page
    assert "<em>" not in page
    assert "<title>&lt;title&gt;</title>" in page
    assert '<a href="#svc-&lt;script&gt;alert(&#x27;svc&#x27;)&lt;/script&gt;">' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "http://127.0.0.1:8001/?a=1&amp;b=&lt;i&gt;" in page
    assert "it&#x27;s &lt;em&gt;small&lt;/em&gt;" in page


def test_an_override_directory_replaces_the_template(tmp_path: Path) -> None:
    """A readiness-report.html.j2 in ``templates`` wins; it is autoescaped too."""
    (tmp_path / TEMPLATE).write_text(
        "<h1>{{ title }}</h1>\n"
        "{% for service in services %}\n"
        "<p>{{ service.name }}: {{ service.verdict.text }}, {{ service.cells | length }}</p>\n"
        "{% endfor %}\n",
        encoding="utf-8",
    )
    assert render_html(sample_report(), tmp_path) == (
        "<h1>Readiness of the shop</h1>\n"
        "<p>orders: not ready (needs level 3), 4</p>\n"
        "<p>users: ready, 4</p>\n"
    )
    tagged = render_html(_tagged_report(), tmp_path, provenance=MADE)
    assert tagged.startswith("<h1>&lt;title&gt;</h1>\n")
    other = tmp_path / "empty"
    other.mkdir()
    assert render_html(sample_report(), other, provenance=MADE) == render_html(
        sample_report(), provenance=MADE
    )


CATALOG = """\
services:
  - name: orders
    team: checkout
    runbook: https://runbooks.example.com/orders
    slo: {availability: 99.9}
"""


@pytest.mark.parametrize(
    ("template", "line", "cause"),
    [
        ("<h1>{{ title }}</h1>\n<p>{{ nope }}</p>\n", 2, "'nope' is undefined"),
        ("<h1>{{ title }}</h1>\n{% if services %}\n<p>{{ summary }\n", 3, "unexpected '}'"),
        (
            "{% for s in services %}\n{{ s.name }}\n",
            2,
            "Unexpected end of template. Jinja was looking for the following tags: 'endfor' "
            "or 'else'. The innermost block that needs to be closed is 'for'.",
        ),
    ],
    ids=["undefined", "syntax", "unclosed"],
)
@pytest.mark.parametrize("command", ["check", "probe", "assess"])
def test_a_broken_override_is_one_line_exit_two_and_no_file(
    tmp_path: Path, command: str, template: str, line: int, cause: str
) -> None:
    """The CLI names the template, its line and the cause; no traceback, nothing written."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / TEMPLATE).write_text(template, encoding="utf-8")
    catalog = tmp_path / "services.yaml"
    catalog.write_text(CATALOG, encoding="utf-8")
    out = tmp_path / "out"
    args = {
        "check": ["check", str(catalog), "--generated", str(tmp_path)],
        "probe": ["probe", "http://127.0.0.1:1", "--service", "orders", "--no-otlp", "--wait", "0"],
        "assess": ["assess", "--team-size", "6"],
    }[command]
    files = ["--html", str(out / "report.html"), "--junit", str(out / "junit.xml")]
    result = CliRunner().invoke(main, [*args, *files, "--templates", str(templates)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"toolkit {command}: template {TEMPLATE}:{line}: {cause}"]
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()
