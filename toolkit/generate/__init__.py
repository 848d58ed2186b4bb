"""Generators: Grafana dashboards, Prometheus rules and promtool tests from the catalog.

The pipeline reads in the module names: ``plan`` works out each service's objectives
once (the only place that knows SLO maths); the writers ``dashboards``, ``rules`` and
``rule_tests`` build documents from the plan as data; ``documents`` serialises each
once (JSON, and YAML through ``yaml_writer``); ``writer`` writes the tree atomically and
``check`` diffs it against the disk. ``texts`` renders the alert texts and ``runbooks``
the runbook stubs from Jinja templates users may override; ``overlay`` applies a user's
dashboard customisation.
"""

from __future__ import annotations

from toolkit.generate.check import diff_output
from toolkit.generate.pipeline import DashboardMode, GenerateOptions, RuleFormat, generate
from toolkit.generate.render import TemplateError
from toolkit.generate.validate import ValidationError
from toolkit.generate.writer import write_output

__all__ = [
    "DashboardMode",
    "GenerateOptions",
    "RuleFormat",
    "TemplateError",
    "ValidationError",
    "diff_output",
    "generate",
    "write_output",
]
