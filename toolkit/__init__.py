"""toolkit: make a Python web service observable before you split it.

Importing ``toolkit`` does nothing but define names: frameworks, exporters and
registries are only touched when you call into them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit._version import __version__
from toolkit.context import get_correlation_id

if TYPE_CHECKING:
    from toolkit.middleware import instrument

__all__ = ["__version__", "get_correlation_id", "instrument"]


def __getattr__(name: str) -> Any:
    # Lazy so that `import toolkit` never imports the middleware's dependencies.
    if name == "instrument":
        from toolkit.middleware import instrument

        return instrument
    raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
