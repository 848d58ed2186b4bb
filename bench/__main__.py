"""``python -m bench``: run every benchmark and print its figures."""

from __future__ import annotations


def main() -> None:
    """Run the benchmarks in turn."""
    print("no benchmarks yet")


if __name__ == "__main__":
    main()
