"""Only the gate modules use non-public names of opentelemetry, prometheus_client and
structlog: an upgrade can break nothing else toolkit does with them."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

import pytest

TOOLKIT = Path(__file__).resolve().parent.parent / "toolkit"
LIBRARIES = ("opentelemetry", "prometheus_client", "structlog")
GATE_MODULES = frozenset(
    {
        "toolkit/tracing/_sdk_gate.py",
        "toolkit/metrics/_prometheus_gate.py",
        "toolkit/logs/_structlog_gate.py",
    }
)
# Modules of those libraries that are not public API although their names are.
NON_PUBLIC_MODULES = frozenset({"prometheus_client.values", "prometheus_client.mmap_dict"})
# Underscored names of the standard library that are its documented API.
STDLIB_PUBLIC = frozenset(
    {
        "_getframe",  # sys._getframe: a documented CPython function
        "_replace",  # namedtuple._replace / SplitResult._replace: documented methods
    }
)


def sources() -> list[Path]:
    """Every module of the package."""
    return sorted(TOOLKIT.rglob("*.py"))


def relative(path: Path) -> str:
    """``toolkit/...`` as the gate list spells it (a file elsewhere: its name)."""
    try:
        return path.relative_to(TOOLKIT.parent).as_posix()
    except ValueError:
        return path.name


def is_private(name: str) -> bool:
    """``_x`` but not ``__x__``."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@functools.cache
def own_private_names() -> frozenset[str]:
    """Every ``_name`` toolkit defines itself: attributes it assigns, slots, functions,
    classes and module variables, anywhere in the package but the gates (whose classes
    assign the libraries' own fields)."""
    names: set[str] = set()
    for path in sources():
        if relative(path) in GATE_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)  # __slots__ entries
    return frozenset(name for name in names if is_private(name))


@dataclass(frozen=True)
class Use:
    """A non-public name used at ``where``."""

    where: str
    what: str


def library(module: str | None) -> bool:
    """Whether ``module`` belongs to one of the gated libraries."""
    return module is not None and module.split(".")[0] in LIBRARIES


def non_public_uses(path: Path, own: frozenset[str]) -> list[Use]:
    """Imports of non-public library modules or names, and ``obj._x`` attribute reads
    whose ``_x`` toolkit never defines (so it can only be another library's)."""
    tree = ast.parse(path.read_text(), str(path))
    uses: list[Use] = []
    for node in ast.walk(tree):
        where = f"{relative(path)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and library(node.module):
            module = node.module or ""
            if any(is_private(part) for part in module.split(".")) or module in NON_PUBLIC_MODULES:
                uses.append(Use(where, f"from {module} import ..."))
            for alias in node.names:
                if is_private(alias.name) or f"{module}.{alias.name}" in NON_PUBLIC_MODULES:
                    uses.append(Use(where, f"from {module} import {alias.name}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if library(alias.name) and (
                    any(is_private(part) for part in parts) or alias.name in NON_PUBLIC_MODULES
                ):
                    uses.append(Use(where, f"import {alias.name}"))
        elif (
            isinstance(node, ast.Attribute)
            and is_private(node.attr)
            and node.attr not in own
            and node.attr not in STDLIB_PUBLIC
        ):
            uses.append(Use(where, f".{node.attr}"))
    return uses


def test_the_gate_modules_exist() -> None:
    """The list below names real files (a rename cannot silently empty the check)."""
    assert sorted(relative(p) for p in sources() if relative(p) in GATE_MODULES) == sorted(
        GATE_MODULES
    )


@pytest.mark.parametrize("path", sources(), ids=relative)
def test_no_non_public_library_name_outside_the_gates(path: Path) -> None:
    """Outside the three gate modules, toolkit uses only public names of the libraries."""
    if relative(path) in GATE_MODULES:
        pytest.skip("a gate module: its uses are checked by its own self-check")
    assert non_public_uses(path, own_private_names()) == []


def test_the_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The detector itself: each kind of non-public use is reported, toolkit's own
    private names are not."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from opentelemetry.sdk.trace import _Span\n"
        "from prometheus_client.mmap_dict import MmapedDict\n"
        "from prometheus_client import values\n"
        "import opentelemetry.sdk._shared_internal\n"
        "batch._queue\n"
        "self._telemetry\n"
    )
    found = non_public_uses(sample, frozenset({"_telemetry"}))
    assert [use.what for use in found] == [
        "from opentelemetry.sdk.trace import _Span",
        "from prometheus_client.mmap_dict import ...",
        "from prometheus_client import values",
        "import opentelemetry.sdk._shared_internal",
        "._queue",
    ]
