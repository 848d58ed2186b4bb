"""toolkit.catalog.text.compose: libyaml composes what it can, the pure-Python loader
decides everything else, and the outcome is the pure loader's either way: the same node
tree (kind, tag, value, style, where each node starts) or the same problems."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.catalog import text as catalog_text
from toolkit.catalog.problems import CatalogError
from toolkit.catalog.text import MAX_DEPTH, compose

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.skipif(
    getattr(yaml, "CSafeLoader", None) is None, reason="PyYAML is built without libyaml"
)


def _signature(node: Any, seen: dict[int, int] | None = None) -> Any:
    """What the catalog reads of a node tree, aliases as references to the first visit."""
    seen = {} if seen is None else seen
    if id(node) in seen:
        return ("alias", seen[id(node)])
    seen[id(node)] = len(seen)
    # Where a node ends is not read (libyaml and the pure loader differ at the end of a
    # text without a final line break).
    start = node.start_mark
    head = (type(node).__name__, node.tag, start.line, start.column)
    if isinstance(node, yaml.ScalarNode):
        return (*head, node.style, node.value)
    if isinstance(node, yaml.SequenceNode):
        return (*head, tuple(_signature(item, seen) for item in node.value))
    return (*head, tuple((_signature(k, seen), _signature(v, seen)) for k, v in node.value))


def _outcome(text: str) -> Any:
    try:
        root = compose("catalog.yaml", text)
    except CatalogError as error:
        return ("problems", [str(problem) for problem in error.problems])
    return ("tree", None if root is None else _signature(root))


def _pure_outcome(text: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(catalog_text, "_CSafeLoader", None)
        return _outcome(text)


def _repository_yaml() -> Iterator[Path]:
    for folder in ("examples", "tests/catalog_cases", "tests/golden"):
        yield from sorted((ROOT / folder).rglob("*.yaml"))


@pytest.mark.parametrize(
    "path", list(_repository_yaml()), ids=lambda path: str(path.relative_to(ROOT))
)
def test_repository_yaml_composes_as_the_pure_loader_does(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every catalog, overlay and generated YAML file of the repository: the same tree,
    or the same problems."""
    text = path.read_text(encoding="utf-8-sig")
    assert _outcome(text) == _pure_outcome(text, monkeypatch)


@pytest.mark.parametrize(
    "path",
    [ROOT / "examples" / "services.yaml", *sorted((ROOT / "tests" / "golden").glob("*/*.yaml"))],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_libyaml_composes_real_catalogs(path: Path) -> None:
    """The example and golden catalogs and overlays take the fast path."""
    text = path.read_text(encoding="utf-8-sig")
    assert catalog_text._compose_with_libyaml(text)[0]


def test_plain_scalars_have_no_style(monkeypatch: pytest.MonkeyPatch) -> None:
    """libyaml marks a plain scalar with style "", the pure loader with None: the tree has
    None (the catalog's number hints depend on it)."""
    root = compose("catalog.yaml", "a: 1e3\nb: '1e3'\n")
    assert root is not None
    styles = [value.style for _key, value in root.value]
    assert styles == [None, "'"]


@pytest.mark.parametrize(
    "text",
    [
        "a: [" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",  # deeper than allowed
        "a: " + "[" * 100_000 + "]" * 100_000 + "\n",  # C recursion would crash
        "a: \x00\n",  # a character the pure reader refuses
        "a: b\n---\nc: d\n",  # two documents
        "a: b: c\n",  # a syntax error
        'a: "\\ud800"\n',  # an escaped lone surrogate: libyaml refuses, the pure loader reads it
        "a: &x [*x]\n",  # a recursive alias
        "",  # nothing
        # What the differential tests below found libyaml reading differently:
        "a: b\t|\n",  # a tab the pure loader refuses
        "-b- # c\n\ufeff",  # a byte-order mark inside the text
        "a: >1# c\n",  # a block scalar's header, then a comment without a space
        "? \n",  # an explicit key without a value
        "---\n# c\n",  # an empty document
        "slo: {availability: }\n",  # an empty value in a flow mapping
    ],
    ids=[
        "too-deep",
        "very-deep",
        "nul",
        "two-documents",
        "syntax",
        "surrogate",
        "recursive",
        "empty",
        "tab",
        "bom-inside",
        "block-header-comment",
        "explicit-key",
        "empty-document",
        "flow-empty-value",
    ],
)
def test_what_libyaml_does_not_compose_gets_the_pure_loaders_problem(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nesting, forbidden characters, several documents, syntax errors, surrogates:
    the same problems (or tree) as the pure loader gives, never a crash."""
    assert _outcome(text) == _pure_outcome(text, monkeypatch)


_FRAGMENTS = [
    "a",
    "b",
    "key",
    "1",
    "1.5",
    "1e3",
    "0x1F",
    "~",
    "null",
    "yes",
    "é",
    "✓",
    ": ",
    ":",
    "- ",
    "-",
    "? ",
    "\n",
    "\r\n",
    "  ",
    "    ",
    "\t",
    "{",
    "}",
    "[",
    "]",
    ", ",
    ",",
    "'",
    '"',
    "''",
    "\\",
    "\\n",
    "\\u00e9",
    "\\ud83d",
    "# c",
    " #",
    "&x ",
    "*x",
    "!!str ",
    "!!int ",
    "!tag ",
    "|",
    "|-\n",
    ">",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "<<: ",
    "@",
    "`",
    "%",
    "\ufeff",
    "\x85",
    "\u2028",
]


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI never fails by chance
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join))
def test_random_yaml_like_text_has_the_pure_loaders_outcome(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Texts of YAML's significant characters and tokens: libyaml never accepts what the
    pure loader refuses, and never builds another tree."""
    assert _outcome(text) == _pure_outcome(text, monkeypatch)


_EXAMPLE = (ROOT / "examples" / "services.yaml").read_text(encoding="utf-8")


@st.composite
def _edited_catalogs(draw: st.DrawFn) -> str:
    """examples/services.yaml with a few fragments put in and a few characters taken out:
    the mistakes people make in a real catalog."""
    text = _EXAMPLE
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(st.sampled_from(_FRAGMENTS)) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 5)) :]
    return text


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI never fails by chance
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=_edited_catalogs())
def test_edited_catalogs_have_the_pure_loaders_outcome(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real catalog with typos: the same tree, or the same problems at the same lines."""
    assert _outcome(text) == _pure_outcome(text, monkeypatch)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI never fails by chance
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    document=_DOCUMENTS,
    flow=st.booleans(),
    indent=st.sampled_from([2, 4]),
    unicode=st.booleans(),
)
def test_dumped_documents_compose_alike(
    document: Any,
    flow: bool,
    indent: int,
    unicode: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Any document PyYAML writes, in block or flow style: the same tree."""
    text = yaml.safe_dump(
        document, default_flow_style=flow, indent=indent, allow_unicode=unicode, width=40
    )
    assert _outcome(text) == _pure_outcome(text, monkeypatch)
