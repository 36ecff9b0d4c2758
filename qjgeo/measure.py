"""Measuring conventions shared by the indicators and the hazard ranking.

Distance tolerances of "within distance" tests, the display names of units (villages,
schools, hazards) and the error raised when a dataset lacks what a measure needs. Kept
apart from :mod:`qjgeo.indicators.metrics` and :mod:`qjgeo.hazards` so both can use them
without importing each other.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["DISTANCE_ATOL_M", "DISTANCE_RTOL", "NotAvailableError", "unit_names"]

#: Relative and absolute tolerance of "within distance" tests (threshold inclusive).
DISTANCE_RTOL = 1e-9
DISTANCE_ATOL_M = 1e-6

#: Committee suffixes dropped from village names (群星村村民委员会 → 群星村).
_COMMITTEE_SUFFIX = r"(村民委员会|居民委员会|居委会|村委会)$"


class NotAvailableError(LookupError):
    """The dataset lacks a layer or column an indicator needs (the message says which)."""


def unit_names(frame: pd.DataFrame) -> pd.Series:
    """Short display names of features (village committee suffixes dropped)."""
    names = frame["name"].astype("string").fillna("")
    short = names.str.replace(_COMMITTEE_SUFFIX, "", regex=True)
    return short.where(short.str.len() > 0, names).astype(object)
