"""Real processes for the tests: free ports, commands that always stop, a real Prometheus.

``running`` starts a command in its own process group and kills the whole group when the
block ends, whatever happened; ``wait_until_http_ok`` waits for it to answer. Everything
binds 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

PROMETHEUS = shutil.which("prometheus")
STOP_SECONDS = 10.0

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Running:
    """A started command: its process and the files its output goes to."""

    process: subprocess.Popen[bytes]
    log: Path
    stderr: Path | None = None

    def output(self) -> str:
        """What the process wrote so far (stdout, then stderr if it has its own file)."""
        files = [self.log] if self.stderr is None else [self.log, self.stderr]
        return "".join(path.read_text(errors="replace") for path in files)


@contextlib.contextmanager
def running(
    command: Sequence[str],
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stderr: Path | None = None,
    stop_seconds: float = STOP_SECONDS,
) -> Iterator[Running]:
    """Run ``command`` in a new process group, its output in ``log`` (stderr too, unless
    given its own file), until the block ends: then SIGTERM the group, SIGKILL it after
    ``stop_seconds``, and SIGKILL whatever of the group is left (workers of a master)."""
    with contextlib.ExitStack() as files:
        out = files.enter_context(log.open("wb"))
        err = files.enter_context(stderr.open("wb")) if stderr is not None else subprocess.STDOUT
        process = subprocess.Popen(
            list(command),
            stdout=out,
            stderr=err,
            env=None if env is None else dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    try:
        yield Running(process, log, stderr)
    finally:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=stop_seconds)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
        _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def wait_until(
    check: Callable[[], T], timeout: float = 30.0, *, started: Running | None = None
) -> T:
    """Call ``check`` until it returns something true (an exception counts as false) and
    return that; ``TimeoutError`` after ``timeout`` seconds, ``RuntimeError`` at once if
    the ``started`` process exits first."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:
            last = exc
        if started is not None and started.process.poll() is not None:
            raise RuntimeError(
                f"{started.process.args!r} exited with {started.process.returncode}:\n"
                f"{started.output()[-4000:]}"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met in {timeout}s (last error: {last!r})")
        time.sleep(0.05)


def wait_until_http_ok(
    url: str, *, started: Running | None = None, timeout: float = 30.0, any_status: bool = False
) -> None:
    """Wait until a GET of ``url`` answers 200 (any status with ``any_status``)."""

    def answers() -> bool:
        status = httpx.get(url, timeout=2.0).status_code
        return any_status or status == 200

    wait_until(answers, timeout, started=started)


def uvicorn_command(
    app: str, port: int, *, app_dir: Path | None = None, options: Sequence[str] = ()
) -> list[str]:
    """``uvicorn APP`` on 127.0.0.1:``port`` from this interpreter."""
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    if app_dir is not None:
        command += ["--app-dir", str(app_dir)]
    return [*command, *options]


def gunicorn_command(
    app: str, port: int, *, chdir: Path | None = None, options: Sequence[str] = ()
) -> list[str]:
    """``gunicorn APP`` bound to 127.0.0.1:``port`` from this interpreter's environment."""
    command = [str(Path(sys.executable).with_name("gunicorn")), "--bind", f"127.0.0.1:{port}"]
    if chdir is not None:
        command += ["--chdir", str(chdir)]
    return [*command, *options, app]


@contextlib.contextmanager
def run_prometheus(
    workdir: Path,
    targets: Mapping[str, str],
    *,
    rule_files: Sequence[Path] = (),
    features: Sequence[str] = (),
    alertmanagers: Sequence[str] = (),
) -> Iterator[str]:
    """A real Prometheus scraping ``targets`` (job name -> ``host:port``) every second and
    evaluating ``rule_files`` every second, sending its alerts to ``alertmanagers``
    (``host:port`` each); yields its URL once it is ready."""
    if PROMETHEUS is None:
        raise RuntimeError("prometheus is not installed (Debian package prometheus)")
    config: dict[str, Any] = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [target]}]}
            for job, target in targets.items()
        ],
    }
    if alertmanagers:
        static = [{"static_configs": [{"targets": list(alertmanagers)}]}]
        config["alerting"] = {"alertmanagers": static}
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    port = free_port()
    command = [
        PROMETHEUS,
        f"--config.file={config_file}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        *(f"--enable-feature={feature}" for feature in features),
    ]
    with running(command, workdir / "prometheus.log", stop_seconds=15.0) as started:
        url = f"http://127.0.0.1:{port}"
        wait_until_http_ok(url + "/-/ready", started=started, timeout=60.0)
        yield url
