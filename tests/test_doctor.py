"""``toolkit doctor``: the facts it gathers (toolkit.doctor) and the command (toolkit.cli)."""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import platform
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import values

from toolkit import doctor
from toolkit._gate import GATES
from toolkit._version import __version__
from toolkit.cli import main
from toolkit.logs import configure_logging

TOKEN = "doctor-test-token-7f3a9c"
GATE_NAMES = {
    "opentelemetry-sdk server span": ("opentelemetry-sdk", ">=1.36, <1.46"),
    "opentelemetry-sdk batch queue": ("opentelemetry-sdk", ">=1.36, <1.46"),
    "prometheus-client multiprocess archive": ("prometheus-client", ">=0.20, <0.27"),
    "structlog access line": ("structlog", ">=24.3, <26.2"),
}
SECTIONS = ["Versions", "Fast paths", "Tracing", "Metrics", "Logging"]
CONTROLLED = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_SDK_DISABLED",
    "OTEL_PYTHON_TRACER_PROVIDER",
    "PROMETHEUS_MULTIPROC_DIR",
    "prometheus_multiproc_dir",
    "TOOLKIT_METRICS_PORT",
    "TOOLKIT_METRICS_PATH",
    "TOOLKIT_METRICS_TOKEN",
    "TOOLKIT_FAST_PATHS",
    "OTEL_METRICS_EXPORTER",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every variable doctor reads starts unset; a test sets the ones it needs."""
    for name in CONTROLLED:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def undecided_gates() -> Iterator[None]:
    """The gates decide afresh in the test (under its environment) and after it."""
    for module in doctor.GATE_MODULES:
        importlib.import_module(module)  # declares its gates
    for gate in GATES:
        gate.force(None)
    yield
    for gate in GATES:
        gate.force(None)


@pytest.fixture
def runner() -> CliRunner:
    """A CLI runner (stdout and stderr apart)."""
    return CliRunner()


def _doctor(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(main, ["doctor", *args])
    return result.exit_code, result.stdout, result.stderr


def _rows(text: str, section: str) -> dict[str, str]:
    """The ``label  value`` lines of one text section, by label."""
    blocks = {block.split("\n")[0]: block for block in text.rstrip("\n").split("\n\n")}
    rows: dict[str, str] = {}
    for line in blocks[section].split("\n")[1:]:
        label, _, value = line.strip().partition("  ")
        rows[label] = value.strip()
    return rows


def test_collect_has_the_documented_keys() -> None:
    """The JSON object has exactly the keys the module docstring documents, per section."""
    facts = doctor.collect()
    assert list(facts) == [
        "python",
        "toolkit",
        "packages",
        "fast_paths",
        "tracing",
        "metrics",
        "logging",
    ]
    assert list(facts["python"]) == ["version", "implementation", "platform"]
    assert list(facts["fast_paths"]) == ["setting", "gates", "import_errors"]
    assert list(facts["tracing"]) == [
        "provider",
        "exporters",
        "endpoint",
        "endpoint_source",
        "protocol",
        "sdk_disabled",
        "enabled",
    ]
    assert list(facts["metrics"]) == [
        "mode",
        "directory",
        "directory_exists",
        "db_files",
        "multiprocess_values",
        "port",
        "path",
        "token_set",
        "exporter",
        "otlp_endpoint",
    ]
    assert list(facts["logging"]) == [
        "root_level",
        "root_handlers",
        "structlog_configured_by_toolkit",
    ]


def test_versions_are_those_installed() -> None:
    """Python, toolkit and every listed distribution at its installed version, in order."""
    facts = doctor.collect()
    assert facts["python"] == {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }
    assert facts["toolkit"] == __version__
    assert list(facts["packages"]) == [
        "opentelemetry-api",
        "opentelemetry-sdk",
        "opentelemetry-instrumentation",
        "opentelemetry-exporter-otlp-proto-http",
        "opentelemetry-exporter-otlp-proto-grpc",
        "prometheus-client",
        "structlog",
        "jinja2",
        "click",
        "PyYAML",
    ]
    assert facts["packages"] == {name: metadata.version(name) for name in doctor.PACKAGES}


def test_a_missing_distribution_is_null_and_not_installed_in_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A distribution that is not installed: ``null`` in JSON, "not installed" in text."""
    monkeypatch.setattr(doctor, "PACKAGES", ("click", "toolkit-no-such-distribution"))
    facts = doctor.collect()
    assert facts["packages"] == {
        "click": metadata.version("click"),
        "toolkit-no-such-distribution": None,
    }
    rows = _rows(doctor.render_text(facts), "Versions")
    assert rows["toolkit-no-such-distribution"] == "not installed"
    assert rows["click"] == metadata.version("click")


