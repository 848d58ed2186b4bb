"""Correlation checks: a valid ID comes back unchanged, malicious ones are replaced."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from toolkit.readiness import checks as c
from toolkit.readiness.model import Check

OVERSIZED_LENGTH = 1024
RAW_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Attempt:
    """What the probe sent as correlation ID and what came back (``None``: no header).

    ``status_code`` is ``None`` when the server closed the connection instead of answering.
    """

    label: str
    sent: str
    returned: str | None
    status_code: int | None
    # A raw CR/LF attempt: the HTTP server may split the header at the CR and hand the
    # app the valid part, which it may echo; only an echoed CR/LF is a failure then.
    injection_only: bool = False


def malicious_ids(valid: str) -> list[tuple[str, str]]:
    """``(label, value)`` of the malicious IDs the probe sends through a normal client."""
    return [
        ("oversized", valid + "x" * OVERSIZED_LENGTH),
        ("markup", f"{valid}<script>alert(1)</script>"),
        ("percent-encoded CR/LF", f"{valid}%0d%0aSet-Cookie:%20probe=1"),
    ]


def raw_request(
    url: str, path: str, headers: Sequence[tuple[str, str]]
) -> tuple[int, dict[str, str]]:
    """Send a GET whose header values are written byte for byte (CR and LF included).

    HTTP clients refuse to send such headers, which is why this uses a socket. Returns the
    status code and the response headers (lower-cased names); raises ``OSError``.
    """
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    with socket.create_connection((host, port), timeout=RAW_TIMEOUT_SECONDS) as conn:
        conn.sendall(payload)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    fields = status_line.split(" ")
    status = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
    response: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        response[name.strip().lower()] = value.strip()
    return status, response


def check_echo(header: str, sent: str, returned: str | None, status_code: int) -> Check:
    """Whether the valid ID ``sent`` came back unchanged."""
    if returned is None:
        return c.CORRELATION_ECHO.failed(f"no {header} in the response (HTTP {status_code})")
    if returned != sent:
        return c.CORRELATION_ECHO.failed(f"sent {header}: {sent}, got back {returned}")
    return c.CORRELATION_ECHO.passed(f"{header}: {sent} echoed unchanged")


def check_replaced(header: str, attempts: Sequence[Attempt], echo_works: bool) -> Check:
    """Whether every malicious ID was replaced by a fresh one (or the request refused)."""
    if not echo_works:
        return c.CORRELATION_REPLACE.skipped(f"the service echoes no valid {header} either")
    problems = []
    for attempt in attempts:
        if attempt.returned is None:
            if attempt.status_code in (400, None):
                continue  # refused (400 or connection closed) before the app saw it: safe
            problems.append(f"{attempt.label}: no {header} in the response")
        elif (
            attempt.returned == attempt.sent or "\r" in attempt.returned or "\n" in attempt.returned
        ):
            problems.append(f"{attempt.label}: echoed back as sent")
        elif attempt.injection_only:
            continue
        elif attempt.sent.startswith(attempt.returned) or "<" in attempt.returned:
            problems.append(f"{attempt.label}: echoed back truncated or unescaped")
    if problems:
        return c.CORRELATION_REPLACE.failed("; ".join(problems))
    replaced = ", ".join(a.label for a in attempts if not a.injection_only)
    raw = ", ".join(a.label for a in attempts if a.injection_only)
    reason = f"{replaced}: replaced by fresh IDs" if replaced else "no malicious ID echoed"
    if raw:
        reason += f"; raw {raw}: never reached the response"
    return c.CORRELATION_REPLACE.passed(reason)
