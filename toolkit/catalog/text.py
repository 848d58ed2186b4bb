"""A catalog file's text: decoded as UTF-8 and composed as YAML, with located errors.

Shared by the catalog itself and the dashboard overlay files it names. Each function
raises :class:`CatalogError` with the one problem that stops the file being read: nothing
after a syntax error can be trusted.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from toolkit.catalog.problems import CatalogError, Problem

# Deeper lists and mappings are refused: no catalog or dashboard needs them, and the
# YAML and JSON libraries (and the generators) recurse once per level.
MAX_DEPTH = 64
# Nor more values than this, each alias counted as the values it stands for.
MAX_VALUES = 1_000_000
# Half of a UTF-16 pair, which an escape ("\\ud800") can put in a string: no encoder
# writes it, so no file could hold it.
_SURROGATE = re.compile("[\ud800-\udfff]")
_PAIR_HINT = "write the character itself, or both halves of its pair (\\ud83d\\ude00)"
UTF16_HINT = "the file looks like UTF-16: save it as UTF-8"


def decode(file: str, data: bytes, path: str = "", language: str = "YAML") -> str:
    """``data`` decoded as UTF-8 (a byte-order mark is allowed).

    ``path`` is the field path the file stands for (empty for the catalog itself) and
    ``language`` what the file should be written in, for the problem.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        message = f"not valid {language}: not UTF-8 text (byte 0x{data[error.start]:02x})"
        hint = UTF16_HINT if data.startswith((b"\xff\xfe", b"\xfe\xff")) else None
        raise CatalogError([Problem(file, line, None, path, message, hint=hint)]) from None


def compose(file: str, text: str, path: str = "") -> yaml.Node | None:
    """The YAML node tree of ``text`` (``None`` for an empty document).

    ``path`` is the field path the document stands for (empty for the catalog itself).
    libyaml composes it when it can (a fraction of the time); the pure-Python loader
    decides whenever libyaml is not there or does not compose the text as it is, so
    every problem is the pure loader's, with its line and column.
    """
    composed, root = _compose_with_libyaml(text)
    if not composed:
        root = _compose_pure(file, text, path)
    if root is not None:
        check_tree(file, root, path)
    return root


# libyaml's loader (PyYAML built with it), and the characters the pure-Python reader
# refuses (libyaml's own list differs slightly: such a text goes to the pure loader).
_CSafeLoader: Any = getattr(yaml, "CSafeLoader", None)
_NON_PRINTABLE: re.Pattern[str] = yaml.reader.Reader.NON_PRINTABLE
# What libyaml reads differently from the pure loader (found by the differential tests
# in tests/test_catalog_libyaml.py): tabs, which the pure loader refuses in places
# libyaml takes them as spaces; a byte-order mark or a Unicode line break inside the
# text; an explicit key ("? "), whose empty value libyaml places elsewhere; a block
# scalar's header followed by a comment without a space. Catalogs rarely use any.
_DIVERGES = re.compile(r"[\t\ufeff\x85\u2028\u2029]|\?(?:[ \r\n]|$)|[|>][0-9+-]*#")
_PURE = (False, None)  # the pure-Python loader must compose the text


