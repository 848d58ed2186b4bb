"""Static checks: what the catalog and the generated files prove without running anything."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from toolkit.catalog.model import Catalog, Service, Tier
from toolkit.generate import GenerateOptions, TemplateError, ValidationError, generate
from toolkit.generate.documents import load_yaml
from toolkit.generate.pipeline import DASHBOARDS_DIR, RULES_DIR, RuleFormat, rules_file_name
from toolkit.generate.runbooks import runbook_file
from toolkit.generate.validate import validate_dashboard, validate_rule_tests, validate_rules_file
from toolkit.readiness import checks as c
from toolkit.readiness.model import Check, Status

# An availability above this leaves less than ~4.3 minutes of errors in 30 days: too
# little budget for any alert to be actionable.
MAX_SANE_AVAILABILITY = 99.99
PROMTOOL_TIMEOUT_SECONDS = 60.0
INSTALL_PROMTOOL = "install promtool (apt-get install prometheus) to measure this"


@dataclass(frozen=True)
class StaticOptions:
    """Where the generated files live and which promtool to run (``None``: not installed)."""

    generated_dir: Path
    promtool: str | None

    @classmethod
    def detect(cls, generated_dir: Path) -> StaticOptions:
        """Options with the promtool found on ``PATH``, if any."""
        return cls(generated_dir, shutil.which("promtool"))


def check_catalog(catalog: Catalog, options: StaticOptions) -> dict[str, list[Check]]:
    """Every static check for every service of ``catalog``, by service name."""
    try:
        expected: Mapping[str, str] | str = generate(catalog, GenerateOptions())
    except (TemplateError, ValidationError) as error:
        expected = str(error)  # the catalog cannot be generated from: say why, per file
    # promtool's unit tests take a second or two per service: run services side by side.
    with ThreadPoolExecutor(max_workers=min(8, len(catalog.services))) as pool:
        results = pool.map(
            lambda service: check_service(catalog, service, options, expected), catalog.services
        )
        pairs = zip(catalog.services, results, strict=True)
        return {service.name: checks for service, checks in pairs}


def check_service(
    catalog: Catalog,
    service: Service,
    options: StaticOptions,
    expected: Mapping[str, str] | str,
) -> list[Check]:
    """The static checks of one service; ``expected`` is ``generate``'s output or its error."""
    dashboard = f"{DASHBOARDS_DIR}/{service.name}.json"
    rules = f"{RULES_DIR}/{rules_file_name(service, RuleFormat.PROMETHEUS)}"
    tests = f"{RULES_DIR}/{service.name}.test.yaml"
    return [
        _slo(service),
        _ownership(service),
        *_dashboard(options.generated_dir, dashboard, expected),
        *_rules(options, rules, tests, expected),
        _dependencies_known(catalog, service),
        _dependencies_slo(catalog, service),
    ]


def _slo(service: Service) -> Check:
    slo = service.slo
    text = f"availability {slo.availability:g}% over {slo.window.text}"
    if slo.latency is not None:
        text += f", {slo.latency.target:g}% under {slo.latency.threshold_seconds:g}s"
    if slo.availability > MAX_SANE_AVAILABILITY:
        budget = slo.window.seconds * (100 - slo.availability) / 100
        return c.SLO_DEFINED.warned(
            f"{text}: an error budget of {budget:.0f}s per window leaves alerts no room",
            f"lower slo.availability to {MAX_SANE_AVAILABILITY:g} or less",
        )
    if slo.latency is None:
        return c.SLO_DEFINED.warned(
            f"{text}; no latency SLO", "add slo.latency unless requests only enqueue work"
        )
    return c.SLO_DEFINED.passed(text)


def _ownership(service: Service) -> Check:
    """A team, and a runbook: the catalog's, else the generated stub every alert then
    links to — enough for most services, but a critical one deserves the team's own."""
    if not service.team.strip():
        return c.OWNERSHIP.failed("no owner team")
    if service.runbook is not None:
        return c.OWNERSHIP.passed(f"team {service.team}, runbook {service.runbook}")
    stub = f"{RULES_DIR}/{runbook_file(service.name)}"
    if service.tier is Tier.CRITICAL:
        return c.OWNERSHIP.warned(
            f"team {service.team}; critical service {service.name} relies on the generated "
            f"runbook stub {stub}",
            f"write a runbook for {service.name} (start from {stub}) and set its "
            "runbook: https://… in the catalog",
        )
    return c.OWNERSHIP.passed(f"team {service.team}, runbook: the generated stub {stub}")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _current(
    spec: c.CheckSpec, relative: str, text: str, expected: Mapping[str, str] | str
) -> Check:
    if isinstance(expected, str):
        return spec.failed(f"cannot generate from the catalog: {expected}", "fix the catalog")
    if expected.get(relative) == text:
        return spec.passed(f"{relative} matches the catalog")
    return spec.failed(f"{relative} differs from what the catalog generates (stale)")


