"""The main job on the bundled example, step by step: what `make demo` runs.

1. validate and summarise the example catalog,
2. generate its dashboards and Prometheus rules, and prove the committed ones are current,
3. check the rules and run their unit tests with promtool (when it is installed),
4. run the static readiness checks (`toolkit check`),
5. start the example shop (five instrumented FastAPI services on 127.0.0.1), drive
   traffic through it, probe every service from outside as `toolkit probe` does, and
   print the readiness report, the split assessment, and the HTML page in demo-output/.

Every process it starts is stopped before it returns, also when a step fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "examples" / "services.yaml"
OUT = ROOT / "demo-output"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "examples" / "services"))

from fleet import RunningService, run_services  # noqa: E402

from toolkit.catalog import SplitAnswers, load_catalog  # noqa: E402
from toolkit.readiness import Report, StaticOptions, check_catalog, service_report  # noqa: E402
from toolkit.readiness.assess import AssessmentInput, assess  # noqa: E402
from toolkit.readiness.probe import (  # noqa: E402
    FileLogSource,
    ProbeOptions,
    SpanReceiver,
    probe_service,
)
from toolkit.readiness.report import render_html, render_json, render_text  # noqa: E402

REQUESTS = 60


def step(title: str) -> None:
    """Print a step heading."""
    print(f"\n== {title}", flush=True)


def run(*args: str | Path, check: bool = True) -> int:
    """Run a command from the repository root, echoing it; stop the demo if it fails."""
    print("$ " + " ".join(str(a) for a in args), flush=True)
    return subprocess.run([str(a) for a in args], cwd=ROOT, check=check).returncode


def generate_and_check(toolkit: Path) -> None:
    """Steps 1-4: catalog, generated files, promtool, static readiness."""
    catalog = CATALOG.relative_to(ROOT)
    step("The service catalog")
    run(toolkit, "catalog", "validate", catalog)
    run(toolkit, "catalog", "show", catalog)

    step("Dashboards and rules")
    run(toolkit, "generate", catalog, "--out", OUT.relative_to(ROOT))
    run(toolkit, "generate", catalog, "--out", ".", "--check")
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

    step("Static readiness checks (files alone)")
    out = OUT.relative_to(ROOT)
    status = run(toolkit, "check", catalog, "--junit", out / "static.xml", check=False)
    print(f"(exit status {status}; JUnit XML for CI in {out}/static.xml)")


def drive_traffic(orders: RunningService) -> None:
    """Reads and checkouts through orders, which calls the four other services."""
    statuses: dict[int, int] = {}
    with httpx.Client(base_url=orders.url, timeout=10) as client:
        for number in range(REQUESTS):
            if number % 4 == 3:
                response = client.post("/orders")
            else:
                response = client.get(f"/orders/{number}")
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        shown = ", ".join(f"{count} x {code}" for code, count in sorted(statuses.items()))
        print(f"{REQUESTS} requests to orders: {shown} (order 0 has no user)")
        # A client retries a checkout it never saw the answer to: same Idempotency-Key.
        key = {"Idempotency-Key": "checkout-demo-1"}
        first, retry = client.post("/orders", headers=key), client.post("/orders", headers=key)
    replayed = retry.headers.get("Idempotent-Replayed")
    same = first.json() == retry.json()
    print(
        f"checkout retried with one Idempotency-Key: {first.status_code} then "
        f"{retry.status_code}, Idempotent-Replayed: {replayed}, same payment: {same}"
    )
    if replayed != "true" or not same:
        raise RuntimeError("the retried checkout was not replayed: idempotency is broken")


def probe_shop() -> Report:
    """Step 5: start the shop, drive traffic, probe every service; the full report."""
    catalog = load_catalog(CATALOG)
    names = [service.name for service in catalog.services]
    static = check_catalog(catalog, StaticOptions.detect(ROOT))
    # One OTLP receiver for the whole run: the services export to it from their first span.
    with (
        SpanReceiver(port=0) as receiver,
        run_services(names, OUT / "logs", receiver.endpoint) as shop,
    ):
        for service in shop.values():
            print(f"{service.name:<14} {service.url}  logs: {service.log_file.relative_to(ROOT)}")

        step("Traffic through the shop")
        drive_traffic(shop["orders"])

        step("Probing every service from outside")
        reports = []
        for service in catalog.services:
            running = shop[service.name]
            print(
                f"$ toolkit probe {running.url} --service {service.name} --catalog "
                f"{CATALOG.relative_to(ROOT)} --log-file {running.log_file.relative_to(ROOT)} "
                f"--otlp-port {receiver.endpoint.rsplit(':', 1)[1]}",
                flush=True,
            )
            live = probe_service(
                running.url,
                receiver=receiver,
                logs=FileLogSource(running.log_file),
                options=ProbeOptions(wait_seconds=5.0),
            )
            required = service.gate if service.gate is not None else 3
            reports.append(
                service_report(service.name, [*live, *static[service.name]], required, running.url)
            )
        print(f"{len(receiver.spans())} spans received by the probe's OTLP receiver")
    levels = [report.level for report in reports if report.level is not None]
    answers = catalog.assessment or SplitAnswers()
    assessment = assess(AssessmentInput(answers, min(levels) if levels else None))
    return Report(tuple(reports), "Readiness of the example shop", assessment)


def main() -> int:
    """Run the demo; 1 if the kit itself failed (a service below level 1), else 0."""
    started = time.monotonic()
    generate_and_check(BIN / "toolkit")
    step("The example shop")
    report = probe_shop()

    step("Readiness report")
    print(render_text(report, color=sys.stdout.isatty()), end="")
    (OUT / "readiness.html").write_text(render_html(report), encoding="utf-8")
    (OUT / "readiness.json").write_text(render_json(report), encoding="utf-8")
    print(f"\nHTML report: {(OUT / 'readiness.html').relative_to(ROOT)} (open it in a browser)")
    print(f"demo finished in {time.monotonic() - started:.1f}s; no process left running")
    # Services instrumented by toolkit must at least have logs and correlation (level 1);
    # anything less means the kit is broken, not the example.
    return 0 if all((r.level or 0) >= 1 for r in report.services) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (subprocess.CalledProcessError, RuntimeError) as error:
        print(f"demo failed: {error}", file=sys.stderr)
        sys.exit(1)
