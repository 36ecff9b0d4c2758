"""Match a ledger's column names (Chinese or English) to the fields qjgeo needs.

:func:`suggest_mapping` proposes, from :data:`ALIASES`, which file column feeds each canonical
field (``name``, ``lon``, ``lat``, ``village``, ``places`` …). A planner may override any of it
(``--map places=核定托位`` on the command line, a drop-down in the app).

Column names are compared after normalising: full-width to half-width, lower case, spaces,
brackets, units and punctuation removed (``"经度(°)"`` → ``"经度"``, ``"Longitude"`` →
``"longitude"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from qjgeo.ingest.fields import ALIAS_KEYS, LAYER_KEYWORDS
from qjgeo.ingest.fields import ALIASES as ALIASES
from qjgeo.ingest.fields import field_name_zh as field_name_zh
from qjgeo.ingest.fields import header_matches as header_matches
from qjgeo.ingest.fields import layer_fields as layer_fields
from qjgeo.ingest.fields import normalise_header as normalise_header
from qjgeo.ingest.readers import RawTable
from qjgeo.ingest.safety import IngestError


@dataclass(frozen=True)
class ColumnMapping:
    """Which file column feeds each canonical field.

    Attributes
    ----------
    columns
        Canonical field → source column name (only mapped fields appear).
    unmapped
        File columns that feed no field (kept out of the layer, listed in the report).
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    unmapped: tuple[str, ...] = ()

    def source(self, canonical: str) -> str | None:
        """The file column feeding ``canonical``, or ``None``."""
        return self.columns.get(canonical)

    def with_overrides(self, overrides: Mapping[str, str | None], raw: RawTable) -> ColumnMapping:
        """Return the mapping with some fields re-pointed (``None`` or ``""`` unmaps a field).

        Parameters
        ----------
        overrides
            Canonical field → file column.
        raw
            The table the columns must exist in.

        Raises
        ------
        IngestError
            If a field is unknown or a column is not in the file.
        """
        merged = dict(self.columns)
        for canonical, column in overrides.items():
            if canonical not in ALIASES:
                raise IngestError(
                    f"{raw.filename}: unknown field {canonical!r} in the column mapping; "
                    f"known fields: {', '.join(ALIASES)}"
                )
            if column in (None, ""):
                merged.pop(canonical, None)
                continue
            if column not in raw.columns:
                raise IngestError(
                    f"{raw.filename}: column {column!r} (mapped to {canonical}) is not in the "
                    f"file; columns: {', '.join(raw.columns)}"
                )
            for other, col in list(merged.items()):
                if col == column and other != canonical and other not in overrides:
                    merged.pop(other)
            merged[canonical] = str(column)
        used = set(merged.values())
        return ColumnMapping(
            columns=merged, unmapped=tuple(c for c in raw.columns if c not in used)
        )


def suggest_mapping(raw: RawTable, layer_id: str) -> ColumnMapping:
    """Propose a column mapping from the file's column names (Chinese and English aliases).

    Exact alias matches win; a column whose name merely starts with an alias (e.g. ``托位数
    (个)``) is used when nothing matched exactly. Each column feeds at most one field, and
    each field takes the first column that matches.

    Parameters
    ----------
    raw
        The table read by :func:`~qjgeo.ingest.readers.read_table`.
    layer_id
        The qjgeo layer the ledger is for.

    Returns
    -------
    ColumnMapping
        The proposal; override with :meth:`ColumnMapping.with_overrides`.
    """
    wanted = set(layer_fields(layer_id))
    mapping: dict[str, str] = {}
    keys = {col: normalise_header(col) for col in raw.columns}
    for col, key in keys.items():
        canonical = ALIAS_KEYS.get(key) or ALIAS_KEYS.get(col.strip().lower())
        if canonical in wanted and canonical not in mapping:
            mapping[canonical] = col
    used = set(mapping.values())
    for col, key in keys.items():
        if col in used or not key:
            continue
        for alias_key, canonical in sorted(ALIAS_KEYS.items(), key=lambda kv: -len(kv[0])):
            if (
                len(alias_key) >= 2
                and canonical in wanted
                and canonical not in mapping
                and key.startswith(alias_key)
            ):
                mapping[canonical] = col
                used.add(col)
                break
    return ColumnMapping(columns=mapping, unmapped=tuple(c for c in raw.columns if c not in used))


def parse_map_options(options: Iterable[str], filename: str) -> dict[str, str]:
    """Parse ``canonical=column`` pairs (the CLI's ``--map``) into a dict.

    Raises
    ------
    IngestError
        If a pair has no ``=`` or an empty field name.
    """
    out: dict[str, str] = {}
    for option in options:
        canonical, sep, column = option.partition("=")
        if not sep or not canonical.strip():
            raise IngestError(
                f"{filename}: --map {option!r} should read FIELD=COLUMN, e.g. places=核定托位"
            )
        out[canonical.strip()] = column.strip()
    return out


#: Fields every layer takes: they say nothing about which layer a ledger is for.
_SHARED_FIELDS: Final[frozenset[str]] = frozenset(
    {"id", "name", "lon", "lat", "lonlat", "township", "township_code", "village",
     "village_code", "address", "note"}
)  # fmt: skip


def guess_layer(raw: RawTable, layer_ids: Iterable[str]) -> str | None:
    """The layer a ledger most likely fills, from its file name and its own columns.

    A word of :data:`~qjgeo.ingest.fields.LAYER_KEYWORDS` in the file name counts two, each
    layer-specific column (``托位``, ``儿科床位`` …) one; ties and no evidence give ``None``.

    Parameters
    ----------
    raw
        The table read.
    layer_ids
        The layers to choose from.

    Returns
    -------
    str or None
        The best layer, or ``None`` when nothing points to one layer.
    """
    name = raw.filename.lower()
    scores: dict[str, int] = {}
    for layer_id in layer_ids:
        named = any(word in name for word in LAYER_KEYWORDS.get(layer_id, ()))
        own = set(layer_fields(layer_id)) - _SHARED_FIELDS
        mapped = sum(1 for f in suggest_mapping(raw, layer_id).columns if f in own)
        scores[layer_id] = 2 * named + mapped
    if not scores:
        return None
    best = max(scores.values())
    winners = [k for k, v in scores.items() if v == best]
    return winners[0] if best > 0 and len(winners) == 1 else None