def test_every_gate_is_listed_with_its_decision(
    monkeypatch: pytest.MonkeyPatch, undecided_gates: None
) -> None:
    """Every gate appears, in GATES order; TOOLKIT_FAST_PATHS=off turns each speed-only
    one off."""
    monkeypatch.setenv("TOOLKIT_FAST_PATHS", "off")
    section = doctor.collect()["fast_paths"]
    assert section["setting"] == "off"
    assert section["import_errors"] == {}
    assert [gate["name"] for gate in section["gates"]] == [gate.name for gate in GATES]
    listed = {gate["name"]: gate for gate in section["gates"] if gate["name"] in GATE_NAMES}
    assert listed == {
        name: {
            "name": name,
            "distribution": distribution,
            "version": metadata.version(distribution),
            "tested": tested,
            "active": False,
            "reason": "turned off by TOOLKIT_FAST_PATHS",
        }
        for name, (distribution, tested) in GATE_NAMES.items()
    }


def test_gates_in_text_say_which_path_and_why(undecided_gates: None) -> None:
    """Text: one line per gate, "fast path" or "public API", then the gate's reason."""
    for gate in GATES:
        gate.force(gate.name != "structlog access line")
    rows = _rows(doctor.render_text(doctor.collect()), "Fast paths")
    assert rows["TOOLKIT_FAST_PATHS"] == "unset"
    assert rows["opentelemetry-sdk server span"] == "fast path — forced by toolkit's tests"
    assert rows["opentelemetry-sdk batch queue"] == "fast path — forced by toolkit's tests"
    assert rows["prometheus-client multiprocess archive"] == "fast path — forced by toolkit's tests"
    assert rows["structlog access line"] == "public API — forced by toolkit's tests"


def test_no_tracing_variables_mean_no_exporter() -> None:
    """Nothing set: no exporter, no endpoint or protocol, tracing on."""
    tracing = doctor.collect()["tracing"]
    assert {key: value for key, value in tracing.items() if key != "provider"} == {
        "exporters": [],
        "endpoint": None,
        "endpoint_source": None,
        "protocol": None,
        "sdk_disabled": None,
        "enabled": True,
    }


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"OTEL_TRACES_EXPORTER": "otlp"},
            (["otlp"], "http://localhost:4318/v1/traces", "default", "http/protobuf"),
        ),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"},
            (
                ["otlp"],
                "http://collector:4318/v1/traces",
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "http/protobuf",
            ),
        ),
        (
            {
                "OTEL_TRACES_EXPORTER": "otlp,console",
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.example:443/in",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json",
            },
            (
                ["otlp", "console"],
                "https://traces.example:443/in",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http/json",
            ),
        ),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            (["otlp"], "http://localhost:4317", "default", "grpc"),
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            },
            (["otlp"], "http://collector:4317", "OTEL_EXPORTER_OTLP_ENDPOINT", "grpc"),
        ),
        (
            {"OTEL_TRACES_EXPORTER": "console"},
            (["console"], None, None, None),
        ),
        (
            {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"},
            ([], None, None, None),
        ),
    ],
)
def test_tracing_shows_what_toolkit_would_export_to(
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str],
    expected: tuple[list[str], str | None, str | None, str | None],
) -> None:
    """Exporters, endpoint (and the variable it came from) and protocol, as the SDK reads them."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    tracing = doctor.collect()["tracing"]
    got = (tracing["exporters"], tracing["endpoint"], tracing["endpoint_source"])
    assert (*got, tracing["protocol"]) == expected


@pytest.mark.parametrize(
    ("value", "enabled", "text"),
    [
        ("true", False, "true (tracing off)"),
        ("false", True, "false (spans recorded)"),
        ("1", True, "1 (spans recorded)"),
    ],
)
def test_sdk_disabled_is_shown_with_its_effect(
    monkeypatch: pytest.MonkeyPatch, value: str, enabled: bool, text: str
) -> None:
    """OTEL_SDK_DISABLED as set, and whether toolkit's middleware then records spans."""
    monkeypatch.setenv("OTEL_SDK_DISABLED", value)
    facts = doctor.collect()
    assert (facts["tracing"]["sdk_disabled"], facts["tracing"]["enabled"]) == (value, enabled)
    assert _rows(doctor.render_text(facts), "Tracing")["OTEL_SDK_DISABLED"] == text


