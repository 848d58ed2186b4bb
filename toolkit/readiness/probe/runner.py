"""``probe_service``: call a running service from outside and check every live signal."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import httpx

from toolkit import semconv
from toolkit.readiness import checks as c
from toolkit.readiness.model import Check, Status
from toolkit.readiness.probe.correlation import (
    Attempt,
    check_echo,
    check_replaced,
    malicious_ids,
    raw_request,
)
from toolkit.readiness.probe.exposition import ExpositionError, Scrape, check_metrics
from toolkit.readiness.probe.health import check_health
from toolkit.readiness.probe.logsource import (
    LogSource,
    LogSourceError,
    check_logs,
    matching,
    parse_lines,
)
from toolkit.readiness.probe.receiver import SPAN_KIND_SERVER, SpanReceiver

UNMATCHED_PREFIX = "/__toolkit_probe__/"
COUNT_SETTLE_SECONDS = 2.0  # a request is counted when its response ends: allow a moment
GIVE_LOGS = (
    "tell the probe where the service's log lines go: the file it writes them to "
    "(--log-file PATH) or a command that prints them (--log-command CMD)"
)


@dataclass(frozen=True)
class ProbeOptions:
    """How to probe: the path to call, where metrics are, how long to wait for signals."""

    path: str = "/"
    metrics_path: str = "/metrics"
    metrics_token: str | None = None
    # Scraped instead of metrics_path on the service's URL: a separate metrics port
    # (start_metrics_server), e.g. http://127.0.0.1:9464/metrics.
    metrics_url: str | None = None
    correlation_header: str = semconv.CORRELATION_HEADER
    wait_seconds: float = 10.0
    request_timeout: float = 5.0


def _scraped(options: ProbeOptions) -> str:
    """What the metrics checks scrape: the metrics URL, else the path on the service."""
    return options.metrics_url or options.metrics_path


@dataclass(frozen=True)
class _Ids:
    correlation_id: str
    trace_id: str
    parent_span_id: str

    @classmethod
    def new(cls) -> _Ids:
        return cls(
            correlation_id="probe-" + os.urandom(12).hex(),
            trace_id=os.urandom(16).hex(),
            parent_span_id=os.urandom(8).hex(),
        )

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.parent_span_id}-01"


@dataclass(frozen=True)
class _Scraped:
    """One GET of the metrics path: the status, and the parsed body or why there is none."""

    status: int | None
    scrape: Scrape | None
    problem: str = ""


def _scrape(client: httpx.Client, path: str, token: str | None) -> _Scraped:
    """GET ``path`` (with ``Authorization: Bearer <token>`` if given) and parse it."""
    headers = {"Accept": "text/plain"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = client.get(path, headers=headers)
    except httpx.HTTPError as error:
        return _Scraped(None, None, f"GET {path} failed: {error}")
    status = response.status_code
    if status != 200:
        return _Scraped(status, None, f"GET {path} returned {status}")
    try:
        return _Scraped(status, Scrape.parse(response.text))
    except ExpositionError as error:
        return _Scraped(status, None, f"GET {path}: not Prometheus text exposition ({error})")


def _protected(url: str, path: str, status: int | None) -> Check:
    """Whether ``path`` answered ``status`` to a GET without a token on the app's port."""
    if status == 200:
        return c.METRICS_PROTECTED.warned(
            f"GET {path} answered 200 without a token on {url}: whoever reaches this port "
            "reads the metrics"
        )
    if status in (401, 403):
        return c.METRICS_PROTECTED.passed(f"GET {path} without a token: {status}")
    if status == 404:
        return c.METRICS_PROTECTED.passed(f"{path} is not served on {url} (404)")
    shown = "no answer" if status is None else f"status {status}"
    return c.METRICS_PROTECTED.skipped(f"GET {path} without a token: {shown}")


def _unreachable(url: str, error: Exception) -> list[Check]:
    reason = f"cannot reach {url}: {error}"
    fix = "start the service, or give the probe its URL"
    return [spec.failed(reason, fix) for spec in c.LIVE_CHECKS]


def _settled_count(
    client: httpx.Client, options: ProbeOptions, before: Scrape, sent: int
) -> Scrape | None:
    """The second scrape, retried for a moment while fewer requests are counted than sent."""
    deadline = time.monotonic() + COUNT_SETTLE_SECONDS
    while True:
        after = _scrape(client, _scraped(options), options.metrics_token).scrape
        exclude = [options.metrics_path]
        if after is None or time.monotonic() >= deadline:
            return after
        if semconv.HTTP_SERVER_REQUEST_DURATION not in after.families:
            return after  # nothing will ever be counted: the names check says why
        if after.duration_count(exclude) - before.duration_count(exclude) >= sent:
            return after
        time.sleep(0.05)


