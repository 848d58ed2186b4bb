"""The wheel installs into a fresh virtualenv and works from any directory."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from this checkout and install it into a new virtualenv."""
    work = tmp_path_factory.mktemp("packaging")
    wheels = work / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
    )
    (wheel,) = wheels.glob("toolkit_observability-*.whl")
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    subprocess.run([env_dir / "bin" / "pip", "install", "-q", str(wheel)], check=True)
    return env_dir


def test_console_script_runs_from_another_directory(installed: Path, tmp_path: Path) -> None:
    """`toolkit --version` works outside the source tree."""
    result = subprocess.run(
        [installed / "bin" / "toolkit", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == "toolkit, version 0.1.0\n"


def test_templates_ship_inside_the_wheel(installed: Path, tmp_path: Path) -> None:
    """The bundled templates resolve to the installed package, not to this checkout."""
    script = "from toolkit._resources import templates_dir; print(templates_dir())"
    result = subprocess.run(
        [installed / "bin" / "python", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    found = Path(result.stdout.strip())
    assert found.parts[-2:] == ("toolkit", "templates")
    assert installed in found.parents
    assert sorted(p.name for p in found.iterdir()) == sorted(
        p.name for p in (ROOT / "templates").iterdir()
    )


def test_import_touches_no_framework(installed: Path, tmp_path: Path) -> None:
    """`import toolkit` imports neither a web framework nor a telemetry SDK."""
    script = (
        "import sys, toolkit; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'flask', 'django', 'starlette', 'fastapi', 'opentelemetry', 'prometheus_client', "
        "'structlog', 'jinja2'}))"
    )
    result = subprocess.run(
        [installed / "bin" / "python", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == "[]\n"