def _compose_with_libyaml(text: str) -> tuple[bool, yaml.Node | None]:
    """``(True, the node tree libyaml composes)``, as the pure loader builds it (a plain
    scalar's ``style`` is ``None``, not ``""``); ``(False, None)`` without libyaml, for a
    character the pure reader refuses, nesting deeper than ``MAX_DEPTH`` (libyaml's
    composer recurses in C, with no recursion limit: the depth is counted from its
    events first), or any error (the pure loader then says where)."""
    if _CSafeLoader is None or _NON_PRINTABLE.search(text) or _DIVERGES.search(text):
        return _PURE
    try:
        depth = 0
        for event in yaml.parse(text, Loader=_CSafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return _PURE
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        loader = _CSafeLoader(text)
        try:
            root: yaml.Node | None = loader.get_single_node()
        finally:
            loader.dispose()
    except Exception:  # whatever libyaml refuses, the pure loader explains
        return _PURE
    if root is not None:
        for node in _scalars(root):
            if node.style == "":
                if node.value == "":
                    # An empty value (a null): libyaml places some elsewhere (in a flow
                    # mapping, after "---"), and a problem is reported where it is.
                    return _PURE
                node.style = None
    return True, root


def _compose_pure(file: str, text: str, path: str) -> yaml.Node | None:
    """The node tree PyYAML's pure-Python loader composes; its errors as problems."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)  # reads the text: a forbidden character raises here
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        raise CatalogError([_syntax_problem(file, text, error, path)]) from None
    except yaml.reader.ReaderError as error:  # a character YAML forbids
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        message = f"not valid YAML: {_character(error)}"
        hint = UTF16_HINT if "\x00" in text[:4] else None
        raise CatalogError([Problem(file, line, column, path, message, hint=hint)]) from None
    except RecursionError:  # PyYAML's composer recurses once per level
        deepest = loader.get_mark().line + 1 if loader is not None else None
        raise CatalogError([too_deep(file, deepest, path)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    return root


def check_tree(file: str, root: yaml.Node, path: str = "") -> None:
    """Raise :class:`CatalogError` for a document no catalog needs and that would break
    what reads it: nested too deep, too many values, or a lone UTF-16 surrogate."""
    deep = _too_deep_node(root)
    if deep is not None:
        raise CatalogError([too_deep(file, deep.start_mark.line + 1, path)])
    large = _too_large_node(root)
    if large is not None:
        message = f"more than {MAX_VALUES:,} values, counting each alias as what it stands for"
        raise CatalogError([Problem(file, large.start_mark.line + 1, None, path, message)])
    halves = [node for node in _scalars(root) if _SURROGATE.search(str(node.value))]
    if halves:
        node = min(halves, key=lambda half: int(half.start_mark.index))  # the first in the file
        surrogate = _SURROGATE.search(str(node.value))
        escape = surrogate.group().encode("unicode_escape").decode() if surrogate else ""
        message = f"not text: {escape} is half of a UTF-16 surrogate pair"
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        raise CatalogError([Problem(file, line, column, path, message, hint=_PAIR_HINT)])


def _scalars(root: yaml.Node) -> list[yaml.ScalarNode]:
    """Every scalar of the document, each once (an alias is not followed twice)."""
    found: list[yaml.ScalarNode] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            found.append(node)
        stack.extend(_children(node))
    return found


def _character(error: yaml.reader.ReaderError) -> str:
    """What :class:`~yaml.reader.ReaderError` says, without its second line (the position)."""
    return f"unacceptable character #x{error.character:04x}: {error.reason}"


def too_deep(file: str, line: int | None, path: str = "") -> Problem:
    """The problem of a document nested more than :data:`MAX_DEPTH` levels deep."""
    message = f"lists and mappings nested more than {MAX_DEPTH} levels deep"
    return Problem(file, line, None, path, message)


def _children(node: yaml.Node) -> list[yaml.Node]:
    """The keys and values of a mapping, the items of a list, nothing for a scalar."""
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _too_large_node(root: yaml.Node) -> yaml.Node | None:
    """The first list or mapping holding more than :data:`MAX_VALUES` values once its
    aliases are expanded (a few nested aliases can stand for billions), if any."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            on_path.discard(id(node))
            # A recursive alias (a child still on the path) counts as one value.
            size = 1 + sum(sizes.get(id(child), 1) for child in _children(node))
            if size > MAX_VALUES:
                return node
            sizes[id(node)] = size
        elif isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
        elif id(node) not in sizes and id(node) not in on_path:
            on_path.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))
    return None


def _too_deep_node(root: yaml.Node) -> yaml.Node | None:
    """The first list or mapping more than :data:`MAX_DEPTH` levels deep, if any.

    Aliases are followed (a value used twice may end deeper the second time), recursive
    ones are not; each node is walked again only when reached deeper than before.
    """
    reached: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, leaving = stack.pop()
        if leaving:
            on_path.discard(id(node))
            continue
        if isinstance(node, yaml.ScalarNode) or id(node) in on_path:
            continue
        if depth > MAX_DEPTH:
            return node
        if reached.get(id(node), 0) >= depth:
            continue
        reached[id(node)] = depth
        on_path.add(id(node))
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in reversed(_children(node)))
    return None


def _syntax_problem(file: str, text: str, error: yaml.MarkedYAMLError, path: str) -> Problem:
    """One problem for a YAML syntax error, at the line where the parser gave up."""
    mark = error.problem_mark or error.context_mark
    # At the end of the file the parser's mark is on the line after the last one.
    last_line = max(1, len(text.splitlines()))
    line = min(mark.line + 1, last_line) if mark is not None else 1
    column = mark.column + 1 if mark is not None else None
    message = f"not valid YAML: {error.problem or error.context}"
    if error.context and error.problem and error.context_mark is not None:
        message += f" ({error.context} at line {error.context_mark.line + 1})"
    return Problem(file, line, column, path, message, hint=_syntax_hint(error.problem or ""))


def _syntax_hint(problem: str) -> str | None:
    """The usual cause of the YAML errors people make most."""
    if problem.startswith("mapping values are not allowed"):
        return "quote a value that contains ': '"
    if "'\\t'" in problem:
        return "indent with spaces, not tabs"
    return None
