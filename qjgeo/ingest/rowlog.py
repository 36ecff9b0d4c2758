"""The verdict of an import, row by row: the report, the result and the row log they come from.

Every check of a ledger (:mod:`qjgeo.ingest.ledger` for facilities, :mod:`qjgeo.ingest.villages`
and :mod:`qjgeo.ingest.townships` for the updates) writes into one :class:`RowLog`: the first
reason a row is refused (English and Chinese) and the warnings. The :class:`ImportReport` is
built from it, so ``rows_read == accepted + len(rejected)`` always.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from qjgeo.crs import KNOWN_SYSTEMS
from qjgeo.ingest.columns import ColumnMapping
from qjgeo.ingest.fields import FIELD_RANGES, field_name_zh
from qjgeo.ingest.readers import RawTable
from qjgeo.ingest.safety import IngestError

_TRUE: Final[frozenset[str]] = frozenset(
    {"是", "有", "y", "yes", "true", "t", "1", "√", "✓", "✔", "普惠", "普惠性", "对", "已", "on"}
)
_FALSE: Final[frozenset[str]] = frozenset(
    {"否", "无", "没有", "n", "no", "false", "f", "0", "×", "✗", "非普惠", "不是", "未", "off"}
)


@dataclass(frozen=True)
class ImportReport:
    """What an import would do, before anything is written.

    Attributes
    ----------
    filename, format, encoding, layer_id, crs
        What was read, how, for which layer, in which stated coordinate system.
    rows_read
        Non-empty data rows read (``accepted + len(rejected)``).
    accepted
        Rows that become features.
    rejected
        ``{"row": n, "reason": "…", "reason_zh": "…"}`` per rejected row (row numbers as in
        the file; the reason in English and in Chinese).
    warnings
        ``{"row": n or None, "kind": "…", "message": "…", "message_zh": "…"}``; kinds:
        ``outside_district``, ``duplicate``, ``implausible_value``, ``unreadable_value``,
        ``missing_value``, ``coordinate_system``, ``markup_in_text``, ``unknown_township``,
        ``geometry``, ``unused_columns``, ``reader``; a village ledger also
        ``outside_township``, ``scaled_age_bands``, ``still_estimated``; a township file
        also ``villages_outside``.
    proposed_matches
        Near-miss village names, *not applied*: ``{"row", "given", "proposal",
        "village_code", "score"}``.
    empty_rows
        Wholly empty rows skipped (not counted in ``rows_read``).
    mapping
        Canonical field → file column used.
    located_by
        Count of accepted rows per way of locating (coordinates / village_code / village_name).
    """

    filename: str
    format: str
    encoding: str | None
    layer_id: str
    crs: str
    rows_read: int
    accepted: int
    rejected: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    proposed_matches: list[dict[str, Any]] = field(default_factory=list)
    empty_rows: int = 0
    mapping: dict[str, str] = field(default_factory=dict)
    located_by: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether at least one row would be imported."""
        return self.accepted > 0

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (the CLI's ``--format json``)."""
        return {
            "file": self.filename,
            "format": self.format,
            "encoding": self.encoding,
            "layer": self.layer_id,
            "crs": self.crs,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "rejected": [dict(r) for r in self.rejected],
            "warnings": [dict(w) for w in self.warnings],
            "proposed_matches": [dict(p) for p in self.proposed_matches],
            "empty_rows_skipped": self.empty_rows,
            "mapping": dict(self.mapping),
            "located_by": dict(self.located_by),
        }

    def to_text(self) -> str:
        """The report as plain text for a terminal."""
        lines = [
            f"{self.filename} → layer {self.layer_id} (format {self.format}"
            + (f", encoding {self.encoding}" if self.encoding else "")
            + f", coordinates stated as {self.crs})",
            f"rows read: {self.rows_read}   accepted: {self.accepted}   "
            f"rejected: {len(self.rejected)}   empty rows skipped: {self.empty_rows}",
            "columns: " + ", ".join(f"{k}←{v}" for k, v in self.mapping.items()),
        ]
        if self.located_by:
            lines.append(
                "located by: " + ", ".join(f"{k} {v}" for k, v in self.located_by.items() if v)
            )
        if self.rejected:
            lines.append("rejected rows:")
            lines += [f"  row {r['row']}: {r['reason']}" for r in self.rejected]
        if self.warnings:
            lines.append("warnings:")
            lines += [
                f"  {'row ' + str(w['row']) + ': ' if w.get('row') is not None else ''}"
                f"[{w['kind']}] {w['message']}"
                for w in self.warnings
            ]
        if self.proposed_matches:
            lines.append("proposed village matches (not applied; fix the ledger or map codes):")
            lines += [
                f"  row {p['row']}: {p['given']!r} → {p['proposal']} ({p['village_code']})"
                for p in self.proposed_matches
            ]
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class ImportResult:
    """Features ready to commit (WGS84, the layer's columns, provenance ``user``) and the report."""

    layer_id: str
    features: gpd.GeoDataFrame
    report: ImportReport
    source_name: str
    #: For a village / township update: the codes of the units the ledger changed.
    updated_keys: tuple[str, ...] = ()


class RowLog:
    """Per-row verdicts of an import: the first reason a row is refused, and warnings.

    Used by the unit-by-unit updates (:mod:`qjgeo.ingest.villages`,
    :mod:`qjgeo.ingest.townships`), which then build their report with :meth:`report`.
    """

    def __init__(self, raw: RawTable) -> None:
        self.rows = np.asarray(raw.row_numbers, dtype=np.int64)
        n = len(self.rows)
        self.reason = np.full(n, "", dtype=object)
        self.reason_zh = np.full(n, "", dtype=object)
        self.warnings: list[dict[str, Any]] = [
            {"row": None, "kind": "reader", "message": m, "message_zh": z}
            for m, z in zip(raw.notes, raw.notes_zh, strict=True)
        ]

    def reject(self, mask: np.ndarray, text: str | np.ndarray, text_zh: str | np.ndarray) -> None:
        """Refuse the rows of ``mask`` not refused yet, saying why (English, Chinese).

        ``text`` and ``text_zh`` are one reason for all, or one per row (arrays).
        """
        m = np.asarray(mask, dtype=bool) & (self.reason == "")
        if m.any():
            self.reason[m] = text[m] if isinstance(text, np.ndarray) else text
            self.reason_zh[m] = text_zh[m] if isinstance(text_zh, np.ndarray) else text_zh

    def reject_out_of_range(self, field: str, values: np.ndarray) -> None:
        """Refuse rows whose value of a numeric field lies outside :data:`FIELD_RANGES`.

        Blank cells (NaN) pass; the reason names the field, the value and the range.
        """
        low, high = FIELD_RANGES[field]
        with np.errstate(invalid="ignore"):
            bad = ~np.isnan(values) & ((values < low) | (values > high))
        if not bad.any():
            return
        zh = field_name_zh(field)
        text = np.full(len(values), "", dtype=object)
        text_zh = text.copy()
        for i in np.flatnonzero(bad).tolist():
            text[i] = (
                f"{field} {values[i]:,.10g} is outside its plausible range {low:,.10g}–{high:,.10g}"
            )
            text_zh[i] = f"{zh}为 {values[i]:,.10g}，超出合理范围（{low:,.10g}–{high:,.10g}）"
        self.reject(bad, text, text_zh)

    @property
    def open_rows(self) -> np.ndarray:
        """Rows not refused so far (as :attr:`ok`; reads better inside a check)."""
        return self.ok

    def refuse_repeats(self, keys: np.ndarray, unit: str, unit_zh: str) -> None:
        """Refuse a row whose key ("" for none) an earlier open row already has."""
        first: dict[str, int] = {}
        for r, key in enumerate(keys):
            if self.reason[r] or not key:
                continue
            if key in first:
                self.reason[r] = f"{unit} {key} already updated by row {first[key]}"
                self.reason_zh[r] = f"该{unit_zh}{key} 已由第 {first[key]} 行更新"
            else:
                first[key] = int(self.rows[r])

    def warn(self, row: int | None, kind: str, text: str, text_zh: str) -> None:
        """Note something about a row (or the file, ``row=None``)."""
        self.warnings.append({"row": row, "kind": kind, "message": text, "message_zh": text_zh})

    @property
    def ok(self) -> np.ndarray:
        """Rows not refused."""
        return np.asarray(self.reason == "", dtype=bool)

    def rejected(self) -> list[dict[str, Any]]:
        """The refused rows as the report lists them."""
        return [
            {
                "row": int(self.rows[i]),
                "reason": str(self.reason[i]),
                "reason_zh": str(self.reason_zh[i]),
            }
            for i in np.flatnonzero(~self.ok)
        ]

    def report(
        self, raw: RawTable, layer_id: str, crs: str, mapping: ColumnMapping, **extra: Any
    ) -> ImportReport:
        """The :class:`ImportReport` of these verdicts."""
        return ImportReport(
            filename=raw.filename,
            format=raw.format,
            encoding=raw.encoding,
            layer_id=layer_id,
            crs=crs,
            rows_read=len(self.rows),
            accepted=int(self.ok.sum()),
            rejected=self.rejected(),
            warnings=self.warnings,
            empty_rows=raw.empty_rows,
            mapping=dict(mapping.columns),
            **extra,
        )


def normalise_crs_name(crs: str) -> str:
    """``"GCJ-02"``, ``"gcj02"``, ``"Amap"`` → ``"gcj02"`` etc.

    Raises
    ------
    IngestError
        For an unknown system.
    """
    key = re.sub(r"[\s\-_]", "", str(crs).lower())
    key = {"amap": "gcj02", "gaode": "gcj02", "baidu": "bd09", "epsg4326": "wgs84"}.get(key, key)
    if key not in KNOWN_SYSTEMS:
        raise IngestError(
            f"unknown coordinate system {crs!r}; expected one of {', '.join(KNOWN_SYSTEMS)}"
        )
    return key


def field_text(raw: RawTable, mapping: ColumnMapping, canonical: str) -> np.ndarray:
    """The cells feeding a field as an object array of clean text (``""`` when unmapped)."""
    column = mapping.source(canonical)
    out = np.empty(len(raw.rows), dtype=object)
    if column is None or column not in raw.rows.columns:
        out[:] = ""
        return out
    out[:] = [
        "" if v is None or v != v else unicodedata.normalize("NFKC", str(v)).strip()
        for v in raw.rows[column].tolist()
    ]
    return out


def parse_bool(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse yes/no cells (是/否, 有/无, Y/N, true/false, 1/0, √/×).

    Returns
    -------
    tuple of numpy.ndarray
        Values (``False`` where blank or unreadable), a blank mask and a junk mask.
    """
    text = [str(v).strip().lower() for v in values.tolist()]
    yes = np.array([t in _TRUE for t in text], dtype=bool)
    no = np.array([t in _FALSE for t in text], dtype=bool)
    blank = np.array([not t for t in text], dtype=bool)
    return yes, blank, ~(yes | no | blank)