def test_tracer_provider_is_named_and_the_proxy_means_none_set() -> None:
    """The API's proxy reads "none set (ProxyTracerProvider)"; a real one by its class."""
    assert doctor.describe_provider(trace.ProxyTracerProvider()) == (
        "none set (ProxyTracerProvider)"
    )
    assert doctor.describe_provider(TracerProvider()) == "TracerProvider"
    assert doctor.collect()["tracing"]["provider"] == doctor.describe_provider(
        trace.get_tracer_provider()
    )


def test_a_provider_named_in_the_environment_is_not_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OTEL_PYTHON_TRACER_PROVIDER set: doctor says so and sets no global provider."""
    before = trace.get_tracer_provider()
    monkeypatch.setenv("OTEL_PYTHON_TRACER_PROVIDER", "sdk_tracer_provider")
    provider = doctor.collect()["tracing"]["provider"]
    assert provider == (
        "not read (OTEL_PYTHON_TRACER_PROVIDER='sdk_tracer_provider': "
        "reading it may load that provider)"
    )
    monkeypatch.delenv("OTEL_PYTHON_TRACER_PROVIDER")
    assert trace.get_tracer_provider() is before


def test_single_process_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PROMETHEUS_MULTIPROC_DIR: single process; port and path as set, token unset."""
    monkeypatch.setattr(values, "ValueClass", values.MutexValue)
    monkeypatch.setenv("TOOLKIT_METRICS_PORT", "9464")
    monkeypatch.setenv("TOOLKIT_METRICS_PATH", "/internal/metrics")
    assert doctor.collect()["metrics"] == {
        "mode": "single process",
        "directory": None,
        "directory_exists": None,
        "db_files": None,
        "multiprocess_values": False,
        "port": "9464",
        "path": "/internal/metrics",
        "token_set": False,
        "exporter": "prometheus",
        "otlp_endpoint": None,
    }


def test_multiprocess_metrics_count_the_db_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Multiprocess: the directory, that it exists, its *.db files only, the value class."""
    for name in ("counter_11.db", "histogram_11.db", "gauge_livesum_12.db", "toolkit.lock"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "counter_13.db.pending-g2").write_bytes(b"")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setattr(values, "ValueClass", values.MultiProcessValue())  # type: ignore[no-untyped-call]
    facts = doctor.collect()
    assert facts["metrics"] == {
        "mode": "multiprocess",
        "directory": str(tmp_path),
        "directory_exists": True,
        "db_files": 3,
        "multiprocess_values": True,
        "port": None,
        "path": None,
        "token_set": False,
        "exporter": "prometheus",
        "otlp_endpoint": None,
    }
    rows = _rows(doctor.render_text(facts), "Metrics")
    assert rows["mode"] == "multiprocess"
    assert rows["PROMETHEUS_MULTIPROC_DIR"] == f"{tmp_path} (3 *.db files)"
    assert rows["multiprocess values"] == "yes"


@pytest.mark.parametrize(
    ("environ", "exporter", "endpoint", "row"),
    [
        ({}, "prometheus", None, "prometheus (scraped)"),
        (
            {"OTEL_METRICS_EXPORTER": "otlp"},
            "otlp",
            "http://localhost:4318/v1/metrics",
            "otlp (pushed, not scraped)",
        ),
        (
            {
                "OTEL_METRICS_EXPORTER": "prometheus,otlp",
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
            },
            "both",
            "http://collector:4318/v1/metrics",
            "both (scraped and pushed)",
        ),
    ],
)
def test_the_metrics_exporter_and_its_endpoint(
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str],
    exporter: str,
    endpoint: str | None,
    row: str,
) -> None:
    """OTEL_METRICS_EXPORTER as the middleware reads it: Prometheus only, OTLP, or both;
    the OTLP endpoint (as the exporter resolves it) only when metrics are pushed."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    facts = doctor.collect()
    assert (facts["metrics"]["exporter"], facts["metrics"]["otlp_endpoint"]) == (
        exporter,
        endpoint,
    )
    rows = _rows(doctor.render_text(facts), "Metrics")
    assert rows["exporter"] == row
    assert rows["OTLP metrics endpoint"] == (endpoint or "-")


