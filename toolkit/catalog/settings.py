"""Settings a service may inherit from ``defaults``: tier, SLO and alert labels.

Both ``defaults`` and each service are read into a :class:`Settings` (``alerting`` is
read by ``toolkit.catalog.alerting``); :func:`merge`
lays a service's over the defaults, key by key, before the SLO is built.

Over 300 lines and kept whole: every inheritable setting is read, checked and merged
here, so one file tells what ``defaults`` can carry.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

import yaml

from toolkit.catalog.alerting import read_alerting
from toolkit.catalog.duration import (
    DurationError,
    format_seconds,
    parse_duration,
    parse_threshold_milliseconds,
)
from toolkit.catalog.model import SLO, Duration, LatencySLO, Tier
from toolkit.catalog.names import LABEL_NAME_RULE, is_label_name, suggest_label_name
from toolkit.catalog.nodes import NodeReader, child_path, describe, is_null, shown
from toolkit.semconv import (
    DURATION_BUCKETS,
    JOB,
    LABEL_BREAKER_NAME,
    LABEL_INSTANCE,
    LABEL_SERVICE,
    LABEL_SEVERITY,
    LABEL_SLO,
    LABEL_TEAM,
)

SETTING_KEYS: Final = ("tier", "slo", "alert_labels", "alerting")
SLO_KEYS: Final = ("availability", "latency", "window")
LATENCY_KEYS: Final = ("threshold", "target")

DEFAULT_TIER: Final = Tier.STANDARD
DEFAULT_WINDOW: Final = Duration(text="30d", seconds=30 * 86400)
# Multi-window burn-rate alerts look at 1h..3d slices of the window: shorter windows
# leave no budget to burn. Longer than a quarter outlives typical Prometheus retention
# and reacts too slowly to be worth alerting on.
MIN_WINDOW: Final = Duration(text="1d", seconds=86400)
MAX_WINDOW: Final = Duration(text="90d", seconds=90 * 86400)

PERCENTAGE: Final = "a percentage between 0 and 100 (exclusive)"
WINDOW: Final = f"a Prometheus duration from {MIN_WINDOW.text} to {MAX_WINDOW.text}, e.g. 30d"
THRESHOLD: Final = "a duration with a unit, e.g. 250ms or 1s"
THRESHOLD_HINT: Final = "write a number and one of the units ms, s or m, e.g. 250ms or 2.5s"
THRESHOLDS: Final = tuple(format_seconds(bucket) for bucket in DURATION_BUCKETS)
BUCKET_THRESHOLD: Final = "one of the histogram bucket boundaries " + ", ".join(THRESHOLDS)
TIERS: Final = tuple(tier.value for tier in Tier)
# Labels the rule generator puts on every alert itself: routing relies on them, so a
# catalog may not set them (it would be silently overwritten).
RESERVED_ALERT_LABELS: Final = {
    LABEL_SEVERITY: "every alert gets it from the service's tier",
    LABEL_SERVICE: "every alert gets it from the service's name",
    LABEL_TEAM: "every alert gets it from the service's team",
    # Taken from the alerts' series: one value for all would make two firing series one
    # labelset, and Prometheus then fails the whole rule instead of firing.
    LABEL_INSTANCE: "the target alerts take it from each scrape target",
    LABEL_BREAKER_NAME: "the circuit-breaker alert takes it from each breaker",
    LABEL_SLO: "the burn-rate alerts get it from their objective",
    JOB: "alerts take it from the scraped series (prometheus.job)",
}


@dataclass
class Settings:
    """Inheritable settings as read from one mapping; ``given`` holds the keys written.

    A key in ``given`` whose value is ``None`` was written but invalid (already reported);
    so are the keys of an ``slo`` or ``latency`` that is not a mapping, so that no
    "missing" problem follows the one already reported.
    ``latency_off`` means ``slo.latency: null``: no latency SLO, even from defaults.
    """

    path: str
    given: set[str] = field(default_factory=set)
    tier: Tier | None = None
    availability: float | None = None
    window: Duration | None = None
    threshold: float | None = None
    target: float | None = None
    latency_off: bool = False
    alert_labels: dict[str, str] = field(default_factory=dict)
    alerting: dict[str, Any] = field(default_factory=dict)
    slo_node: yaml.Node | None = None
    latency_node: yaml.Node | None = None
    latency_path: str = ""


def read_settings(reader: NodeReader, values: dict[str, yaml.Node], path: str) -> Settings:
    """Read ``tier``, ``slo``, ``alert_labels`` and ``alerting`` from the mapping at ``path``."""
    settings = Settings(path=path)
    if "tier" in values:
        settings.given.add("tier")
        settings.tier = _tier(reader, values["tier"], child_path(path, "tier"))
    if "alert_labels" in values:
        labels = read_labels(
            reader,
            values["alert_labels"],
            child_path(path, "alert_labels"),
            RESERVED_ALERT_LABELS,
            templated=True,
        )
        settings.alert_labels = labels or {}
    if "slo" in values:
        _read_slo(reader, values["slo"], child_path(path, "slo"), settings)
    if "alerting" in values:
        settings.alerting = (
            read_alerting(reader, values["alerting"], child_path(path, "alerting")) or {}
        )
    return settings


def merge(defaults: Settings, own: Settings) -> Settings:
    """``own`` laid over ``defaults``: each key ``own`` wrote wins, alert labels merge."""
    merged = Settings(
        path=own.path,
        given=own.given | defaults.given,
        alert_labels={**defaults.alert_labels, **own.alert_labels},
        alerting={**defaults.alerting, **own.alerting},
        slo_node=own.slo_node,
        latency_node=own.latency_node or defaults.latency_node,
        latency_path=own.latency_path or defaults.latency_path,
    )
    for name in ("tier", "availability", "window", "threshold", "target"):
        source = own if name in own.given else defaults
        setattr(merged, name, getattr(source, name))
    if own.latency_off:
        merged.given -= {"threshold", "target"}
        merged.threshold = merged.target = None
    return merged


def check_complete(reader: NodeReader, merged: Settings, node: yaml.Node) -> None:
    """Report what a service still lacks once merged with the defaults."""
    if "availability" not in merged.given and not reader.suggested(node, "slo"):
        hint = "or set it once under defaults.slo"
        if merged.slo_node is None:
            reader.report(node, merged.path, "missing required key 'slo'", hint=hint)
        else:
            slo_path = child_path(merged.path, "slo")
            reader.report(
                merged.slo_node, slo_path, "missing required key 'availability'", hint=hint
            )
    latency = {"threshold", "target"} & merged.given
    if len(latency) == 1 and merged.latency_node is not None:
        (missing,) = {"threshold", "target"} - latency
        message = f"missing required key '{missing}'"
        reader.report(merged.latency_node, merged.latency_path, message)


def build_slo(merged: Settings) -> SLO:
    """The SLO of a complete, valid merged :class:`Settings`."""
    if merged.availability is None:
        raise ValueError(f"{merged.path}: no availability to build an SLO from")
    latency = None
    if merged.threshold is not None and merged.target is not None:
        latency = LatencySLO(threshold_seconds=merged.threshold, target=merged.target)
    return SLO(
        availability=merged.availability,
        window=merged.window or DEFAULT_WINDOW,
        latency=latency,
    )


def read_labels(
    reader: NodeReader,
    node: yaml.Node,
    path: str,
    reserved: dict[str, str] | None = None,
    *,
    templated: bool = False,
) -> dict[str, str] | None:
    """A mapping of Prometheus label names to non-empty strings.

    ``reserved`` maps label names the user may not set to the reason why; ``templated``
    labels (alert labels) may not hold ``{{``.
    """
    entries = reader.entries(node, path, "a mapping of label names to values")
    if entries is None:
        return None
    labels: dict[str, str] = {}
    for key_node, name, value_node in entries:
        if not is_label_name(name):
            hint = suggest_label_name(name)
            reader.expect(
                key_node,
                path,
                LABEL_NAME_RULE,
                repr(name),
                f"did you mean '{hint}'?" if hint else None,
            )
            continue
        if reserved and name in reserved:
            reader.report(key_node, path, f"label '{name}' cannot be set here", hint=reserved[name])
            continue
        at = child_path(path, name)
        value = reader.template_free(value_node, at) if templated else reader.string(value_node, at)
        if value is not None:
            labels[name] = value
    return labels


def _read_slo(reader: NodeReader, node: yaml.Node, path: str, settings: Settings) -> None:
    """Read an ``slo`` mapping into ``settings``."""
    values = reader.mapping(node, path, SLO_KEYS)
    if values is None:
        settings.given |= {"availability", "window"}
        return
    settings.slo_node = node
    if "availability" in values:
        settings.given.add("availability")
        settings.availability = _percentage(
            reader, values["availability"], child_path(path, "availability")
        )
    if "window" in values:
        settings.given.add("window")
        settings.window = _window(reader, values["window"], child_path(path, "window"))
    if "latency" in values:
        _read_latency(reader, values["latency"], child_path(path, "latency"), settings)


def _read_latency(reader: NodeReader, node: yaml.Node, path: str, settings: Settings) -> None:
    """Read ``slo.latency`` into ``settings``; ``null`` switches the latency SLO off."""
    if is_null(node):
        settings.latency_off = True
        return
    values = reader.mapping(node, path, LATENCY_KEYS)
    if values is None:
        settings.given |= {"threshold", "target"}
        return
    settings.latency_node, settings.latency_path = node, path
    if "threshold" in values:
        settings.given.add("threshold")
        settings.threshold = _threshold(reader, values["threshold"], child_path(path, "threshold"))
    if "target" in values:
        settings.given.add("target")
        settings.target = _percentage(reader, values["target"], child_path(path, "target"))


def _tier(reader: NodeReader, node: yaml.Node, path: str) -> Tier | None:
    """One of the :class:`Tier` values."""
    expected = "one of " + ", ".join(TIERS)
    text = reader.string(node, path, expected)
    if text is None:
        return None
    if text not in TIERS:
        close = difflib.get_close_matches(text.lower(), TIERS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "the tier sets alert severity"
        reader.expect(node, path, expected, shown(node), hint)
        return None
    return Tier(text)


def _percentage(reader: NodeReader, node: yaml.Node, path: str) -> float | None:
    """A number strictly between 0 and 100."""
    value = reader.number(node, path, PERCENTAGE)
    if value is not None and not 0 < value < 100:
        reader.expect(node, path, PERCENTAGE, shown(node))
        return None
    return value


def _window(reader: NodeReader, node: yaml.Node, path: str) -> Duration | None:
    """A Prometheus duration within [MIN_WINDOW, MAX_WINDOW]."""
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith((":int", ":float")):
        reader.expect(node, path, WINDOW, describe(node), f"add a unit: {node.value}d")
        return None
    text = reader.string(node, path, WINDOW)
    if text is None:
        return None
    try:
        window = parse_duration(text)
    except DurationError as error:
        reader.expect(node, path, WINDOW, shown(node), error.hint)
        return None
    if window.seconds < MIN_WINDOW.seconds:
        hint = f"multi-window burn-rate alerts need a window of at least {MIN_WINDOW.text}"
        reader.expect(node, path, WINDOW, shown(node), hint)
        return None
    if window.seconds > MAX_WINDOW.seconds:
        hint = f"a window beyond {MAX_WINDOW.text} outlives typical Prometheus retention"
        reader.expect(node, path, WINDOW, shown(node), hint)
        return None
    return window


def _threshold(reader: NodeReader, node: yaml.Node, path: str) -> float | None:
    """A latency threshold that is a bucket boundary of the request-duration histogram."""
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith((":int", ":float")):
        reader.expect(node, path, THRESHOLD, describe(node), THRESHOLD_HINT)
        return None
    text = reader.string(node, path, THRESHOLD)
    if text is None:
        return None
    if text.strip().startswith("-"):
        reader.expect(node, path, "a duration greater than 0", shown(node))
        return None
    try:
        milliseconds = parse_threshold_milliseconds(text)
    except DurationError as error:
        # Prometheus' advice ("whole numbers…") does not fit: thresholds take decimals.
        hint = error.hint if error.hint.startswith("did you mean") else THRESHOLD_HINT
        reader.expect(node, path, THRESHOLD, shown(node), hint)
        return None
    if milliseconds <= 0:
        reader.expect(node, path, "a duration greater than 0", shown(node))
        return None
    for bucket in DURATION_BUCKETS:
        if Decimal(str(bucket)) * 1000 == milliseconds:
            return bucket
    reader.expect(node, path, BUCKET_THRESHOLD, shown(node), _nearest_buckets(milliseconds))
    return None


def _nearest_buckets(milliseconds: Decimal) -> str:
    """Name the bucket boundaries around a threshold that is not one of them."""
    bounds = [Decimal(str(bucket)) * 1000 for bucket in DURATION_BUCKETS]
    above = [bound for bound in bounds if bound > milliseconds]
    below = [bound for bound in bounds if bound < milliseconds]
    if not above:
        return f"the largest bucket is {THRESHOLDS[-1]}"
    if not below:
        return f"the smallest bucket is {THRESHOLDS[0]}"
    return (
        "the latency SLI is read from the histogram buckets; the nearest are "
        f"{THRESHOLDS[bounds.index(below[-1])]} and {THRESHOLDS[bounds.index(above[0])]}"
    )
