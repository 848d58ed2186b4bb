"""OpenTelemetry environment variables read as the SDK reads them, without importing it:
the middleware's settings, the provider builder and ``toolkit doctor`` agree."""

from __future__ import annotations

from collections.abc import Mapping

ENV_SDK_DISABLED = "OTEL_SDK_DISABLED"


def sdk_disabled(environ: Mapping[str, str]) -> bool:
    """Whether ``OTEL_SDK_DISABLED`` disables the SDK: ``true`` in any case, as the SDK
    reads it (``1`` or ``yes`` do not)."""
    return environ.get(ENV_SDK_DISABLED, "").strip().lower() == "true"
