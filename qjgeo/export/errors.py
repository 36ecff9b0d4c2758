"""The error every exporter raises when an output cannot be produced.

A module of its own, light to import: the app's pages name it (and the GIS table helpers)
without loading matplotlib, which only the static maps need.
"""

from __future__ import annotations


class ExportError(ValueError):
    """An export cannot be produced; the message says why (missing layer, bad option)."""
