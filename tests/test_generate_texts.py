"""Alert summaries and descriptions: the bundled macros, user overrides, their errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from _generate_support import make_service, plan_of, rule_group, varied_catalog

from toolkit._resources import templates_dir
from toolkit.generate import GenerateOptions, TemplateError, generate
from toolkit.generate.texts import (
    ALERT_KINDS,
    ALERT_TEXTS_TEMPLATE,
    BREAKER_OF_ALERT,
    INSTANCE_OF_ALERT,
    VALUE_AS_PERCENT,
    AlertTexts,
)

# AlertTexts calls the macros outside Template.render: render.macro_failure rewrites the
# traceback to template lines, so the TemplateError names the line (see
# test_generate_render).


def _bundled() -> str:
    return (templates_dir() / ALERT_TEXTS_TEMPLATE).read_text(encoding="utf-8")


def _override(tmp_path: Path, text: str) -> Path:
    (tmp_path / ALERT_TEXTS_TEMPLATE).write_text(text, encoding="utf-8")
    return tmp_path


def _reworded(tmp_path: Path) -> Path:
    """The bundled texts with every summary reworded."""
    text = _bundled()
    for kind in ALERT_KINDS:
        text = text.replace(
            f"{{% macro {kind}_summary(a) -%}}\n",
            f"{{% macro {kind}_summary(a) -%}}\n[{{{{ a.team }}}}/{{{{ a.tier }}}}] ",
        )
    assert text.count("[{{ a.team }}/{{ a.tier }}]") == len(ALERT_KINDS)
    return _override(tmp_path, text)


def test_bundled_texts_of_every_kind() -> None:
    """Target and breaker alerts name the service, the wait and Prometheus' templates."""
    alerts = {
        a.alert: {k: v for k, v in a.annotations.items() if k != "runbook_url"}
        for a in rule_group(make_service(runbook=None)).alerts
    }
    assert alerts["OrdersTargetDown"] == {
        "summary": "orders: a scrape target is down",
        "description": f"Prometheus has failed to scrape {INSTANCE_OF_ALERT} of orders for 5m: "
        "that instance is down or unreachable while others may still serve; the SLO alerts "
        "page if users feel it.",
    }
    assert alerts["OrdersServiceDown"] == {
        "summary": "orders: the service is down",
        "description": f"{VALUE_AS_PERCENT} of the scrape targets of orders have failed their "
        "scrapes for 5m (the page fires when all are down): the service is likely "
        "unreachable, and its SLO alerts are blind.",
    }
    assert alerts["OrdersMetricsMissing"]["summary"] == "orders: request metrics are missing"
    assert (
        "http_server_request_duration_seconds_count series for 1h"
        in (alerts["OrdersMetricsMissing"]["description"])
    )
    assert alerts["OrdersTargetAbsent"] == {
        "summary": "orders: no scrape target",
        "description": 'Prometheus has no target for orders ({job="orders"}) since 5m: '
        "no data is not a healthy service.",
    }
    assert alerts["OrdersCircuitBreakerOpen"]["summary"] == (
        f"orders: circuit breaker {BREAKER_OF_ALERT} is open"
    )
    assert alerts["OrdersLatencySlowBurn"] == {
        "summary": "orders: latency error budget burning slowly",
        "description": f"{VALUE_AS_PERCENT} of the requests to orders took longer than 0.25s "
        "over the last 1d or 3d: the error budget of the latency objective (99% over 30d, "
        "budget 1%) is burning at 3x or 1x the sustainable rate.",
    }


def test_facts_every_text_may_use() -> None:
    """The service's facts and Prometheus' templates, plus what the alert adds."""
    facts = AlertTexts.facts(plan_of(make_service(runbook=None)), slo="latency")
    assert vars(facts) == {
        "service": "orders",
        "team": "checkout",
        "tier": "critical",
        "runbook": "",
        "value": "{{ $value | humanizePercentage }}",
        "instance": "{{ $labels.instance }}",
        "breaker": "{{ $labels.name }}",
        "check": "{{ $labels.check }}",
        "slo": "latency",
    }
    plan = plan_of(make_service(runbook=None))
    assert {**AlertTexts.service_facts(plan), "slo": "latency"} == vars(facts)


