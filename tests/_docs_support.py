"""Docs that run: collect the fenced blocks of README.md and docs/*.md, and run them.

A block is run as its page shows it, in the page's order, in one temporary directory per
page (the example catalog, the committed generated output and tests/catalog_cases/ are
copied in first, as in a checkout). A ``<!-- docs-test: ... -->`` marker on the line
right before a fence says how to treat a block that cannot run as it is: the vocabulary
is in docs/contributing.md, and :data:`DIRECTIVES` here.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from tests._processes import Running, free_port, running, uvicorn_command, wait_until_http_ok
from toolkit.catalog import CatalogError, load_catalog

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
SHELL = frozenset({"sh", "console", "bash", "shell"})
RUNNABLE = SHELL | {"python", "yaml", "json"}
"""Languages with a runner; a block in any other (text, promql, none) is not collected."""

DIRECTIVES = frozenset(
    {"skip", "output-varies", "output", "continues", "fragment", "file", "setup", "exit"}
)
"""What a marker may say; every marker also gives a reason after an em dash."""

PYTHON_TIMEOUT = 120.0
COMMAND_TIMEOUT = 180.0
SERVER_TIMEOUT = 60.0
# The address a page's server listens on, as the docs write it, and the port they give it.
SERVER_ADDRESS = re.compile(r"\b(?:127\.0\.0\.1|localhost|0\.0\.0\.0):8000\b|(?<=--port )8000\b")
RECEIVER_ADDRESS = "127.0.0.1:4318"
SERVERS = frozenset({"uvicorn", "gunicorn"})
HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")
# Access-log and log-line fields whose values change every run: compared by shape.
VARYING_FIELDS = frozenset({"timestamp", "duration_ms", "correlation_id", "trace_id", "span_id"})

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*docs-test:(?P<body>.*?)-->\s*$")
_PROMTOOL = re.compile(
    r"\bpromtool\b|\btoolkit check\b|\btoolkit probe\b[^\n]*(\\\n[^\n]*)*--catalog"
)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# `await` at the top level of a block, as in `python -m asyncio`.
_RUN_BLOCK = (
    "import ast, asyncio, inspect, sys\n"
    "path = sys.argv[1]\n"
    "code = compile(open(path).read(), path, 'exec', flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)\n"
    "result = eval(code, {'__name__': '__main__', '__file__': path})\n"
    "if inspect.iscoroutine(result):\n"
    "    asyncio.run(result)\n"
)


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language and text, and what its marker says."""

    doc: str
    line: int
    lang: str
    text: str
    directives: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""
    slow: bool = False

    @property
    def location(self) -> str:
        """``docs/logging.md:8``: the page and the line of the opening fence."""
        return f"{self.doc}:{self.line}"


@dataclass
class Outcome:
    """What running a block found wrong (nothing: it runs as the page says)."""

    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Command:
    """A shell command of a block and the output the page shows for it (``None``: none)."""

    text: str
    shown: list[str] | None


def parse_marker(line: str) -> tuple[dict[str, str], str] | None:
    """The directives and the reason of a marker line, or ``None`` if it is not one."""
    match = _MARKER.match(line)
    if match is None:
        return None
    words, _, reason = match["body"].partition("—")
    directives: dict[str, str] = {}
    for word in words.split():
        name, _, value = word.partition("=")
        directives[name] = value
    return directives, reason.strip()


