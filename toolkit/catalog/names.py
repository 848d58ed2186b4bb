"""The syntax of names in a catalog: service names, Prometheus label names, hosts, URLs."""

from __future__ import annotations

import ipaddress
import re
from typing import Final
from urllib.parse import urlsplit

# A service name becomes a Prometheus label value, part of file names and of Grafana
# dashboard uids (at most 40 characters): lowercase DNS-label characters, and at most 32
# of them so that a generator can add a short prefix or suffix to make a uid.
NAME_MAX_LENGTH: Final = 32
NAME_PATTERN: Final = re.compile(rf"[a-z][a-z0-9-]{{0,{NAME_MAX_LENGTH - 2}}}[a-z0-9]")
NAME_RULE: Final = (
    f"a name of 2 to {NAME_MAX_LENGTH} lowercase letters, digits or '-', "
    "starting with a letter and not ending with '-'"
)

# Prometheus' label-name syntax; names starting with "__" are reserved for its internals.
LABEL_NAME_PATTERN: Final = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
LABEL_NAME_RULE: Final = (
    "a Prometheus label name (letters, digits or '_', not starting with a digit or '__')"
)

_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_PATTERN = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*")
HOST_RULE: Final = "a host name or IP address without scheme, port or path"


def alert_name_prefix(name: str) -> str:
    """``checkout-api`` -> ``CheckoutApi``: how a service's alert names begin.

    Two names may give the same prefix (``svc-2fa`` and ``svc2fa``): the catalog refuses
    that, or their alerts would share names.
    """
    words = [word for word in re.split(r"[^0-9A-Za-z]+", name) if word]
    text = "".join(word[:1].upper() + word[1:] for word in words)
    return text if text[:1].isalpha() else f"Service{text}"


def is_valid_name(text: str) -> bool:
    """Whether ``text`` may name a service or an external (see :data:`NAME_RULE`)."""
    return NAME_PATTERN.fullmatch(text) is not None


def suggest_name(text: str) -> str | None:
    """A valid name close to ``text`` (``Order_Service`` → ``order-service``), if any."""
    candidate = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    candidate = candidate[:NAME_MAX_LENGTH].rstrip("-")
    return candidate if candidate != text and is_valid_name(candidate) else None


def is_label_name(text: str) -> bool:
    """Whether ``text`` is a Prometheus label name a user may set (not reserved)."""
    return LABEL_NAME_PATTERN.fullmatch(text) is not None and not text.startswith("__")


def suggest_label_name(text: str) -> str | None:
    """A valid label name close to ``text`` (``team-name`` → ``team_name``), if any."""
    candidate = re.sub(r"[^a-zA-Z0-9_]", "_", text).lstrip("_")
    return candidate if candidate != text and is_label_name(candidate) else None


def is_host(text: str) -> bool:
    """Whether ``text`` is a host as it appears in ``server_address`` (see :data:`HOST_RULE`)."""
    if len(text) > 253:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return _HOST_PATTERN.fullmatch(text) is not None
    return True


def is_http_url(text: str) -> bool:
    """Whether ``text`` is an absolute ``http``/``https`` URL with a host.

    ``{{`` is refused (percent-encode braces): the URL goes into alert annotations, which
    Prometheus expands as templates, so a rule file carrying it would fail to load.
    """
    if "{{" in text or any(character.isspace() for character in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
