"""Static checks: what the catalog and the generated files prove without running anything."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from toolkit.catalog.model import Catalog, Service, Tier
from toolkit.generate import GenerateOptions, TemplateError, ValidationError, generate
from toolkit.generate.pipeline import RULES_DIR, DashboardMode, RuleFormat, dashboard_file
from toolkit.generate.runbooks import runbook_file
from toolkit.generate.validate import validate_dashboard
from toolkit.readiness import checks as c
from toolkit.readiness.generated import Expected, StaticOptions, current, not_found, read_text
from toolkit.readiness.model import Check
from toolkit.readiness.static_rules import INSTALL_PROMTOOL, PROMTOOL_TIMEOUT_SECONDS, rule_checks

# An availability above this leaves less than ~4.3 minutes of errors in 30 days: too
# little budget for any alert to be actionable.
MAX_SANE_AVAILABILITY = 99.99


def _generated(catalog: Catalog, options: GenerateOptions) -> Expected:
    try:
        return generate(catalog, options)
    except (TemplateError, ValidationError) as error:
        return str(error)  # the catalog cannot be generated from: say why, per file


def check_catalog(catalog: Catalog, options: StaticOptions) -> dict[str, list[Check]]:
    """Every static check for every service of ``catalog``, by service name."""
    generation = options.generation
    expected = _generated(catalog, generation)
    tests = expected
    if generation.rule_format is not RuleFormat.PROMETHEUS:
        # PrometheusRule resources come without tests: the tests of the plain rule files
        # are run against the rules of the resources on disk.
        tests = _generated(catalog, replace(generation, rule_format=RuleFormat.PROMETHEUS))
    schema = SchemaChecks()  # the templated dashboard is every service's: checked once
    # promtool's unit tests take a second or two per service: run services side by side.
    with ThreadPoolExecutor(max_workers=min(8, len(catalog.services))) as pool:
        results = pool.map(
            lambda service: check_service(catalog, service, options, expected, tests, schema),
            catalog.services,
        )
        pairs = zip(catalog.services, results, strict=True)
        return {service.name: checks for service, checks in pairs}


def check_service(
    catalog: Catalog,
    service: Service,
    options: StaticOptions,
    expected: Expected,
    tests: Expected | None = None,
    schema: SchemaChecks | None = None,
) -> list[Check]:
    """The static checks of one service; ``expected`` is ``generate``'s output (with
    ``options.generation``) or its error, ``tests`` the same with plain rule files (whose
    promtool tests run against PrometheusRule resources; defaults to ``expected``),
    ``schema`` the dashboard schema checks the services of a run share."""
    return [
        _slo(service),
        _ownership(service),
        *_dashboard(options, service, expected, schema or SchemaChecks()),
        *rule_checks(options, service, expected, expected if tests is None else tests),
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


class SchemaChecks:
    """``dashboard.valid`` of each dashboard file, checked once per run: with
    ``--dashboards templated`` every service has the same file (the schema check of a
    dashboard takes milliseconds). The services' threads share it: one checks a file
    while the others wait for its verdict."""

    def __init__(self) -> None:
        """Nothing checked yet."""
        self._checked: dict[tuple[str, str], Check] = {}
        self._lock = threading.Lock()

    def valid(self, relative: str, text: str) -> Check:
        """Whether ``text`` (the file at ``relative``) is JSON that fits the schema."""
        with self._lock:
            found = self._checked.get((relative, text))
            if found is None:
                found = self._checked[relative, text] = _schema_check(relative, text)
            return found


def _schema_check(relative: str, text: str) -> Check:
    try:
        validate_dashboard(relative, json.loads(text))
        return c.DASHBOARD_VALID.passed(f"{relative} fits the dashboard schema")
    except ValueError as error:
        return c.DASHBOARD_VALID.failed(f"{relative} is not JSON: {error}")
    except ValidationError as error:
        return c.DASHBOARD_VALID.failed(str(error))


def _dashboard(
    options: StaticOptions, service: Service, expected: Expected, schema: SchemaChecks
) -> list[Check]:
    out, mode = options.generated_dir, options.generation.dashboards
    relative = dashboard_file(service, mode)
    text = read_text(out / relative)
    if text is None:
        other = next(m for m in DashboardMode if m is not mode)
        reason, fix = not_found(
            out, relative, "dashboards", mode.value, other.value, dashboard_file(service, other)
        )
        return [
            c.DASHBOARD_EXISTS.failed(reason, fix),
            c.DASHBOARD_CURRENT.skipped("no dashboard file"),
            c.DASHBOARD_VALID.skipped("no dashboard file"),
        ]
    return [
        c.DASHBOARD_EXISTS.passed(f"{relative} found"),
        current(c.DASHBOARD_CURRENT, relative, text, expected),
        schema.valid(relative, text),
    ]


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


__all__ = [
    "INSTALL_PROMTOOL",
    "MAX_SANE_AVAILABILITY",
    "PROMTOOL_TIMEOUT_SECONDS",
    "SchemaChecks",
    "StaticOptions",
    "check_catalog",
    "check_service",
]