def parse_blocks(doc: str, text: str) -> tuple[list[Block], list[str]]:
    """Every fenced block of a page (a fence inside a longer fence is text), and the
    problems of its markers."""
    lines = text.splitlines()
    blocks: list[Block] = []
    problems: list[str] = []
    marker_lines: set[int] = set()
    quoted: set[int] = set()  # lines inside blocks: a marker there is an example
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        start, fence, indent = index, match["fence"], len(match["indent"])
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        body: list[str] = []
        index += 1
        while index < len(lines) and not closing.match(lines[index]):
            line = lines[index]
            body.append(line[min(indent, len(line) - len(line.lstrip(" "))) :])
            index += 1
        quoted.update(range(start, index + 1))
        index += 1
        lang = (match["info"].split() or [""])[0].lower()
        marker = parse_marker(lines[start - 1]) if start else None
        directives, reason = marker if marker is not None else ({}, "")
        if marker is not None:
            marker_lines.add(start - 1)
        if lang in RUNNABLE or marker is not None:
            text = "\n".join(body) + "\n"
            blocks.append(Block(doc, start + 1, lang, text, directives, reason))
    for number, line in enumerate(lines):
        if parse_marker(line) is not None and number not in marker_lines | quoted:
            problems.append(f"{doc}:{number + 1}: a docs-test marker not right before a fence")
    return blocks, problems


def marker_problems(block: Block) -> list[str]:
    """What is wrong with a block's marker: unknown words, no reason, a bad value."""
    if not block.directives and not block.reason:
        return []
    where = block.location
    problems = [
        f"{where}: unknown directive {name!r}" for name in block.directives.keys() - DIRECTIVES
    ]
    if not block.reason:
        problems.append(f"{where}: the marker gives no reason (`— why` at its end)")
    setup = block.directives.get("setup")
    if setup is not None and setup not in SETUPS:
        problems.append(f"{where}: unknown setup {setup!r} (one of {', '.join(sorted(SETUPS))})")
    if "exit" in block.directives:
        statuses = block.directives["exit"].split(",")
        count = len(commands(block)) if block.lang in SHELL else 0
        if not all(s.isdigit() for s in statuses) or len(statuses) not in {1, count}:
            problems.append(f"{where}: exit= needs one status, or one per command ({count})")
    if "continues" in block.directives and block.lang != "python":
        problems.append(f"{where}: only a python block continues the one before")
    for name in ("file", "setup"):
        if name in block.directives and not block.directives[name]:
            problems.append(f"{where}: {name}= needs a value")
    return problems


def commands(block: Block) -> list[Command]:
    """The commands of a shell block: ``$ `` lines in a console block (the lines after
    each are its shown output), every non-comment line of an sh block; a trailing ``\\``
    continues a command on the next line."""
    console = block.lang == "console"
    found: list[tuple[str, list[str] | None]] = []
    pending: str | None = None
    for line in block.text.splitlines():
        if pending is not None:
            pending += "\n" + line
        elif console and line.startswith("$ "):
            pending = line[2:]
        elif console:
            shown = found[-1][1] if found else None
            if shown is not None:
                shown.append(line)
            continue
        elif line.strip() and not line.lstrip().startswith("#"):
            pending = line
        else:
            continue
        if not pending.endswith("\\"):
            found.append((pending, [] if console else None))
            pending = None
    if pending is not None:
        found.append((pending, [] if console else None))
    return [
        Command(text, None if shown is None else (_trimmed(shown) or None)) for text, shown in found
    ]


def starts_server(command: str) -> bool:
    """Whether a command runs uvicorn or gunicorn (after any ``NAME=value`` settings)."""
    with contextlib.suppress(ValueError):
        for word in shlex.split(command.replace("\\\n", " "), comments=True):
            if not _ASSIGNMENT.match(word):
                return word in SERVERS
    return False


def is_slow(block: Block) -> bool:
    """Whether a block starts a server, talks to one, or runs promtool (itself, or
    through ``toolkit check`` and ``toolkit probe --catalog``): a ``slow`` test."""
    if block.directives.get("setup") == "service" or block.directives.get("output") == "server":
        return True
    if block.lang in SHELL and (
        _PROMTOOL.search(block.text) or any(starts_server(c.text) for c in commands(block))
    ):
        return True
    return block.lang in SHELL | {"python"} and SERVER_ADDRESS.search(block.text) is not None


