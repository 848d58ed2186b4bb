"""``--junit FILE``: one test suite per service, one test case per check, for CI systems."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from toolkit.readiness.model import Report, Status


def render_junit(report: Report) -> str:
    """JUnit XML: fail → ``<failure>``, skipped and not measured → ``<skipped>``.

    A warning passes, with its reason and fix in ``<system-out>``.
    """
    root = ET.Element("testsuites", name=report.title)
    total = failures = skipped = 0
    for service in report.services:
        suite = ET.SubElement(root, "testsuite", name=service.service)
        suite_failures = suite_skipped = 0
        for check in service.checks:
            case = ET.SubElement(
                suite, "testcase", classname=f"readiness.{service.service}", name=check.id
            )
            detail = f"{check.reason}\nfix: {check.fix}" if check.fix else check.reason
            if check.status is Status.FAIL:
                suite_failures += 1
                ET.SubElement(case, "failure", message=check.reason, type="fail").text = detail
            elif check.status in (Status.SKIPPED, Status.NOT_MEASURED):
                suite_skipped += 1
                ET.SubElement(case, "skipped", message=f"{check.status.value}: {check.reason}")
            elif check.status is Status.WARN:
                ET.SubElement(case, "system-out").text = f"warning: {detail}"
        suite.set("tests", str(len(service.checks)))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        suite.set("skipped", str(suite_skipped))
        total += len(service.checks)
        failures += suite_failures
        skipped += suite_skipped
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("skipped", str(skipped))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
