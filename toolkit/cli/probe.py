"""``toolkit probe URL --service NAME``: check a running service from outside."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit._terminal import progress
from toolkit.cli.check import (
    check_templates_option,
    emit_report,
    generation,
    generation_options,
)
from toolkit.readiness.checks import STATIC_CHECKS
from toolkit.readiness.levels import not_measured, service_report
from toolkit.readiness.model import Check, Report
from toolkit.readiness.output import (
    EXIT_USAGE,
    exit_status,
    generated_option,
    load_catalog_or_exit,
    report_options,
    require_level_option,
    required_level,
)
from toolkit.readiness.probe import (
    CommandLogSource,
    FileLogSource,
    LogSource,
    ProbeOptions,
    SpanReceiver,
    probe_service,
)
from toolkit.readiness.static import StaticOptions, check_catalog


@click.command(name="probe")
@click.argument("url")
@click.option("--service", "service_name", required=True, help="The service's catalog name.")
@click.option(
    "--catalog",
    "catalog_file",
    type=click.Path(path_type=Path),
    help="The catalog: adds the service's static (level 3) checks and its gate.",
)
@generated_option
@generation_options
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file the service writes its log lines to.",
)
@click.option(
    "--log-command",
    help="A command printing the service's recent logs, e.g. 'docker logs --since 1m app'.",
)
@click.option(
    "--otlp-port",
    type=click.IntRange(0, 65535),
    default=4318,
    show_default=True,
    help="Port of the probe's OTLP/HTTP receiver (the service's OTEL_EXPORTER_OTLP_ENDPOINT).",
)
@click.option(
    "--otlp-host", default="127.0.0.1", show_default=True, help="Address the receiver binds."
)
@click.option("--no-otlp", is_flag=True, help="Run no receiver: tracing is not measured.")
@click.option("--path", "probe_path", default="/", show_default=True, help="Path to request.")
@click.option("--metrics-path", default="/metrics", show_default=True)
@click.option(
    "--metrics-url",
    help="Scrape this URL instead of --metrics-path on URL: the service's separate "
    "metrics port (start_metrics_server), e.g. http://127.0.0.1:9464/metrics.",
)
@click.option(
    "--metrics-token",
    envvar="TOOLKIT_METRICS_TOKEN",
    show_envvar=True,
    help="Bearer token to scrape /metrics with (the service's metrics_token).",
)
@click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(0, 300),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the span and the log line (spans are exported in batches).",
)
@require_level_option
@report_options
@check_templates_option
def probe_command(
    url: str,
    service_name: str,
    catalog_file: Path | None,
    generated_dir: Path,
    dashboard_mode: str,
    rule_format: str,
    log_file: Path | None,
    log_command: str | None,
    otlp_port: int,
    otlp_host: str,
    no_otlp: bool,
    probe_path: str,
    metrics_path: str,
    metrics_url: str | None,
    metrics_token: str | None,
    wait_seconds: float,
    require_level: int | None,
    output_format: str,
    junit_file: Path | None,
    html_file: Path | None,
    templates_dir: Path | None,
) -> None:
    """Probe the service running at URL: correlation, logs, tracing, metrics, health.

    Exit 0 when the service reaches its required level, 1 when not, 2 on bad input.
    Point the service's OTEL_EXPORTER_OTLP_ENDPOINT at http://127.0.0.1:4318 (the
    probe's own receiver) and give its logs with --log-file or --log-command.
    """
    if log_file is not None and log_command is not None:
        raise click.UsageError("give --log-file or --log-command, not both")
    for name, value in (("URL", url), ("--metrics-url", metrics_url)):
        if value is not None and not value.startswith(("http://", "https://")):
            raise click.UsageError(f"{name} must start with http:// or https://, got {value!r}")
    gate = None
    static: list[Check]
    if catalog_file is not None:
        catalog = load_catalog_or_exit("probe", catalog_file)
        try:
            service = catalog.service(service_name)
        except KeyError:
            click.echo(f"toolkit probe: no service {service_name!r} in {catalog_file}", err=True)
            raise SystemExit(EXIT_USAGE) from None
        gate = service.gate
        generated = StaticOptions.detect(
            generated_dir, generation(dashboard_mode, rule_format, templates_dir)
        )
        static = check_catalog(catalog, generated)[service_name]
    else:
        fix = "give the probe the service catalog to check dashboards, alerts and SLOs too"
        static = not_measured(STATIC_CHECKS, "no catalog given", fix + " (--catalog CATALOG)")
    logs: LogSource | None = None
    if log_file is not None:
        logs = FileLogSource(log_file)
    elif log_command is not None:
        logs = CommandLogSource(log_command)
    options = ProbeOptions(
        path=probe_path,
        metrics_path=metrics_path,
        metrics_url=metrics_url,
        metrics_token=metrics_token or None,
        wait_seconds=wait_seconds,
    )
    receiver = None if no_otlp else SpanReceiver(otlp_host, otlp_port)
    try:
        if receiver is not None:
            receiver.start()
    except OSError as error:
        click.echo(f"toolkit probe: cannot listen on {otlp_host}:{otlp_port}: {error}", err=True)
        raise SystemExit(EXIT_USAGE) from None
    waiting = f"probing {url}; waiting up to {wait_seconds:g}s for its span and log line"
    try:
        with progress(waiting):
            live = probe_service(url, receiver=receiver, logs=logs, options=options)
    finally:
        if receiver is not None:
            receiver.stop()
    report = Report(
        (service_report(service_name, [*live, *static], required_level(require_level, gate), url),),
        f"Readiness of {service_name}",
    )
    emit_report("probe", report, output_format, junit_file, html_file, templates_dir)
    raise SystemExit(exit_status(report))
