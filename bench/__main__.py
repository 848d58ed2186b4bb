"""``python -m bench [name ...]``: run the named benchmarks (default: all) and print figures."""

from __future__ import annotations

import importlib
import importlib.util
import sys

# name -> module with a ``main()``; a module that is not there (yet) is skipped.
BENCHMARKS = {
    "middleware": "bench.middleware",
    "generate": "bench.generate",
    "multiprocess": "bench.multiprocess",
    "e2e": "bench.e2e",
    "fleet": "bench.fleet",
}


def main(argv: list[str] | None = None) -> None:
    """Run each named benchmark in turn, or every one that exists."""
    names = (sys.argv[1:] if argv is None else argv) or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        raise SystemExit(
            f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}"
        )
    for name in names:
        module = BENCHMARKS[name]
        if importlib.util.find_spec(module) is None:
            print(f"[{name}] not available, skipped\n")
            continue
        print(f"[{name}]")
        importlib.import_module(module).main()
        print()


if __name__ == "__main__":
    main()
