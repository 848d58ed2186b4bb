"""The main job on the bundled example, step by step: what `make demo` runs.

1. validate and summarise the example catalog,
2. generate its dashboards and Prometheus rules, and prove the committed ones are current,
3. check the rules and run their unit tests with promtool (when it is installed).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "examples" / "services.yaml"
OUT = ROOT / "demo-output"
BIN = Path(sys.executable).parent


def step(title: str) -> None:
    """Print a step heading."""
    print(f"\n== {title}", flush=True)


def run(*args: str | Path) -> None:
    """Run a command from the repository root, echoing it; stop the demo if it fails."""
    print("$ " + " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def main() -> None:
    """Run the demo."""
    toolkit = BIN / "toolkit"
    step("The service catalog")
    run(toolkit, "catalog", "validate", CATALOG.relative_to(ROOT))
    run(toolkit, "catalog", "show", CATALOG.relative_to(ROOT))

    step("Dashboards and rules")
    run(toolkit, "generate", CATALOG.relative_to(ROOT), "--out", OUT.relative_to(ROOT))
    run(toolkit, "generate", CATALOG.relative_to(ROOT), "--out", ".", "--check")
    print(f"written to {OUT.relative_to(ROOT)}/ (committed copies in dashboards/, alert-rules/)")

    promtool = shutil.which("promtool")
    if promtool is None:
        print("promtool is not installed: skipping rule checks (apt-get install prometheus)")
    else:
        step("Rules checked and unit-tested by promtool")
        rules = sorted((OUT / "alert-rules").glob("*.rules.yaml"))
        tests = sorted((OUT / "alert-rules").glob("*.test.yaml"))
        run(promtool, "check", "rules", *(r.relative_to(ROOT) for r in rules))
        run(promtool, "test", "rules", *(t.relative_to(ROOT) for t in tests))


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as error:
        print(f"demo failed: {error}", file=sys.stderr)
        sys.exit(1)