def collect() -> tuple[list[Block], list[str]]:
    """Every block of README.md and docs/*.md, with slowness worked out, and every
    marker problem."""
    blocks: list[Block] = []
    problems: list[str] = []
    for path in DOCS:
        doc = path.relative_to(ROOT).as_posix()
        found, page_problems = parse_blocks(doc, path.read_text(encoding="utf-8"))
        problems += page_problems
        for block in found:
            problems += marker_problems(block)
            blocks.append(replace(block, slow=is_slow(block)))
    return blocks, problems


def _trimmed(lines: list[str]) -> list[str]:
    trimmed = [line.rstrip() for line in lines]
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    return trimmed


def normalised(text: str) -> list[str]:
    """Lines to compare: trailing spaces and blank lines dropped, 32-hex-digit IDs
    (correlation and trace IDs) made alike."""
    return [HEX_ID.sub("<id>", line) for line in _trimmed(text.splitlines())]


def _shape(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return ("text", len(value))
    return type(value).__name__ if not isinstance(value, (int, float)) else "number"


def masked(data: Any) -> Any:
    """A JSON object with its run-dependent fields (:data:`VARYING_FIELDS`) replaced by
    their shape: ``null`` stays ``null``, a text its length, a number ``"number"``."""
    if not isinstance(data, dict):
        return data
    return {k: _shape(v) if k in VARYING_FIELDS else v for k, v in data.items()}


def json_values(text: str) -> list[Any]:
    """The JSON values of a block, one after another (JSON lines, or one folded value);
    ``ValueError`` naming the line where one does not parse."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return values
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise ValueError(f"line {error.lineno}: {error.msg}") from None
        values.append(value)


def _json_lines(text: str) -> list[Any]:
    values = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            values.append(json.loads(line))
    return values


def _diff(shown: list[str], actual: list[str]) -> str:
    return "\n".join(difflib.unified_diff(shown, actual, "shown", "printed", lineterm=""))


# --- setups: what a marker's setup=NAME provides -------------------------------------------

FASTAPI_APP = """\
from fastapi import FastAPI

app = FastAPI()

@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}
"""
INSTRUMENT = 'import toolkit\n\napp = toolkit.instrument(app, service="orders")\n'
FLASK_APP = """\
from flask import Flask

app = Flask(__name__)

@app.get("/items/<int:item_id>")
def read_item(item_id: int):
    return {"item_id": item_id}