def test_override_rewords_the_summaries(tmp_path: Path) -> None:
    """An alert-texts.j2 in the override directory replaces the bundled one: every
    summary changes, every description stays."""
    bundled = rule_group(make_service())
    reworded = rule_group(make_service(), AlertTexts(_reworded(tmp_path)))
    assert [a.alert for a in reworded.alerts] == [a.alert for a in bundled.alerts]
    for old, new in zip(bundled.alerts, reworded.alerts, strict=True):
        assert new.annotations["summary"] == f"[checkout/critical] {old.annotations['summary']}"
        assert new.annotations["description"] == old.annotations["description"]
        assert new.annotations["runbook_url"] == old.annotations["runbook_url"]


def test_override_reaches_rule_files_and_their_tests(tmp_path: Path) -> None:
    """generate --templates: the rule files and the promtool tests' expectations agree."""
    files = generate(varied_catalog(), GenerateOptions(templates=_reworded(tmp_path)))
    rules = yaml.safe_load(files["alert-rules/users.rules.yaml"])["groups"][0]["rules"]
    summaries = [r["annotations"]["summary"] for r in rules if "alert" in r]
    assert summaries[0] == "[checkout/standard] users: availability error budget burning fast"
    assert all(s.startswith("[checkout/standard] users: ") for s in summaries)
    tests = yaml.safe_load(files["alert-rules/users.test.yaml"])["tests"]
    expected = [
        alert["exp_annotations"]["summary"]
        for case in tests
        for check in case["alert_rule_test"]
        for alert in check["exp_alerts"]
    ]
    assert expected and all(s.startswith("[checkout/standard] users: ") for s in expected)
    assert files["dashboards/users.json"] == generate(varied_catalog())["dashboards/users.json"]


def test_override_missing_a_macro_names_it(tmp_path: Path) -> None:
    """An override must define every macro: a missing one fails before anything is built."""
    text = _bundled()
    start = text.index("{% macro breaker_open_description(a) -%}")
    end = text.index("{%- endmacro %}", start) + len("{%- endmacro %}")
    with pytest.raises(TemplateError) as caught:
        AlertTexts(_override(tmp_path, text[:start] + text[end:]))
    assert caught.value.template == "alert-texts.j2"
    assert "'breaker_open_description'" in str(caught.value)


def test_override_with_only_some_macros_fails_on_the_first_missing(tmp_path: Path) -> None:
    """A file with one macro does not fall back to the bundled ones for the others."""
    override = _override(tmp_path, "{% macro burn_summary(a) -%}\nx\n{%- endmacro %}\n")
    with pytest.raises(TemplateError, match="'burn_description'"):
        AlertTexts(override)


_UNDEFINED = "{% macro burn_summary(a) -%}\n{{ a.service }}:\n  {{ a.sevrity }}\n{%- endmacro %}\n"


def _with_undefined_attribute(tmp_path: Path) -> Path:
    text = _bundled()
    start = text.index("{% macro burn_summary(a) -%}")
    end = text.index("{%- endmacro %}", start) + len("{%- endmacro %}\n")
    line = text[:start].count("\n") + 3
    assert line > 20  # the error is in the override, well below the bundled header
    (tmp_path / "line").write_text(str(line))
    return _override(tmp_path, text[:start] + _UNDEFINED + text[end:])


def test_undefined_attribute_names_the_override_and_the_attribute(tmp_path: Path) -> None:
    """A typo in an override's macro is a TemplateError naming that file and the attribute."""
    texts = AlertTexts(_with_undefined_attribute(tmp_path))
    with pytest.raises(TemplateError) as caught:
        rule_group(make_service(), texts)
    assert caught.value.template == "alert-texts.j2"
    assert "'sevrity'" in caught.value.reason
    with pytest.raises(TemplateError, match=r"template alert-texts\.j2.*'sevrity'"):
        generate(varied_catalog(), GenerateOptions(templates=tmp_path))


def test_undefined_attribute_names_the_overrides_line(tmp_path: Path) -> None:
    """... and the line of the override the typo is on."""
    texts = AlertTexts(_with_undefined_attribute(tmp_path))
    line = int((tmp_path / "line").read_text())
    with pytest.raises(TemplateError) as caught:
        rule_group(make_service(), texts)
    assert (caught.value.template, caught.value.line) == ("alert-texts.j2", line)
    assert str(caught.value).startswith(f"template alert-texts.j2:{line}: ")
