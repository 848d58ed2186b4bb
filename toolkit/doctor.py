"""``toolkit doctor``: the facts a bug report needs, gathered without side effects.

:func:`collect` returns them as plain data (the ``--format json`` object),
:func:`render_text` as text sections. Nothing is built, set, written or sent: no tracer
provider, no exporter, no file, no network. The one thing that may run is each fast-path
gate's decision (``toolkit._gate``), if this process has not made it yet: its self-check
works on a private sample (a temporary directory, a private provider) and leaves nothing
behind, and the decision is what this process would use anyway.

In the ``toolkit doctor`` command the facts are those of a fresh process with the current
environment; called inside a running app, :func:`collect` shows that app's own state
(its tracer provider, its logging set-up, its fast paths).

The keys of :func:`collect`'s object (stable; ``null`` where there is nothing):

- ``python``: ``version``, ``implementation``, ``platform``.
- ``toolkit``: the version of toolkit.
- ``packages``: distribution name -> installed version (``null``: not installed).
- ``fast_paths``: ``setting`` (``TOOLKIT_FAST_PATHS`` as set), ``gates`` (one object per
  gate of ``toolkit._gate.GATES``: ``name``, ``distribution``, ``version``, ``tested``,
  ``active``, ``reason``), ``import_errors`` (gate module -> error; normally empty).
- ``tracing``: ``provider`` (the global tracer provider's class name), ``exporters`` (what
  ``toolkit.instrument`` would export to, from ``OTEL_TRACES_EXPORTER`` and the endpoint
  variables), ``endpoint`` and ``endpoint_source`` (the OTLP URL and the variable it
  came from, or ``"default"``), ``protocol`` (both ``null`` without OTLP),
  ``sdk_disabled`` (``OTEL_SDK_DISABLED`` as set), ``enabled`` (whether toolkit's
  middleware records spans).
- ``metrics``: ``mode`` (``"single process"`` or ``"multiprocess"``), ``directory``
  (``PROMETHEUS_MULTIPROC_DIR``), ``directory_exists``, ``db_files`` (how many ``*.db``
  files it holds), ``multiprocess_values`` (whether prometheus-client's value class of
  this process writes to the shared files), ``port`` (``TOOLKIT_METRICS_PORT``), ``path``
  (``TOOLKIT_METRICS_PATH``), ``token_set`` (whether ``TOOLKIT_METRICS_TOKEN`` is set;
  the token itself is never read out).
- ``logging``: ``root_level``, ``root_handlers`` (class names),
  ``structlog_configured_by_toolkit``.

A section that could not be gathered (a broken installation) is
``{"error": "<type>: <message>"}``: doctor reports, it never raises.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from toolkit._gate import ENV_FAST_PATHS, GATES, installed_version
from toolkit._version import __version__

PACKAGES = (
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
)
"""The distributions whose versions doctor prints, in this order."""

GATE_MODULES = (
    "toolkit.tracing._sdk_gate",
    "toolkit.metrics._prometheus_gate",
    "toolkit.logs._structlog_gate",
    "toolkit.middleware._fastapi_gate",
)
"""The modules that declare the gates (a gate is listed once its module is imported)."""

NO_PROVIDER = "none set (ProxyTracerProvider)"
DEFAULT_OTLP_BASE = "http://localhost:4318"
DEFAULT_OTLP_GRPC = "http://localhost:4317"
TRACES_PATH = "v1/traces"
DEFAULT_PROTOCOL = "http/protobuf"
ENV_PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"
ENV_TRACES_PROTOCOL = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
SINGLE_PROCESS = "single process"
MULTIPROCESS = "multiprocess"

_Section = dict[str, Any]


def collect() -> dict[str, Any]:
    """Every fact of ``toolkit doctor`` as one JSON-ready object (keys: module docstring)."""
    return {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
        },
        "toolkit": __version__,
        "packages": {name: installed_version(name) for name in PACKAGES},
        "fast_paths": _guarded(_fast_paths),
        "tracing": _guarded(_tracing),
        "metrics": _guarded(_metrics),
        "logging": _guarded(_logging),
    }


def render_json(facts: dict[str, Any]) -> str:
    """``--format json``: the facts, indented, ending in a newline."""
    return json.dumps(facts, indent=2, ensure_ascii=False) + "\n"


def describe_provider(provider: object) -> str:
    """The class name of a tracer provider; :data:`NO_PROVIDER` for the API's proxy."""
    from opentelemetry import trace

    if isinstance(provider, trace.ProxyTracerProvider):
        return NO_PROVIDER
    return type(provider).__name__


