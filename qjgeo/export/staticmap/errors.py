"""The error every exporter raises (defined in :mod:`qjgeo.export.errors`, named here too)."""

from __future__ import annotations

from qjgeo.export.errors import ExportError

__all__ = ["ExportError"]
