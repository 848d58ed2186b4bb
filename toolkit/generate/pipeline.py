"""Catalog in, files out (in memory): plan each service, build each document as data,
serialise it once.

The writers read the plan (``toolkit.generate.plan``): ``dashboards`` (the service
dashboards, the overview, or one templated dashboard), ``rules`` and ``rule_tests``, and
``alertmanager`` once for the whole catalog; ``runbooks`` renders a Markdown stub per
service from a template people may override.
Nothing is parsed back: a document is JSON or YAML from the data it was built as (a
runbook stub is its Markdown text).
Dashboards that a user's overlay changed are checked against the dashboard schema
before anything is written; the built-in ones are proven valid by the test suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from toolkit.catalog.model import Catalog, Service
from toolkit.generate import promql, yaml_writer
from toolkit.generate.alertmanager import ALERTMANAGER_FILE, alertmanager_config
from toolkit.generate.dashboards.overview import PER_SERVICE_URL, overview_dashboard
from toolkit.generate.dashboards.service import service_dashboard
from toolkit.generate.dashboards.templated import (
    TEMPLATED_FILE,
    TEMPLATED_URL,
    templated_dashboard,
)
from toolkit.generate.documents import HEADER, dump_json, dump_yaml
from toolkit.generate.overlay import OverlayError, apply_overlay
from toolkit.generate.plan import ServicePlan, camel_case, plan_catalog, sli
from toolkit.generate.render import TemplateError
from toolkit.generate.rule_tests import promtool_tests
from toolkit.generate.rules import build_rule_group
from toolkit.generate.runbooks import RunbookStubs, runbook_file
from toolkit.generate.texts import AlertTexts
from toolkit.generate.validate import ValidationError, validate_dashboard

DASHBOARDS_DIR = "dashboards"
RULES_DIR = "alert-rules"
OUTPUT_DIRS = (DASHBOARDS_DIR, RULES_DIR)
OVERVIEW_FILE = "overview.json"
PROVISIONING_FILE = "provisioning.yaml"
DEFAULT_PROVISIONING_PATH = "/var/lib/grafana/dashboards/toolkit"
GRAFANA_FOLDER = "toolkit"


class RuleFormat(str, Enum):
    """How alert rules are written."""

    PROMETHEUS = "prometheus"
    PROMETHEUS_OPERATOR = "prometheus-operator"


class DashboardMode(str, Enum):
    """One dashboard per service, or one for every service with a ``$service`` variable."""

    PER_SERVICE = "per-service"
    TEMPLATED = "templated"


@dataclass(frozen=True)
class GenerateOptions:
    """Everything ``generate`` can be told besides the catalog."""

    templates: Path | None = None
    rule_format: RuleFormat = RuleFormat.PROMETHEUS
    provisioning_path: str = DEFAULT_PROVISIONING_PATH
    dashboards: DashboardMode = DashboardMode.PER_SERVICE


def rules_file_name(service: Service, rule_format: RuleFormat) -> str:
    """``orders.rules.yaml`` (or ``orders.prometheusrule.yaml`` for the operator)."""
    if rule_format is RuleFormat.PROMETHEUS_OPERATOR:
        return f"{service.name}.prometheusrule.yaml"
    return f"{service.name}.rules.yaml"


def tests_file_name(service: Service) -> str:
    """``orders.test.yaml``: the promtool unit tests of the plain rule file."""
    return f"{service.name}.test.yaml"


def dashboard_file(service: Service, mode: DashboardMode) -> str:
    """Where ``service``'s dashboard is, relative to the output directory: its own file,
    or (``--dashboards templated``) the one templated dashboard every service shares."""
    if mode is DashboardMode.TEMPLATED:
        return f"{DASHBOARDS_DIR}/{TEMPLATED_FILE}"
    return f"{DASHBOARDS_DIR}/{service.name}.json"


def _prometheus_rule(service: Service, groups: list[dict[str, Any]]) -> dict[str, Any]:
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


def _provisioning(path: str) -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": GRAFANA_FOLDER,
                "orgId": 1,
                "folder": GRAFANA_FOLDER,
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 30,
                "options": {"path": path, "foldersFromFilesStructure": False},
            }
        ],
    }


def _service_dashboard(plan: ServicePlan, path: str) -> dict[str, Any]:
    document = service_dashboard(plan, HEADER)
    overlay = plan.service.dashboard
    if overlay is not None:
        try:
            document = apply_overlay(document, overlay)
        except OverlayError as error:
            raise ValidationError(path, str(error)) from None
        validate_dashboard(path, document)
    return document


def _forget_run() -> None:
    """Forget what a run cached per service (the YAML writer's strings, each service's
    matchers, recorded labels and alert-name prefix): a process that generates catalog
    after catalog keeps none of them, and each run starts afresh. Caches keyed by
    settings (windows, thresholds, label names) are small and kept."""
    yaml_writer.clear_caches()
    promql.identity_matchers_cache_clear()
    sli.recorded_labels.cache_clear()
    camel_case.cache_clear()


def iter_documents(
    catalog: Catalog, options: GenerateOptions | None = None
) -> Iterator[tuple[str, Any]]:
    """Every output document for ``catalog`` as data, one at a time: (relative path,
    document). A path ending in ``.json`` is written as JSON, one ending in ``.md`` (a
    runbook stub, already text) as it is, any other as YAML.

    One at a time, so that a caller who serialises each before taking the next keeps
    few objects alive (the garbage collector's passes stay short). Raises
    :class:`TemplateError` (an alert-text or runbook template failed) or
    :class:`ValidationError` (an overlay does not fit, or the catalog does not suit the
    dashboard mode).
    """
    options = options or GenerateOptions()
    texts = AlertTexts(options.templates)
    stubs = RunbookStubs(options.templates)
    templated = options.dashboards is DashboardMode.TEMPLATED
    plans = plan_catalog(catalog)
    service_url = PER_SERVICE_URL
    if templated:
        path = f"{DASHBOARDS_DIR}/{TEMPLATED_FILE}"  # dashboard_file() of every service
        yield path, templated_dashboard(plans, HEADER, path)
        service_url = TEMPLATED_URL
    yield f"{DASHBOARDS_DIR}/{OVERVIEW_FILE}", overview_dashboard(plans, HEADER, service_url)
    yield f"{DASHBOARDS_DIR}/{PROVISIONING_FILE}", _provisioning(options.provisioning_path)
    for plan in plans:
        service = plan.service
        if not templated:
            path = dashboard_file(service, options.dashboards)
            yield path, _service_dashboard(plan, path)
        rule_group = build_rule_group(plan, texts, catalog.runbook_base_url)
        stub = stubs.render(rule_group, catalog.path.name, templated)
        yield f"{RULES_DIR}/{runbook_file(service.name)}", stub
        groups = rule_group.to_data()
        if options.rule_format is RuleFormat.PROMETHEUS_OPERATOR:
            name = rules_file_name(service, options.rule_format)
            yield f"{RULES_DIR}/{name}", _prometheus_rule(service, groups)
            continue  # promtool tests need the plain rule file
        name = rules_file_name(service, RuleFormat.PROMETHEUS)
        yield f"{RULES_DIR}/{name}", {"groups": groups}
        yield f"{RULES_DIR}/{tests_file_name(service)}", promtool_tests(rule_group, name)
    yield f"{RULES_DIR}/{ALERTMANAGER_FILE}", alertmanager_config(plans)


def build_documents(catalog: Catalog, options: GenerateOptions | None = None) -> dict[str, Any]:
    """Every output document for ``catalog`` as data: relative path -> document."""
    return dict(iter_documents(catalog, options))


def serialise(path: str, document: Any, source: str) -> str:
    """``document`` as the text of the file at ``path``: JSON, Markdown (a ``str``,
    written as it is: the template heads it) or headed YAML."""
    if path.endswith(".json"):
        return dump_json(document)
    if path.endswith(".md"):
        if not isinstance(document, str):
            raise TypeError(f"{path}: a Markdown document is text, not {type(document).__name__}")
        return document
    return dump_yaml(document, source)


def generate(catalog: Catalog, options: GenerateOptions | None = None) -> dict[str, str]:
    """Every output file for ``catalog``: relative path -> content, sorted by path.

    Nothing touches the disk; raises as :func:`iter_documents` does.
    """
    source = catalog.path.name
    try:
        files = {
            path: serialise(path, document, source)
            for path, document in iter_documents(catalog, options)
        }
    finally:
        _forget_run()
    return dict(sorted(files.items()))


__all__ = [
    "DashboardMode",
    "GenerateOptions",
    "RuleFormat",
    "TemplateError",
    "ValidationError",
    "build_documents",
    "dashboard_file",
    "generate",
    "iter_documents",
    "rules_file_name",
    "serialise",
    "tests_file_name",
]
