"""The YAML writer: what it writes parses back to exactly the data, and keeps the bytes.

``toolkit.generate.yaml_writer`` is the one YAML write path (no PyYAML dumper). The proof:

1. random documents (any Unicode text including lone surrogates, huge integers, NaN and
   infinities, nested empty and non-empty collections, odd keys) and random Prometheus
   rule files (PromQL-ish text, words YAML would read as other types) are read back by
   PyYAML's safe loaders as exactly the data: same types, key order, float bits;
2. (dropped with the old emitter: the committed files below keep its bytes);
3. every committed generated YAML file is written again byte for byte;
4. each special case and the ``TypeError`` for what is not written, with its path;
5. every string is styled as the rule says, written here plainly (each character tested,
   PyYAML's resolver asked every time), whichever shortcut the writer takes; and the
   writer's caches stay bounded, and right when they are cleared mid-document.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.generate import yaml_writer
from toolkit.generate.yaml_writer import HEADER, dump_yaml, emit_yaml

ROOT = Path(__file__).resolve().parent.parent
_C_LOADER: Any = getattr(yaml, "CSafeLoader", None)
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_HEALTH = [HealthCheck.too_slow]
_MANY = settings(max_examples=500, deadline=None, suppress_health_check=_HEALTH)
_FEWER = settings(max_examples=150, deadline=None, suppress_health_check=_HEALTH)


def _same(left: Any, right: Any) -> bool:
    """Equal data of equal types: key order kept, NaN equal to NaN, -0.0 not 0.0."""
    if type(left) is not type(right):
        return False
    if type(left) is float:
        return repr(left) == repr(right)
    if type(left) is dict:
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if type(left) is list:
        return len(left) == len(right) and all(map(_same, left, right))
    return bool(left == right)


def _loads(text: str) -> list[Any]:
    """The text as PyYAML's safe loaders read it: pure-Python's, and libyaml's unless a
    lone surrogate is escaped in it (libyaml refuses ``\\uD800``; YAML has no such char)."""
    loaded = [yaml.load(text, Loader=yaml.SafeLoader)]
    if _C_LOADER is not None and not _ESCAPED_SURROGATE.search(text):
        loaded.append(yaml.load(text, Loader=_C_LOADER))
    return loaded


def _assert_round_trip(document: Any) -> str:
    text = emit_yaml(document)
    assert text.endswith("\n")
    text.encode("utf-8")  # nothing unencodable written raw (lone surrogates are escaped)
    for loaded in _loads(text):
        assert _same(loaded, document), text
    return text


# --- strategies ------------------------------------------------------------------------

# Words and characters that change a scalar's style or type.
_TRICKY = [
    *["1.0", "yes", "no", "on", "Off", "true", "null", "Null", "~", "0x1f", "1e3", "1_000"],
    *[".inf", "-.inf", ".nan", "0o17", "012", "2024-01-01", "<<", "=", "-", "?", ":", ""],
    *["---", "...", "- x", "? x", ": x", "a: b", "a #b", "a#b", "a:", "#x", "%x", "@x"],
    *["`x", "!x", "&x", "*x", "|", ">", "'", '"', "{}", "[]", " lead", "trail ", " ", "5m"],
    *["1.5e-05", "+1", "-0", "0.0", "1:30", "é—", "\u00a0", "\t", "a\nb", "\u2028", "😀"],
]
_ANY_CHAR = st.characters(codec=None, exclude_categories=())
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**300), max_value=10**300)
    | st.floats()
    | st.text(_ANY_CHAR, max_size=12)
    | st.text(max_size=12)
    | st.sampled_from(_TRICKY)
)
_LONG_KEYS = ["k" * 129, "é" * 65, "k" * 1100, "\t" * 300]  # explicit: over 128 bytes
_KEYS = (
    st.text(_ANY_CHAR, max_size=8) | st.text(max_size=140) | st.sampled_from(_TRICKY + _LONG_KEYS)
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=25,
)
# Prometheus rule files: PromQL-ish expressions, label values YAML would read as other
# types, annotations with Prometheus templates.
_PROMQL = st.lists(
    st.sampled_from(
        [
            *['sum(rate(x{job="a"}[5m]))', " > ", "0.001", " or ", "{{ $value }}", ": ", " #"],
            *_TRICKY,
        ]
    ),
    max_size=6,
).map("".join)
_LABEL_NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
_LABELS = st.dictionaries(_LABEL_NAMES, _PROMQL | st.text(max_size=8), max_size=4)
_RULE = st.one_of(
    st.fixed_dictionaries({"record": _LABEL_NAMES, "expr": _PROMQL, "labels": _LABELS}),
    st.fixed_dictionaries(
        {"alert": _LABEL_NAMES, "expr": _PROMQL, "labels": _LABELS, "annotations": _LABELS},
        optional={"for": st.sampled_from(["5m", "1h", "0s"])},
    ),
)
_RULE_FILES = st.fixed_dictionaries(
    {
        "groups": st.lists(
            st.fixed_dictionaries(
                {"name": _PROMQL | _LABEL_NAMES, "rules": st.lists(_RULE, min_size=1, max_size=5)}
            ),
            min_size=1,
            max_size=3,
        )
    }
)

# --- 1: round trip -------------------------------------------------------------------------


@_MANY
@given(_DOCUMENTS)
def test_any_document_reads_back_as_the_data(document: Any) -> None:
    _assert_round_trip(document)


@_FEWER
@given(_RULE_FILES)
def test_rule_files_read_back_as_the_data(document: Any) -> None:
    _assert_round_trip(document)


# --- 3: the committed generated files ----------------------------------------------------

_COMMITTED = sorted(
    [
        *ROOT.glob("alert-rules/*.yaml"),
        ROOT / "dashboards" / "provisioning.yaml",
        *ROOT.glob("tests/golden/*/expected/**/*.yaml"),
    ]
)


def test_the_committed_files_are_found() -> None:
    assert len([path for path in _COMMITTED if "golden" in path.parts]) >= 20
    assert len(_COMMITTED) >= 30


@pytest.mark.parametrize("path", _COMMITTED, ids=lambda path: str(path.relative_to(ROOT)))
def test_committed_generated_files_are_written_again_byte_for_byte(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    header, source, body = text.split("\n", 2)
    assert header == f"# {HEADER}"
    assert source.startswith("# source: ")
    data = yaml.load(text, Loader=_C_LOADER or yaml.SafeLoader)
    assert emit_yaml(data) == body
    assert dump_yaml(data, source.removeprefix("# source: ")) == text
    _assert_round_trip(data)


# --- 4: the special cases ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("a\nb", r'"a\nb"'),
        ("tab\there", r'"tab\there"'),
        ("cr\r", r'"cr\r"'),
        ('"quoted" \\ and\n', r'"\"quoted\" \\ and\n"'),
        ("\x00\x07\x1b\x7f", r'"\x00\x07\x1B\x7F"'),
        ("nel\x85", r'"nel\x85"'),
        ("c1\x9f", r'"c1\x9F"'),
        ("\u2028", r'"\u2028"'),
        ("a\u2029b", r'"a\u2029b"'),
        ("\ufeffbom", r'"\uFEFFbom"'),
        ("\ufffe\uffff", r'"\uFFFE\uFFFF"'),
        ("emoji 😀", r'"emoji \U0001F600"'),
        ("lone \ud800", r'"lone \uD800"'),
        ("pair \ud83d\ude00", r'"pair \uD83D\uDE00"'),
        ("é — ok\n", r'"é — ok\n"'),  # printable non-ASCII stays as it is
        (" spaces kept\t ", r'" spaces kept\t "'),
    ],
)
def test_strings_that_need_escapes_are_double_quoted(value: str, written: str) -> None:
    assert emit_yaml({"k": value}) == f"k: {written}\n"
    assert emit_yaml([value]) == f"- {written}\n"
    assert emit_yaml({value: 1}) == f"{written}: 1\n"
    _assert_round_trip({"k": value, value: [value]})


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("plain text", "plain text"),
        ("", "''"),
        ("yes", "'yes'"),
        ("null", "'null'"),
        ("~", "'~'"),
        ("1.0", "'1.0'"),
        ("0x1f", "'0x1f'"),
        ("1e3", "1e3"),  # YAML 1.1 needs a dot and a signed exponent: a string
        (".inf", "'.inf'"),
        ("it's", "it's"),
        ("'q'", "'''q'''"),
        ("a: b", "'a: b'"),
        ("a #b", "'a #b'"),
        ("- x", "'- x'"),
        ("{}", "'{}'"),
        ("trail ", "'trail '"),
        ("<<", "'<<'"),
        ("\u00a0nbsp", "\u00a0nbsp"),
    ],
)
def test_simple_strings_are_plain_or_single_quoted(value: str, written: str) -> None:
    assert emit_yaml({"k": value}) == f"k: {written}\n"
    _assert_round_trip({"k": value})


def test_empty_and_long_keys_are_explicit() -> None:
    long = "k" * 129
    assert emit_yaml({"": 1}) == "? ''\n: 1\n"
    assert emit_yaml({long: "v"}) == f"? {long}\n: v\n"
    assert emit_yaml({"k" * 128: "v"}) == f"{'k' * 128}: v\n"  # libyaml's limit: 128 bytes
    assert emit_yaml({"é" * 65: "v"}) == f"? {'é' * 65}\n: v\n"  # 130 bytes
    breaks, tabs = "a\\n" * 70, "\\t" * 128
    assert emit_yaml({"a\n" * 70: 1}) == f'? "{breaks}"\n: 1\n'
    assert emit_yaml({"\t" * 128: 1}) == f'"{tabs}": 1\n'  # short enough before escaping
    document = {"": {"a": 1, "": [1, {"": []}]}, long: [[], {long: {}}], "x": [{"": 2}]}
    assert emit_yaml(document) == (
        "? ''\n:\n  a: 1\n  ? ''\n  :\n  - 1\n  - ? ''\n    : []\n"
        f"? {long}\n:\n- []\n- ? {long}\n  : {{}}\n"
        "x:\n- ? ''\n  : 2\n"
    )
    _assert_round_trip(document)
    _assert_round_trip({"a": {"b": [{long: {"c": [long]}, "": "", "d": None}]}})


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (float("nan"), ".nan"),
        (float("inf"), ".inf"),
        (float("-inf"), "-.inf"),
        (1e-05, "1.0e-05"),
        (1e16, "1.0e+16"),
        (1.5e-07, "1.5e-07"),
        (-0.0, "-0.0"),
        (0.1, "0.1"),
        (5e-324, "5.0e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (0, "0"),
        (-(10**40), "-" + "1" + "0" * 40),
        (2**64, "18446744073709551616"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        ([], "[]"),
        ({}, "{}"),
    ],
)
def test_numbers_and_constants(value: Any, written: str) -> None:
    assert emit_yaml({"k": value}) == f"k: {written}\n"
    assert emit_yaml([value]) == f"- {written}\n"
    assert emit_yaml(value) == f"{written}\n"  # a whole document
    _assert_round_trip({"k": value, "l": [value]})
    _assert_round_trip(value)


def test_nested_collections() -> None:
    document = [[], [[]], [[1, []], {}], {"a": [], "b": {}, "c": [[2]], "d": {"e": [{}]}}]
    assert emit_yaml(document) == (
        "- []\n- - []\n- - - 1\n    - []\n  - {}\n"
        "- a: []\n  b: {}\n  c:\n  - - 2\n  d:\n    e:\n    - {}\n"
    )
    _assert_round_trip(document)


def test_long_strings_are_never_folded() -> None:
    expr = "sum(rate(x[5m])) " * 200 + "\n" + "y " * 200
    text = emit_yaml({"expr": expr.strip(), "more": [expr]})
    assert len(text.splitlines()) == 3
    _assert_round_trip({"expr": expr})


def test_a_str_subclass_is_written_as_its_string() -> None:
    class Name(str):
        __slots__ = ()

    assert emit_yaml({Name("k"): Name("yes"), "l": [Name("x")]}) == "k: 'yes'\nl:\n- x\n"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"groups": [{"rules": [{}, {}, {}, {"labels": {"a": "b", 3: "c"}}]}]},
            "int key 3 in groups[0].rules[3].labels",
        ),
        ({"groups": [{"rules": [{"labels": {"x", "y"}}]}]}, "set at groups[0].rules[0].labels"),
        ({"a.b": [1, (2,)]}, "tuple at ['a.b'][1]"),
        ({"x": {"for": b"5m"}}, "bytes at x.for"),
        ({"x": [object()]}, "object at x[0]"),
        ({"x": {"y": {None: 1}}}, "NoneType key None in x.y"),
        ({(1, 2): 1}, "tuple key (1, 2) in the document"),
        ((1, 2), "tuple at the document root"),
        ({"d": {"OrderedDict": 1.5j}}, "complex at d.OrderedDict"),
    ],
)
def test_other_types_are_a_type_error_naming_the_type_and_path(document: Any, message: str) -> None:
    with pytest.raises(TypeError, match=re.escape(f"cannot write {message} as YAML")):
        emit_yaml(document)


def test_dump_yaml_is_headed() -> None:
    document = {"groups": [{"name": "orders", "rules": [{"record": "a:b", "expr": "1"}]}]}
    assert dump_yaml(document, "s").startswith(f"# {HEADER}\n# source: s\ngroups:\n- name:")


def test_u2028_is_escaped() -> None:
    """U+2028/U+2029 are printable to Python but line breaks to YAML."""
    assert emit_yaml({"k": "a\u2028b"}) == 'k: "a\\u2028b"\n'


# --- 5: the shortcuts agree with the rule ------------------------------------------------

_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()
_REFERENCE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _simple_char(char: str) -> bool:
    """Printable, single-line, Basic Multilingual Plane, no byte-order mark."""
    if " " <= char <= "~":
        return True
    return (
        "\xa0" <= char <= "\ufffd"
        and char not in "\u2028\u2029\ufeff"
        and not ("\ud800" <= char <= "\udfff")
    )


def _escaped(char: str) -> str:
    if char in _REFERENCE_ESCAPES:
        return _REFERENCE_ESCAPES[char]
    if _simple_char(char):
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02X}"
    return f"\\u{code:04X}" if code < 0x10000 else f"\\U{code:08X}"


def _written_by_the_rule(value: str) -> str:
    """The module docstring's rule, without a shortcut: plain when allowed and read back
    as the string, else single-quoted; double-quoted with escapes unless simple."""
    if not all(map(_simple_char, value)):
        return '"' + "".join(map(_escaped, value)) + '"'
    plain = (
        value != ""
        and value[0] not in "#,[]{}&*!|>'\"%@` "
        and not value.startswith(("- ", "? ", ": ", "---", "..."))
        and value not in ("-", "?", ":")
        and value[-1] not in " :"
        and ": " not in value
        and " #" not in value
        and _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) == _STR_TAG  # type: ignore[no-untyped-call]
    )
    return value if plain else "'" + value.replace("'", "''") + "'"


def _assert_written_by_the_rule(value: str) -> None:
    written = _written_by_the_rule(value)
    assert emit_yaml({"k": value}) == f"k: {written}\n"
    assert emit_yaml(["x", value]) == f"- x\n- {written}\n"
    if value not in ("", "k") and len(value.encode("utf-8", "surrogatepass")) <= 128:
        assert emit_yaml({"k": 1, value: 1}) == f"k: 1\n{written}: 1\n"  # "k" is one key


_LONG_ASCII = 'sum(rate(http_requests_total{job="api"}[5m])) / 60'  # 50 characters
_STYLE_CASES = [
    *"#,[]{}&*!|>'\"%@` -?:.~=<+",
    *["-x", "- x", "?x", "? x", ":x", ": x", "---x", "...x", ".x", "..", "-.inf", "-1"],
    *["yes", "No", "ON", "off", "y", "n", "true", "False", "null", "NULL", "~", "<<", "="],
    *["1e3", "1.0e+3", "0x1F", "0o17", "0b1", "1_000", "+1", ".5", "1:30", "2024-01-01"],
    *["a:", "a: b", "a:b", "a #b", "a#b", "a b#c", "trail ", "a'b", "'q'", "Service0001Down"],
    *["\u00a0nbsp", "é: x", "ünïcode", "a\u2028b", "\ufeffbom", "😀", "tab\there"],
    *[_LONG_ASCII + "x" * n for n in (13, 14, 15, 40)],  # about the writer's 64: long strings
    *[_LONG_ASCII + "x" * 20 + tail for tail in (":", " ", ": y", " #y", "#y", "'", "\x7f")],
    *[control + _LONG_ASCII * 2 for control in ("\x00", "\x1f", "\t", "\n", "\r", "\x7f")],
    *[_LONG_ASCII + control + _LONG_ASCII for control in ("\x01", "\x0b", "\x1e", "\x7f")],
    *["yes" + " " * 70, "1.5" + "0" * 70, "~" + "x" * 70, "#" + "x" * 70, "- " + "x" * 70],
]
_PIECES = [*_TRICKY, "\x00", "\x1f", "\x7f", "\r", ": ", " #", "#", " ", "'", "x" * 30, "y" * 61]
_STRINGS = st.lists(st.sampled_from(_PIECES) | st.text(_ANY_CHAR, max_size=3), max_size=8).map(
    "".join
) | st.text(st.characters(max_codepoint=0x7F), min_size=55, max_size=75)


@pytest.mark.parametrize("value", _STYLE_CASES)
def test_strings_are_written_as_the_rule_says(value: str) -> None:
    _assert_written_by_the_rule(value)


@_MANY
@given(_STRINGS)
def test_any_string_is_written_as_the_rule_says(value: str) -> None:
    _assert_written_by_the_rule(value)


def test_the_caches_stay_bounded_and_right(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = [
        {
            "record": f"r:{rule}",
            "expr": f'sum(x{{i="{rule}"}}) / {rule}',
            "labels": {f"l{rule % 7}": "yes" if rule % 2 else f"v: {rule}", "team": "a"},
        }
        for rule in range(40)
    ]
    document = {"groups": [{"name": f"g{group}", "rules": rules} for group in range(3)]}
    expected = emit_yaml(document)
    # Fresh caches, far too small: they are cleared many times within the document.
    monkeypatch.setattr(yaml_writer, "_strings", {})
    monkeypatch.setattr(yaml_writer, "_TOP", yaml_writer._Level(0))
    monkeypatch.setattr(yaml_writer, "_CACHED_STRINGS", 16)
    monkeypatch.setattr(yaml_writer, "_CACHED_KEYS", 3)
    for _ in range(2):
        assert emit_yaml(document) == expected
        assert len(yaml_writer._strings) <= 16
        level: yaml_writer._Level | None = yaml_writer._TOP
        while level is not None:
            assert len(level.heads) <= 3
            assert len(level.item_heads) <= 3
            level = level.inner
    _assert_round_trip(document)


# The writer's shortcut for a plain scalar's start (a first character in _PLAIN_FIRST, else
# the indicators and the implicit resolvers for that character) against the rule above:
# ASCII strings of every first character, then pieces that resolve or end a plain scalar.
_ASCII_STARTS = st.sampled_from([chr(code) for code in range(0x20, 0x7F)])
_RESOLVER_WORDS = ["yes", "No", "ON", "off", "y", "N", "True", "FALSE", "null", "NULL", "~"]
_ASCII_PIECES = [*_RESOLVER_WORDS, "0", "1", "5", "_", ".", "e", "-", "+", ":", " ", "#", "x"]
_ASCII_STRINGS = st.builds(
    lambda first, rest: first + "".join(rest),
    _ASCII_STARTS | st.sampled_from(["", *_RESOLVER_WORDS, "...", "---", "- ", "? ", ": "]),
    st.lists(st.sampled_from(_ASCII_PIECES) | st.text(_ASCII_STARTS, max_size=3), max_size=6),
)


def test_no_implicit_resolver_applies_to_any_first_character() -> None:
    # The writer looks at the resolvers for a string's first character only.
    assert None not in yaml_writer._RESOLVER.yaml_implicit_resolvers


@_MANY
@given(_ASCII_STRINGS)
def test_ascii_strings_are_written_as_the_rule_says(value: str) -> None:
    _assert_written_by_the_rule(value)


@pytest.mark.parametrize("first", [chr(code) for code in range(0x20, 0x7F)])
@pytest.mark.parametrize("rest", ["", "1", "x", "es", "rue", "ull", ".5", "_0", "1-01-01", " x"])
def test_every_ascii_first_character_is_written_as_the_rule_says(first: str, rest: str) -> None:
    _assert_written_by_the_rule(first + rest)
