"""Generator benchmark: a synthetic catalog of 1,000 services, planned, built and written.

Prints the CPU time of ``generate`` (the median of three rounds: the machine is shared,
and the wall clock also counts waiting) beside the floor: the time to serialise the same
documents with the fastest JSON encoder at hand (orjson, two-space indent: JSON is valid
YAML), the median of nine rounds (a round is a tenth of a second, and one slow round of
three would move the ratio by a tenth). The rounds of both are taken in turns, so that
the ratio compares them on the machine as it was at the same moments.
Targets: under 1 s, and at most 6 times the floor. It runs twice: with the default
install, and with the ``speedups`` extra (jsonschema-rs) when it is installed.
``python -m bench.generate`` runs it alone.
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import yaml

from toolkit.catalog.model import (
    SLO,
    Catalog,
    Duration,
    LatencySLO,
    PrometheusSelector,
    Service,
    Tier,
)
from toolkit.generate import generate
from toolkit.generate.pipeline import build_documents

SERVICES = 1_000
ROUNDS = 3
FLOOR_ROUNDS = 9
TARGET_SECONDS = 1.0
TARGET_FLOOR_RATIO = 6.0
# Run in a child process: the default install, without the speedups extra.
_DEFAULT_INSTALL = "--default-install"
_TIERS = (Tier.CRITICAL, Tier.STANDARD, Tier.EXPERIMENTAL)
_WINDOWS = (Duration("30d", 30 * 86_400), Duration("28d", 28 * 86_400), Duration("7d", 7 * 86_400))


def synthetic_catalog(count: int = SERVICES) -> Catalog:
    """``count`` services cycling through tiers, windows and with/without a latency SLO."""
    services = tuple(
        Service(
            name=f"service-{number:04d}",
            team=f"team-{number % 50:02d}",
            tier=_TIERS[number % 3],
            slo=SLO(
                availability=(99.9, 99.5, 99.0)[number % 3],
                window=_WINDOWS[number % 3],
                latency=None if number % 4 == 3 else LatencySLO(0.25, 99.0),
            ),
            prometheus=PrometheusSelector(f"service-{number:04d}", {"env": "production"}),
            address=f"service-{number:04d}.internal",
            runbook=f"https://runbooks.example.com/service-{number:04d}",
            alert_labels={"region": "eu-west"},
        )
        for number in range(count)
    )
    return Catalog(Path("synthetic.yaml"), services)


def _rule_count(text: str) -> int:
    return sum(len(group["rules"]) for group in yaml.safe_load(text)["groups"])


def _cpu(work: Callable[[], object]) -> tuple[object, float, float]:
    """``work()``, its CPU seconds and its wall seconds."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = work()
    # CPU time as well: on a busy machine the wall clock also counts time spent waiting.
    return result, time.process_time() - cpu_started, time.perf_counter() - started


def _write_json(documents: list[Any]) -> list[str]:
    return [orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() for document in documents]


def paired_rounds(catalog: Catalog) -> tuple[list[float], list[float], list[float]]:
    """CPU seconds of ``ROUNDS`` rounds of ``generate`` and of ``FLOOR_ROUNDS`` rounds of
    the floor, taken in turns (a round of generate, then its share of the floor's), so
    that both see the machine as it is at that moment: a shared host speeds up and
    slows down within seconds. Also the wall seconds of the generate rounds.

    The floor: the same documents written as text with the fastest JSON encoder at hand
    (orjson, two-space indent, as text: what ``generate`` returns; JSON is valid YAML).
    Each round of generate starts with the previous round's result freed (outside the
    timing), as a real run starts with nothing; the floor's documents are built once,
    untimed, before the first round.
    """
    documents = list(build_documents(catalog).values())
    # Kept through every round, and out of the garbage collector's sight (as if built in
    # another process): its passes during generate stay what they are in a real run.
    gc.freeze()
    toolkit, floor, walls = [], [], []
    held: list[object] = []
    try:
        for _ in range(ROUNDS):
            held.clear()
            result, cpu, wall = _cpu(lambda: generate(catalog))
            held.append(result)
            toolkit.append(cpu)
            walls.append(wall)
            for _ in range(FLOOR_ROUNDS // ROUNDS):
                written, cpu, _wall = _cpu(partial(_write_json, documents))
                floor.append(cpu)
                del written
    finally:
        gc.unfreeze()
    return toolkit, floor, walls


def measure(label: str) -> None:
    """Generate for the synthetic catalog and print the figures, as ``label``."""
    catalog = synthetic_catalog()
    generate(synthetic_catalog(3))  # warm the caches
    cpu_times, floor_times, walls = paired_rounds(catalog)
    cpu, floor, elapsed = (statistics.median(times) for times in (cpu_times, floor_times, walls))
    files = generate(catalog)
    ratio = cpu / floor
    met = cpu < TARGET_SECONDS and ratio <= TARGET_FLOOR_RATIO
    verdict = (
        "ok" if met else f"MISSED (< {TARGET_SECONDS:.0f} s, <= {TARGET_FLOOR_RATIO:g}x floor)"
    )
    print(
        f"generate ({label}): {SERVICES} services in {cpu:.2f} s CPU, {elapsed:.2f} s wall; "
        f"floor {floor:.2f} s, {ratio:.1f}x the floor ({verdict}); median of {ROUNDS} rounds, "
        f"CPU {min(cpu_times):.2f}-{max(cpu_times):.2f} s"
    )
    print(f"  serialisers: {serialisers()}")
    if label != "default install":
        return
    total = sum(len(text.encode()) for text in files.values())
    dashboards = [t for p, t in files.items() if p.startswith("dashboards/service-")]
    rules = [t for p, t in files.items() if p.endswith(".rules.yaml")]
    tests = [t for p, t in files.items() if p.endswith(".test.yaml")]
    rule_counts = [_rule_count(text) for text in rules]
    mean = sum(rule_counts) / len(rule_counts)
    print(f"  output: {len(files)} files, {total / 1e6:.1f} MB")
    print(
        f"  per service: dashboard {_kb(dashboards)} kB, rules {_kb(rules)} kB, "
        f"promtool tests {_kb(tests)} kB"
    )
    print(f"  rules per service: {min(rule_counts)} to {max(rule_counts)}, mean {mean:.1f}")
    print(f"  overview dashboard: {len(files['dashboards/overview.json']) / 1e3:.1f} kB")


def main() -> None:
    """The default install (in a child process without the extras), then with them."""
    if _DEFAULT_INSTALL in sys.argv:
        sys.modules["jsonschema_rs"] = None  # type: ignore[assignment]
        measure("default install")
        return
    subprocess.run([sys.executable, "-m", "bench.generate", _DEFAULT_INSTALL], check=True)
    try:
        import jsonschema_rs  # noqa: F401
    except ImportError:
        print("generate (speedups extra): not installed")
    else:
        measure("speedups extra")


def serialisers() -> str:
    """Which serialisers and schema check this run used."""
    try:
        import jsonschema_rs  # noqa: F401
    except ImportError:
        schema = "fastjsonschema"
    else:
        schema = "jsonschema-rs, fastjsonschema for the verdict on a failure"
    return f"JSON orjson, YAML toolkit's writer, dashboard schema (overlays only) {schema}"


def _kb(texts: list[str]) -> str:
    return f"{sum(len(text.encode()) for text in texts) / len(texts) / 1e3:.1f}"


if __name__ == "__main__":
    main()
