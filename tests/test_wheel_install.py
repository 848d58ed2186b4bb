"""docs/getting-started.md works from the built wheel, in a fresh virtualenv, outside the
checkout: the distribution installs under its own name with the ``fastapi`` extra, the
example catalog ships with it, and the guide's catalog, commands and app do what it says.

The catalog and the app are taken from the guide itself, so the guide cannot drift from
what this test runs. Every command runs in a temporary directory with the new
virtualenv's ``bin/`` first on ``PATH`` and no ``PYTHONPATH``: nothing can import from
this source tree. The install pins every dependency to the version in this test's own
environment (already resolved from PyPI), so it is fast and the same on every run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from _processes import free_port, running, wait_until, wait_until_http_ok

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "getting-started.md"
DISTRIBUTION = "toolkit-observability"
INSTALL_SECONDS = 600

pytestmark = pytest.mark.slow


def _guide_block(language: str, marker: str) -> str:
    """The first ```language block of the guide that contains ``marker``."""
    blocks = re.findall(rf"^```{language}\n(.*?)^```", GUIDE.read_text(), re.M | re.S)
    found = [block for block in blocks if marker in block]
    assert found, f"{GUIDE.name} has no ```{language} block with {marker!r}"
    return found[0]


def _constraints() -> str:
    """``name==version`` of every distribution installed here except toolkit itself."""
    pins = {
        dist.metadata["Name"]: dist.version
        for dist in metadata.distributions()
        if dist.metadata["Name"] and dist.metadata["Name"].lower() not in {DISTRIBUTION, "toolkit"}
    }
    return "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))


@pytest.fixture(scope="module")
def env_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel as the guide says, then install it with the ``fastapi`` extra and
    uvicorn into a new virtualenv, the way the guide's "from a built wheel" line does."""
    work = tmp_path_factory.mktemp("wheel-install")
    assert ROOT not in work.parents
    dist = work / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        timeout=INSTALL_SECONDS,
    )
    (wheel,) = dist.glob("toolkit_observability-*.whl")
    constraints = work / "constraints.txt"
    constraints.write_text(_constraints())
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    subprocess.run(
        [
            env_dir / "bin" / "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-c",
            str(constraints),
            str(wheel),
            f"{DISTRIBUTION}[fastapi]",
            "uvicorn",
        ],
        check=True,
        cwd=work,
        timeout=INSTALL_SECONDS,
    )
    return env_dir


def _environ(env_dir: Path) -> dict[str, str]:
    """This process's environment with the new virtualenv first on PATH and nothing of
    this checkout on it (no PYTHONPATH, no other virtualenv)."""
    environ = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    path = [
        entry
        for entry in environ.get("PATH", "").split(os.pathsep)
        if entry and ROOT not in Path(entry).resolve().parents
    ]
    environ["PATH"] = os.pathsep.join([str(env_dir / "bin"), *path])
    return environ


