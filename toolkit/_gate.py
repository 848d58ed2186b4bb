"""Gates: the one door through which toolkit uses another library's non-public names.

A fast path that relies on a library's internals (a private field, a subclass that skips
``__init__``, a private file format, an inlined copy of its processing) may silently
lose telemetry when that library changes. Each library that toolkit reaches into has
one gate module (``toolkit.tracing._sdk_gate``, ``toolkit.metrics._prometheus_gate``,
``toolkit.logs._structlog_gate``) holding every such use, and one :class:`FastPathGate`
deciding, once per process, whether the fast path may run:

1. the installed release lies in the range CI tested (declared next to the gate);
2. its self-check passes at first use: fast and public path give the same result on a
   sample;
3. ``TOOLKIT_FAST_PATHS`` is not ``off`` (``0``, ``false``, ``no``) — for gates over
   paths that only buy speed; a gate over a mechanism that has no public equivalent
   (``speed_only=False``) ignores it.

Otherwise the public API is used. The decision is logged once (which path, and why).
A fast path that raises later calls :meth:`FastPathGate.disable`: the process uses the
public path for good, one warning names the cause, and the caller records that
request through the public path, so nothing is lost.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

ENV_FAST_PATHS = "TOOLKIT_FAST_PATHS"
_OFF = frozenset({"0", "off", "false", "no"})
_RELEASE = re.compile(r"^\s*v?(\d+(?:\.\d+)*)")

_log = logging.getLogger("toolkit.gate")


def release(version: str) -> tuple[int, ...]:
    """The numeric release of ``version`` (``"1.46.0rc1"`` -> ``(1, 46, 0)``); ``()`` if none."""
    found = _RELEASE.match(version)
    return tuple(int(part) for part in found.group(1).split(".")) if found else ()


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or ``None`` if it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class GateStatus:
    """What a gate decided: for ``toolkit doctor`` and the decision log line."""

    name: str
    distribution: str
    version: str | None
    tested: str
    active: bool
    reason: str


class FastPathGate:
    """Decides once per process whether a fast path over ``distribution`` may run.

    ``tested`` is the range CI tested, ``(lowest, below)``: ``lowest <= release <
    below``. ``self_check`` raises (any exception, its message the reason) when the fast
    path and the public path disagree on a sample; it runs at most once per process.
    """

    def __init__(
        self,
        name: str,
        *,
        distribution: str,
        tested: tuple[str, str],
        self_check: Callable[[], None],
        speed_only: bool = True,
    ) -> None:
        """Declare the gate; nothing is checked until :meth:`active` is first called."""
        self.name = name
        self.distribution = distribution
        self.tested = tested
        self.speed_only = speed_only
        self._self_check = self_check
        self._lock = threading.Lock()
        self._status: GateStatus | None = None
        self._forced: bool | None = None
        self._raised = False

    @property
    def tested_range(self) -> str:
        """The tested range as text: ``>=1.36, <1.46``."""
        return f">={self.tested[0]}, <{self.tested[1]}"

    def active(self) -> bool:
        """Whether the fast path may run (decided at the first call, then remembered)."""
        status = self._status
        if status is None:
            status = self.status()
        return status.active

    def is_open(self) -> bool:
        """Whether the gate has decided for the fast path; never decides (no self-check)."""
        status = self._status
        return status is not None and status.active

    def status(self) -> GateStatus:
        """The decision, made now if it was not yet."""
        with self._lock:
            if self._status is None:
                self._status = self._decide()
                self._log_decision(self._status)
            return self._status

    def _decide(self) -> GateStatus:
        version = installed_version(self.distribution)

        def decided(active: bool, reason: str) -> GateStatus:
            return GateStatus(
                self.name, self.distribution, version, self.tested_range, active, reason
            )

        if self._forced is not None:
            return decided(self._forced, "forced by toolkit's tests")
        if self.speed_only and os.environ.get(ENV_FAST_PATHS, "").strip().lower() in _OFF:
            return decided(False, f"turned off by {ENV_FAST_PATHS}")
        if version is None:
            return decided(False, f"{self.distribution} is not installed")
        lowest, below = release(self.tested[0]), release(self.tested[1])
        outside = not lowest <= release(version) < below
        where = f"{self.distribution} {version} is outside the tested range {self.tested_range}"
        if outside and self.speed_only:
            return decided(False, where)
        try:
            self._self_check()
        except Exception as exc:
            return decided(False, f"self-check failed: {type(exc).__name__}: {exc}")
        if outside:
            # No public path to fall back to: the self-check alone decides.
            return decided(True, f"{where}; self-check passed (no public alternative)")
        return decided(
            True, f"{self.distribution} {version} in the tested range, self-check passed"
        )

    def _log_decision(self, status: GateStatus) -> None:
        # A fast path in use is the expected case (debug); the public API for a known
        # reason is worth a line (info); a failed self-check is news (warning).
        if status.active and "outside" not in status.reason:
            level = logging.DEBUG
        elif "self-check" in status.reason:
            level = logging.WARNING
        else:
            level = logging.INFO
        path = "fast path" if status.active else "public API"
        _log.log(level, "toolkit %s: %s (%s)", self.name, path, status.reason)

    def disable(self, exc: BaseException) -> bool:
        """Switch this process to the public path for good, after the fast path raised.

        Returns ``True`` the first time (one warning is logged, naming the cause), ``False``
        after that.
        """
        with self._lock:
            if self._raised:
                return False
            self._raised = True
            self._status = GateStatus(
                self.name,
                self.distribution,
                installed_version(self.distribution),
                self.tested_range,
                False,
                f"raised {type(exc).__name__}: {exc}; public API from now on",
            )
        _log.warning(
            "toolkit %s: the fast path raised %s: %s; this process uses the public API "
            "from now on (the request is recorded through it)",
            self.name,
            type(exc).__name__,
            exc,
        )
        return True

    def force(self, active: bool | None) -> None:
        """Tests only: decide ``active`` without checks (``None``: decide afresh)."""
        with self._lock:
            self._forced = active
            self._status = None
            self._raised = False


GATES: list[FastPathGate] = []
"""Every gate, in the order their modules declare them (read by ``toolkit doctor``)."""


def declare(gate: FastPathGate) -> FastPathGate:
    """Add ``gate`` to :data:`GATES` and return it (a gate module's one declaration)."""
    GATES.append(gate)
    return gate
