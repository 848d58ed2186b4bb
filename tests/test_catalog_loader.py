"""Tests for toolkit.catalog.loader (with the schema and settings behind it)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from toolkit.catalog import (
    SLO,
    Catalog,
    CatalogError,
    Duration,
    External,
    LatencySLO,
    PrometheusSelector,
    Service,
    Tier,
    catalog_name,
    load_catalog,
    load_catalog_argument,
    load_catalog_data,
)

CASES = Path(__file__).parent / "catalog_cases"
EXAMPLE = Path(__file__).parent.parent / "examples" / "services.yaml"
DOCS = Path(__file__).parent.parent / "docs" / "catalog.md"

# The wording every problem of a kind shares, spelled out once.
PERCENTAGE = "expected a percentage between 0 and 100 (exclusive)"
NAME = (
    "expected a name of 2 to 32 lowercase letters, digits or '-', "
    "starting with a letter and not ending with '-'"
)
LABEL = (
    "expected a Prometheus label name (letters, digits or '_', not starting with a digit or '__')"
)
BUCKETS = (
    "expected one of the histogram bucket boundaries "
    "5ms, 10ms, 25ms, 50ms, 75ms, 100ms, 250ms, 500ms, 750ms, 1s, 2.5s, 5s, 7.5s, 10s"
)
NEAREST = "the latency SLI is read from the histogram buckets; the nearest are 250ms and 500ms"
WINDOW = "expected a Prometheus duration from 1d to 90d, e.g. 30d"
UNIT = "expected a duration with a unit, e.g. 250ms or 1s"
TIERS = "expected one of critical, standard, experimental"
DEPENDENCY = "expected the name of a service or external in this catalog"
NO_TEMPLATE = "expected a non-empty string without '{{'"
TEMPLATE_HINT = "Prometheus expands alert labels as templates"

# (case file in tests/catalog_cases, [(line, text after "FILE:LINE: ")]) in file order.
BAD_CATALOGS = [
    (
        "not-yaml",
        [
            (
                3,
                "not valid YAML: expected ',' or ']', but got '<stream end>' "
                "(while parsing a flow sequence at line 3)",
            ),
        ],
    ),
    (
        "empty",
        [
            (
                1,
                "expected a mapping with a 'services' list at the top level, "
                "found an empty document",
            )
        ],
    ),
    (
        "top-level-list",
        [(1, "expected a mapping with a 'services' list at the top level, found a list")],
    ),
    ("missing-name", [(5, "services[1]: missing required key 'name'")]),
    (
        # Labels the generated alerts take from their series: overriding instance or the
        # breaker's name makes two firing series one labelset, and the rule then fails.
        "reserved-alert-labels",
        [
            (
                2,
                "defaults.alert_labels: label 'instance' cannot be set here"
                " — the target alerts take it from each scrape target",
            ),
            (
                7,
                "services[0].alert_labels: label 'name' cannot be set here"
                " — the circuit-breaker alert takes it from each breaker",
            ),
            (
                7,
                "services[0].alert_labels: label 'slo' cannot be set here"
                " — the burn-rate alerts get it from their objective",
            ),
            (
                7,
                "services[0].alert_labels: label 'job' cannot be set here"
                " — alerts take it from the scraped series (prometheus.job)",
            ),
        ],
    ),
    (
        # Alert labels are Go templates to Prometheus: '{{' would stop the rules loading
        # (a selector label is no template: it may hold one).
        "templates",
        [
            (3, f"services[0].team: {NO_TEMPLATE}, found '{{{{ .Team }}}}' — {TEMPLATE_HINT}"),
            (
                6,
                f"services[0].alert_labels.owner: {NO_TEMPLATE}, found '{{{{owner}}}}' "
                f"— {TEMPLATE_HINT}",
            ),
        ],
    ),
    (
        "duplicate-names",
        [
            (
                8,
                "services[1].name: duplicate name 'orders': "
                "first defined at line 5 (services[0].name)",
            ),
            (
                11,
                "services[2].name: duplicate name 'stripe': "
                "first defined at line 2 (externals[0].name)",
            ),
        ],
    ),
    (
        "alert-name-collision",
        [
            (
                6,
                "services[1].name: service 'svc2fa' gives the same alert names as 'svc-2fa' "
                "(line 3, services[0].name): both become Svc2fa... — rename one of them so "
                "the names differ by more than '-'",
            ),
        ],
    ),
    (
        "unknown-keys",
        [
            (2, "unknown key 'defualts' — did you mean 'defaults'?"),
            (7, "services[0]: unknown key 'slos' — did you mean 'slo'?"),
            (8, "services[0]: unknown key 'dependecies' — did you mean 'dependencies'?"),
            (
                9,
                "services[0]: unknown key 'owner' — valid keys: name, team, tier, description, "
                "slo, dependencies, runbook, prometheus, address, alert_labels, alerting, gate, "
                "dashboard",
            ),
        ],
    ),
    (
        "availability",
        [
            (4, f"services[0].slo.availability: {PERCENTAGE}, found 100.5"),
            (7, f"services[1].slo.availability: {PERCENTAGE}, found 0"),
            (10, f"services[2].slo.availability: {PERCENTAGE}, found 100"),
            (13, f"services[3].slo.availability: {PERCENTAGE}, found -1"),
            (13, f"services[3].slo.latency.target: {PERCENTAGE}, found 100"),
        ],
    ),
    (
        "latency-threshold",
        [
            (
                6,
                f"services[0].slo.latency.threshold: {UNIT}, found the number 300"
                " — write a number and one of the units ms, s or m, e.g. 250ms or 2.5s",
            ),
            (
                9,
                "services[1].slo.latency.threshold: expected a duration greater than 0, "
                "found '-300ms'",
            ),
            (
                12,
                "services[2].slo.latency.threshold: expected a duration greater than 0, found '0s'",
            ),
            (15, f"services[3].slo.latency.threshold: {BUCKETS}, found '300ms' — {NEAREST}"),
            (
                18,
                f"services[4].slo.latency.threshold: {BUCKETS}, found '30s'"
                " — the largest bucket is 10s",
            ),
            (
                21,
                f"services[5].slo.latency.threshold: {UNIT}, found '250 ms'"
                " — did you mean '250ms'?",
            ),
            (24, "services[6].slo.latency: missing required key 'target'"),
            (
                27,
                f"services[7].slo.latency.threshold: {UNIT}, found '300'"
                " — write a number and one of the units ms, s or m, e.g. 250ms or 2.5s",
            ),
            (
                30,
                f"services[8].slo.latency.threshold: {BUCKETS}, found '0.5ms'"
                " — the smallest bucket is 5ms",
            ),
        ],
    ),
    (
        "unknown-tier",
        [
            (4, f"services[0].tier: {TIERS}, found 'gold' — the tier sets alert severity"),
            (8, f"services[1].tier: {TIERS}, found 'Critical' — did you mean 'critical'?"),
        ],
    ),
    (
        "unknown-dependency",
        [
            (
                8,
                f"services[0].dependencies[1]: {DEPENDENCY}, found 'paymnts'"
                " — did you mean 'payments'?",
            ),
            (
                8,
                "services[0].dependencies[3]: duplicate dependency 'users': "
                "first listed at line 8 (services[0].dependencies[0])",
            ),
            (
                8,
                f"services[0].dependencies[4]: {DEPENDENCY}, found 'warehouse'"
                " — add it to services or externals",
            ),
        ],
    ),
    (
        "self-dependency",
        [
            (
                5,
                "services[0].dependencies[0]: expected the name of another service or an external, "
                "found 'orders', the service itself",
            ),
        ],
    ),
    (
        "invalid-names",
        [
            (2, f"externals[0].name: {NAME}, found 'Stripe API' — did you mean 'stripe-api'?"),
            (
                3,
                "externals[0].address: expected a host name or IP address without scheme, port or "
                "path, found 'https://api.stripe.com'",
            ),
            (
                5,
                f"services[0].name: {NAME}, found 'Orders_Service'"
                " — did you mean 'orders-service'?",
            ),
            (8, f"services[1].name: {NAME}, found 'orders-' — did you mean 'orders'?"),
            (11, f"services[2].name: {NAME}, found '1orders'"),
            (14, f"services[3].name: {NAME}, found 'x'"),
            (
                17,
                f"services[4].name: {NAME}, found 'a-name-that-is-far-too-long-for-a-uid'"
                " — did you mean 'a-name-that-is-far-too-long-for'?",
            ),
            (20, f"services[5].name: {NAME}, found 'users/v2' — did you mean 'users-v2'?"),
        ],
    ),
    (
        "window",
        [
            (2, f"defaults.slo.window: {WINDOW}, found '1.5d' — did you mean '1d12h'?"),
            (6, f"services[0].slo.window: {WINDOW}, found '30 days' — did you mean '30d'?"),
            (
                9,
                f"services[1].slo.window: {WINDOW}, found '1mo'"
                " — months have no fixed length in Prometheus; use days, e.g. 30d",
            ),
            (
                12,
                f"services[2].slo.window: {WINDOW}, found '12h'"
                " — multi-window burn-rate alerts need a window of at least 1d",
            ),
            (
                15,
                f"services[3].slo.window: {WINDOW}, found '1y'"
                " — a window beyond 90d outlives typical Prometheus retention",
            ),
            (18, f"services[4].slo.window: {WINDOW}, found the number 30 — add a unit: 30d"),
        ],
    ),
    (
        "wrong-types",
        [
            (1, "version: expected 1 (the only catalog version), found the string '1'"),
            (2, "defaults: expected a mapping, found a list"),
            (5, "services[0].team: expected a non-empty string, found a list"),
            (
                7,
                f"services[0].slo.availability: {PERCENTAGE}, found the string '99.9%'"
                " — write it as a bare number: 99.9",
            ),
            (8, "services[0].slo.latency: expected a mapping, found a list"),
            (
                9,
                "services[0].dependencies: expected a list of service or external names, "
                "found the string 'users'",
            ),
            (10, "services[0].prometheus: expected a mapping, found the string 'orders'"),
            (13, "services[1].slo: expected a mapping, found the number 99.9"),
            (14, "services[2]: expected a mapping, found the string 'just-a-string'"),
        ],
    ),
    (
        "several-errors",
        [
            (5, f"services[0].tier: {TIERS}, found 'critcal' — did you mean 'critical'?"),
            (7, f"services[0].slo.availability: {PERCENTAGE}, found 100.5"),
            (8, f"services[0].slo.latency.threshold: {BUCKETS}, found '300ms' — {NEAREST}"),
            (9, f"services[0].slo.window: {WINDOW}, found '1.5d' — did you mean '1d12h'?"),
            (
                10,
                f"services[0].dependencies[1]: {DEPENDENCY}, found 'paymnts'"
                " — add it to services or externals",
            ),
            (11, "services[0].runbook: expected an http or https URL, found 'runbooks/orders.md'"),
            (13, "services[1]: unknown key 'tema' — did you mean 'team'?"),
        ],
    ),
    (
        "labels",
        [
            (2, f"defaults.alert_labels: {LABEL}, found 'team-name' — did you mean 'team_name'?"),
            (2, f"defaults.alert_labels: {LABEL}, found '__meta' — did you mean 'meta'?"),
            (
                2,
                "defaults.alert_labels: label 'severity' cannot be set here"
                " — every alert gets it from the service's tier",
            ),
            (2, "defaults.alert_labels.region: expected a non-empty string, found ''"),
            (
                9,
                "services[0].prometheus.labels: label 'job' cannot be set here"
                " — set the job with prometheus.job",
            ),
            (
                9,
                "services[0].prometheus.labels.env: expected a non-empty string, found the number 1"
                " — quote it to make it a string",
            ),
            (
                13,
                "services[1].prometheus: duplicate Prometheus selector '{job=\"shop\"}': "
                "first defined at line 8 (services[0].prometheus)",
            ),
            (
                14,
                "services[1].address: duplicate address 'orders': first defined at line 4 "
                "(services[0].name) — a service's address defaults to its name",
            ),
        ],
    ),
    (
        "missing-slo",
        [
            (4, "services[0]: missing required key 'slo' — or set it once under defaults.slo"),
            (
                8,
                "services[1].slo: missing required key 'availability'"
                " — or set it once under defaults.slo",
            ),
        ],
    ),
    (
        "structure",
        [
            (1, "version: expected 1 (the only catalog version), found 2"),
            (3, "externals[0]: missing required key 'address'"),
            (5, "services: expected a non-empty list of services, found an empty list"),
            (6, "duplicate key 'services': first defined at line 5"),
        ],
    ),
]


@pytest.mark.parametrize(("case", "expected"), BAD_CATALOGS, ids=[case for case, _ in BAD_CATALOGS])
def test_bad_catalog_reports_every_problem_with_its_line(
    case: str, expected: list[tuple[int, str]]
) -> None:
    """Each bad catalog raises CatalogError listing all its problems, exact text and line."""
    path = CASES / f"{case}.yaml"
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    problems = caught.value.problems
    assert [problem.line for problem in problems] == [line for line, _ in expected]
    assert [str(problem) for problem in problems] == [
        f"{path}:{line}: {text}" for line, text in expected
    ]


def test_every_case_file_is_in_the_table() -> None:
    """No case file in tests/catalog_cases is left untested."""
    assert sorted(p.stem for p in CASES.glob("*.yaml")) == sorted(c for c, _ in BAD_CATALOGS)


def test_problem_carries_structured_fields() -> None:
    """A problem keeps file, line, column, path, expected, found and hint apart."""
    path = CASES / "several-errors.yaml"
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    problem = caught.value.problems[1]
    assert problem.file == str(path)
    assert (problem.line, problem.column) == (7, 21)
    assert problem.path == "services[0].slo.availability"
    assert problem.expected == "a percentage between 0 and 100 (exclusive)"
    assert problem.found == "100.5"
    assert problem.hint is None
    assert caught.value.problems[0].hint == "did you mean 'critical'?"


def test_missing_file_is_one_problem_without_a_line(tmp_path: Path) -> None:
    """A file that does not exist gives one clear problem, not a traceback."""
    path = tmp_path / "nope.yaml"
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}: cannot read the file: no such file or directory"
    ]
    assert caught.value.problems[0].line is None


def test_directory_is_not_a_catalog(tmp_path: Path) -> None:
    """A directory given as the catalog is reported as unreadable."""
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    assert str(caught.value) == f"{tmp_path}: cannot read the file: is a directory"


def test_non_utf8_file_names_its_line(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are reported on the line where they are."""
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"services:\n  - name: caf\xe9\n")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value) == f"{path}:2: not valid YAML: not UTF-8 text (byte 0xe9)"