def _run(
    env_dir: Path, cwd: Path, *command: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (a program of the new virtualenv) in ``cwd``; never raise."""
    return subprocess.run(
        [str(env_dir / "bin" / command[0]), *command[1:]],
        cwd=cwd,
        env=dict(env) if env is not None else _environ(env_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_wheel_installs_under_its_own_name(env_dir: Path, tmp_path: Path) -> None:
    """pip knows the distribution as toolkit-observability; `import toolkit` and the
    `toolkit` command come from the new virtualenv, not from this checkout."""
    shown = _run(env_dir, tmp_path, "pip", "show", DISTRIBUTION)
    assert shown.returncode == 0, shown.stderr
    assert f"Name: {DISTRIBUTION}\n" in shown.stdout
    script = (
        "import toolkit, importlib.metadata as m; "
        f"print(toolkit.__file__); print(m.version({DISTRIBUTION!r}))"
    )
    imported = _run(env_dir, tmp_path, "python", "-c", script)
    assert imported.returncode == 0, imported.stderr
    location, version = imported.stdout.splitlines()
    assert env_dir in Path(location).parents
    assert version == "0.1.0"
    assert _run(env_dir, tmp_path, "toolkit", "--version").stdout == "toolkit, version 0.1.0\n"


def test_the_bundled_example_catalog_comes_with_the_wheel(env_dir: Path, tmp_path: Path) -> None:
    """`toolkit catalog example > services.yaml` gives the example shop's catalog, valid."""
    example = _run(env_dir, tmp_path, "toolkit", "catalog", "example")
    assert (example.returncode, example.stderr) == (0, "")
    assert example.stdout == (ROOT / "examples" / "services.yaml").read_text(encoding="utf-8")
    (tmp_path / "services.yaml").write_text(example.stdout, encoding="utf-8")
    validated = _run(env_dir, tmp_path, "toolkit", "catalog", "validate", "services.yaml")
    assert (validated.returncode, validated.stdout) == (
        0,
        "services.yaml: 5 services, 2 externals — valid\n",
    )


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool not installed (Debian package prometheus)"
)
def test_the_guides_catalog_validates_generates_and_passes_check(
    env_dir: Path, tmp_path: Path
) -> None:
    """Steps 4 to 6 on the guide's catalog: validate, generate, check (with promtool) all
    exit 0, and both services pass their static checks."""
    (tmp_path / "services.yaml").write_text(_guide_block("yaml", "services:"))

    validated = _run(env_dir, tmp_path, "toolkit", "catalog", "validate", "services.yaml")
    assert (validated.returncode, validated.stdout) == (
        0,
        "services.yaml: 2 services, 0 externals — valid\n",
    )
    shown = _run(env_dir, tmp_path, "toolkit", "catalog", "show", "services.yaml")
    assert shown.returncode == 0, shown.stderr
    assert [line.split()[0] for line in shown.stdout.splitlines()[1:3]] == ["orders", "users"]

    generated = _run(env_dir, tmp_path, "toolkit", "generate", "services.yaml", "--out", ".")
    assert generated.returncode == 0, generated.stderr
    assert re.fullmatch(r".: wrote \d+ files for 2 services\n", generated.stdout)
    for path in (
        "dashboards/orders.json",
        "dashboards/users.json",
        "dashboards/overview.json",
        "alert-rules/orders.rules.yaml",
        "alert-rules/users.test.yaml",
        "alert-rules/runbooks/users.md",
    ):
        assert (tmp_path / path).is_file(), path
    fresh = _run(env_dir, tmp_path, "toolkit", "generate", "services.yaml", "--out", ".", "--check")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr

    checked = _run(env_dir, tmp_path, "toolkit", "check", "services.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "2 of 2 services pass their static checks" in checked.stdout
    tested = [line for line in checked.stdout.splitlines() if "rules.tested" in line]
    assert tested == [
        "  ok   L3 rules.tested        promtool test rules: SUCCESS",
        "  ok   L3 rules.tested        promtool test rules: SUCCESS",
    ]


def test_the_guides_app_answers_under_uvicorn(env_dir: Path, tmp_path: Path) -> None:
    """Step 2: the guide's FastAPI app, run by the installed uvicorn as the guide says,
    echoes an X-Request-ID, serves /livez, /readyz and /metrics, and logs JSON."""
    (tmp_path / "main.py").write_text(_guide_block("python", "toolkit.instrument("))
    port = free_port()
    environ = _environ(env_dir)
    # As in the guide, but nothing listens there: a collector that is down never breaks
    # the app.
    environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{free_port()}"
    command = [
        str(env_dir / "bin" / "uvicorn"),
        "main:app",
        "--no-access-log",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    url = f"http://127.0.0.1:{port}"
    with running(command, tmp_path / "app.log", env=environ, cwd=tmp_path) as app:
        wait_until_http_ok(url + "/livez", started=app, timeout=60.0)

        item = httpx.get(url + "/items/42")
        assert (item.status_code, item.json()) == (200, {"id": "42"})
        assert re.fullmatch(r"[0-9a-f]{32}", item.headers["x-request-id"])

        for path in ("/livez", "/readyz"):
            health = httpx.get(url + path)
            assert health.status_code == 200, path
            assert health.headers["content-type"] == "application/health+json"
            assert health.json()["status"] == "pass"

        metrics = httpx.get(url + "/metrics")
        assert metrics.status_code == 200
        assert (
            'http_server_request_duration_seconds_count{error_type="",http_request_method="GET",'
            'http_response_status_code="200",http_route="/items/{item_id}"} 1.0'
        ) in metrics.text.splitlines()

        def access_line() -> dict[str, object] | None:
            for line in app.output().splitlines():
                if line.startswith("{") and '"event":"request"' in line:
                    record: dict[str, object] = json.loads(line)
                    if record.get("path") == "/items/42":
                        return record
            return None

        record = wait_until(access_line, 10.0)
    assert {key: record[key] for key in ("route", "status", "service", "logger")} == {
        "route": "/items/{item_id}",
        "status": 200,
        "service": "orders",
        "logger": "toolkit.access",
    }
    assert record["correlation_id"] == item.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", str(record["trace_id"]))


# --- the package itself, from the same installed wheel ---------------------------------


def test_console_script_runs_from_another_directory(env_dir: Path, tmp_path: Path) -> None:
    """`toolkit --version` works outside the source tree."""
    result = _run(env_dir, tmp_path, "toolkit", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "toolkit, version 0.1.0\n"


def test_templates_ship_inside_the_wheel(env_dir: Path, tmp_path: Path) -> None:
    """The bundled templates resolve to the installed package, not to this checkout."""
    script = "from toolkit._resources import templates_dir; print(templates_dir())"
    result = _run(env_dir, tmp_path, "python", "-c", script)
    assert result.returncode == 0, result.stderr
    found = Path(result.stdout.strip())
    assert found.parts[-2:] == ("toolkit", "templates")
    assert env_dir in found.parents
    assert sorted(p.name for p in found.iterdir()) == sorted(
        p.name for p in (ROOT / "templates").iterdir()
    )


def test_import_touches_no_framework(env_dir: Path, tmp_path: Path) -> None:
    """`import toolkit` imports neither a web framework nor a telemetry SDK."""
    script = (
        "import sys, toolkit; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'flask', 'django', 'starlette', 'fastapi', 'opentelemetry', 'prometheus_client', "
        "'structlog', 'jinja2'}))"
    )
    result = _run(env_dir, tmp_path, "python", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"
