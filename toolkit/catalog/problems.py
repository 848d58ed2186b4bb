"""What is wrong with a catalog: one :class:`Problem` per mistake, all raised together."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Line breaks and terminal control characters a key or value may carry into a message.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with line breaks and control characters escaped (``\\n``, ``\\x1b``)."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


@dataclass(frozen=True)
class Problem:
    """One mistake in a catalog file, located precisely enough to fix it without guessing.

    ``line`` and ``column`` are 1-based and ``None`` when the problem concerns the file as
    a whole (it cannot be read). ``path`` is the field path (``services[2].slo.window``),
    empty for the document itself. ``expected`` and ``found`` are set when the problem is a
    value of the wrong kind; ``message`` is always the complete sentence.
    """

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    expected: str | None = None
    found: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        location = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [location, self.path, self.message] if self.path else [location, self.message]
        text = ": ".join(parts)
        return one_line(f"{text} — {self.hint}" if self.hint else text)

    def sort_key(self) -> tuple[int, int, str, str, str]:
        """Order problems as they appear in the file."""
        return (self.line or 0, self.column or 0, self.path, self.message, self.hint or "")


class CatalogError(Exception):
    """A catalog could not be loaded; ``problems`` lists every reason, in file order.

    Problems of one file stay together (a catalog's dashboard overlay files are files of
    their own), the files in the order their first problem was given.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        given = list(problems)
        rank: dict[str, int] = {}
        for problem in given:
            rank.setdefault(problem.file, len(rank))
        self.problems: tuple[Problem, ...] = tuple(
            sorted(given, key=lambda problem: (rank[problem.file], problem.sort_key()))
        )
        if not self.problems:
            raise ValueError("CatalogError needs at least one problem")
        super().__init__("\n".join(str(problem) for problem in self.problems))
