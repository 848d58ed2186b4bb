"""The package version, importable from inside the package without importing its root."""

from __future__ import annotations

__version__ = "0.1.0"