def _dashboard(out: Path, relative: str, expected: Mapping[str, str] | str) -> list[Check]:
    text = _read(out / relative)
    if text is None:
        reason = f"{relative} not found under {out}"
        return [
            c.DASHBOARD_EXISTS.failed(reason),
            c.DASHBOARD_CURRENT.skipped("no dashboard file"),
            c.DASHBOARD_VALID.skipped("no dashboard file"),
        ]
    try:
        validate_dashboard(relative, json.loads(text))
        valid = c.DASHBOARD_VALID.passed(f"{relative} fits the dashboard schema")
    except ValueError as error:
        valid = c.DASHBOARD_VALID.failed(f"{relative} is not JSON: {error}")
    except ValidationError as error:
        valid = c.DASHBOARD_VALID.failed(str(error))
    return [
        c.DASHBOARD_EXISTS.passed(f"{relative} found"),
        _current(c.DASHBOARD_CURRENT, relative, text, expected),
        valid,
    ]


def _promtool(promtool: str, args: list[str], cwd: Path) -> tuple[bool, str]:
    """Run promtool; ``(ok, last meaningful output line)``."""
    try:
        done = subprocess.run(
            [promtool, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=PROMTOOL_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"promtool did not run: {error}"
    lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return done.returncode == 0, (lines[-1] if lines else f"exit status {done.returncode}")


def _rules(
    options: StaticOptions, rules: str, tests: str, expected: Mapping[str, str] | str
) -> list[Check]:
    out = options.generated_dir
    rules_text, tests_text = _read(out / rules), _read(out / tests)
    missing = [name for name, text in ((rules, rules_text), (tests, tests_text)) if text is None]
    if rules_text is None or tests_text is None:
        return [
            c.RULES_EXISTS.failed(f"{', '.join(missing)} not found under {out}"),
            c.RULES_CURRENT.skipped("no rule files"),
            c.RULES_VALID.skipped("no rule files"),
            c.RULES_TESTED.skipped("no rule files"),
        ]
    exists = c.RULES_EXISTS.passed(f"{rules} and {tests} found")
    current = _current(c.RULES_CURRENT, rules, rules_text, expected)
    if current.status is Status.PASS:
        current = _current(c.RULES_CURRENT, tests, tests_text, expected)
        if current.status is Status.PASS:
            current = c.RULES_CURRENT.passed(f"{rules} and {tests} match the catalog")
    try:
        validate_rules_file(rules, load_yaml(rules_text))
        validate_rule_tests(tests, load_yaml(tests_text))
    except ValidationError as error:
        return [
            exists,
            current,
            c.RULES_VALID.failed(str(error)),
            c.RULES_TESTED.skipped("the rules are not valid"),
        ]
    except yaml.YAMLError as error:
        return [
            exists,
            current,
            c.RULES_VALID.failed(f"not YAML: {error}".splitlines()[0]),
            c.RULES_TESTED.skipped("the rules are not valid"),
        ]
    if options.promtool is None:
        reason = "promtool is not installed (structure checked only)"
        return [
            exists,
            current,
            c.RULES_VALID.not_measured(reason, INSTALL_PROMTOOL),
            c.RULES_TESTED.not_measured("promtool is not installed", INSTALL_PROMTOOL),
        ]
    directory = (out / rules).parent
    ok, line = _promtool(options.promtool, ["check", "rules", Path(rules).name], directory)
    valid = (
        c.RULES_VALID.passed(f"promtool check rules: {line}")
        if ok
        else c.RULES_VALID.failed(f"promtool check rules: {line}")
    )
    if not ok:
        return [exists, current, valid, c.RULES_TESTED.skipped("the rules are not valid")]
    ok, line = _promtool(options.promtool, ["test", "rules", Path(tests).name], directory)
    tested = (
        c.RULES_TESTED.passed(f"promtool test rules: {line}")
        if ok
        else c.RULES_TESTED.failed(f"promtool test rules: {line}")
    )
    return [exists, current, valid, tested]


def _known(catalog: Catalog) -> set[str]:
    return {s.name for s in catalog.services} | {e.name for e in catalog.externals}


def _dependencies_known(catalog: Catalog, service: Service) -> Check:
    if not service.dependencies:
        return c.DEPENDENCIES_KNOWN.skipped("no dependencies")
    unknown = [name for name in service.dependencies if name not in _known(catalog)]
    if unknown:
        return c.DEPENDENCIES_KNOWN.failed(f"not in the catalog: {', '.join(unknown)}")
    return c.DEPENDENCIES_KNOWN.passed(f"{len(service.dependencies)} known")


def _dependencies_slo(catalog: Catalog, service: Service) -> Check:
    names = {s.name for s in catalog.services}
    deps = [catalog.service(name) for name in service.dependencies if name in names]
    if not deps:
        return c.DEPENDENCIES_SLO.skipped("no service dependencies")
    weaker = [d for d in deps if d.slo.availability < service.slo.availability]
    if weaker:
        shown = ", ".join(f"{d.name} {d.slo.availability:g}%" for d in weaker)
        return c.DEPENDENCIES_SLO.warned(
            f"{service.slo.availability:g}% depends on {shown}: a synchronous call caps it"
        )
    shown = ", ".join(f"{d.name} {d.slo.availability:g}%" for d in deps)
    return c.DEPENDENCIES_SLO.passed(f"each has an SLO: {shown}")
