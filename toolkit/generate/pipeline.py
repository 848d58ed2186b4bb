"""Catalog in, files out (in memory): render every template, parse back, validate, serialise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import jinja2
import yaml

from toolkit.catalog.model import Catalog, Service
from toolkit.generate.dashboards import overview_dashboard, service_dashboard
from toolkit.generate.documents import HEADER, dump_yaml, load_dump_json, load_yaml
from toolkit.generate.render import TemplateError, make_environment, render
from toolkit.generate.rule_tests import EVALUATION_INTERVAL, build_test_cases
from toolkit.generate.rules import build_rule_group
from toolkit.generate.validate import (
    ValidationError,
    validate_dashboard,
    validate_prometheus_rule,
    validate_provisioning,
    validate_rule_tests,
    validate_rules_file,
)

DASHBOARDS_DIR = "dashboards"
RULES_DIR = "alert-rules"
OUTPUT_DIRS = (DASHBOARDS_DIR, RULES_DIR)
SCHEMA_VERSION = 39
OVERVIEW_FILE = "overview.json"
PROVISIONING_FILE = "provisioning.yaml"
DEFAULT_PROVISIONING_PATH = "/var/lib/grafana/dashboards/toolkit"
GRAFANA_FOLDER = "toolkit"
_T = TypeVar("_T")


class RuleFormat(str, Enum):
    """How alert rules are written."""

    PROMETHEUS = "prometheus"
    PROMETHEUS_OPERATOR = "prometheus-operator"


@dataclass(frozen=True)
class GenerateOptions:
    """Everything ``generate`` can be told besides the catalog."""

    templates: Path | None = None
    rule_format: RuleFormat = RuleFormat.PROMETHEUS
    provisioning_path: str = DEFAULT_PROVISIONING_PATH


def rules_file_name(service: Service, rule_format: RuleFormat) -> str:
    """``orders.rules.yaml`` (or ``orders.prometheusrule.yaml`` for the operator)."""
    if rule_format is RuleFormat.PROMETHEUS_OPERATOR:
        return f"{service.name}.prometheusrule.yaml"
    return f"{service.name}.rules.yaml"


class _Renderer:
    """Renders, parses back and validates, for one run."""

    def __init__(self, env: jinja2.Environment, source: str) -> None:
        self.env = env
        self.source = source

    def parsed(
        self, template: str, path: str, context: dict[str, Any], loads: Callable[[str], _T]
    ) -> _T:
        text = render(self.env, template, context)
        try:
            return loads(text)
        except (ValueError, yaml.YAMLError) as exc:  # json errors are ValueErrors
            raise ValidationError(
                path, f"template {template} produced unparsable output: {exc}"
            ) from exc

    def dashboard(self, template: str, path: str, dashboard: dict[str, Any]) -> str:
        context = {"dashboard": dashboard, "schema_version": SCHEMA_VERSION, "header": HEADER}
        document, canonical = self.parsed(template, path, context, load_dump_json)
        validate_dashboard(path, document)
        return canonical

    def yaml(
        self, template: str, path: str, context: dict[str, Any], check: Callable[[str, Any], None]
    ) -> tuple[Any, str]:
        document = self.parsed(template, path, {**context, "header": HEADER}, load_yaml)
        check(path, document)
        return document, dump_yaml(document, self.source)


def _prometheus_rule(service: Service, groups: Any) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": f"toolkit-{service.name}",
            "labels": {
                "app.kubernetes.io/managed-by": "toolkit",
                "app.kubernetes.io/part-of": service.name,
            },
        },
        "spec": {"groups": groups},
    }


def generate(catalog: Catalog, options: GenerateOptions | None = None) -> dict[str, str]:
    """Every output file for ``catalog``: relative path -> content, sorted by path.

    Nothing touches the disk; raises :class:`TemplateError` or :class:`ValidationError`.
    """
    options = options or GenerateOptions()
    renderer = _Renderer(make_environment(options.templates), catalog.path.name)
    files: dict[str, str] = {}
    for service in catalog.services:
        path = f"{DASHBOARDS_DIR}/{service.name}.json"
        files[path] = renderer.dashboard(
            "dashboard.json.j2", path, service_dashboard(service, HEADER)
        )

        group = build_rule_group(service)
        rules_name = rules_file_name(service, RuleFormat.PROMETHEUS)
        path = f"{RULES_DIR}/{rules_name}"
        document, text = renderer.yaml("rules.yaml.j2", path, {"group": group}, validate_rules_file)
        if options.rule_format is RuleFormat.PROMETHEUS_OPERATOR:
            resource = _prometheus_rule(service, document["groups"])
            path = f"{RULES_DIR}/{rules_file_name(service, options.rule_format)}"
            validate_prometheus_rule(path, resource)
            files[path] = dump_yaml(resource, renderer.source)
            continue  # promtool tests need the plain rule file
        files[path] = text
        path = f"{RULES_DIR}/{service.name}.test.yaml"
        context = {
            "rule_file": rules_name,
            "evaluation_interval": EVALUATION_INTERVAL,
            "cases": build_test_cases(group),
        }
        files[path] = renderer.yaml("rule-tests.yaml.j2", path, context, validate_rule_tests)[1]

    path = f"{DASHBOARDS_DIR}/{OVERVIEW_FILE}"
    files[path] = renderer.dashboard("overview.json.j2", path, overview_dashboard(catalog, HEADER))
    path = f"{DASHBOARDS_DIR}/{PROVISIONING_FILE}"
    context = {"folder": GRAFANA_FOLDER, "path": options.provisioning_path}
    files[path] = renderer.yaml("provisioning.yaml.j2", path, context, validate_provisioning)[1]
    return dict(sorted(files.items()))


__all__ = ["GenerateOptions", "RuleFormat", "TemplateError", "ValidationError", "generate"]
