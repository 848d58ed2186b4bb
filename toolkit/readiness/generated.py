"""The generated files as the static checks see them: where they are, how they were
generated, and whether one is what the catalog generates now."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

from toolkit.generate import GenerateOptions
from toolkit.readiness.checks import CheckSpec
from toolkit.readiness.model import Check

Expected: TypeAlias = Mapping[str, str] | str
"""What ``generate`` makes of the catalog (relative path -> text), or why it cannot."""


@dataclass(frozen=True)
class StaticOptions:
    """Where the generated files live, which promtool to run (``None``: not installed),
    and how they were generated: the options given to ``toolkit generate`` (dashboard
    mode, rule format, template overrides), so that they are compared with what the same
    options make."""

    generated_dir: Path
    promtool: str | None
    generation: GenerateOptions = field(default_factory=GenerateOptions)

    @classmethod
    def detect(
        cls, generated_dir: Path, generation: GenerateOptions | None = None
    ) -> StaticOptions:
        """Options with the promtool found on ``PATH``, if any."""
        return cls(generated_dir, shutil.which("promtool"), generation or GenerateOptions())


def read_text(path: Path) -> str | None:
    """The file's text, or ``None`` when it cannot be read as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def current(spec: CheckSpec, relative: str, text: str, expected: Expected) -> Check:
    """``spec`` passed when ``text`` is what the catalog generates at ``relative``."""
    if isinstance(expected, str):
        return spec.failed(f"cannot generate from the catalog: {expected}", "fix the catalog")
    if expected.get(relative) == text:
        return spec.passed(f"{relative} matches the catalog")
    return spec.failed(f"{relative} differs from what the catalog generates (stale)")


def not_found(
    out: Path, missing: str, option: str, wanted: str, other: str, other_file: str | None
) -> tuple[str, str | None]:
    """The reason (and fix) for files ``missing`` under ``out``: when ``other_file``,
    which ``--option other`` generates instead, is there, the reason names it and the
    fix names the option (the files were generated with the other value)."""
    reason = f"{missing} not found under {out}"
    if other_file is None or not (out / other_file).is_file():
        return reason, None
    return f"{reason}; {other_file} is", (
        f"check with the options the files were generated with (--{option} {other}), "
        f"or regenerate them with --{option} {wanted}"
    )
