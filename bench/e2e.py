"""End to end: requests per second through uvicorn, bare app against toolkit and the peers.

Each variant is its own server process — ``python -m uvicorn bench._e2e_apps:app`` with
1 worker, ``--http h11``, ``--no-access-log`` and log level ``warning``, on 127.0.0.1 and
a free port — serving the Starlette route ``GET /items/{item_id}`` of the in-process
benchmark (``bench.middleware``), bare, under toolkit (fast paths as the gates decide,
and with ``TOOLKIT_FAST_PATHS=off``) and under the peer stack. Before anything is timed,
one real request to each must answer 200 ``ok`` (and carry ``X-Request-ID`` where the
variant promises one). Then ``wrk`` drives each server in turn with keep-alive
connections, the variants interleaved round by round so that drift on a shared machine
hits them alike; each variant's figure is its best round.

The machine matters: on a 2-CPU machine wrk and the server compete for the CPUs (with
each other and with whatever else runs). Nothing is pinned: pinning wrk to one CPU and
the server to the other would still share both with everything else on the machine (and
two vCPUs may be one core's two hyperthreads), so it would move the competition, not
remove it. The table shows, for each variant's best round, the share of one CPU the
server used and wrk used: a server below ~100 % was kept waiting (by wrk, or by other
load), not slower; the server's CPU time per request is the figure that load disturbs
least.

``BENCH_E2E_FLOORS=1`` adds two servers: the in-process benchmark's floor middlewares
("SDK span alone", "toolkit span + line") around the same app — what recording a span
at all costs in a real server, for reading the target.

Every server started is stopped (SIGTERM, then SIGKILL), whatever happens. The part is
skipped, with the reason, when ``wrk`` or uvicorn is not installed.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata, util
from pathlib import Path
from typing import TextIO

from bench.middleware import FLOOR, LINE_FLOOR, PUBLIC, machine

HOST = "127.0.0.1"
PATH = "/items/42"
APP = "bench._e2e_apps:app"
APP_ENV = "BENCH_E2E_APP"  # which app bench._e2e_apps builds
FLOORS_ENV = "BENCH_E2E_FLOORS"  # "1": serve the floors too
ROOT = Path(__file__).resolve().parent.parent  # where ``bench`` can be imported from

SECONDS = 10  # per variant and round
ROUNDS = 2
WARMUP_SECONDS = 2  # per variant, before the first round: imports, caches, first paths
THREADS = 1
CONNECTIONS = 16
TARGET_FRACTION = 0.75  # toolkit keeps at least this share of the bare app's throughput
START_SECONDS = 30.0
STOP_SECONDS = 10.0
START_ATTEMPTS = 3  # a free port can be taken between finding it and uvicorn binding it

# wrk's own report is for people; this line is for the parser (latencies in µs).
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH-E2E %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class E2EVariant:
    """One server to start: which app, which environment, what its response must carry."""

    name: str
    app: str  # a name in bench._e2e_apps.APPS
    env: Mapping[str, str] = field(default_factory=dict)
    correlation_header: bool = False


VARIANTS = (
    E2EVariant("bare Starlette", "bare"),
    E2EVariant("toolkit", "toolkit", correlation_header=True),
    E2EVariant(PUBLIC, "toolkit", {"TOOLKIT_FAST_PATHS": "off"}, correlation_header=True),
    E2EVariant("peer stack", "peer", correlation_header=True),
)
FLOORS = (E2EVariant(FLOOR, "span-floor"), E2EVariant(LINE_FLOOR, "line-floor"))


def variants() -> tuple[E2EVariant, ...]:
    """The variants to serve: the floors too if ``BENCH_E2E_FLOORS=1``."""
    return VARIANTS + FLOORS if os.environ.get(FLOORS_ENV) == "1" else VARIANTS


@dataclass(frozen=True)
class Round:
    """One wrk run against one server."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    server_cpu_s: float  # the server process's user + system time during the run
    wrk_cpu_s: float
    wall_s: float
    socket_errors: int  # read/write errors wrk saw (a reset connection): shown, not fatal

    @property
    def per_second(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds

    @property
    def server_us(self) -> float:
        """Server CPU µs per request."""
        return self.server_cpu_s / self.requests * 1e6


def missing() -> str | None:
    """Why this part cannot run here, or ``None`` when it can."""
    if shutil.which("wrk") is None:
        return "wrk is not installed (Debian/Ubuntu: apt-get install wrk)"
    if util.find_spec("uvicorn") is None:
        return "uvicorn is not installed in this environment (pip install uvicorn)"
    return None


def free_port() -> int:
    """A TCP port on ``HOST`` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # After "pid (comm)": state is field 3 of proc(5), utime 14 and stime 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Server:
    """A started uvicorn process serving one variant."""

    variant: E2EVariant
    process: subprocess.Popen[bytes]
    port: int
    stderr: Path

    @property
    def url(self) -> str:
        """The URL wrk requests."""
        return f"http://{HOST}:{self.port}{PATH}"

    def output(self) -> str:
        """What the server wrote to stderr (its stdout, toolkit's log lines, is discarded)."""
        return self.stderr.read_text(errors="replace")[-4000:]


def _command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        APP,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--http",
        "h11",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _listening(server: Server) -> bool:
    """Wait until ``server`` accepts connections: ``False`` if its port was taken."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        if server.process.poll() is not None:
            output = server.output()
            if "address already in use" in output.lower():
                return False
            raise RuntimeError(
                f"{server.variant.name}: the server exited with {server.process.returncode}:\n"
                f"{output}"
            )
        with contextlib.suppress(OSError), socket.create_connection((HOST, server.port), 0.2):
            return True
        if time.monotonic() > deadline:
            raise TimeoutError(f"{server.variant.name}: not listening after {START_SECONDS} s")
        time.sleep(0.05)


@contextlib.contextmanager
def serving(variant: E2EVariant, workdir: Path) -> Iterator[Server]:
    """Start ``variant``'s server, yield it once it listens, stop it however the block ends."""
    env = {**os.environ, **variant.env, APP_ENV: variant.app}
    slug = re.sub(r"\W+", "-", variant.name).strip("-")
    for attempt in range(START_ATTEMPTS):
        port = free_port()
        stderr = workdir / f"{slug}-{attempt}.stderr"
        with stderr.open("wb") as err:
            process = subprocess.Popen(
                _command(port),
                stdout=subprocess.DEVNULL,  # toolkit's log lines: to /dev/null
                stderr=err,
                env=env,
                cwd=ROOT,
                start_new_session=True,  # a Ctrl-C reaches this process; it stops the server
            )
        try:
            server = Server(variant, process, port, stderr)
            if _listening(server):
                yield server
                return
        finally:
            _stop(process)
    raise RuntimeError(f"{variant.name}: no free port in {START_ATTEMPTS} attempts")


def check(server: Server) -> None:
    """One real request: 200 ``ok``, and ``X-Request-ID`` if the variant promises it."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        connection.request("GET", PATH)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    problems = []
    if response.status != 200 or body != b"ok":
        problems.append(f"answered {response.status} {body[:60]!r}")
    if server.variant.correlation_header and response.getheader("x-request-id") is None:
        problems.append("no X-Request-ID on the response")
    if problems:
        raise RuntimeError(f"{server.variant.name}: {'; '.join(problems)}\n{server.output()}")


def drive(server: Server, seconds: int, script: Path) -> Round:
    """Run wrk against ``server`` for ``seconds``; raise if any response was not 2xx/3xx."""
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        server.url,
    ]
    server_before, wrk_before = cpu_seconds(server.process.pid), _children_cpu_seconds()
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    wall = time.monotonic() - started
    server_cpu = cpu_seconds(server.process.pid) - server_before
    wrk_cpu = _children_cpu_seconds() - wrk_before
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH-E2E ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{server.variant.name}: wrk failed:\n{done.stdout}{done.stderr}")
    numbers = [float(value) for value in lines[-1].split()[1:]]
    requests, duration_us, connect, read, write, status, timeouts, p50, p99 = numbers
    if status or connect or timeouts or not requests:
        raise RuntimeError(
            f"{server.variant.name}: {status:.0f} responses not 2xx/3xx, {connect:.0f} "
            f"connect errors, {timeouts:.0f} timeouts in {requests:.0f} requests\n"
            f"{server.output()}"
        )
    return Round(
        int(requests),
        duration_us / 1e6,
        p50 / 1000,
        p99 / 1000,
        server_cpu,
        wrk_cpu,
        wall,
        int(read + write),
    )


def wrk_version() -> str:
    """The installed wrk's version line."""
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
    first = (done.stdout or done.stderr).splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk (version unknown)"


def run(seconds: int, rounds: int, warmup: int) -> dict[str, list[Round]]:
    """Start every server, check each, warm each up, then time them round by round."""
    served = variants()
    results: dict[str, list[Round]] = {v.name: [] for v in served}
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        script = workdir / "report.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        servers = [stack.enter_context(serving(variant, workdir)) for variant in served]
        for server in servers:
            check(server)
        for server in servers:
            drive(server, warmup, script)
        for _ in range(rounds):
            for server in servers:
                results[server.variant.name].append(drive(server, seconds, script))
    return results


def _best(rounds: list[Round]) -> Round:
    return max(rounds, key=lambda r: r.per_second)


def report(results: dict[str, list[Round]], seconds: int, out: TextIO) -> None:
    """Print the table and the fractions of the bare app's throughput."""
    rounds = len(next(iter(results.values())))
    loop = "uvloop" if util.find_spec("uvloop") else "asyncio"  # what uvicorn's "auto" picks
    print(
        f"End-to-end: {wrk_version()} -t{THREADS} -c{CONNECTIONS} (keep-alive) against "
        f"uvicorn {metadata.version('uvicorn')}\n(1 worker, --http h11, {loop} loop, no "
        f"access log) on {HOST}, GET {PATH}; {rounds} round(s) x {seconds} s per variant, "
        "interleaved,\nafter a warm-up; figures from each variant's best round. wrk and the "
        f"server share this machine's CPUs ({os.cpu_count()}).",
        file=out,
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Machine: {machine()}; load average {load}", file=out)
    print(file=out)
    header = (
        f"  {'variant':<28}{'req/s':>8}{'of bare':>9}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'server µs/req':>15}{'server CPU':>12}{'wrk CPU':>9}   all rounds (req/s)"
    )
    print(header, file=out)
    bare = _best(next(iter(results.values()))).per_second
    for name, runs in results.items():
        best = _best(runs)
        every = ", ".join(f"{r.per_second:.0f}" for r in runs)
        print(
            f"  {name:<28}{best.per_second:>8.0f}{best.per_second / bare:>9.2f}"
            f"{best.p50_ms:>8.2f}{best.p99_ms:>8.2f}{best.server_us:>15.0f}"
            f"{best.server_cpu_s / best.wall_s:>12.0%}{best.wrk_cpu_s / best.wall_s:>9.0%}"
            f"   {every}",
            file=out,
        )
    for name, label in (("toolkit", "toolkit"), (PUBLIC, "public API only")):
        share = _best(results[name]).per_second / bare
        verdict = "met" if share >= TARGET_FRACTION else "NOT met"
        print(
            f"  {label} / bare (throughput): {share:.2f}  (target ≥ {TARGET_FRACTION}: {verdict})",
            file=out,
        )
    print(
        "  server CPU, wrk CPU: share of one CPU each process used during the best round",
        file=out,
    )
    for name, runs in results.items():
        errors = sum(r.socket_errors for r in runs)
        if errors:
            print(f"  note: wrk saw {errors} socket read/write errors on {name}", file=out)


def benchmark(
    seconds: int = SECONDS,
    rounds: int = ROUNDS,
    warmup: int = WARMUP_SECONDS,
    out: TextIO | None = None,
) -> None:
    """Run the end-to-end part and print its figures, or say why it is skipped."""
    stream = sys.stdout if out is None else out
    reason = missing()
    if reason is not None:
        print(f"End-to-end part skipped: {reason}.", file=stream)
        return
    report(run(seconds, rounds, warmup), seconds, stream)


def main() -> None:
    """``python -m bench e2e`` (or ``python -m bench.e2e``): run with the defaults."""
    benchmark()


if __name__ == "__main__":
    main()