def test_tab_indentation_gets_a_hint(tmp_path: Path) -> None:
    """A tab used for indentation is a syntax error with the usual cause named."""
    path = tmp_path / "tabs.yaml"
    path.write_text("services:\n  - name: orders\n\tteam: checkout\n")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value) == (
        f"{path}:3: not valid YAML: found character '\\t' that cannot start any token"
        " — indent with spaces, not tabs"
    )


def test_unquoted_colon_gets_a_hint(tmp_path: Path) -> None:
    """': ' inside an unquoted value is a syntax error with the fix named."""
    path = tmp_path / "colon.yaml"
    path.write_text("services:\n  - name: orders\n    description: The monolith: all of it\n")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value) == (
        f"{path}:3: not valid YAML: mapping values are not allowed here"
        " — quote a value that contains ': '"
    )


def _write(tmp_path: Path, text: str) -> Path:
    """Write a catalog into tmp_path and return its path."""
    path = tmp_path / "services.yaml"
    path.write_text(text)
    return path


def test_defaults_merge_key_by_key(tmp_path: Path) -> None:
    """A service inherits each default it does not set; alert labels merge, its own win."""
    path = _write(
        tmp_path,
        "defaults:\n"
        "  tier: critical\n"
        "  slo: {availability: 99.5, window: 28d, latency: {threshold: 500ms, target: 95}}\n"
        "  alert_labels: {region: eu, pager: default}\n"
        "services:\n"
        "  - name: orders\n"
        "    team: checkout\n"
        "    slo: {latency: {target: 99}}\n"
        "    alert_labels: {pager: checkout}\n",
    )
    service = load_catalog(path).service("orders")
    assert service.tier is Tier.CRITICAL
    assert service.slo == SLO(
        availability=99.5,
        window=Duration(text="28d", seconds=28 * 86400),
        latency=LatencySLO(threshold_seconds=0.5, target=99.0),
    )
    assert service.alert_labels == {"region": "eu", "pager": "checkout"}


