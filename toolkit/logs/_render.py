"""The last processor: the event dict as one line of compact, pure-ASCII JSON.

JSON escaping is what makes the logs injection-proof: CR, LF, quotes and every other
control character in a key or value come out escaped, so text from a request can never
end a line or start a field. Non-ASCII is escaped too (``\\u00e9``): U+0085, U+2028 and
U+2029 break lines for some readers (Python's ``str.splitlines``), and an ASCII line
can be written to any stream, whatever its encoding.

Two encoders give the same text: the standard library's ``json`` (always there) and
``orjson`` (when installed: about 7 µs less per line inside a request, measured by
``make bench``). Types the two do not handle alike all go through one fallback,
``_json_default``, and a line orjson cannot make ASCII is re-encoded by the stdlib, so
the backend never shows in the output.
"""

from __future__ import annotations

import datetime
import enum
import json
import uuid
from typing import Any

from structlog.typing import EventDict, WrappedLogger

from toolkit.logs._processors import Processor


def _json_default(value: Any) -> Any:
    # Types orjson would encode natively are made explicit here, so both backends agree.
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    # structlog's convention, then repr: an unserialisable value never fails a line.
    structlog_repr = getattr(value, "__structlog__", None)
    if structlog_repr is not None:
        return structlog_repr()
    return repr(value)


_encode = json.JSONEncoder(separators=(",", ":"), default=_json_default).encode


def render_json(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> str:
    """Render the event as one line of compact ASCII JSON with the standard library."""
    return _encode(event_dict)


def _orjson_renderer() -> Processor:
    import orjson  # type: ignore[import-not-found,unused-ignore]  # optional

    dumps = orjson.dumps
    # Datetimes and dataclasses go to _json_default, as with the stdlib encoder.
    option = (
        orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
    )

    def render_orjson(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> str:
        try:
            line: str = dumps(event_dict, default=_json_default, option=option).decode()
        except TypeError:  # orjson.JSONEncodeError: e.g. an int beyond 64 bits
            return _encode(event_dict)
        # orjson writes non-ASCII and DEL raw, the stdlib escapes them: hand such a (rare)
        # line to the stdlib. isascii() is O(1) on CPython, the DEL search a memchr.
        if line.isascii() and "\x7f" not in line:
            return line
        return _encode(event_dict)

    return render_orjson


def json_renderer(*, use_orjson: bool | None = None) -> Processor:
    """Return the JSON renderer: ``orjson``-backed when installed, else ``render_json``.

    ``use_orjson=True`` requires orjson (``ImportError`` without it); ``False`` always
    uses the standard library. Both produce the same text, except that NaN and infinities
    are ``null`` with orjson and ``NaN``/``Infinity`` (not strict JSON) with the stdlib.
    """
    if use_orjson is False:
        return render_json
    try:
        return _orjson_renderer()
    except ImportError:
        if use_orjson:
            raise
        return render_json
