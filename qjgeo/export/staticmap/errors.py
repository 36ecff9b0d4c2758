"""The error every exporter raises when an output cannot be produced."""

from __future__ import annotations


class ExportError(ValueError):
    """An export cannot be produced; the message says why (missing layer, bad option)."""