def test_latency_null_switches_off_the_default_latency_slo(tmp_path: Path) -> None:
    """`latency: null` in a service drops the latency SLO it would inherit."""
    path = _write(
        tmp_path,
        "defaults:\n"
        "  slo: {availability: 99.5, latency: {threshold: 1s, target: 95}}\n"
        "services:\n"
        "  - name: mailer\n"
        "    team: growth\n"
        "    slo: {latency: null}\n",
    )
    assert load_catalog(path).service("mailer").slo.latency is None


def test_minimal_service_gets_every_default(tmp_path: Path) -> None:
    """Only name, team and availability: the rest is the documented defaults."""
    path = _write(
        tmp_path,
        "services:\n  - name: orders\n    team: checkout\n    slo: {availability: 99.9}\n",
    )
    catalog = load_catalog(path)
    assert catalog == Catalog(
        path=path,
        services=(
            Service(
                name="orders",
                team="checkout",
                tier=Tier.STANDARD,
                slo=SLO(availability=99.9, window=Duration(text="30d", seconds=2592000)),
                prometheus=PrometheusSelector(job="orders", labels={}),
                address="orders",
            ),
        ),
        externals=(),
    )


@pytest.mark.parametrize(
    ("threshold", "seconds"),
    [("250ms", 0.25), ("0.25s", 0.25), ("2.5s", 2.5), ("2s500ms", 2.5), ("5ms", 0.005)],
)
def test_threshold_spellings_resolve_to_the_exact_bucket(
    tmp_path: Path, threshold: str, seconds: float
) -> None:
    """Any spelling of a bucket boundary gives exactly the bucket's value in seconds."""
    path = _write(
        tmp_path,
        "services:\n  - name: orders\n    team: checkout\n"
        f"    slo: {{availability: 99.9, latency: {{threshold: {threshold}, target: 99}}}}\n",
    )
    latency = load_catalog(path).service("orders").slo.latency
    assert latency == LatencySLO(threshold_seconds=seconds, target=99.0)


