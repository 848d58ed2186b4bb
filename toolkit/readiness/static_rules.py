"""Static checks of a service's alert rules: present, current, valid, and tested by promtool.

Plain rule files are checked where they are, with the promtool tests generated beside
them. PrometheusRule resources (``toolkit generate --rules prometheus-operator``) come
without tests: their ``spec.groups`` are written to a scratch directory as a plain rule
file, next to the tests ``--rules prometheus`` generates, and promtool checks and tests
them there. Either way the rules on disk are what promtool sees.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import yaml

from toolkit.catalog.model import Service
from toolkit.generate.documents import load_yaml
from toolkit.generate.pipeline import RULES_DIR, RuleFormat, rules_file_name, tests_file_name
from toolkit.generate.runbooks import runbook_file
from toolkit.generate.validate import (
    ValidationError,
    validate_prometheus_rule,
    validate_rule_tests,
    validate_rules_file,
)
from toolkit.generate.yaml_writer import emit_yaml
from toolkit.readiness import checks as c
from toolkit.readiness.generated import Expected, StaticOptions, current, not_found, read_text
from toolkit.readiness.model import Check, Status

PROMTOOL_TIMEOUT_SECONDS = 60.0
INSTALL_PROMTOOL = "install promtool (apt-get install prometheus) to measure this"


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


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _not_found(
    options: StaticOptions, service: Service, rules: str, missing: list[str]
) -> list[Check]:
    rule_format = options.generation.rule_format
    other = next(f for f in RuleFormat if f is not rule_format)
    other_file = f"{RULES_DIR}/{rules_file_name(service, other)}" if rules in missing else None
    reason, fix = not_found(
        options.generated_dir, _listed(missing), "rules", rule_format.value, other.value, other_file
    )
    return [
        c.RULES_EXISTS.failed(reason, fix),
        c.RULES_CURRENT.skipped("no rule files"),
        c.RULES_VALID.skipped("no rule files"),
        c.RULES_TESTED.skipped("no rule files"),
    ]


def rule_checks(
    options: StaticOptions, service: Service, expected: Expected, tests_expected: Expected
) -> list[Check]:
    """``rules.exists``, ``rules.current``, ``rules.valid`` and ``rules.tested`` of
    ``service``. ``tests_expected``: what the catalog generates with plain rule files
    (their tests are run against PrometheusRule resources)."""
    out = options.generated_dir
    operator = options.generation.rule_format is RuleFormat.PROMETHEUS_OPERATOR
    rules = f"{RULES_DIR}/{rules_file_name(service, options.generation.rule_format)}"
    tests = f"{RULES_DIR}/{tests_file_name(service)}"
    needed = [rules] if operator else [rules, tests]
    if service.runbook is None:  # every alert links to its section of the stub
        needed.append(f"{RULES_DIR}/{runbook_file(service.name)}")
    texts = {relative: read_text(out / relative) for relative in needed}
    missing = [relative for relative, text in texts.items() if text is None]
    if missing:
        return _not_found(options, service, rules, missing)
    exists = c.RULES_EXISTS.passed(f"{_listed(needed)} found")
    stale = (current(c.RULES_CURRENT, name, texts[name] or "", expected) for name in needed)
    fresh = next((check for check in stale if check.status is not Status.PASS), None)
    verb = "matches" if len(needed) == 1 else "match"
    current_check = fresh or c.RULES_CURRENT.passed(f"{_listed(needed)} {verb} the catalog")
    try:
        document = load_yaml(texts[rules] or "")
        if operator:
            validate_prometheus_rule(rules, document)
            plain_rules = emit_yaml({"groups": document["spec"]["groups"]})
        else:
            validate_rules_file(rules, document)
            validate_rule_tests(tests, load_yaml(texts[tests] or ""))
    except ValidationError as error:
        return _invalid(exists, current_check, str(error))
    except (yaml.YAMLError, TypeError) as error:  # TypeError: a value no rule file holds
        return _invalid(exists, current_check, f"{rules}: {error}".splitlines()[0])
    if options.promtool is None:
        return [
            exists,
            current_check,
            c.RULES_VALID.not_measured(
                "promtool is not installed (structure checked only)", INSTALL_PROMTOOL
            ),
            c.RULES_TESTED.not_measured("promtool is not installed", INSTALL_PROMTOOL),
        ]
    if not operator:
        directory = (out / rules).parent
        checked = _run_promtool(options.promtool, directory, Path(rules).name, Path(tests).name)
        return [exists, current_check, *checked]
    tests_text = None if isinstance(tests_expected, str) else tests_expected.get(tests)
    with tempfile.TemporaryDirectory(prefix="toolkit-check-") as scratch:
        directory = Path(scratch)
        plain = rules_file_name(service, RuleFormat.PROMETHEUS)
        (directory / plain).write_text(plain_rules, encoding="utf-8")
        if tests_text is not None:
            (directory / Path(tests).name).write_text(tests_text, encoding="utf-8")
        test_file = None if tests_text is None else Path(tests).name
        valid, tested = _run_promtool(options.promtool, directory, plain, test_file)
    return [
        exists,
        current_check,
        _annotated(valid, f" (the spec.groups of {rules})"),
        _annotated(tested, f" (the tests of --rules prometheus, against {rules})"),
    ]


def _annotated(check: Check, where: str) -> Check:
    """``check`` with ``where`` the rules promtool ran on added to its reason."""
    if check.status is Status.SKIPPED:
        return check
    return replace(check, reason=check.reason + where)


def _invalid(exists: Check, current_check: Check, reason: str) -> list[Check]:
    return [
        exists,
        current_check,
        c.RULES_VALID.failed(reason),
        c.RULES_TESTED.skipped("the rules are not valid"),
    ]


def _run_promtool(
    promtool: str, directory: Path, rules: str, tests: str | None
) -> tuple[Check, Check]:
    """``promtool check rules`` then ``promtool test rules`` in ``directory``."""
    ok, line = _promtool(promtool, ["check", "rules", rules], directory)
    if not ok:
        failed = c.RULES_VALID.failed(f"promtool check rules: {line}")
        return failed, c.RULES_TESTED.skipped("the rules are not valid")
    valid = c.RULES_VALID.passed(f"promtool check rules: {line}")
    if tests is None:
        reason = "no tests: they cannot be generated from the catalog (see rules.current)"
        return valid, c.RULES_TESTED.skipped(reason)
    ok, line = _promtool(promtool, ["test", "rules", tests], directory)
    if ok:
        return valid, c.RULES_TESTED.passed(f"promtool test rules: {line}")
    return valid, c.RULES_TESTED.failed(f"promtool test rules: {line}")


__all__ = ["INSTALL_PROMTOOL", "PROMTOOL_TIMEOUT_SECONDS", "rule_checks"]
