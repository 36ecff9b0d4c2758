"""Check a ledger before anything is written: :func:`validate` gives features and a report.

Every row read is either accepted or rejected with its row number and a reason
(``rows_read == accepted + len(rejected)`` always). Accepted rows may still carry warnings:
points outside the district, likely duplicates (same name within
:data:`DUPLICATE_DISTANCE_M`), implausible or unreadable values, a coordinate system that
looks wrong. Reasons and warnings are written in English (``reason``, ``message``) and in
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

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qjgeo.catalog import Dataset
from qjgeo.crs import KNOWN_SYSTEMS, METRIC_CRS, WGS84_CRS
from qjgeo.ingest.columns import ColumnMapping, field_name_zh, layer_fields, suggest_mapping
from qjgeo.ingest.locate import (
    district_area,
    guess_coordinate_system,
    parse_coordinates,
    parse_numbers,
    place_by_village,
    resolve_township,
    split_lonlat,
    to_wgs84,
)
from qjgeo.ingest.readers import RawTable
from qjgeo.ingest.safety import IngestError
from qjgeo.schema import ADMIN_LAYERS, GEOMETRY_TYPES, REQUIRED_COLUMNS

#: Same-name features closer than this are reported as likely duplicates (metres).
DUPLICATE_DISTANCE_M: Final[float] = 200.0
#: Capacities above this are reported as implausible (places per facility).
MAX_PLAUSIBLE_PLACES: Final[int] = 5000

COUNT_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "places",
        "nursery_places",
        "gp_or_paediatrician",
        "child_health_doctors",
        "paediatric_doctors",
        "paediatric_beds",
    }
)
BOOL_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "puhui",
        "has_play_area",
        "child_friendly_base",
        "youth_science_base",
        "fenced",
        "warning_signs",
        "rescue_equipment",
    }
)
FLOAT_FIELDS: Final[frozenset[str]] = frozenset({"area_ha"})
_TRUE: Final[frozenset[str]] = frozenset(
    {"是", "有", "y", "yes", "true", "t", "1", "√", "✓", "✔", "普惠", "普惠性", "对", "已", "on"}
)
_FALSE: Final[frozenset[str]] = frozenset(
    {"否", "无", "没有", "n", "no", "false", "f", "0", "×", "✗", "非普惠", "不是", "未", "off"}
)
_MARKUP: Final = re.compile(r"<\s*/?\s*[a-zA-Z!]|javascript:", re.IGNORECASE)
_VILLAGE_CODE: Final = re.compile(r"\d{12}")
_LOCATED_BY: Final[tuple[str, ...]] = ("coordinates", "village_code", "village_name")


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

    def reject(self, mask: np.ndarray, text: str, text_zh: str) -> None:
        """Refuse the rows of ``mask`` not refused yet, saying why (English, Chinese)."""
        m = np.asarray(mask, dtype=bool) & (self.reason == "")
        self.reason[m] = text
        self.reason_zh[m] = text_zh

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


#: ``warn(kind, message, message_zh, row)``: record a warning in English and Chinese.
Warn = Callable[[str, str, str, int | None], None]


def _messages(template: str, values: np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = [template.format(v) for v in values.tolist()]
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


def validate(
    raw: RawTable,
    dataset: Dataset,
    layer_id: str,
    *,
    mapping: ColumnMapping | None = None,
    crs: str = "wgs84",
    mode: str = "append",
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
        from qjgeo.ingest.villages import validate_villages

        return validate_villages(raw, dataset, mapping=mapping, crs=crs)
    if layer_id == "township":  # boundaries and populations of existing townships
        from qjgeo.ingest.townships import validate_townships

        return validate_townships(raw, dataset, mapping=mapping, crs=crs)
    if layer_id not in REQUIRED_COLUMNS or layer_id in ADMIN_LAYERS:
        importable = [k for k in REQUIRED_COLUMNS if k not in ADMIN_LAYERS]
        importable += ["village", "township"]
        raise IngestError(
            f"{raw.filename}: layer {layer_id!r} cannot be imported from a ledger; "
            f"expected one of {', '.join(importable)}"
        )
    if mode not in {"append", "replace"}:
        raise IngestError(f"mode must be 'append' or 'replace', got {mode!r}")
    crs_n = normalise_crs_name(crs)
    mapping = mapping if mapping is not None else suggest_mapping(raw, layer_id)
    if mapping.source("name") is None:
        raise IngestError(
            f"{raw.filename}: no column for the facility name (e.g. 名称/name) among "
            f"{', '.join(raw.columns) or 'no columns'}; map one with --map name=COLUMN"
        )
    has_geometry = raw.geometry is not None
    positional = ("lon", "lat", "lonlat", "village", "village_code")
    if not has_geometry and not any(mapping.source(c) for c in positional):
        raise IngestError(
            f"{raw.filename}: no column giving a position (经度/纬度, 经纬度, 所属村/社区 or a "
            f"village code) among {', '.join(raw.columns)}"
        )

    n = len(raw)
    numbers = np.asarray(raw.row_numbers, dtype=np.int64)
    reason = np.empty(n, dtype=object)
    reason[:] = ""
    reason_zh = reason.copy()
    warns: list[dict[str, Any]] = []

    def open_rows() -> np.ndarray:
        return np.asarray(reason == "", dtype=bool)

    def reject(mask: np.ndarray, text: np.ndarray | str, text_zh: np.ndarray | str) -> None:
        """Reject the open rows of ``mask``, saying why in English and Chinese."""
        m = np.asarray(mask, dtype=bool) & open_rows()
        if m.any():
            reason[m] = text[m] if isinstance(text, np.ndarray) else text
            reason_zh[m] = text_zh[m] if isinstance(text_zh, np.ndarray) else text_zh

    def warn(kind: str, message: str, message_zh: str, row: int | None = None) -> None:
        warns.append({"row": row, "kind": kind, "message": message, "message_zh": message_zh})

    for note, note_zh in zip(raw.notes, raw.notes_zh, strict=True):
        warn("reader", note, note_zh)

    name = field_text(raw, mapping, "name")
    reject(name == "", "name is empty", "名称为空")

    # --- coordinates ---------------------------------------------------------------------
    lon_text = field_text(raw, mapping, "lon")
    lat_text = field_text(raw, mapping, "lat")
    if mapping.source("lonlat") and not (mapping.source("lon") or mapping.source("lat")):
        lon_s, lat_s = split_lonlat(pd.Series(field_text(raw, mapping, "lonlat"), dtype=object))
        lon_text = np.asarray(lon_s.tolist(), dtype=object)
        lat_text = np.asarray(lat_s.tolist(), dtype=object)
    lon_raw, lon_junk = parse_coordinates(lon_text)
    lat_raw, lat_junk = parse_coordinates(lat_text)
    geom_src = np.full(n, None, dtype=object)
    if raw.geometry is not None:
        geom_src = np.asarray(raw.geometry.array, dtype=object).copy()
    has_geom = np.array([g is not None and not g.is_empty for g in geom_src], dtype=bool)
    reject(
        lon_junk & ~has_geom,
        _messages("longitude {!r} is not a number", lon_text),
        _messages("经度不是数字（{!r}）", lon_text),
    )
    reject(
        lat_junk & ~has_geom,
        _messages("latitude {!r} is not a number", lat_text),
        _messages("纬度不是数字（{!r}）", lat_text),
    )
    one_only = (np.isfinite(lon_raw) ^ np.isfinite(lat_raw)) & ~has_geom
    reject(one_only & np.isnan(lat_raw), "latitude is missing", "缺少纬度")
    reject(one_only, "longitude is missing", "缺少经度")
    if has_geom.any():
        allowed = GEOMETRY_TYPES.get(layer_id, ("Point",))
        geoms = geom_src[has_geom]
        types = shapely.get_type_id(geoms)
        if allowed == ("Point",) and (types != 0).any():
            converted = int((types != 0).sum())
            geoms = np.where(types == 0, geoms, shapely.point_on_surface(geoms))
            warn(
                "geometry",
                f"{converted} line/area features placed at a point on them",
                f"{converted} 个线或面要素已取其上一点作为位置",
            )
        invalid = ~shapely.is_valid(geoms)
        if invalid.any():
            geoms = np.where(invalid, shapely.make_valid(geoms), geoms)
            repaired = int(invalid.sum())
            warn(
                "geometry",
                f"{repaired} invalid geometries repaired",
                f"已修复 {repaired} 个无效几何",
            )
        kinds = np.asarray(shapely.get_type_id(geoms))
        names = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                          "MultiLineString", "MultiPolygon", "GeometryCollection"], dtype=object)  # fmt: skip
        wrong_type = ~np.isin(names[kinds], allowed)
        if wrong_type.any():
            wrong = np.zeros(n, dtype=bool)
            wrong[np.flatnonzero(has_geom)[wrong_type]] = True
            reject(
                wrong,
                f"geometry type not allowed for this layer (expected {' or '.join(allowed)})",
                f"该图层不接受这种几何类型（应为 {' 或 '.join(allowed)}）",
            )
            has_geom = has_geom & ~wrong
            geoms = geoms[~wrong_type]
        geom_src[has_geom] = geoms
        # the geometry's coordinates stand in for lon/lat when judging the system
        reps = shapely.point_on_surface(geoms)
        lon_raw = lon_raw.copy()
        lat_raw = lat_raw.copy()
        lon_raw[has_geom] = shapely.get_x(reps)
        lat_raw[has_geom] = shapely.get_y(reps)
    valid_num = np.isfinite(lon_raw) & np.isfinite(lat_raw)
    out_of_range = valid_num & ((np.abs(lon_raw) > 180) | (np.abs(lat_raw) > 90))
    swapped_ok = out_of_range & (np.abs(lat_raw) <= 180) & (np.abs(lon_raw) <= 90)
    reject(
        swapped_ok,
        "latitude above 90°: longitude and latitude look swapped; check the column mapping",
        "纬度超过 90°：经度和纬度似乎填反了，请检查列对应关系",
    )
    reject(
        out_of_range,
        "coordinates are not longitude/latitude in degrees",
        "坐标不是以度为单位的经纬度",
    )
    usable = valid_num & ~out_of_range & open_rows()

    area = district_area(dataset)
    guess = guess_coordinate_system(
        area, np.where(usable, lon_raw, np.nan), np.where(usable, lat_raw, np.nan), crs_n
    )
    if guess.message:
        warn("coordinate_system", guess.message, guess.message_zh)

    lon, lat = to_wgs84(np.where(usable, lon_raw, np.nan), np.where(usable, lat_raw, np.nan), crs_n)
    geometry = np.full(n, None, dtype=object)
    table_pts = usable & ~has_geom
    geometry[table_pts] = shapely.points(lon[table_pts], lat[table_pts])
    geo_rows = usable & has_geom
    if geo_rows.any():
        from qjgeo.crs import convert_geometries

        geometry[geo_rows] = convert_geometries(geom_src[geo_rows], crs_n, "wgs84")
    located_by = np.empty(n, dtype=object)
    located_by[:] = ""
    located_by[usable] = "coordinates"

    # --- township and village ---------------------------------------------------------------
    town_given = field_text(raw, mapping, "township")
    town_code_text = field_text(raw, mapping, "township_code")
    town_input = np.where(town_code_text != "", town_code_text, town_given)
    town_series, unknown_town = resolve_township(dataset, pd.Series(town_input, dtype=object))
    town_codes = np.asarray(town_series.tolist(), dtype=object)
    for row in numbers[unknown_town.to_numpy() & open_rows()].tolist():
        warn(
            "unknown_township",
            "township not recognised; taken from the location",
            "未识别的镇（街道），已按位置确定",
            int(row),
        )

    village_text = field_text(raw, mapping, "village")
    village_code_text = field_text(raw, mapping, "village_code")
    need_place = ~usable & open_rows() & ~(one_only | out_of_range)
    no_position = need_place & (village_text == "") & (village_code_text == "")
    reject(
        no_position,
        "no coordinates and no village or community to place it by",
        "既无坐标，也没有可用于定位的村（社区）",
    )
    need_place &= ~no_position
    village_code = np.empty(n, dtype=object)
    village_code[:] = [v if _VILLAGE_CODE.fullmatch(v) else "" for v in village_code_text.tolist()]
    if need_place.any():
        sub = np.flatnonzero(need_place)
        placed = place_by_village(
            dataset,
            pd.Series(village_code_text[sub], dtype=object),
            pd.Series(village_text[sub], dtype=object),
            pd.Series(town_codes[sub], dtype=object),
        )
        ok = placed.located_by.to_numpy() != ""
        rows_ok = sub[ok]
        geometry[rows_ok] = shapely.points(placed.lon[ok], placed.lat[ok])
        located_by[rows_ok] = placed.located_by.to_numpy()[ok]
        village_code[rows_ok] = placed.village_code.to_numpy()[ok]
        blank_town = town_codes[rows_ok] == ""
        town_codes[rows_ok[blank_town]] = placed.township_code.to_numpy()[ok][blank_town]
        fail = sub[~ok]
        problems = np.empty(n, dtype=object)
        problems[:] = ""
        problems_zh = problems.copy()
        problems[fail] = placed.problem.to_numpy()[~ok]
        problems_zh[fail] = placed.problem_zh.to_numpy()[~ok]
        reject(np.isin(np.arange(n), fail), problems, problems_zh)
        proposals = []
        for j in np.flatnonzero(placed.proposal.to_numpy() != "").tolist():
            proposals.append(
                {
                    "row": int(numbers[sub[j]]),
                    "given": str(village_text[sub[j]]),
                    "proposal": str(placed.proposal.iat[j]),
                    "village_code": str(placed.proposal_code.iat[j]),
                    "score": round(float(placed.score[j]), 1),
                }
            )
    else:
        proposals = []

    # --- ids ----------------------------------------------------------------------------
    ids = field_text(raw, mapping, "id")
    first_seen: dict[str, int] = {}
    dup_reason = np.empty(n, dtype=object)
    dup_reason[:] = ""
    dup_reason_zh = dup_reason.copy()
    open_now = open_rows()
    for i, value in enumerate(ids.tolist()):
        if not value or not open_now[i]:
            continue
        if value in first_seen:
            dup_reason[i] = f"id {value!r} repeats row {first_seen[value]}"
            dup_reason_zh[i] = f"编号“{value}”与第 {first_seen[value]} 行重复"
        else:
            first_seen[value] = int(numbers[i])
    reject(dup_reason != "", dup_reason, dup_reason_zh)

    accepted = open_rows()
    acc_idx = np.flatnonzero(accepted)
    keep_rows = numbers[acc_idx]

    # --- attributes -----------------------------------------------------------------------
    columns: dict[str, Any] = {}
    prefix = layer_id[:3].upper()
    acc_ids = ids[acc_idx].copy()
    existing_ids: set[str] = (
        set(dataset.layer(layer_id)["id"].astype(str))
        if mode == "append" and dataset.has(layer_id) and "id" in dataset.layer(layer_id)
        else set()
    )
    blank = np.flatnonzero(acc_ids == "")
    taken = set(acc_ids) | existing_ids
    counter = 0
    for j in blank.tolist():
        counter += 1
        while f"{prefix}-U{counter:04d}" in taken:
            counter += 1
        acc_ids[j] = f"{prefix}-U{counter:04d}"
    columns["id"] = acc_ids
    columns["name"] = name[acc_idx]
    for field_name in layer_fields(layer_id):
        if field_name in {"id", "name", "lon", "lat", "lonlat", "township", "township_code",
                          "village", "village_code"}:  # fmt: skip
            continue
        values = field_text(raw, mapping, field_name)[acc_idx]
        title_zh = field_name_zh(field_name)
        mapped = mapping.source(field_name) is not None
        required = field_name in REQUIRED_COLUMNS[layer_id]
        if not mapped and not required:
            continue
        if field_name in COUNT_FIELDS or field_name in FLOAT_FIELDS:
            nums, junk = parse_numbers(values)
            for row in keep_rows[junk]:
                warn(
                    "unreadable_value",
                    f"{field_name} is not a number; stored as 0",
                    f"{title_zh}不是数字，按 0 记录",
                    int(row),
                )
            neg = nums < 0
            for j in np.flatnonzero(neg).tolist():
                warn(
                    "implausible_value",
                    f"{field_name} {nums[j]:g} is negative (implausible); stored as 0",
                    f"{title_zh}为负数（{nums[j]:g}），不合理，按 0 记录",
                    int(keep_rows[j]),
                )
            if field_name in COUNT_FIELDS:
                big = nums > MAX_PLAUSIBLE_PLACES
                for j in np.flatnonzero(big).tolist():
                    warn(
                        "implausible_value",
                        f"{field_name} {nums[j]:g} is implausibly large; please check",
                        f"{title_zh}为 {nums[j]:g}，大得不合常理，请核实",
                        int(keep_rows[j]),
                    )
            missing = np.isnan(nums) & ~junk
            if missing.any() and required:
                warn(
                    "missing_value",
                    f"{field_name} not given for {int(missing.sum())} row(s); stored as 0",
                    f"{int(missing.sum())} 行未填{title_zh}，按 0 记录",
                )
            clean = np.where(np.isnan(nums) | neg, 0.0, nums)
            columns[field_name] = (
                np.round(clean).astype(np.int64) if field_name in COUNT_FIELDS else clean
            )
        elif field_name in BOOL_FIELDS:
            yes, was_blank, junk = parse_bool(values)
            for row in keep_rows[junk]:
                warn(
                    "unreadable_value",
                    f"{field_name} is not yes/no; stored as no",
                    f"{title_zh}不是“是/否”，按“否”记录",
                    int(row),
                )
            if was_blank.any() and required:
                warn(
                    "missing_value",
                    f"{field_name} not given for {int(was_blank.sum())} row(s); stored as no",
                    f"{int(was_blank.sum())} 行未填{title_zh}，按“否”记录",
                )
            columns[field_name] = yes
        else:
            columns[field_name] = values

    geoms = geometry[acc_idx]
    frame = gpd.GeoDataFrame(
        {
            **columns,
            "township_code": town_codes[acc_idx],
            "village_code": village_code[acc_idx],
            "provenance": np.full(len(acc_idx), "user", dtype=object),
            "source": [f"user import: {raw.filename} row {r}" for r in keep_rows],
            "located_by": located_by[acc_idx],
        },
        geometry=gpd.GeoSeries(list(geoms), crs=WGS84_CRS),
        crs=WGS84_CRS,
    )
    _fill_township_by_polygon(frame, dataset)
    order = [c for c in REQUIRED_COLUMNS[layer_id] if c in frame.columns]
    rest = [c for c in frame.columns if c not in order and c != "geometry"]
    frame = frame[[*order, *rest, "geometry"]]

    # --- warnings on accepted features ------------------------------------------------------
    if len(frame):
        if area is not None:
            xs = shapely.get_x(shapely.point_on_surface(np.asarray(frame.geometry.array)))
            ys = shapely.get_y(shapely.point_on_surface(np.asarray(frame.geometry.array)))
            outside = ~shapely.contains_xy(area, xs, ys)
            for j in np.flatnonzero(outside).tolist():
                warn(
                    "outside_district",
                    f"{frame['name'].iat[j]!r} lies outside the district",
                    f"“{frame['name'].iat[j]}”位于本区范围之外",
                    int(keep_rows[j]),
                )
        for j in np.flatnonzero(
            frame["name"].str.contains(_MARKUP, regex=True).to_numpy()
        ).tolist():
            warn(
                "markup_in_text",
                "name contains HTML-like markup; it is stored and shown as plain text",
                "名称中含有类似 HTML 的标记，将按纯文本保存和显示",
                int(keep_rows[j]),
            )
        _duplicate_warnings(frame, keep_rows, dataset, layer_id, mode, warn)
    unused = [c for c in mapping.unmapped if c in raw.columns]
    if unused:
        warn(
            "unused_columns",
            "columns not imported: " + ", ".join(unused),
            "未导入的列：" + "、".join(unused),
        )

    counts = frame["located_by"].value_counts() if len(frame) else pd.Series(dtype=int)
    rejected = [
        {"row": int(numbers[i]), "reason": str(reason[i]), "reason_zh": str(reason_zh[i])}
        for i in np.flatnonzero(~accepted).tolist()
    ]
    report = ImportReport(
        filename=raw.filename,
        format=raw.format,
        encoding=raw.encoding,
        layer_id=layer_id,
        crs=crs_n,
        rows_read=n,
        accepted=len(frame),
        rejected=rejected,
        warnings=warns,
        proposed_matches=proposals,
        empty_rows=raw.empty_rows,
        mapping=dict(mapping.columns),
        located_by={k: int(counts.get(k, 0)) for k in _LOCATED_BY},
    )
    return ImportResult(
        layer_id=layer_id, features=frame.reset_index(drop=True), report=report,
        source_name=raw.filename,
    )  # fmt: skip


def _fill_township_by_polygon(frame: gpd.GeoDataFrame, dataset: Dataset) -> None:
    """Fill blank township codes from the township polygon each point falls in (in place)."""
    missing = (frame["township_code"] == "").to_numpy()
    if not missing.any() or not dataset.has("township"):
        return
    towns = dataset.layer("township")
    pts = shapely.point_on_surface(np.asarray(frame.geometry.array)[missing])
    tree = shapely.STRtree(np.asarray(towns.geometry.array))
    hits = tree.query(pts, predicate="within")
    codes = np.full(len(pts), "", dtype=object)
    codes[hits[0]] = towns["code9"].astype(str).to_numpy()[hits[1]]
    values = frame["township_code"].to_numpy(dtype=object).copy()
    values[missing] = codes
    frame["township_code"] = values


def _norm_name(values: pd.Series) -> np.ndarray:
    return np.array(
        ["".join(unicodedata.normalize("NFKC", str(v)).split()).lower() for v in values],
        dtype=object,
    )


def _duplicate_warnings(
    frame: gpd.GeoDataFrame,
    rows: np.ndarray,
    dataset: Dataset,
    layer_id: str,
    mode: str,
    warn: Warn,
) -> None:
    """Warn for same-name features within :data:`DUPLICATE_DISTANCE_M` (in the file and existing)."""
    metric = frame.to_crs(METRIC_CRS)
    pts = shapely.point_on_surface(np.asarray(metric.geometry.array))
    names = _norm_name(frame["name"])
    tree = shapely.STRtree(pts)
    left, right = tree.query(pts, predicate="dwithin", distance=DUPLICATE_DISTANCE_M)
    same = (left < right) & (names[left] == names[right])
    for a, b in zip(left[same], right[same], strict=True):
        warn(
            "duplicate",
            f"same name as row {int(rows[a])} within {DUPLICATE_DISTANCE_M:.0f} m",
            f"与第 {int(rows[a])} 行同名，相距不到 {DUPLICATE_DISTANCE_M:.0f} 米",
            int(rows[b]),
        )
    if mode != "append" or not dataset.has(layer_id) or len(dataset.layer(layer_id)) == 0:
        return
    existing = dataset.metric(layer_id)
    e_pts = shapely.point_on_surface(np.asarray(existing.geometry.array))
    e_names = _norm_name(existing["name"])
    e_tree = shapely.STRtree(e_pts)
    new_i, old_i = e_tree.query(pts, predicate="dwithin", distance=DUPLICATE_DISTANCE_M)
    same = names[new_i] == e_names[old_i]
    for a, b in zip(new_i[same], old_i[same], strict=True):
        dist_m = float(shapely.distance(pts[a], e_pts[b]))
        old_id = existing["id"].iat[b] if "id" in existing.columns else b
        warn(
            "duplicate",
            f"likely duplicate of existing {old_id} {existing['name'].iat[b]!r}, {dist_m:.0f} m away",
            f"可能与已有的 {old_id}“{existing['name'].iat[b]}”重复，相距 {dist_m:.0f} 米",
            int(rows[a]),
        )