def test_a_missing_metrics_directory_is_reported_not_created(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A directory that does not exist: reported as such, and doctor does not create it."""
    missing = tmp_path / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(missing))
    facts = doctor.collect()
    metrics = facts["metrics"]
    assert (metrics["mode"], metrics["directory"], metrics["directory_exists"]) == (
        "multiprocess",
        str(missing),
        False,
    )
    assert metrics["db_files"] is None
    assert not missing.exists()
    rows = _rows(doctor.render_text(facts), "Metrics")
    assert rows["PROMETHEUS_MULTIPROC_DIR"] == f"{missing} (does not exist)"


def test_the_token_is_never_printed(monkeypatch: pytest.MonkeyPatch, runner: CliRunner) -> None:
    """TOOLKIT_METRICS_TOKEN set: "set" / ``token_set: true``; its value appears nowhere."""
    monkeypatch.setenv("TOOLKIT_METRICS_TOKEN", TOKEN)
    facts = doctor.collect()
    assert facts["metrics"]["token_set"] is True
    assert TOKEN not in json.dumps(facts)
    for args in ((), ("--format", "json")):
        code, out, err = _doctor(runner, *args)
        assert code == 0
        assert TOKEN not in out
        assert TOKEN not in err
    assert _rows(_doctor(runner)[1], "Metrics")["TOOLKIT_METRICS_TOKEN"] == "set"


def test_logging_setup_of_the_process(restored_logging: None) -> None:
    """Root level and handler classes as they are; structlog marked once toolkit configured it."""
    root = logging.getLogger()
    root.handlers[:] = [logging.StreamHandler(io.StringIO())]
    root.setLevel(logging.DEBUG)
    assert doctor.collect()["logging"] == {
        "root_level": "DEBUG",
        "root_handlers": ["StreamHandler"],
        "structlog_configured_by_toolkit": False,
    }
    configure_logging(service="orders", stream=io.StringIO(), level="INFO")
    assert doctor.collect()["logging"] == {
        "root_level": "INFO",
        "root_handlers": ["StreamHandler", "JSONLinesHandler"],
        "structlog_configured_by_toolkit": True,
    }


def test_text_has_every_section_in_order(runner: CliRunner) -> None:
    """Text output: the five section titles in order, each with its rows."""
    code, out, err = _doctor(runner)
    assert (code, err) == (0, "")
    titles = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert titles == SECTIONS
    assert list(_rows(out, "Tracing")) == [
        "tracer provider",
        "exporters",
        "OTLP endpoint",
        "OTLP protocol",
        "OTEL_SDK_DISABLED",
    ]
    assert list(_rows(out, "Metrics")) == [
        "mode",
        "PROMETHEUS_MULTIPROC_DIR",
        "multiprocess values",
        "TOOLKIT_METRICS_PORT",
        "TOOLKIT_METRICS_PATH",
        "TOOLKIT_METRICS_TOKEN",
        "exporter",
        "OTLP metrics endpoint",
    ]
    assert list(_rows(out, "Logging")) == [
        "root logger level",
        "root logger handlers",
        "structlog configured by toolkit",
    ]
    assert set(GATE_NAMES) <= set(_rows(out, "Fast paths"))
    assert _rows(out, "Versions")["toolkit"] == __version__


def test_json_format_is_one_object_with_the_same_facts(
    monkeypatch: pytest.MonkeyPatch, runner: CliRunner, tmp_path: Path
) -> None:
    """``--format json``: exit 0, one JSON object equal to collect() in the same environment."""
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    code, out, err = _doctor(runner, "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out) == doctor.collect()
    assert out == doctor.render_json(doctor.collect())


def test_an_unknown_format_is_a_usage_error(runner: CliRunner) -> None:
    """``--format xml``: click's usage error, exit 2, nothing on stdout."""
    code, out, err = _doctor(runner, "--format", "xml")
    assert (code, out) == (2, "")
    assert "Invalid value for '--format': 'xml' is not one of 'text', 'json'." in err


def test_collect_has_no_side_effects(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, undecided_gates: None
) -> None:
    """collect() leaves the environment, the global provider and the file system as found."""
    monkeypatch.chdir(tmp_path)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp,console")
    environ = dict(os.environ)
    provider = trace.get_tracer_provider()
    doctor.collect()
    assert dict(os.environ) == environ
    assert trace.get_tracer_provider() is provider
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["metrics"]


def test_a_section_that_fails_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch, runner: CliRunner
) -> None:
    """A section whose gathering raises becomes {"error": ...}; the others and exit 0 stay."""

    def broken() -> dict[str, Any]:
        raise RuntimeError("prometheus_client is broken")

    monkeypatch.setattr(doctor, "_metrics", broken)
    facts = doctor.collect()
    assert facts["metrics"] == {"error": "RuntimeError: prometheus_client is broken"}
    assert facts["logging"]["root_level"] == logging.getLevelName(logging.getLogger().level)
    code, out, _ = _doctor(runner)
    assert code == 0
    assert _rows(out, "Metrics") == {"error": "RuntimeError: prometheus_client is broken"}