def _guarded(gather: Callable[[], _Section]) -> _Section:
    try:
        return gather()
    except Exception as error:  # a broken installation is what doctor is for: report it
        return {"error": f"{type(error).__name__}: {error}"}


def _fast_paths() -> _Section:
    import_errors: dict[str, str] = {}
    for module in GATE_MODULES:
        try:
            importlib.import_module(module)
        except Exception as error:
            import_errors[module] = f"{type(error).__name__}: {error}"
    return {
        "setting": os.environ.get(ENV_FAST_PATHS),
        "gates": [asdict(gate.status()) for gate in GATES],
        "import_errors": import_errors,
    }


def _tracing() -> _Section:
    from opentelemetry import trace
    from opentelemetry.environment_variables import OTEL_PYTHON_TRACER_PROVIDER

    from toolkit._otel_env import ENV_SDK_DISABLED, sdk_disabled
    from toolkit.tracing._provider import ENV_OTLP_ENDPOINT, ENV_OTLP_TRACES_ENDPOINT, _exporters

    env = os.environ
    if OTEL_PYTHON_TRACER_PROVIDER in env:
        # get_tracer_provider() would load and set that provider if none is set yet.
        provider = (
            f"not read ({OTEL_PYTHON_TRACER_PROVIDER}={env[OTEL_PYTHON_TRACER_PROVIDER]!r}: "
            "reading it may load that provider)"
        )
    else:
        provider = describe_provider(trace.get_tracer_provider())
    exporters = _exporters(env)
    endpoint = source = protocol = None
    if "otlp" in exporters:
        protocol = env.get(ENV_TRACES_PROTOCOL) or env.get(ENV_PROTOCOL) or DEFAULT_PROTOCOL
        # As the OTLP exporter of that protocol resolves them (gRPC: no path added).
        grpc = protocol.strip().lower() == "grpc"
        if env.get(ENV_OTLP_TRACES_ENDPOINT):
            endpoint, source = env[ENV_OTLP_TRACES_ENDPOINT], ENV_OTLP_TRACES_ENDPOINT
        else:
            base, source = env.get(ENV_OTLP_ENDPOINT), ENV_OTLP_ENDPOINT
            if not base:
                base, source = DEFAULT_OTLP_GRPC if grpc else DEFAULT_OTLP_BASE, "default"
            endpoint = base if grpc else f"{base.removesuffix('/')}/{TRACES_PATH}"
    return {
        "provider": provider,
        "exporters": exporters,
        "endpoint": endpoint,
        "endpoint_source": source,
        "protocol": protocol,
        "sdk_disabled": env.get(ENV_SDK_DISABLED),
        "enabled": not sdk_disabled(env),
    }


def _metrics() -> _Section:
    from toolkit.metrics._endpoint import ENV_METRICS_PORT, ENV_METRICS_TOKEN
    from toolkit.metrics._otlp import PROMETHEUS, metrics_endpoint, resolve_metrics_exporter
    from toolkit.metrics._prometheus_gate import uses_multiprocess_values
    from toolkit.metrics.multiprocess import multiprocess_directory
    from toolkit.middleware.config import ENV_METRICS_PATH

    directory = multiprocess_directory()
    exporter = resolve_metrics_exporter(None, os.environ)
    exists = db_files = None
    if directory is not None:
        exists = directory.is_dir()
        if exists:
            try:
                db_files = sum(1 for path in directory.glob("*.db") if path.is_file())
            except OSError:
                db_files = None
    return {
        "mode": SINGLE_PROCESS if directory is None else MULTIPROCESS,
        "directory": None if directory is None else str(directory),
        "directory_exists": exists,
        "db_files": db_files,
        "multiprocess_values": uses_multiprocess_values(),
        "port": os.environ.get(ENV_METRICS_PORT),
        "path": os.environ.get(ENV_METRICS_PATH),
        "token_set": bool(os.environ.get(ENV_METRICS_TOKEN)),
        # OTEL_METRICS_EXPORTER: whether the HTTP metrics are also (or only) pushed.
        "exporter": exporter,
        "otlp_endpoint": None if exporter == PROMETHEUS else metrics_endpoint(os.environ),
    }


def _logging() -> _Section:
    from toolkit.logs import configured_by_toolkit

    root = logging.getLogger()
    return {
        "root_level": logging.getLevelName(root.level),
        "root_handlers": [type(handler).__name__ for handler in root.handlers],
        "structlog_configured_by_toolkit": configured_by_toolkit(),
    }


