"""Docs that run: every fenced block of README.md and docs/*.md runs as its page shows it.

Python blocks run in a subprocess, shell blocks command by command with their shown
output compared, YAML parses (and loads as a catalog when it has ``services:``), JSON
parses. A block that cannot run as it is says why in a ``<!-- docs-test: ... -->`` marker
(docs/contributing.md). Blocks that start or call a server, or run promtool, are ``slow``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._docs_support import (
    Block,
    Command,
    DocsRun,
    collect,
    commands,
    masked,
    normalised,
    parse_blocks,
)

BLOCKS, MARKER_PROBLEMS = collect()


def _param(block: Block) -> object:
    return pytest.param(block, id=block.location, marks=[pytest.mark.slow] if block.slow else [])


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocsRun]:
    run = DocsRun(Path(tmp_path_factory.mktemp("docs")), BLOCKS)
    try:
        yield run
    finally:
        run.close()


@pytest.mark.parametrize("block", [_param(block) for block in BLOCKS])
def test_block(block: Block, docs: DocsRun) -> None:
    """The block runs as its page shows it, after the blocks before it on the page, and
    prints the output the page shows (or its marker says why not)."""
    if "skip" in block.directives:
        pytest.skip(f"{block.location}: {block.reason}")

    failures = docs.outcome(block).failures

    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


def test_markers_use_the_vocabulary_and_give_reasons() -> None:
    """Every marker sits right before a fence, uses only the directives and setups of
    docs/contributing.md, gives a reason, and an ``exit=`` has one status per command."""
    assert MARKER_PROBLEMS == []


def test_the_collection_sees_every_kind_of_block() -> None:
    """The scan finds the pages' blocks in every runnable language (it cannot pass by
    finding none), and no block is skipped without a reason."""
    languages = {block.lang for block in BLOCKS}
    unexplained = [b.location for b in BLOCKS if b.directives and not b.reason]

    assert {"python", "sh", "console", "yaml", "json"} <= languages
    assert len(BLOCKS) > 80
    assert unexplained == []


def test_a_fence_inside_a_longer_fence_is_text() -> None:
    """A ```` block quoting a ``` block is one block; a marker right before a fence is
    read, one anywhere else is a problem."""
    page = (
        "<!-- docs-test: skip — an example -->\n"
        "````markdown\n```python\nprint(1)\n```\n````\n\n"
        "<!-- docs-test: skip — orphaned -->\n\ntext\n"
    )

    blocks, problems = parse_blocks("page.md", page)

    assert [(b.line, b.lang, b.directives, b.reason) for b in blocks] == [
        (2, "markdown", {"skip": ""}, "an example")
    ]
    assert problems == ["page.md:8: a docs-test marker not right before a fence"]


def test_console_commands_and_their_shown_output() -> None:
    """``$ `` starts a command, the lines after it are its output; a trailing backslash
    continues a command; a command with no lines after it shows no output."""
    text = "$ mkdir out\n$ toolkit generate a.yaml \\\n  --out out\nout: wrote 2 files\n\n"
    block = Block("page.md", 1, "console", text)

    assert commands(block) == [
        Command("mkdir out", None),
        Command("toolkit generate a.yaml \\\n  --out out", ["out: wrote 2 files"]),
    ]


def test_run_dependent_values_compare_by_shape() -> None:
    """IDs and timings differ on every run: a 32-hex-digit ID matches any other, a log
    line's timestamp, duration and IDs match by shape, and null stays null."""
    shown = {"event": "request", "duration_ms": 4.7, "correlation_id": None, "trace_id": "ab"}
    printed = {"event": "request", "duration_ms": 12, "correlation_id": None, "trace_id": "cd"}

    assert masked(shown) == masked(printed)
    assert masked(shown) != masked({**printed, "correlation_id": "cd"})
    assert normalised("id: " + "a" * 32 + "  \n\n") == normalised("id: " + "0" * 32)
