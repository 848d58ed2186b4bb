"""Rule evaluation at fleet scale: the generated rules in a real Prometheus over 30 days.

What it does, in order (``python -m bench fleet``; ``python -m bench.fleet --help``):

1. Writes a catalog of N services (default 5; ``BENCH_FLEET_SERVICES`` or ``--services``)
   shaped like real ones: availability 99.9 and latency (500ms, 99) objectives over 30d,
   each its own job; generates the rules with the CLI (``toolkit generate``).
2. Backfills the raw series (``bench._fleet_data``: per service 2 instances x 4 routes x
   3 statuses of the duration histogram, every ``le``, ``_count`` and ``_sum``, plus ``up``)
   for 30 days and 3 hours at a 30 s scrape, ending now: one OpenMetrics file per 54-hour
   block range (Prometheus' largest block at a retention of 23 to 67 days, 60 here;
   promtool parses a whole file once per block range it covers, so one range per file),
   imported by ``promtool tsdb create-blocks-from openmetrics`` two at a time while the
   next file is written. What time passed meanwhile is imported the same way just before
   Prometheus starts.
3. Starts Prometheus on that TSDB (127.0.0.1, a free port, retention 60d, the generated
   rule files, evaluation and scrape every 30 s). It scrapes an exporter in this process
   that serves each instance's series as the same function of time, so the raw series
   run on without a gap (and ``up`` is real).
4. Backfills the recorded series whose history rules read: the recording rules whose
   output some rule reads over a range (``name[...]``), and the recording rules those
   read in turn, evaluated over the whole history by ``promtool tsdb create-blocks-from
   rules`` against this Prometheus (up to the second it started), in passes: each pass
   reads only raw series and the output of earlier passes, and its blocks are moved into
   the TSDB and loaded before the next. Prometheus merges them into the raw blocks they
   overlap; the measurement starts once no block overlaps another. Rules that read each
   other's output cannot be backfilled: the report names them. With flat rules (every
   window read from raw series) there is nothing to backfill.
5. Once the TSDB is settled, runs every rule's expression once as an instant query (what
   the first evaluation after a start or a merge pays: cold pages, postings), then keeps
   every evaluation of every group that starts within a window of ``ROUNDS`` (3)
   intervals of the most frequent group and at least one interval of the least frequent
   (90 s for 30 s groups only; 5 min with a 5-minute group), reading ``evaluationTime``
   (the group's and each rule's) from ``/api/v1/rules``. Seconds of rule evaluation per
   minute = the sum over groups of the median evaluation time x 60 / the group's
   interval. Reported: that, per service, and x 1,000 (linear in services: every group
   belongs to one service); the share of each rule and of the longest range each rule
   reads; and Prometheus' CPU time over the window, net of its CPU time without rules
   (scrapes, the TSDB: 60 s at the end) and of answering this harness' API calls. The
   evaluation times are wall times: on a busy machine they include waiting for a CPU, so
   the load average is shown too. ``--linearity`` measures again on the same data with
   the rules of half the services (a configuration reload). ``--rules-template FILE``
   uses a rule file generated for one service named ``svc-0000`` for every service
   instead of what toolkit generates now: ``bench/fleet-flat-svc-0000.rules.yaml`` holds
   the flat rules from before the rule pyramid.

Everything lives in one temporary directory under ``/tmp`` (``BENCH_FLEET_KEEP=1`` keeps
it); Prometheus and the exporter are stopped whatever happens. Skipped, with the reason,
when ``prometheus`` or ``promtool`` is not installed.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import itertools
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bench._fleet_data import DAY, LE_TEXTS, ROUTES, STATUSES, Fleet, write_openmetrics
from toolkit.catalog.names import alert_name_prefix

SERVICES_ENV = "BENCH_FLEET_SERVICES"
KEEP_ENV = "BENCH_FLEET_KEEP"  # "1": keep the temporary directory (TSDB, rules, logs)
LINEARITY_ENV = "BENCH_FLEET_LINEARITY"  # "1": measure with half the services' rules too
TEMPLATE_ENV = "BENCH_FLEET_RULES_TEMPLATE"  # a rule file for svc-0000, copied per service
TEMPLATE_SERVICE = "svc-0000"
DEFAULT_SERVICES = 5
INSTANCES = 2
DAYS = 30
MARGIN = 3 * 3600  # history beyond the 30 days: ``offset 30d`` and the run's own length
STEP = 30  # scrape and evaluation interval, seconds
BLOCK = 54 * 3600  # promtool's --max-block-duration: one of Prometheus' block ranges
RETENTION = "60d"  # Prometheus' largest block at 60d is 54h: nothing left to compact
IMPORTERS = 2  # promtool imports at once (each file is also written meanwhile)
ROUNDS = 3  # evaluations of the most frequent groups to measure
FLEET = 1_000
TARGET = 60.0  # seconds of rule evaluation per minute for FLEET services: one core
START_SECONDS = 120.0
SETTLE_SECONDS = 1800.0
IDLE_SECONDS = 60.0
POLL_SECONDS = 10.0  # /api/v1/rules costs Prometheus CPU too: not too often
POLL_COST_CALLS = 10
HOST = "127.0.0.1"
BYTES_PER_SAMPLE = 210  # OpenMetrics text, for the disk-space check
_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")
_RANGE = re.compile(r"\[((?:\d+(?:ms|[smhdwy]))+)(?::[^\]]*)?\]")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY, "y": 365 * DAY}
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


# --- Pure helpers (tests/test_bench_fleet.py) ----------------------------------------------


def block_ranges(start: int, end: int, block: int, step: int) -> list[tuple[int, int]]:
    """Split the samples ``start, start + step, ..., end`` (unix seconds, on the step grid)
    at multiples of ``block``: one (first, last) sample time per block range."""
    ranges = []
    first = start
    while first <= end:
        boundary = (first // block + 1) * block
        last = min(end, first + (boundary - first - 1) // step * step)
        ranges.append((first, last))
        first = last + step
    return ranges


def duration_seconds(text: str) -> float:
    """A PromQL duration (``30d``, ``1h30m``) in seconds."""
    return sum(
        float(number) * _UNITS[unit] for number, unit in re.findall(r"(\d+)(ms|[smhdwy])", text)
    )


def longest_range(expr: str) -> str | None:
    """The longest range (``[30d]``, or a subquery's ``[30d:5m]``) an expression reads."""
    found = _RANGE.findall(expr)
    return max(found, key=duration_seconds) if found else None


_MATCHER = re.compile(r'([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def reads(expr: str, name: str) -> list[tuple[list[tuple[str, str, str]], bool]]:
    """Where ``expr`` reads the series ``name``: each selector's label matchers, and
    whether it is read over a range (``name{...}[...]``)."""
    found = []
    pattern = rf"(?<![\w:]){re.escape(name)}(?![\w:])\s*(\{{[^}}]*\}})?(\s*\[)?"
    for match in re.finditer(pattern, expr):
        matchers = _MATCHER.findall(match.group(1) or "")
        found.append(([(label, op, value) for label, op, value in matchers], bool(match.group(2))))
    return found


def _selects(labels: Mapping[str, str], matchers: Sequence[tuple[str, str, str]]) -> bool:
    """Whether a selector may select a rule's output, given the labels the rule sets (a
    label the rule leaves to its expression may match anything)."""
    for label, op, value in matchers:
        if label not in labels:
            continue
        actual = str(labels[label])
        equal = actual == value if op in ("=", "!=") else re.fullmatch(value, actual) is not None
        if equal != (op in ("=", "=~")):
            return False
    return True


@dataclass(frozen=True)
class Backfill:
    """What ``promtool tsdb create-blocks-from rules`` gets, pass by pass: each pass's
    rules read only raw series and the series of earlier passes."""

    passes: list[list[dict[str, Any]]]  # per pass, rule-file groups: name, interval, rules
    names: list[str]  # the recorded names it fills in
    blocked: list[str]  # needed, but their rules read each other (or themselves)

    def rules(self, upto: int | None = None) -> list[dict[str, Any]]:
        """The rules of the passes before ``upto`` (every pass by default)."""
        return [
            rule for groups in self.passes[:upto] for group in groups for rule in group["rules"]
        ]


def backfill_plan(groups: Sequence[Mapping[str, Any]]) -> Backfill:
    """The recording rules whose history some rule reads: those read over a range
    (``name[...]``), and every recording rule they read in turn; in passes, each reading
    only raw series and the output of earlier passes."""
    rules = [
        (number, position, rule)
        for number, group in enumerate(groups)
        for position, rule in enumerate(group["rules"])
    ]
    recording = {(number, position): rule for number, position, rule in rules if "record" in rule}
    names = {rule["record"] for rule in recording.values()}

    def selected(expr: str, *, ranged_only: bool) -> set[tuple[int, int]]:
        found = set()
        for name in names:
            for matchers, ranged in reads(expr, name):
                if ranged or not ranged_only:
                    found |= {
                        key
                        for key, rule in recording.items()
                        if rule["record"] == name and _selects(rule.get("labels") or {}, matchers)
                    }
        return found

    needed: set[tuple[int, int]] = set()
    for _, _, rule in rules:
        needed |= selected(rule["expr"], ranged_only=True)
    depends = {key: selected(rule["expr"], ranged_only=False) for key, rule in recording.items()}
    todo = list(needed)
    while todo:
        for key in depends[todo.pop()] - needed:
            needed.add(key)
            todo.append(key)
    passes, done, left = [], set(), set(needed)
    while left:
        ready = {key for key in left if depends[key] <= done}
        if not ready:
            break
        pass_groups = []
        for number, group in enumerate(groups):
            keep = [recording[key] for key in sorted(ready) if key[0] == number]
            if keep:
                entry = {"name": group["name"], "rules": keep}
                if "interval" in group:
                    entry["interval"] = group["interval"]
                pass_groups.append(entry)
        passes.append(pass_groups)
        done |= ready
        left -= ready
    return Backfill(
        passes,
        sorted({recording[key]["record"] for key in done}),
        sorted({recording[key]["record"] for key in left}),
    )


def cost_per_minute(
    evaluations: Mapping[str, Sequence[float]],
    intervals: Mapping[str, float],
    pick: Callable[[Sequence[float]], float] = statistics.median,
) -> float:
    """Seconds of rule evaluation per minute: the sum over groups of ``pick`` (the
    median) of the group's evaluation times x 60 / its interval."""
    return sum(
        pick(times) * 60.0 / intervals[group] for group, times in evaluations.items() if times
    )


def window_seconds(intervals: Sequence[float], rounds: int) -> float:
    """How long to measure: ``rounds`` evaluations of the most frequent group, and at
    least one of the least frequent, in whole intervals of the latter."""
    longest = max(intervals)
    return math.ceil(max(rounds * min(intervals), longest) / longest) * longest


def extrapolate(seconds_per_minute: float, services: int, fleet: int = FLEET) -> float:
    """Linear in services: the cost per service x ``fleet``."""
    return seconds_per_minute / services * fleet


# --- Catalog and rules ---------------------------------------------------------------------


def service_names(count: int) -> list[str]:
    """The services' names (each also its job)."""
    return [f"svc-{number:04d}" for number in range(count)]


def catalog_text(names: Sequence[str]) -> str:
    """A catalog of ``names``: the objectives of a typical critical service."""
    lines = ["version: 1", "services:"]
    for number, name in enumerate(names):
        lines += [
            f"  - name: {name}",
            f"    team: team-{number % 10:02d}",
            "    tier: critical",
            "    slo:",
            "      availability: 99.9",
            "      window: 30d",
            "      latency: {threshold: 500ms, target: 99}",
            f"    runbook: https://runbooks.example.com/{name}",
            "    prometheus:",
            f"      job: {name}",
        ]
    return "\n".join(lines) + "\n"


def generate_rules(names: Sequence[str], work: Path) -> list[Path]:
    """Generate everything for the catalog with the CLI; the rule files, by service."""
    catalog = work / "fleet.yaml"
    catalog.write_text(catalog_text(names))
    out = work / "generated"
    subprocess.run(
        [sys.executable, "-m", "toolkit", "generate", str(catalog), "--out", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    files = sorted(out.rglob("*.rules.yaml"))
    if len(files) != len(names):
        raise SystemExit(f"expected {len(names)} rule files, got {len(files)} in {out}")
    return files


# --- Raw backfill ---------------------------------------------------------------------------


def _promtool_import(path: Path, tsdb: Path) -> None:
    """Import one OpenMetrics file into blocks, move them into ``tsdb``, delete the file."""
    out = path.with_suffix(".blocks")
    out.mkdir()
    result = subprocess.run(
        [
            "promtool",
            "tsdb",
            "create-blocks-from",
            f"--max-block-duration={BLOCK // 3600}h",
            "openmetrics",
            "-q",
            str(path),
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"promtool import of {path.name} failed: {result.stderr[-2000:]}")
    _move_blocks(out, tsdb)
    path.unlink()
    shutil.rmtree(out)


def _move_blocks(source: Path, tsdb: Path) -> list[Path]:
    moved = []
    for block in sorted(source.iterdir()):
        if _ULID.match(block.name) and (block / "meta.json").exists():
            moved.append(block.rename(tsdb / block.name))
    return moved


def import_raw(fleet: Fleet, ranges: Sequence[tuple[int, int]], tsdb: Path, work: Path) -> int:
    """Write and import one file per block range, ``IMPORTERS`` imports at a time while
    the next file is written; return the number of samples."""
    samples = 0
    pending: deque[Future[None]] = deque()
    with ThreadPoolExecutor(max_workers=IMPORTERS) as pool:
        try:
            for number, (first, last) in enumerate(ranges):
                while len(pending) >= IMPORTERS:
                    pending.popleft().result()
                path = work / f"raw-{first}.om"
                with path.open("w", buffering=1 << 20) as out:
                    samples += write_openmetrics(out, fleet, first, last, STEP)
                pending.append(pool.submit(_promtool_import, path, tsdb))
                _progress(f"raw backfill: {number + 1}/{len(ranges)} files written")
            while pending:
                pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
    return samples


def _check_disk(work: Path, samples_per_file: int) -> None:
    needed = (IMPORTERS + 1) * samples_per_file * BYTES_PER_SAMPLE
    free = shutil.disk_usage(work).free
    if needed > free * 0.8:
        raise SystemExit(
            f"not enough disk in {work}: ~ {needed / 1e9:.0f} GB of OpenMetrics text at once, "
            f"{free / 1e9:.0f} GB free; use fewer services"
        )


# --- The exporter ---------------------------------------------------------------------------


@contextlib.contextmanager
def exporter(fleet: Fleet) -> Iterator[int]:
    """Serve each target's series at ``/<job>/<index>`` on 127.0.0.1; yield the port."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            if len(parts) != 2 or parts[0] not in fleet.jobs or not parts[1].isdigit():
                self.send_error(404)
                return
            body = fleet.exposition(parts[0], int(parts[1]), time.time()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


# --- Prometheus -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def write_config(path: Path, fleet: Fleet, exporter_port: int, rule_files: Sequence[Path]) -> None:
    """Prometheus' configuration: the rule files, one scrape target per instance."""
    targets = [
        {
            "targets": [f"{HOST}:{exporter_port}"],
            "labels": {
                "job": job,
                "instance": fleet.instance(job, index),
                "__metrics_path__": f"/{job}/{index}",
            },
        }
        for job, index in fleet.targets()
    ]
    config = {
        "global": {
            "scrape_interval": f"{STEP}s",
            "scrape_timeout": "10s",
            "evaluation_interval": f"{STEP}s",
        },
        "rule_files": [str(file) for file in rule_files],
        "scrape_configs": [{"job_name": "fleet", "static_configs": targets}],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))


@dataclass
class Prometheus:
    """A running Prometheus: its API's base URL and its process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str, timeout: float = 30.0) -> Any:
        """GET ``path`` of the API, the JSON ``data``."""
        with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
            return json.load(response)["data"]

    def metric(self, name: str) -> float:
        """The value of an unlabelled metric of Prometheus' own ``/metrics``."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=30) as response:
            for line in response.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
        raise KeyError(name)

    def reload(self) -> None:
        """Re-read the configuration (``/-/reload``)."""
        request = urllib.request.Request(self.url + "/-/reload", method="POST")
        urllib.request.urlopen(request, timeout=60).close()

    def cpu_seconds(self) -> float:
        """The process' user + system CPU time."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def prometheus(config: Path, tsdb: Path, log: Path) -> Iterator[Prometheus]:
    """Run Prometheus until the block ends (SIGTERM, SIGKILL after 30 s)."""
    port = _free_port()
    command = [
        "prometheus",
        f"--config.file={config}",
        f"--storage.tsdb.path={tsdb}",
        f"--storage.tsdb.retention.time={RETENTION}",
        f"--web.listen-address={HOST}:{port}",
        "--web.enable-lifecycle",
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    running = Prometheus(f"http://{HOST}:{port}", process, log)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {_tail(log)}")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(running.url + "/-/ready", timeout=5).close()
                break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"prometheus not ready after {START_SECONDS:.0f} s: {_tail(log)}"
                )
            time.sleep(0.5)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def backfill_rules(
    groups: list[dict[str, Any]],
    server: Prometheus,
    start: int,
    end: int,
    work: Path,
    tsdb: Path,
    number: int,
) -> int:
    """Evaluate one pass of recording rules over [start, end] into blocks, move them into
    ``tsdb``; return the number of samples written."""
    rules = work / f"backfill-{number}.rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    out = work / f"backfill-{number}.blocks"
    out.mkdir()
    result = subprocess.run(
        [
            "promtool",
            "tsdb",
            "create-blocks-from",
            f"--max-block-duration={BLOCK // 3600}h",
            "rules",
            f"--url={server.url}",
            f"--start={start}",
            f"--end={end}",
            f"--eval-interval={STEP}s",
            f"--output-dir={out}",
            str(rules),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"promtool rules backfill failed: {result.stderr[-2000:]}")
    samples = sum(
        json.loads((block / "meta.json").read_text())["stats"].get("numSamples", 0)
        for block in out.iterdir()
        if (block / "meta.json").exists()
    )
    _move_blocks(out, tsdb)
    return samples


def wait_visible(server: Prometheus, rules: Sequence[Mapping[str, Any]], at: int) -> None:
    """Wait until Prometheus has loaded the backfilled blocks (it looks for new ones once
    a minute): until a query at ``at``, long before it started, sees a series per rule."""
    names = "|".join(sorted({re.escape(rule["record"]) for rule in rules}))
    query = f'count(last_over_time({{__name__=~"{names}"}}[1h]))'
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        body = urllib.parse.urlencode({"query": query, "time": str(at)}).encode()
        request = urllib.request.Request(server.url + "/api/v1/query", data=body)
        with urllib.request.urlopen(request, timeout=60) as response:
            result = json.load(response)["data"]["result"]
        if result and float(result[0]["value"][1]) >= len(rules):
            return
        time.sleep(POLL_SECONDS)
    _progress("the backfilled series are not all visible after 180 s: going on")


def _blocks(tsdb: Path) -> list[tuple[int, int]]:
    found = []
    for block in tsdb.iterdir():
        meta = block / "meta.json"
        if _ULID.match(block.name) and meta.exists():
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(meta.read_text())
                found.append((int(data["minTime"]), int(data["maxTime"])))
    return sorted(found)


def settle(server: Prometheus, tsdb: Path) -> float:
    """Wait until Prometheus has loaded every block on disk and none overlaps another
    (vertical compaction is over); return the seconds waited."""
    started = time.monotonic()
    while True:
        blocks = _blocks(tsdb)
        overlapping = any(a[1] > b[0] for a, b in itertools.pairwise(blocks))
        with contextlib.suppress(OSError, KeyError):
            loaded = server.metric("prometheus_tsdb_blocks_loaded")
            if not overlapping and loaded == len(blocks):
                return time.monotonic() - started
        if server.process.poll() is not None:
            raise RuntimeError(f"prometheus exited: {_tail(server.log)}")
        if time.monotonic() - started > SETTLE_SECONDS:
            raise RuntimeError(f"the TSDB did not settle in {SETTLE_SECONDS:.0f} s")
        time.sleep(2)


# --- Rounds ---------------------------------------------------------------------------------


def _unix(text: str) -> float:
    match = _TIMESTAMP.match(text)
    if match is None:
        raise ValueError(f"not a timestamp: {text}")
    whole, fraction, zone = match.groups()
    zone = "+00:00" if zone == "Z" else zone
    return datetime.fromisoformat(whole + zone).timestamp() + float(f"0.{fraction or 0}")


RuleKey = tuple[str, str]  # (group kind, rule kind)


@dataclass
class Measurement:
    """The evaluations of every group in the window, and Prometheus' CPU time."""

    services: int
    window: float = 0.0
    groups: dict[str, list[float]] = field(default_factory=dict)  # key -> evaluation times
    intervals: dict[str, float] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # group key -> group kind
    rules: dict[str, dict[RuleKey, list[float]]] = field(default_factory=dict)
    ranges: dict[RuleKey, str] = field(default_factory=dict)  # rule -> longest range read
    cpu_per_minute: float = 0.0
    harness_cpu: float = 0.0  # of cpu_per_minute: serving this harness' API calls
    load: float = 0.0  # the machine's 1-minute load average at the end of the window

    def total(self, pick: Callable[[Sequence[float]], float] = statistics.median) -> float:
        """Seconds of rule evaluation per minute."""
        return cost_per_minute(self.groups, self.intervals, pick)

    def per_rule(self) -> dict[RuleKey, float]:
        """Each rule kind's seconds per minute: the sum over groups of its median."""
        found: dict[RuleKey, float] = defaultdict(float)
        for key, rules in self.rules.items():
            for rule, times in rules.items():
                found[rule] += statistics.median(times) * 60.0 / self.intervals[key]
        return found


def _rule_kind(rule: Mapping[str, Any], service: str) -> str:
    if rule["type"] == "recording":
        slo = rule.get("labels", {}).get("slo")
        return f"{rule['name']}{{slo={slo}}}" if slo else rule["name"]
    name = str(rule["name"])
    prefix = alert_name_prefix(service)
    if name.startswith(prefix):
        name = "<Service>" + name[len(prefix) :]
    return f"alert {name}"


def _our_groups(server: Prometheus, services: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    by_file = {f"{name}.rules.yaml": name for name in services}
    return [
        (by_file[Path(group["file"]).name], group)
        for group in server.get("/api/v1/rules")["groups"]
        if Path(group["file"]).name in by_file
    ]


def warm_up(server: Prometheus, services: Sequence[str]) -> None:
    """Run every rule's expression once as an instant query: what the first evaluation
    after a start or a merge would pay (cold pages, postings), paid outside the window."""
    for _, group in _our_groups(server, services):
        for rule in group["rules"]:
            body = urllib.parse.urlencode({"query": rule["query"]}).encode()
            request = urllib.request.Request(server.url + "/api/v1/query", data=body)
            urllib.request.urlopen(request, timeout=600).close()


def measure(server: Prometheus, services: Sequence[str], rounds: int) -> Measurement:
    """Warm up, then keep every evaluation of the services' groups that starts in the
    window (see ``window_seconds``), and Prometheus' CPU time over the window."""
    result = Measurement(len(services))
    for service, group in _our_groups(server, services):
        key = f"{group['file']}::{group['name']}"
        result.intervals[key] = float(group["interval"])
        result.kinds[key] = group["name"].replace(service, "<service>")
        result.groups[key] = []
        result.rules[key] = defaultdict(list)
    if not result.groups:
        raise RuntimeError(f"Prometheus has no rule group of {', '.join(services)}")
    warm_up(server, services)
    result.window = window_seconds(list(result.intervals.values()), rounds)
    expected = {key: round(result.window / interval) for key, interval in result.intervals.items()}
    seen = {
        f"{group['file']}::{group['name']}": group["lastEvaluation"]
        for _, group in _our_groups(server, services)
    }
    ready, cpu_start = time.time(), server.cpu_seconds()
    cpu_end: float | None = None
    polls = 0
    while True:
        time.sleep(POLL_SECONDS)
        now = time.time()
        if cpu_end is None and now >= ready + result.window:
            cpu_end = server.cpu_seconds()
            # Net of this harness' own calls: what as many calls cost, measured back to back.
            calls_start = server.cpu_seconds()
            for _ in range(POLL_COST_CALLS):
                _our_groups(server, services)
            per_call = (server.cpu_seconds() - calls_start) / POLL_COST_CALLS
            result.harness_cpu = polls * per_call * 60.0 / (now - ready)
            result.cpu_per_minute = (cpu_end - cpu_start) * 60.0 / (now - ready)
            result.load = os.getloadavg()[0]
        polls += 1
        for service, group in _our_groups(server, services):
            key = f"{group['file']}::{group['name']}"
            stamp = group["lastEvaluation"]
            if key not in seen or stamp == seen[key]:
                continue
            seen[key] = stamp
            if not ready <= _unix(stamp) < ready + result.window:
                continue
            result.groups[key].append(float(group["evaluationTime"]))
            for rule in group["rules"]:
                rule_key = (result.kinds[key], _rule_kind(rule, service))
                result.ranges[rule_key] = longest_range(rule["query"]) or "-"
                result.rules[key][rule_key].append(float(rule["evaluationTime"]))
        complete = all(len(result.groups[key]) >= count for key, count in expected.items())
        if cpu_end is not None and (complete or now > ready + result.window + 120):
            return result


def idle_cpu(server: Prometheus, config: Path, fleet: Fleet, exporter_port: int) -> float:
    """Prometheus' CPU seconds per minute without rules (scrapes, the TSDB), over
    ``IDLE_SECONDS``: what its CPU time with rules is net of."""
    write_config(config, fleet, exporter_port, [])
    server.reload()
    time.sleep(5)
    started, cpu_start = time.monotonic(), server.cpu_seconds()
    time.sleep(IDLE_SECONDS)
    return (server.cpu_seconds() - cpu_start) * 60.0 / (time.monotonic() - started)


# --- The run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What to run."""

    services: int = DEFAULT_SERVICES
    days: int = DAYS
    rounds: int = ROUNDS
    linearity: bool = False
    rules_template: Path | None = None
    keep: bool = False


def settings_from(argv: Sequence[str] | None) -> Settings:
    """The settings: the environment, then the command line (``python -m bench.fleet``)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.fleet", description=(__doc__ or "").split("\n")[0]
    )
    env = os.environ.get
    parser.add_argument(
        "--services",
        type=int,
        default=int(env(SERVICES_ENV, DEFAULT_SERVICES)),
        help=f"services in the catalog (default {DEFAULT_SERVICES}, or ${SERVICES_ENV})",
    )
    parser.add_argument("--days", type=int, default=DAYS, help="history to backfill, in days")
    parser.add_argument(
        "--rounds",
        type=int,
        default=ROUNDS,
        help="evaluations of the most frequent groups to measure (the window is at least "
        "one interval of the least frequent)",
    )
    parser.add_argument(
        "--linearity",
        action="store_true",
        default=env(LINEARITY_ENV) == "1",
        help="measure again with the rules of half the services, on the same data",
    )
    parser.add_argument(
        "--rules-template",
        type=Path,
        default=env(TEMPLATE_ENV) or None,
        help="use this rule file, generated for one service named svc-0000, for every "
        "service (the name replaced) instead of what toolkit generates now",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        default=env(KEEP_ENV) == "1",
        help="keep the temporary directory (TSDB, rules, Prometheus log)",
    )
    args = parser.parse_args(list(argv or []))
    if min(args.services, args.days, args.rounds) < 1:
        parser.error("--services, --days and --rounds must be at least 1")
    return Settings(
        args.services,
        args.days,
        args.rounds,
        args.linearity and args.services > 1,
        args.rules_template,
        args.keep,
    )


def rules_from_template(template: Path, names: Sequence[str], work: Path) -> list[Path]:
    """The template (rules generated for ``svc-0000``) copied for each service."""
    text = template.read_text()
    out = work / "template-rules"
    out.mkdir()
    files = []
    for name in names:
        path = out / f"{name}.rules.yaml"
        path.write_text(
            text.replace(TEMPLATE_SERVICE, name).replace(
                alert_name_prefix(TEMPLATE_SERVICE), alert_name_prefix(name)
            )
        )
        files.append(path)
    return files


_STARTED = time.monotonic()


def _progress(text: str) -> None:
    print(f"  ... {time.monotonic() - _STARTED:5.0f} s  {text}", file=sys.stderr, flush=True)


@dataclass
class Run:
    """What a run did, for the report."""

    settings: Settings
    fleet: Fleet
    rules: str = "generated by toolkit"
    samples: int = 0
    raw_blocks: int = 0
    backfill: Backfill = field(default_factory=lambda: Backfill([], [], []))
    recorded: int = 0
    measurements: list[Measurement] = field(default_factory=list)
    idle_cpu: float = 0.0  # Prometheus' CPU seconds per minute without rules
    phases: dict[str, float] = field(default_factory=dict)


def run(settings: Settings, work: Path) -> Run:
    """Everything, in ``work``."""
    began = time.monotonic()
    names = service_names(settings.services)
    end = int(time.time()) // STEP * STEP
    start = end - settings.days * DAY - MARGIN
    done = Run(settings, Fleet(tuple(names), INSTANCES, origin=start - DAY))
    if settings.rules_template is not None:
        rule_files = rules_from_template(settings.rules_template, names, work)
        done.rules = f"from {settings.rules_template}"
    else:
        rule_files = generate_rules(names, work)
    groups = [
        group
        for path in rule_files
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups") or []
    ]
    done.backfill = backfill_plan(groups)

    tsdb = work / "tsdb"
    tsdb.mkdir()
    ranges = block_ranges(start, end, BLOCK, STEP)
    per_file = max(last - first for first, last in ranges) // STEP + 1
    _check_disk(work, per_file * done.fleet.series_per_service() * settings.services)
    mark = time.monotonic()
    done.samples = import_raw(done.fleet, ranges, tsdb, work)
    # The time that passed meanwhile, so that the raw series reach the first scrape.
    now = int(time.time()) // STEP * STEP
    if now > end:
        done.samples += import_raw(
            done.fleet, block_ranges(end + STEP, now, BLOCK, STEP), tsdb, work
        )
    done.phases["raw backfill"] = time.monotonic() - mark
    done.raw_blocks = len(_blocks(tsdb))

    with exporter(done.fleet) as exporter_port:
        config = work / "prometheus.yaml"
        write_config(config, done.fleet, exporter_port, rule_files)
        launched = int(time.time())
        with prometheus(config, tsdb, work / "prometheus.log") as server:
            mark = time.monotonic()
            first, last = start + 3600, launched - 1
            for number, groups_of_pass in enumerate(done.backfill.passes):
                if number:
                    wait_visible(server, done.backfill.rules(number), first + 3600)
                names_of_pass = sorted(
                    {rule["record"] for g in groups_of_pass for rule in g["rules"]}
                )
                _progress(f"backfilling pass {number + 1}: {', '.join(names_of_pass)}")
                done.recorded += backfill_rules(
                    groups_of_pass, server, first, last, work, tsdb, number
                )
            done.phases["recorded backfill"] = time.monotonic() - mark
            mark = time.monotonic()
            _progress("waiting for Prometheus to load the blocks and merge overlapping ones")
            settle(server, tsdb)
            done.phases["block merge"] = time.monotonic() - mark
            mark = time.monotonic()
            _progress(f"measuring the rules of {len(names)} services")
            done.measurements.append(measure(server, names, settings.rounds))
            if settings.linearity:
                # Fewer groups on the same data: the removed ones stop, the others go on.
                half = names[: len(names) // 2]
                write_config(config, done.fleet, exporter_port, rule_files[: len(half)])
                server.reload()
                _progress(f"measuring the rules of {len(half)} services")
                done.measurements.append(measure(server, half, settings.rounds))
            _progress("measuring Prometheus' CPU time without rules")
            done.idle_cpu = idle_cpu(server, config, done.fleet, exporter_port)
            done.phases["rounds"] = time.monotonic() - mark
    done.phases["total"] = time.monotonic() - began
    return done


def report(done: Run) -> None:
    """Print the figures."""
    fleet, full = done.fleet, done.measurements[0]
    count = full.services
    labelsets = len(ROUTES) * len(STATUSES)
    print(
        f"fleet: {count} services x {fleet.series_per_service()} series ({fleet.instances} "
        f"instances x {labelsets} route/status label sets x {len(LE_TEXTS) + 2} histogram "
        f"series, + up), {done.settings.days} days + {MARGIN // 3600} h at a {STEP} s scrape; "
        f"rules {done.rules}"
    )
    print(
        f"  raw backfill: {done.samples / 1e6:.1f} M samples in {done.raw_blocks} blocks "
        f"(promtool openmetrics, {BLOCK // 3600} h blocks)"
    )
    if done.backfill.passes:
        print(
            f"  recorded backfill (promtool rules, {len(done.backfill.passes)} passes): "
            f"{', '.join(done.backfill.names)}: {done.recorded / 1e6:.2f} M samples"
        )
    else:
        print("  recorded backfill: none (no rule reads a recorded series over a range)")
    if done.backfill.blocked:
        print(
            "  NOT backfilled (their rules read each other's output): "
            + ", ".join(done.backfill.blocked)
        )
    kinds: dict[str, list[str]] = defaultdict(list)
    for key, kind in full.kinds.items():
        kinds[kind].append(key)
    for kind, keys in sorted(kinds.items()):
        interval = full.intervals[keys[0]]
        share = cost_per_minute({key: full.groups[key] for key in keys}, full.intervals)
        counts = sorted({len(full.groups[key]) for key in keys})
        print(
            f"  group {kind} (every {interval:g} s): {share:.3f} s per minute for {len(keys)} "
            f"groups, {share / len(keys):.4f} per service "
            f"(median of {'/'.join(map(str, counts))} "
            f"evaluation{'' if counts == [1] else 's'} each)"
        )
    total = full.total()
    print(
        f"  rule evaluation by evaluation times: {total:.3f} s per minute for {count} "
        f"services, {total / count:.4f} per service (each group's median over a "
        f"{full.window:g} s window; all fastest to all slowest "
        f"{full.total(min):.3f}-{full.total(max):.3f})"
    )
    net = full.cpu_per_minute - full.harness_cpu - done.idle_cpu
    print(
        f"  rule evaluation by Prometheus' CPU time: {net:.3f} s per minute "
        f"({full.cpu_per_minute:.3f} with the rules, of which {full.harness_cpu:.3f} "
        f"answering this harness; {done.idle_cpu:.3f} without rules), "
        f"{net / count:.4f} per service; load average {full.load:.1f} on "
        f"{os.cpu_count()} CPUs"
        + (" (a busy machine: evaluation times include waiting)" if full.load > 1.5 else "")
    )
    for partial in done.measurements[1:]:
        part = partial.total()
        part_cpu = partial.cpu_per_minute - partial.harness_cpu - done.idle_cpu
        print(
            f"  linearity, per service: {partial.services} services {part / partial.services:.4f} "
            f"s per minute by evaluation times, "
            f"{part_cpu / partial.services:.4f} by CPU; "
            f"{count} services {total / count:.4f} and {net / count:.4f}"
        )
    by_times, by_cpu = extrapolate(total, count), extrapolate(net, count)
    verdicts = {
        "evaluation times": by_times <= TARGET,
        "CPU": by_cpu <= TARGET,
    }
    verdict = (
        "met"
        if all(verdicts.values())
        else "MISSED"
        if not any(verdicts.values())
        else "met by "
        + " and ".join(name for name, ok in verdicts.items() if ok)
        + ", MISSED by "
        + " and ".join(name for name, ok in verdicts.items() if not ok)
    )
    print(
        f"  {FLEET:,} services (linear in services: the cost per service x {FLEET:,}): "
        f"{by_times:,.1f} s per minute by evaluation times, {by_cpu:,.1f} by CPU "
        f"({by_cpu / 60:.2f} cores); target <= {TARGET:.0f} s: {verdict}"
    )
    per_rule = full.per_rule()
    rule_total = sum(per_rule.values()) or 1.0
    by_range: dict[str, float] = defaultdict(float)
    for key, seconds in per_rule.items():
        by_range[full.ranges.get(key, "-")] += seconds
    print(
        "  share by the longest range a rule reads: "
        + ", ".join(
            f"[{window}] {seconds / rule_total:.0%}"
            for window, seconds in sorted(by_range.items(), key=lambda item: -item[1])
        )
    )
    print("  top rules (share of the rules' evaluation time):")
    for (kind, rule), seconds in sorted(per_rule.items(), key=lambda item: -item[1])[:8]:
        window = full.ranges.get((kind, rule), "-")
        print(f"    {seconds / rule_total:6.1%}  {kind}: {rule} [{window}]")
    print(
        "  runtime: "
        + ", ".join(f"{name} {seconds / 60:.1f} min" for name, seconds in done.phases.items())
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run with the settings of the environment (and ``argv``, from ``python -m bench.fleet``)."""
    settings = settings_from(argv)
    missing = [tool for tool in ("prometheus", "promtool") if shutil.which(tool) is None]
    if missing:
        print(f"fleet: skipped, not installed: {', '.join(missing)}")
        return
    # SIGTERM too stops Prometheus and removes the temporary directory (finally blocks).
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="bench-fleet-", dir="/tmp"))
    try:
        report(run(settings, work))
    finally:
        if settings.keep:
            print(f"  kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