def _metrics(
    client: httpx.Client,
    options: ProbeOptions,
    first: _Scraped,
    sent: int,
    raw_paths: list[str],
) -> list[Check]:
    """The metrics checks, given the first scrape and the ``sent`` requests made since."""
    before = first.scrape
    if before is None:
        fix = None
        if first.status == 401 and options.metrics_token is None:
            fix = (
                "give the probe the service's metrics token "
                "(--metrics-token or TOOLKIT_METRICS_TOKEN)"
            )
        return [
            c.METRICS_EXPOSITION.failed(first.problem, fix),
            *(spec.skipped(f"no {_scraped(options)} to read") for spec in _METRIC_DETAILS),
        ]
    after = _settled_count(client, options, before, sent)
    if after is None:
        return [
            c.METRICS_EXPOSITION.failed(f"second scrape of {_scraped(options)} failed"),
            *(spec.skipped(f"no {_scraped(options)} to read") for spec in _METRIC_DETAILS),
        ]
    exposition = c.METRICS_EXPOSITION.passed(
        f"GET {_scraped(options)}: {len(after.families)} metric families parsed"
    )
    return [exposition, *check_metrics(before, after, sent, raw_paths, options.metrics_path)]


_METRIC_DETAILS = (
    c.METRICS_NAMES,
    c.METRICS_LABELS,
    c.METRICS_BUCKETS,
    c.METRICS_ROUTES,
    c.METRICS_COUNTS,
)


def _tracing(receiver: SpanReceiver | None, ids: _Ids, wait: float) -> list[Check]:
    if receiver is None:
        fix = "run the probe with its OTLP receiver (the default) and point the service at it"
        return [
            c.TRACE_SPAN.not_measured("no OTLP receiver to receive spans", fix),
            c.TRACE_CORRELATION.not_measured("no OTLP receiver to receive spans", fix),
        ]
    span = receiver.wait_for(ids.trace_id, ids.parent_span_id, wait)
    if span is None:
        reason = (
            f"no span of trace {ids.trace_id} with parent {ids.parent_span_id} reached "
            f"{receiver.endpoint} within {wait:g}s"
        )
        return [c.TRACE_SPAN.failed(reason), c.TRACE_CORRELATION.skipped("no span received")]
    # Some frameworks (recent FastAPI) emit a server span of their own next to the
    # middleware's: any server span of the request that carries the ID will do.
    siblings = [
        s
        for s in receiver.spans()
        if s.trace_id == ids.trace_id
        and s.parent_span_id == ids.parent_span_id
        and s.kind == SPAN_KIND_SERVER
    ]
    for sibling in siblings:
        if sibling.attributes.get(semconv.SPAN_ATTR_CORRELATION_ID) == ids.correlation_id:
            span = sibling
            break
    if span.kind != SPAN_KIND_SERVER:
        found = c.TRACE_SPAN.failed(
            f"span {span.name!r} has the caller as parent but kind {span.kind}"
        )
    else:
        found = c.TRACE_SPAN.passed(f"server span {span.name!r} from {span.service or '?'}")
    attribute = span.attributes.get(semconv.SPAN_ATTR_CORRELATION_ID)
    if attribute == ids.correlation_id:
        correlation = c.TRACE_CORRELATION.passed(f"{semconv.SPAN_ATTR_CORRELATION_ID}={attribute}")
    else:
        correlation = c.TRACE_CORRELATION.failed(
            f"{semconv.SPAN_ATTR_CORRELATION_ID} is {attribute!r}, not {ids.correlation_id}"
        )
    return [found, correlation]


def _logs(logs: LogSource | None, ids: _Ids, deadline: float) -> list[Check]:
    if logs is None:
        return [
            c.LOGS_JSON.not_measured("no log source given", GIVE_LOGS),
            c.LOGS_CORRELATION.not_measured("no log source given", GIVE_LOGS),
        ]
    while True:
        # A missing file may still appear (the service opens it lazily): keep trying.
        try:
            lines, problem = logs.lines(), ""
        except LogSourceError as error:
            lines, problem = [], error.problem
        if matching(parse_lines(lines)[0], ids.correlation_id, ids.trace_id):
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    if problem:
        return [
            c.LOGS_JSON.not_measured(problem, GIVE_LOGS),
            c.LOGS_CORRELATION.not_measured(problem, GIVE_LOGS),
        ]
    return check_logs(lines, ids.correlation_id, ids.trace_id, logs.describe())


