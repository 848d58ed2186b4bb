"""Generator benchmark: a synthetic catalog of 1,000 services, rendered and validated.

Target: under 2 s on the development machine. Prints the time (CPU time of the median
of three rounds: the machine is shared, and the wall clock also counts waiting), the
output size and the rule count per service. ``python -m bench.generate`` runs it alone.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

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

SERVICES = 1_000
ROUNDS = 3
TARGET_SECONDS = 2.0
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


def main() -> None:
    """Generate for the synthetic catalog and print the figures."""
    catalog = synthetic_catalog()
    generate(synthetic_catalog(3))  # warm the template cache and the schema
    cpu_times, wall_times = [], []
    for _ in range(ROUNDS):
        started, cpu_started = time.perf_counter(), time.process_time()
        files = generate(catalog)
        wall_times.append(time.perf_counter() - started)
        # CPU time as well: on a busy machine the wall clock also counts time spent waiting.
        cpu_times.append(time.process_time() - cpu_started)
    cpu, elapsed = statistics.median(cpu_times), statistics.median(wall_times)
    total = sum(len(text.encode()) for text in files.values())
    dashboards = [t for p, t in files.items() if p.startswith("dashboards/service-")]
    rules = [t for p, t in files.items() if p.endswith(".rules.yaml")]
    tests = [t for p, t in files.items() if p.endswith(".test.yaml")]
    rule_counts = [_rule_count(text) for text in rules]
    verdict = "ok" if cpu < TARGET_SECONDS else f"SLOWER than the {TARGET_SECONDS:.0f} s target"
    mean = sum(rule_counts) / len(rule_counts)
    print(
        f"generate: {SERVICES} services in {cpu:.2f} s CPU, {elapsed:.2f} s wall ({verdict}); "
        f"median of {ROUNDS} rounds, CPU {min(cpu_times):.2f}-{max(cpu_times):.2f} s"
    )
    print(f"  serialisers: {serialisers()}")
    print(f"  output: {len(files)} files, {total / 1e6:.1f} MB")
    print(
        f"  per service: dashboard {_kb(dashboards)} kB, rules {_kb(rules)} kB, "
        f"promtool tests {_kb(tests)} kB"
    )
    print(f"  rules per service: {min(rule_counts)} to {max(rule_counts)}, mean {mean:.1f}")
    print(f"  overview dashboard: {len(files['dashboards/overview.json']) / 1e3:.1f} kB")


def serialisers() -> str:
    """Which optional compiled speedups this run used (orjson, libyaml, jsonschema-rs)."""
    try:
        import orjson  # noqa: F401
    except ImportError:
        json_writer = "json (orjson not installed)"
    else:
        json_writer = "orjson"
    libyaml = "libyaml" if getattr(yaml, "__with_libyaml__", False) else "pure-Python PyYAML"
    try:
        import jsonschema_rs  # noqa: F401
    except ImportError:
        schema = "fastjsonschema (jsonschema-rs not installed)"
    else:
        schema = "jsonschema-rs, fastjsonschema for the verdict on a failure"
    return f"JSON {json_writer}, YAML fallback and parse {libyaml}, dashboard schema {schema}"


def _kb(texts: list[str]) -> str:
    return f"{sum(len(text.encode()) for text in texts) / len(texts) / 1e3:.1f}"


if __name__ == "__main__":
    main()
