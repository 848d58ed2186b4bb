"""The live probe: checks a running service from outside, as a new user would by hand."""

from __future__ import annotations

from toolkit.readiness.probe.logsource import (
    CommandLogSource,
    FileLogSource,
    LogSource,
    LogSourceError,
)
from toolkit.readiness.probe.receiver import ReceivedSpan, SpanReceiver
from toolkit.readiness.probe.runner import ProbeOptions, probe_service

__all__ = [
    "CommandLogSource",
    "FileLogSource",
    "LogSource",
    "LogSourceError",
    "ProbeOptions",
    "ReceivedSpan",
    "SpanReceiver",
    "probe_service",
]