# -- text ------------------------------------------------------------------------------


def render_text(facts: dict[str, Any]) -> str:
    """The facts as text sections of aligned ``label  value`` lines, ending in a newline."""
    python = facts["python"]
    versions: list[tuple[str, str]] = [
        ("python", f"{python['version']} ({python['implementation']}, {python['platform']})"),
        ("toolkit", facts["toolkit"]),
    ]
    versions += [(name, version or "not installed") for name, version in facts["packages"].items()]
    sections = [
        ("Versions", versions),
        ("Fast paths", _fast_path_rows(facts["fast_paths"])),
        ("Tracing", _tracing_rows(facts["tracing"])),
        ("Metrics", _metrics_rows(facts["metrics"])),
        ("Logging", _logging_rows(facts["logging"])),
    ]
    width = max(len(label) for _title, rows in sections for label, _value in rows)
    blocks = [
        "\n".join([title, *(f"  {label:<{width}}  {value}".rstrip() for label, value in rows)])
        for title, rows in sections
    ]
    return "\n\n".join(blocks) + "\n"


def _env(value: str | None, empty: str = '"" (empty)') -> str:
    if value is None:
        return "unset"
    return value if value else empty


def _yes(value: bool | None) -> str:
    return "yes" if value else "no"


def _error(section: _Section) -> list[tuple[str, str]] | None:
    return [("error", section["error"])] if "error" in section else None


def _fast_path_rows(section: _Section) -> list[tuple[str, str]]:
    failed = _error(section)
    if failed is not None:
        return failed
    rows = [(ENV_FAST_PATHS, _env(section["setting"]))]
    for gate in section["gates"]:
        path = "fast path" if gate["active"] else "public API"
        rows.append((gate["name"], f"{path} — {gate['reason']}"))
    rows += [
        (module, f"not imported: {error}") for module, error in section["import_errors"].items()
    ]
    return rows


def _tracing_rows(section: _Section) -> list[tuple[str, str]]:
    failed = _error(section)
    if failed is not None:
        return failed
    endpoint = section["endpoint"]
    if endpoint is not None:
        endpoint = f"{endpoint} (from {section['endpoint_source']})"
    disabled = _env(section["sdk_disabled"])
    recorded = "spans recorded" if section["enabled"] else "tracing off"
    return [
        ("tracer provider", section["provider"]),
        ("exporters", _names(section["exporters"], "none (spans exported nowhere)")),
        ("OTLP endpoint", endpoint or "-"),
        ("OTLP protocol", section["protocol"] or "-"),
        ("OTEL_SDK_DISABLED", f"{disabled} ({recorded})"),
    ]


def _metrics_rows(section: _Section) -> list[tuple[str, str]]:
    failed = _error(section)
    if failed is not None:
        return failed
    directory = section["directory"]
    if directory is None:
        where = "unset"
    elif not section["directory_exists"]:
        where = f"{directory} (does not exist)"
    else:
        count = section["db_files"]
        files = "unreadable" if count is None else f"{count} *.db file{'' if count == 1 else 's'}"
        where = f"{directory} ({files})"
    return [
        ("mode", section["mode"]),
        ("PROMETHEUS_MULTIPROC_DIR", where),
        ("multiprocess values", _yes(section["multiprocess_values"])),
        ("TOOLKIT_METRICS_PORT", _env(section["port"])),
        ("TOOLKIT_METRICS_PATH", _env(section["path"], '"" (no metrics on the app\'s port)')),
        ("TOOLKIT_METRICS_TOKEN", "set" if section["token_set"] else "unset"),
        ("exporter", _EXPORTER_ROWS.get(section["exporter"], str(section["exporter"]))),
        ("OTLP metrics endpoint", section["otlp_endpoint"] or "-"),
    ]


_EXPORTER_ROWS = {
    "prometheus": "prometheus (scraped)",
    "otlp": "otlp (pushed, not scraped)",
    "both": "both (scraped and pushed)",
}


def _logging_rows(section: _Section) -> list[tuple[str, str]]:
    failed = _error(section)
    if failed is not None:
        return failed
    return [
        ("root logger level", section["root_level"]),
        ("root logger handlers", _names(section["root_handlers"], "none")),
        ("structlog configured by toolkit", _yes(section["structlog_configured_by_toolkit"])),
    ]


def _names(names: Sequence[str], empty: str) -> str:
    return ", ".join(names) if names else empty
