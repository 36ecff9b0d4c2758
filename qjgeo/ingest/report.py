"""Check a ledger before anything is written: :func:`validate` gives features and a report.

Every row read is either accepted or rejected with its row number and a reason
(``rows_read == accepted + len(rejected)`` always). Facility and hazard ledgers go through
the named checks of :mod:`qjgeo.ingest.ledger` (a number outside its field's plausible range
or a point far outside the district rejects the row); village and township files through
:mod:`qjgeo.ingest.villages` and :mod:`qjgeo.ingest.townships`. Accepted rows may still carry
warnings: points just outside the district, likely duplicates (same name within
:data:`DUPLICATE_DISTANCE_M`), unreadable values, a coordinate system that looks wrong. Reasons and warnings are written in English (``reason``, ``message``) and in
Chinese (``reason_zh``, ``message_zh``), where they are made.

Defaults for attributes a ledger does not give (each reported as a warning with a count):

* counts (``places``, doctors, beds …): 0 -- a facility without a stated capacity adds no
  capacity;
* yes/no fields (``puhui``, ``has_play_area``, ``fenced`` …): ``False``;
* text fields (``kind``, ``level``, ``type``): ``""``;
* ``township_code``: from the township column, else the village matched, else the township
  polygon the point falls in (township polygons are estimates);
* ``id``: ``<LAYER>-U0001`` … for rows without one.

Names are stored exactly as written (``<script>`` included): renderers must escape them.
"""

from __future__ import annotations

from qjgeo.catalog import Dataset
from qjgeo.ingest.columns import ColumnMapping, suggest_mapping
from qjgeo.ingest.ledger import DUPLICATE_DISTANCE_M as DUPLICATE_DISTANCE_M
from qjgeo.ingest.ledger import OUTSIDE_BUFFER_M as OUTSIDE_BUFFER_M
from qjgeo.ingest.ledger import validate_ledger
from qjgeo.ingest.readers import RawTable
from qjgeo.ingest.rowlog import ImportReport as ImportReport
from qjgeo.ingest.rowlog import ImportResult, normalise_crs_name
from qjgeo.ingest.rowlog import RowLog as RowLog
from qjgeo.ingest.rowlog import field_text as field_text
from qjgeo.ingest.rowlog import parse_bool as parse_bool
from qjgeo.ingest.safety import IngestError
from qjgeo.ingest.townships import validate_townships
from qjgeo.ingest.villages import validate_villages
from qjgeo.schema import ADMIN_LAYERS, REQUIRED_COLUMNS


def validate(
    raw: RawTable,
    dataset: Dataset,
    layer_id: str,
    *,
    mapping: ColumnMapping | None = None,
    crs: str = "wgs84",
    mode: str = "append",
    allow_outside: bool = False,
) -> ImportResult:
    """Check a ledger against the dataset and build the features it would add. Writes nothing.

    Parameters
    ----------
    raw
        The table read by :func:`~qjgeo.ingest.readers.read_table`.
    dataset
        The dataset imported into (villages and townships for placement, the district for
        the outside check, the existing layer for duplicates).
    layer_id
        The facility or hazard layer to fill (e.g. ``"childcare"``), or ``"village"``: then
        the ledger updates the points and populations of the existing villages
        (:func:`qjgeo.ingest.villages.validate_villages`; ``mode`` does not apply).
    mapping
        Which column feeds which field; :func:`~qjgeo.ingest.columns.suggest_mapping` when
        ``None``.
    crs
        The coordinate system of the ledger's coordinates: ``wgs84``, ``cgcs2000``, ``gcj02``
        or ``bd09`` (GCJ-02 and BD-09 are converted to WGS84).
    mode
        ``"append"`` or ``"replace"``; duplicates against existing features are only checked
        when appending.
    allow_outside
        Keep points more than :data:`~qjgeo.ingest.ledger.OUTSIDE_BUFFER_M` outside the
        district (warned); by default such rows are refused, with the distance.

    Returns
    -------
    ImportResult
        ``features`` (WGS84, the layer's required columns, provenance ``user``,
        ``located_by``) and the ``report``.

    Raises
    ------
    IngestError
        When the input as a whole is unusable: unknown layer or system, no name column, no
        column giving a position.
    """
    if layer_id == "village":  # points and populations of existing villages
        return validate_villages(raw, dataset, mapping=mapping, crs=crs)
    if layer_id == "township":  # boundaries and populations of existing townships
        return validate_townships(raw, dataset, mapping=mapping, crs=crs)
    _check_layer(raw, layer_id)
    if mode not in {"append", "replace"}:
        raise IngestError(f"mode must be 'append' or 'replace', got {mode!r}")
    crs_n = normalise_crs_name(crs)
    mapping = mapping if mapping is not None else suggest_mapping(raw, layer_id)
    _check_columns(raw, mapping)
    return validate_ledger(
        raw, dataset, layer_id, mapping=mapping, crs=crs_n, mode=mode, allow_outside=allow_outside
    )


def _check_layer(raw: RawTable, layer_id: str) -> None:
    """Refuse a layer a ledger cannot fill."""
    if layer_id not in REQUIRED_COLUMNS or layer_id in ADMIN_LAYERS:
        importable = [k for k in REQUIRED_COLUMNS if k not in ADMIN_LAYERS]
        importable += ["village", "township"]
        raise IngestError(
            f"{raw.filename}: layer {layer_id!r} cannot be imported from a ledger; "
            f"expected one of {', '.join(importable)}"
        )


def _check_columns(raw: RawTable, mapping: ColumnMapping) -> None:
    """Refuse a ledger without a name column or without any column giving a position."""
    if mapping.source("name") is None:
        raise IngestError(
            f"{raw.filename}: no column for the facility name (e.g. 名称/name) among "
            f"{', '.join(raw.columns) or 'no columns'}; map one with --map name=COLUMN"
        )
    positional = ("lon", "lat", "lonlat", "village", "village_code")
    if raw.geometry is None and not any(mapping.source(c) for c in positional):
        raise IngestError(
            f"{raw.filename}: no column giving a position (经度/纬度, 经纬度, 所属村/社区 or a "
            f"village code) among {', '.join(raw.columns)}"
        )