def test_example_catalog_loads_with_expected_values() -> None:
    """examples/services.yaml is valid and says what docs/catalog.md describes."""
    catalog = load_catalog(EXAMPLE)
    assert [s.name for s in catalog.services] == [
        "orders",
        "payments",
        "users",
        "inventory",
        "notifications",
    ]
    assert catalog.externals == (
        External(name="stripe", address="api.stripe.com", description="Card payments provider"),
        External(
            name="sendgrid", address="api.sendgrid.com", description="Transactional email provider"
        ),
    )
    orders = catalog.service("orders")
    assert orders.tier is Tier.CRITICAL
    assert orders.slo == SLO(
        availability=99.9,
        window=Duration(text="30d", seconds=2592000),
        latency=LatencySLO(threshold_seconds=0.5, target=99.0),
    )
    assert orders.dependencies == ("users", "payments", "inventory", "notifications")
    assert orders.prometheus == PrometheusSelector(job="shop-monolith", labels={})
    assert orders.alert_labels == {"region": "eu-west"}
    payments = catalog.service("payments")
    assert payments.slo == SLO(
        availability=99.95,
        window=Duration(text="28d", seconds=2419200),
        latency=LatencySLO(threshold_seconds=1.0, target=99.0),
    )
    assert payments.prometheus == PrometheusSelector(job="payments", labels={"env": "production"})
    assert payments.address == "payments.shop.internal"
    assert payments.alert_labels == {"region": "eu-west", "compliance": "pci"}
    assert payments.runbook == "https://runbooks.example.com/payments"
    inventory = catalog.service("inventory")
    assert (inventory.tier, inventory.slo.availability) == (Tier.STANDARD, 99.5)
    assert inventory.slo.latency == LatencySLO(threshold_seconds=0.5, target=95.0)
    notifications = catalog.service("notifications")
    assert notifications.tier is Tier.EXPERIMENTAL
    assert notifications.slo.latency is None
    assert notifications.dependencies == ("users", "sendgrid")