"""
DJANGO_SETTINGS = """\
SECRET_KEY = "docs-test-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "mysite.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
LOGGING_CONFIG = None
"""

SETUPS: dict[str, str] = {
    "fastapi-app": "the block starts with `app`, a FastAPI app with one route",
    "instrumented-app": "the same app, already wrapped by toolkit.instrument",
    "flask-app": "the block starts with `app`, a Flask app with one route",
    "fastapi-main": "main.py holds that FastAPI app, instrumented (for `uvicorn main:app`)",
    "flask-main": "main.py holds that Flask app, instrumented (for `gunicorn main:app`)",
    "django-project": "a Django project `mysite` (settings, urls) in the directory",
    "service": "the FastAPI app runs instrumented under uvicorn, logging to orders.log",
}
"""Every setup a marker may name, and what it provides."""

PRELUDES = {
    "fastapi-app": FASTAPI_APP,
    "instrumented-app": FASTAPI_APP + INSTRUMENT,
    "flask-app": FLASK_APP,
}


class Page:
    """One page's blocks, run in order in one directory, like a reader following it."""

    def __init__(self, doc: str, blocks: list[Block], workdir: Path) -> None:
        self.doc = doc
        self.blocks = blocks
        self.dir = workdir / "page"
        self.scratch = workdir / "scratch"
        self.dir.mkdir()
        self.scratch.mkdir()
        (self.dir / "examples").mkdir()
        shutil.copy(ROOT / "examples" / "services.yaml", self.dir / "examples")
        shutil.copytree(ROOT / "tests" / "catalog_cases", self.dir / "tests" / "catalog_cases")
        for generated in ("dashboards", "alert-rules"):
            shutil.copytree(ROOT / generated, self.dir / generated)
        self.outcomes: dict[int, Outcome] = {}
        self.program = ""
        self.last_output = ""
        self.receiver_port = free_port()
        self.server_port: int | None = None
        self.server: Running | None = None
        self._server_stack = contextlib.ExitStack()

    def close(self) -> None:
        """Stop the page's server, if one runs."""
        self._server_stack.close()

    def outcome(self, target: Block) -> Outcome:
        """Run the blocks of the page up to ``target`` not run yet (blocks that need a
        server only for a target that needs one too) and return ``target``'s outcome."""
        for block in self.blocks:
            wanted = block is target or target.slow or not block.slow
            if wanted and block.line not in self.outcomes and "skip" not in block.directives:
                self.outcomes[block.line] = self._run(block)
            if block is target:
                break
        return self.outcomes[target.line]

    # --- environment and rewriting ---------------------------------------------------------

    def env(self) -> dict[str, str]:
        """A clean environment: the interpreter's bin first on PATH, no OTEL_/TOOLKIT_
        settings from outside, spans exported every 200 ms, METRICS_TOKEN set."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("OTEL_", "TOOLKIT_", "UVICORN_", "GUNICORN_", "PROMETHEUS_"))
        }
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env["OTEL_BSP_SCHEDULE_DELAY"] = "200"
        env["METRICS_TOKEN"] = "docs-test-token"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if self.server_port is not None:
            env["UVICORN_PORT"] = str(self.server_port)
            env["GUNICORN_CMD_ARGS"] = f"--bind 127.0.0.1:{self.server_port}"
        return env

    def rewrite(self, text: str) -> str:
        """The page's text as run here: its server's port and the probe's receiver port
        are free ports, ``/tmp/`` is a directory of the page."""
        if self.server_port is not None:
            port = self.server_port
            text = SERVER_ADDRESS.sub(
                lambda m: str(port) if m[0] == "8000" else f"127.0.0.1:{port}", text
            )
        text = text.replace(RECEIVER_ADDRESS, f"127.0.0.1:{self.receiver_port}")
        text = re.sub(r"\btoolkit probe ", f"toolkit probe --otlp-port {self.receiver_port} ", text)
        return re.sub(r"(?<=[\s=])/tmp/", f"{self.dir}/tmp/", text)

    def unwrite(self, text: str) -> str:
        """Printed text as the page would show it: the ports and directories undone."""
        if self.server_port is not None:
            text = text.replace(f"127.0.0.1:{self.server_port}", "127.0.0.1:8000")
        return text.replace(f"{self.dir}/", "").replace(str(self.dir), ".")

    # --- running ------------------------------------------------------------------------

    def _run(self, block: Block) -> Outcome:
        setup = block.directives.get("setup")
        if setup is not None:
            self._setup(setup)
        if block.lang == "python":
            return self._python(block)
        if block.lang == "yaml":
            return self._yaml(block)
        if block.lang == "json":
            return self._json(block)
        if block.lang in SHELL:
            return self._shell(block)
        return self._compare(block, block.text) if "output" in block.directives else Outcome()

    def _setup(self, setup: str) -> None:
        if setup == "fastapi-main":
            (self.dir / "main.py").write_text(FASTAPI_APP + INSTRUMENT)
        elif setup == "flask-main":
            (self.dir / "main.py").write_text(FLASK_APP + INSTRUMENT)
        elif setup == "django-project":
            package = self.dir / "mysite"
            package.mkdir(exist_ok=True)
            (package / "__init__.py").write_text("")
            (package / "settings.py").write_text(DJANGO_SETTINGS)
            (package / "urls.py").write_text("urlpatterns: list[object] = []\n")
        elif setup == "service":
            self._start_service()

    def _start_service(self) -> None:
        (self.scratch / "docs_service.py").write_text(FASTAPI_APP + INSTRUMENT)
        port = self._new_server()
        env = self.env()
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{self.receiver_port}"
        command = uvicorn_command(
            "docs_service:app", port, app_dir=self.scratch, options=["--no-access-log"]
        )
        self._serve(command, env, self.dir / "orders.log")

    def _new_server(self) -> int:
        self._server_stack.close()
        self._server_stack = contextlib.ExitStack()
        self.server, self.server_port = None, free_port()
        return self.server_port

    def _serve(self, command: list[str], env: dict[str, str], log: Path) -> None:
        port = self.server_port
        started = self._server_stack.enter_context(
            running(command, log, env=env, cwd=self.dir, stderr=self.scratch / f"{port}.err")
        )
        self.server = started
        # /livez: a toolkit app answers it without counting it as a request.
        wait_until_http_ok(
            f"http://127.0.0.1:{port}/livez",
            started=started,
            any_status=True,
            timeout=SERVER_TIMEOUT,
        )

    def _python(self, block: Block) -> Outcome:
        source = self.rewrite(block.text)
        if "fragment" in block.directives:
            try:
                compile(source, block.location, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            except SyntaxError as error:
                return Outcome([f"{block.location}: does not compile: {error}"])
            return Outcome()
        if "file" in block.directives:
            (self.dir / block.directives["file"]).write_text(source)
        prelude = PRELUDES.get(block.directives.get("setup", ""), "")
        previous = self.program + "\n" if "continues" in block.directives else prelude
        self.program = previous + source
        script = self.scratch / f"block_{block.line}.py"
        script.write_text(self.program)
        command = [sys.executable, "-c", _RUN_BLOCK, str(script)]
        try:
            done = subprocess.run(
                command,
                cwd=self.dir,
                env=self.env(),
                capture_output=True,
                text=True,
                timeout=PYTHON_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            return Outcome([f"{block.location}: still running after {PYTHON_TIMEOUT:.0f} s"])
        self.last_output = done.stdout
        if done.returncode != 0:
            where = f"{block.location}: exited with {done.returncode} ({script})"
            return Outcome([f"{where}:\n{done.stderr[-3000:]}"])
        return Outcome()

    def _yaml(self, block: Block) -> Outcome:
        try:
            data = yaml.safe_load(block.text)
        except yaml.YAMLError as error:
            return Outcome([f"{block.location}: not YAML: {error}"])
        name = block.directives.get("file")
        if name:
            self._write_files_from(block)
        if not isinstance(data, dict) or "services" not in data or "fragment" in block.directives:
            return Outcome()
        path = self.dir / name if name else self.scratch / f"catalog_{block.line}.yaml"
        if not name:
            path.write_text(block.text)
        try:
            load_catalog(path)
        except CatalogError as error:
            problems = "\n".join(str(problem) for problem in error.problems)
            return Outcome([f"{block.location}: not a valid catalog:\n{problems}"])
        return Outcome()

    def _write_files_from(self, block: Block) -> None:
        # A catalog and the overlay files it names are written together, then checked.
        start = self.blocks.index(block)
        for following in self.blocks[start:]:
            name = following.directives.get("file")
            if not name or following.lang not in {"yaml", "json"}:
                break
            (self.dir / name).write_text(following.text)

    def _json(self, block: Block) -> Outcome:
        if "file" in block.directives:
            self._write_files_from(block)
        try:
            json_values(block.text)
        except ValueError as error:
            return Outcome([f"{block.location}: not JSON: {error}"])
        return self._compare(block, block.text) if "output" in block.directives else Outcome()

    def _compare(self, block: Block, shown_text: str) -> Outcome:
        """An ``output`` block: what the block before printed (``output=server``: what
        the page's server printed so far) is what it shows."""
        if block.directives["output"] == "server":
            printed = self.server.log.read_text(errors="replace") if self.server else ""
        else:
            printed = self.last_output
        printed = self.unwrite(printed)
        if block.lang != "json":
            if normalised(shown_text) != normalised(printed):
                diff = _diff(normalised(shown_text), normalised(printed))
                return Outcome([f"{block.location}: the output differs:\n{diff}"])
            return Outcome()
        shown = [masked(value) for value in json_values(shown_text)]
        actual = [masked(value) for value in _json_lines(printed)]
        if block.directives["output"] == "server":
            missing = [value for value in shown if value not in actual]
            if missing:
                return Outcome(
                    [
                        f"{block.location}: the server printed no line like\n{missing}\n"
                        f"it printed:\n{printed[-3000:]}"
                    ]
                )
        elif shown != actual:
            return Outcome(
                [
                    f"{block.location}: shown (run-dependent fields by shape)\n{shown}\n"
                    f"printed\n{actual}\n{printed[-3000:]}"
                ]
            )
        return Outcome()

    def _shell(self, block: Block) -> Outcome:
        found = commands(block)
        if any(starts_server(c.text) for c in found):
            self._new_server()
        statuses = block.directives.get("exit", "0").split(",")
        expected = statuses * len(found) if len(statuses) == 1 else statuses
        failures: list[str] = []
        printed_all: list[str] = []
        for command, status in zip(found, expected, strict=True):
            text = self.rewrite(command.text)
            (self.dir / "tmp").mkdir(exist_ok=True)
            if starts_server(command.text):
                try:
                    self._serve(
                        ["bash", "-c", text.rstrip().removesuffix("&")],
                        self.env(),
                        self.scratch / f"server_{block.line}.out",
                    )
                except (RuntimeError, TimeoutError) as error:
                    failures.append(f"{block.location}: $ {command.text}\ndid not serve: {error}")
                    break
                continue
            returncode, printed = self._command(text)
            printed = self.unwrite(printed)
            printed_all.append(printed)
            where = f"{block.location}: $ {command.text}\n"
            if returncode != int(status):
                failures.append(
                    f"{where}exited with {returncode}, not {status}:\n{printed[-3000:]}"
                )
            elif self._differs(block, command, printed):
                diff = _diff(normalised("\n".join(command.shown or ())), normalised(printed))
                failures.append(f"{where}the output differs:\n{diff}")
        self.last_output = "".join(printed_all)
        return Outcome(failures)

    @staticmethod
    def _differs(block: Block, command: Command, printed: str) -> bool:
        if command.shown is None or "output-varies" in block.directives:
            return False
        return normalised("\n".join(command.shown)) != normalised(printed)

    def _command(self, text: str) -> tuple[int, str]:
        try:
            done = subprocess.run(
                ["bash", "-c", text],
                cwd=self.dir,
                env=self.env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=COMMAND_TIMEOUT,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as error:
            return -1, f"still running after {COMMAND_TIMEOUT:.0f} s: {error.output!r}"
        return done.returncode, done.stdout


class DocsRun:
    """The pages of one test session: one page runs at a time (a new page stops the
    previous page's server)."""

    def __init__(self, root: Path, blocks: list[Block]) -> None:
        self.root = root
        self.blocks = blocks
        self.page: Page | None = None

    def outcome(self, block: Block) -> Outcome:
        """Run ``block`` (and what comes before it on its page) and say what went wrong."""
        if self.page is None or self.page.doc != block.doc:
            self.close()
            slug = re.sub(r"[^A-Za-z0-9]+", "-", block.doc)
            workdir = Path(tempfile.mkdtemp(prefix=slug + "-", dir=self.root))
            page_blocks = [b for b in self.blocks if b.doc == block.doc]
            self.page = Page(block.doc, page_blocks, workdir)
        return self.page.outcome(block)

    def close(self) -> None:
        """Stop whatever the current page started."""
        if self.page is not None:
            self.page.close()
            self.page = None