def _correlation(
    client: httpx.Client, url: str, options: ProbeOptions, main: httpx.Response, ids: _Ids
) -> list[Check]:
    header = options.correlation_header
    echo = check_echo(header, ids.correlation_id, main.headers.get(header), main.status_code)
    attempts = []
    for label, value in malicious_ids(ids.correlation_id):
        try:
            response = client.get(options.path, headers={header: value})
        except httpx.TransportError:
            attempts.append(Attempt(label, value, None, None))  # connection dropped: refused
            continue
        attempts.append(Attempt(label, value, response.headers.get(header), response.status_code))
    for label, value in (
        ("CR/LF", ids.correlation_id + "\r\nX-Probe-Injected: 1"),
        ("bare CR", ids.correlation_id + "\rX-Probe-Injected: 1"),
    ):
        try:
            status, headers = raw_request(
                url, options.path, [(header, value), (semconv.PROBE_HEADER, "1")]
            )
        except OSError:
            continue  # the connection was dropped: nothing was echoed
        returned = headers.get(header.lower())
        if "x-probe-injected" in headers:
            returned = value  # the response itself was split: the worst case
        attempts.append(Attempt(label, value, returned, status, injection_only=True))
    return [echo, check_replaced(header, attempts, echo.status is Status.PASS)]


def _health(client: httpx.Client) -> list[Check]:
    results = []
    for spec, path in (
        (c.HEALTH_LIVEZ, semconv.LIVEZ_PATH),
        (c.HEALTH_READYZ, semconv.READYZ_PATH),
    ):
        try:
            response = client.get(path)
        except httpx.HTTPError:
            results.append(check_health(spec, path, None, "", b""))
            continue
        content_type = response.headers.get("content-type", "")
        results.append(
            check_health(spec, path, response.status_code, content_type, response.content)
        )
    return results


def probe_service(
    url: str,
    *,
    receiver: SpanReceiver | None,
    logs: LogSource | None,
    options: ProbeOptions | None = None,
) -> list[Check]:
    """Every live check of the service at ``url``.

    ``receiver`` must be running at the endpoint the service exports its spans to
    (``None``: tracing is not measured); ``logs`` is where the service's log lines show up
    (``None``: logs are not measured). Every request carries ``X-Toolkit-Probe: 1``;
    scrapes carry ``options.metrics_token`` as a bearer token, and ``/metrics`` answering
    without one on ``url`` is a warning (``metrics.protected``). With
    ``options.metrics_url`` the metrics are scraped there (a separate metrics port).
    """
    options = options or ProbeOptions()
    ids = _Ids.new()
    if logs is not None:
        logs.mark()
    headers = {semconv.PROBE_HEADER: "1"}
    main_headers = {options.correlation_header: ids.correlation_id, "traceparent": ids.traceparent}
    # A path no service routes: its raw form must never show up as http_route.
    unmatched = UNMATCHED_PREFIX + os.urandom(8).hex()
    with httpx.Client(base_url=url, headers=headers, timeout=options.request_timeout) as client:
        try:
            # Is /metrics open on the app's port? Asked without a token: before the first
            # scrape when that goes to another port (the app counts this request, a 404,
            # and the counts must not see it), after it when it carried the token, and
            # not at all when the first scrape already asked that way.
            separate = options.metrics_url is not None
            unauthenticated = _scrape(client, options.metrics_path, None) if separate else None
            first = _scrape(client, _scraped(options), options.metrics_token)
            if unauthenticated is None:
                unauthenticated = first
                if options.metrics_token is not None:
                    unauthenticated = _scrape(client, options.metrics_path, None)
            protected = _protected(url, options.metrics_path, unauthenticated.status)
            main = client.get(options.path, headers=main_headers)
            client.get(unmatched, headers={options.correlation_header: ids.correlation_id + "-2"})
            metrics = _metrics(client, options, first, 2, [unmatched])
            correlation = _correlation(client, url, options, main, ids)
            results = [*metrics, protected, *correlation, *_health(client)]
        except httpx.HTTPError as error:
            return _unreachable(url, error)
    deadline = time.monotonic() + options.wait_seconds
    results += _tracing(receiver, ids, options.wait_seconds)
    results += _logs(logs, ids, deadline)
    return results