def test_complete_catalogs_in_the_docs_are_valid(tmp_path: Path) -> None:
    """The docs' whole-catalog examples (those starting at the top level) load."""
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), re.DOTALL)
    complete = [b for b in blocks if b.startswith(("version:", "defaults:"))]
    assert len(complete) == 2
    for index, block in enumerate(complete):
        path = tmp_path / f"docs-{index}.yaml"
        path.write_text(block)
        assert load_catalog(path).services


def test_load_catalog_argument_reads_dash_from_stdin() -> None:
    """`-` reads the given binary stream; the catalog and its problems name `<stdin>`."""
    catalog = load_catalog_argument("-", io.BytesIO(EXAMPLE.read_bytes()))
    assert catalog == load_catalog_data(EXAMPLE.read_bytes())
    assert catalog.path == Path("<stdin>")
    assert [s.name for s in catalog.services] == [s.name for s in load_catalog(EXAMPLE).services]
    with pytest.raises(CatalogError) as caught:
        load_catalog_argument("-", io.BytesIO(b"services: 1\n"))
    assert [str(p) for p in caught.value.problems] == [
        "<stdin>:1: services: expected a list of services, found the number 1"
    ]
    assert (catalog_name("-"), catalog_name(Path("a.yaml"))) == ("<stdin>", "a.yaml")


def test_load_catalog_argument_reads_any_other_argument_as_a_path() -> None:
    """Anything but `-` is a path, as for load_catalog."""
    assert load_catalog_argument(EXAMPLE) == load_catalog(EXAMPLE)
