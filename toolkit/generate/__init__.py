"""Generators: Grafana dashboards, Prometheus rules and promtool tests from the catalog.

The pipeline reads in the module names: ``windows`` and ``promql`` build the
expressions, ``rules``, ``rule_tests`` and ``dashboards`` the documents as data,
``render`` turns them into text through the Jinja2 templates, ``validate`` checks what
came out, ``writer`` writes it atomically and ``check`` diffs it against the disk.
"""

from __future__ import annotations

from toolkit.generate.check import diff_output
from toolkit.generate.pipeline import GenerateOptions, RuleFormat, generate
from toolkit.generate.render import TemplateError
from toolkit.generate.validate import ValidationError
from toolkit.generate.writer import write_output

__all__ = [
    "GenerateOptions",
    "RuleFormat",
    "TemplateError",
    "ValidationError",
    "diff_output",
    "generate",
    "write_output",
]
