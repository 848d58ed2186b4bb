"""Stable Grafana dashboard uids: the rules label their overview series with them too."""

from __future__ import annotations

import hashlib
import re

UID_MAX = 40
OVERVIEW_UID = "toolkit-overview"
SERVICE_UID_PREFIX = "svc-"
_UID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def dashboard_uid(service_name: str) -> str:
    """A stable Grafana uid for a service: readable when it can be, always <= 40 chars."""
    slug = _UID_UNSAFE.sub("-", service_name)
    uid = SERVICE_UID_PREFIX + slug
    if slug == service_name and len(uid) <= UID_MAX:
        return uid
    digest = hashlib.sha256(service_name.encode()).hexdigest()[:10]
    return f"{uid[: UID_MAX - len(digest) - 1]}-{digest}"
