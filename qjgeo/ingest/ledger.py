"""Check a facility or hazard ledger (台账) as a pipeline of named checks, then build its features.

:func:`validate_ledger` runs :data:`CHECKS` in order. Each check is a small function of one
:class:`LedgerRows` -- the table, the dataset, what earlier checks found -- and writes its
verdicts into the shared :class:`~qjgeo.ingest.rowlog.RowLog`: the first reason a row is
refused wins, warnings accumulate. Adding a check adds a function to the list, not a branch
in the middle of a long one. The accepted rows then become features
(:func:`_build_features`), and warnings about them (markup, duplicates) follow.

Rows are refused for: an empty name; coordinates that are not numbers, half given, not in
degrees or swapped; a GIS geometry of the wrong type; no way to place the row (no
coordinates, village not found); a point more than :data:`OUTSIDE_BUFFER_M` outside the
district (unless ``allow_outside``); a repeated id; a number outside its field's plausible
range (:data:`~qjgeo.ingest.fields.FIELD_RANGES`).
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
from qjgeo.crs import METRIC_CRS, WGS84_CRS, convert_geometries
from qjgeo.ingest.columns import ColumnMapping
from qjgeo.ingest.fields import (
    BOOL_FIELDS,
    COUNT_FIELDS,
    FLOAT_FIELDS,
    field_name_zh,
    layer_fields,
)
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
from qjgeo.ingest.rowlog import ImportReport, ImportResult, RowLog, field_text, parse_bool
from qjgeo.schema import GEOMETRY_TYPES, REQUIRED_COLUMNS

__all__ = ["CHECKS", "DUPLICATE_DISTANCE_M", "OUTSIDE_BUFFER_M", "LedgerRows", "validate_ledger"]

#: Same-name features closer than this are reported as likely duplicates (metres).
DUPLICATE_DISTANCE_M: Final[float] = 200.0
#: Points farther than this outside the district outline are refused unless the import
#: allows them (metres): a facility just across the boundary may serve the district's
#: children; one in another county is a wrong coordinate or a wrong system.
OUTSIDE_BUFFER_M: Final[float] = 2_000.0

_MARKUP: Final = re.compile(r"<\s*/?\s*[a-zA-Z!]|javascript:", re.IGNORECASE)
_VILLAGE_CODE: Final = re.compile(r"\d{12}")
_LOCATED_BY: Final[tuple[str, ...]] = ("coordinates", "village_code", "village_name")
_GEOMETRY_NAMES: Final = np.array(
    ["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
     "MultiPolygon", "GeometryCollection"], dtype=object,
)  # fmt: skip
#: Fields placed by the checks, not copied as attributes.
_PLACEMENT_FIELDS: Final[frozenset[str]] = frozenset(
    {"id", "name", "lon", "lat", "lonlat", "township", "township_code", "village", "village_code"}
)


def _empty_text(n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    out[:] = ""
    return out


@dataclass
class LedgerRows:
    """A ledger being checked: its cells, the dataset, and what the checks found so far.

    Arrays have one entry per row read (``len(raw)``).
    """

    raw: RawTable
    dataset: Dataset
    layer_id: str
    mapping: ColumnMapping
    crs: str
    mode: str
    allow_outside: bool
    log: RowLog
    area: shapely.Geometry | None
    name: np.ndarray = field(init=False)
    lon: np.ndarray = field(init=False)  # as given (the stated system), NaN if none
    lat: np.ndarray = field(init=False)
    geom_src: np.ndarray = field(init=False)  # a GIS file's geometries
    has_geom: np.ndarray = field(init=False)
    placeable: np.ndarray = field(init=False)  # coordinates not broken beyond placing by village
    geometry: np.ndarray = field(init=False)  # WGS84, None until located
    located_by: np.ndarray = field(init=False)
    town_codes: np.ndarray = field(init=False)
    village_code: np.ndarray = field(init=False)
    ids: np.ndarray = field(init=False)
    proposals: list[dict[str, Any]] = field(default_factory=list)
    numbers: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.raw)
        self.name = self.text("name")
        self.geom_src = np.full(n, None, dtype=object)
        if self.raw.geometry is not None:
            self.geom_src = np.asarray(self.raw.geometry.array, dtype=object).copy()
        self.has_geom = np.array(
            [g is not None and not g.is_empty for g in self.geom_src], dtype=bool
        )
        self.placeable = np.ones(n, dtype=bool)
        self.geometry = np.full(n, None, dtype=object)
        self.located_by = _empty_text(n)
        self.village_code = _empty_text(n)
        self.ids = self.text("id")

    def text(self, canonical: str) -> np.ndarray:
        """The clean text of the cells feeding a field (``""`` when unmapped)."""
        return field_text(self.raw, self.mapping, canonical)

    def warn(self, kind: str, message: str, message_zh: str, row: int | None = None) -> None:
        """Record a warning in English and Chinese (``row=None``: about the whole file)."""
        self.log.warn(row, kind, message, message_zh)


#: A check: reads the ledger's cells and earlier findings, writes verdicts into the row log.
Check = Callable[[LedgerRows], None]


def _messages(template: str, values: np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = [template.format(v) for v in values.tolist()]
    return out


# --- the checks, in the order they run --------------------------------------------------------


def check_name(led: LedgerRows) -> None:
    """Refuse a row without a name."""
    led.log.reject(led.name == "", "name is empty", "名称为空")


def check_coordinates_parse(led: LedgerRows) -> None:
    """Read longitude/latitude (two columns or one ``lon,lat`` column); refuse junk and halves."""
    lon_text, lat_text = led.text("lon"), led.text("lat")
    mapping = led.mapping
    if mapping.source("lonlat") and not (mapping.source("lon") or mapping.source("lat")):
        lon_s, lat_s = split_lonlat(pd.Series(led.text("lonlat"), dtype=object))
        lon_text = np.asarray(lon_s.tolist(), dtype=object)
        lat_text = np.asarray(lat_s.tolist(), dtype=object)
    led.lon, lon_junk = parse_coordinates(lon_text)
    led.lat, lat_junk = parse_coordinates(lat_text)
    no_geom = ~led.has_geom
    led.log.reject(
        lon_junk & no_geom,
        _messages("longitude {!r} is not a number", lon_text),
        _messages("经度不是数字（{!r}）", lon_text),
    )
    led.log.reject(
        lat_junk & no_geom,
        _messages("latitude {!r} is not a number", lat_text),
        _messages("纬度不是数字（{!r}）", lat_text),
    )
    one_only = (np.isfinite(led.lon) ^ np.isfinite(led.lat)) & no_geom
    led.log.reject(one_only & np.isnan(led.lat), "latitude is missing", "缺少纬度")
    led.log.reject(one_only, "longitude is missing", "缺少经度")
    led.placeable &= ~one_only


def check_gis_geometries(led: LedgerRows) -> None:
    """A GIS file's geometries: points for point layers, repaired, of an allowed type."""
    if not led.has_geom.any():
        return
    allowed = GEOMETRY_TYPES.get(led.layer_id, ("Point",))
    geoms = led.geom_src[led.has_geom]
    types = shapely.get_type_id(geoms)
    if allowed == ("Point",) and (types != 0).any():
        converted = int((types != 0).sum())
        geoms = np.where(types == 0, geoms, shapely.point_on_surface(geoms))
        led.warn("geometry", f"{converted} line/area features placed at a point on them",
                 f"{converted} 个线或面要素已取其上一点作为位置")  # fmt: skip
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = np.where(invalid, shapely.make_valid(geoms), geoms)
        repaired = int(invalid.sum())
        led.warn(
            "geometry", f"{repaired} invalid geometries repaired", f"已修复 {repaired} 个无效几何"
        )
    wrong_type = ~np.isin(_GEOMETRY_NAMES[np.asarray(shapely.get_type_id(geoms))], allowed)
    if wrong_type.any():
        wrong = np.zeros(len(led.has_geom), dtype=bool)
        wrong[np.flatnonzero(led.has_geom)[wrong_type]] = True
        led.log.reject(
            wrong,
            f"geometry type not allowed for this layer (expected {' or '.join(allowed)})",
            f"该图层不接受这种几何类型（应为 {' 或 '.join(allowed)}）",
        )
        led.has_geom = led.has_geom & ~wrong
        geoms = geoms[~wrong_type]
    led.geom_src[led.has_geom] = geoms
    # the geometry's coordinates stand in for lon/lat when judging the system
    reps = shapely.point_on_surface(geoms)
    led.lon, led.lat = led.lon.copy(), led.lat.copy()
    led.lon[led.has_geom] = shapely.get_x(reps)
    led.lat[led.has_geom] = shapely.get_y(reps)


def check_degrees(led: LedgerRows) -> None:
    """Refuse coordinates that are not degrees, with a hint when they look swapped."""
    lon, lat = led.lon, led.lat
    valid = np.isfinite(lon) & np.isfinite(lat)
    out_of_range = valid & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    swapped = out_of_range & (np.abs(lat) <= 180) & (np.abs(lon) <= 90)
    led.log.reject(
        swapped,
        "latitude above 90°: longitude and latitude look swapped; check the column mapping",
        "纬度超过 90°：经度和纬度似乎填反了，请检查列对应关系",
    )
    led.log.reject(
        out_of_range,
        "coordinates are not longitude/latitude in degrees",
        "坐标不是以度为单位的经纬度",
    )
    led.placeable &= ~out_of_range


def check_coordinate_system(led: LedgerRows) -> None:
    """Warn when the points look like another system than stated; convert them to WGS84."""
    usable = np.isfinite(led.lon) & np.isfinite(led.lat) & led.log.open_rows
    lon = np.where(usable, led.lon, np.nan)
    lat = np.where(usable, led.lat, np.nan)
    guess = guess_coordinate_system(led.area, lon, lat, led.crs)
    if guess.message:
        led.warn("coordinate_system", guess.message, guess.message_zh)
    wlon, wlat = to_wgs84(lon, lat, led.crs)
    table_pts = usable & ~led.has_geom
    led.geometry[table_pts] = shapely.points(wlon[table_pts], wlat[table_pts])
    geo_rows = usable & led.has_geom
    if geo_rows.any():
        led.geometry[geo_rows] = convert_geometries(led.geom_src[geo_rows], led.crs, "wgs84")
    led.located_by[usable] = "coordinates"


def check_township(led: LedgerRows) -> None:
    """Resolve the township given by code or name; warn when it is not recognised."""
    code_text = led.text("township_code")
    given = np.where(code_text != "", code_text, led.text("township"))
    towns, unknown = resolve_township(led.dataset, pd.Series(given, dtype=object))
    led.town_codes = np.asarray(towns.tolist(), dtype=object)
    for row in led.log.rows[unknown.to_numpy() & led.log.open_rows].tolist():
        led.warn("unknown_township", "township not recognised; taken from the location",
                 "未识别的镇（街道），已按位置确定", int(row))  # fmt: skip


def check_village_placement(led: LedgerRows) -> None:
    """Place rows without coordinates at their village; refuse rows that cannot be placed."""
    village_text, code_text = led.text("village"), led.text("village_code")
    led.village_code[:] = [v if _VILLAGE_CODE.fullmatch(v) else "" for v in code_text.tolist()]
    need = (led.located_by == "") & led.log.open_rows & led.placeable
    nothing = need & (village_text == "") & (code_text == "")
    led.log.reject(nothing, "no coordinates and no village or community to place it by",
                   "既无坐标，也没有可用于定位的村（社区）")  # fmt: skip
    sub = np.flatnonzero(need & ~nothing)
    if not len(sub):
        return
    placed = place_by_village(
        led.dataset,
        pd.Series(code_text[sub], dtype=object),
        pd.Series(village_text[sub], dtype=object),
        pd.Series(led.town_codes[sub], dtype=object),
    )
    ok = placed.located_by.to_numpy() != ""
    rows_ok = sub[ok]
    led.geometry[rows_ok] = shapely.points(placed.lon[ok], placed.lat[ok])
    led.located_by[rows_ok] = placed.located_by.to_numpy()[ok]
    led.village_code[rows_ok] = placed.village_code.to_numpy()[ok]
    blank_town = led.town_codes[rows_ok] == ""
    led.town_codes[rows_ok[blank_town]] = placed.township_code.to_numpy()[ok][blank_town]
    problems, problems_zh = _empty_text(len(led.name)), _empty_text(len(led.name))
    problems[sub[~ok]] = placed.problem.to_numpy()[~ok]
    problems_zh[sub[~ok]] = placed.problem_zh.to_numpy()[~ok]
    failed = np.zeros(len(led.name), dtype=bool)
    failed[sub[~ok]] = True
    led.log.reject(failed, problems, problems_zh)
    for j in np.flatnonzero(placed.proposal.to_numpy() != "").tolist():
        led.proposals.append({
            "row": int(led.log.rows[sub[j]]), "given": str(village_text[sub[j]]),
            "proposal": str(placed.proposal.iat[j]),
            "village_code": str(placed.proposal_code.iat[j]), "score": round(float(placed.score[j]), 1),
        })  # fmt: skip


def check_inside_area(led: LedgerRows) -> None:
    """Refuse points beyond :data:`OUTSIDE_BUFFER_M` outside the district; warn for the rest."""
    located = np.flatnonzero(led.log.open_rows & (led.located_by != ""))
    if led.area is None or not len(located):
        return
    reps = shapely.point_on_surface(led.geometry[located])
    outside = ~shapely.contains_xy(led.area, shapely.get_x(reps), shapely.get_y(reps))
    if not outside.any():
        return
    area_m = gpd.GeoSeries([led.area], crs=WGS84_CRS).to_crs(METRIC_CRS).iloc[0]
    pts_m = gpd.GeoSeries(reps[outside], crs=WGS84_CRS).to_crs(METRIC_CRS).to_numpy()
    km = shapely.distance(area_m, pts_m) / 1000.0
    for i, dist_km in zip(located[outside].tolist(), km.tolist(), strict=True):
        name, row = led.name[i], int(led.log.rows[i])
        if dist_km * 1000.0 > OUTSIDE_BUFFER_M and not led.allow_outside:
            mask = np.zeros(len(led.name), dtype=bool)
            mask[i] = True
            led.log.reject(
                mask,
                f"lies {dist_km:,.1f} km outside the district (more than "
                f"{OUTSIDE_BUFFER_M / 1000:g} km; check the coordinates and their system, or "
                "allow points outside)",
                f"位于本区范围之外 {dist_km:,.1f} 公里（超过 {OUTSIDE_BUFFER_M / 1000:g} 公里；"
                "请核对坐标及其坐标系，或选择允许区外点位）",
            )
        else:
            led.warn("outside_district", f"{name!r} lies outside the district ({dist_km:,.1f} km)",
                     f"“{name}”位于本区范围之外（{dist_km:,.1f} 公里）", row)  # fmt: skip


def check_ids(led: LedgerRows) -> None:
    """Refuse a row repeating the id of an earlier open row."""
    first_seen: dict[str, int] = {}
    reason, reason_zh = _empty_text(len(led.ids)), _empty_text(len(led.ids))
    open_now = led.log.open_rows
    for i, value in enumerate(led.ids.tolist()):
        if not value or not open_now[i]:
            continue
        if value in first_seen:
            reason[i] = f"id {value!r} repeats row {first_seen[value]}"
            reason_zh[i] = f"编号“{value}”与第 {first_seen[value]} 行重复"
        else:
            first_seen[value] = int(led.log.rows[i])
    led.log.reject(reason != "", reason, reason_zh)


def check_number_ranges(led: LedgerRows) -> None:
    """Parse the numeric fields; refuse a value outside its field's plausible range."""
    for name in _attribute_fields(led):
        if name in COUNT_FIELDS or name in FLOAT_FIELDS:
            values, junk = parse_numbers(led.text(name))
            led.numbers[name] = (values, junk)
            led.log.reject_out_of_range(name, values)


#: The checks of a facility or hazard ledger, in order.
CHECKS: Final[tuple[Check, ...]] = (
    check_name,
    check_coordinates_parse,
    check_gis_geometries,
    check_degrees,
    check_coordinate_system,
    check_township,
    check_village_placement,
    check_inside_area,
    check_ids,
    check_number_ranges,
)


def validate_ledger(
    raw: RawTable,
    dataset: Dataset,
    layer_id: str,
    *,
    mapping: ColumnMapping,
    crs: str,
    mode: str,
    allow_outside: bool = False,
) -> ImportResult:
    """Run :data:`CHECKS` on a facility or hazard ledger and build the accepted features.

    Arguments are checked by :func:`qjgeo.ingest.report.validate`, which calls this.

    Returns
    -------
    ImportResult
        WGS84 features (provenance ``user``, ``located_by``) and the report.
    """
    led = LedgerRows(raw=raw, dataset=dataset, layer_id=layer_id, mapping=mapping, crs=crs,
                     mode=mode, allow_outside=allow_outside, log=RowLog(raw),
                     area=district_area(dataset))  # fmt: skip
    for check in CHECKS:
        check(led)
    accepted = np.flatnonzero(led.log.ok)
    frame = _build_features(led, accepted)
    if len(frame):
        _markup_warnings(led, frame, led.log.rows[accepted])
        _duplicate_warnings(led, frame, led.log.rows[accepted])
    unused = [c for c in mapping.unmapped if c in raw.columns]
    if unused:
        led.warn("unused_columns", "columns not imported: " + ", ".join(unused),
                 "未导入的列：" + "、".join(unused))  # fmt: skip
    counts = frame["located_by"].value_counts() if len(frame) else pd.Series(dtype=int)
    report: ImportReport = led.log.report(
        raw, layer_id, crs, mapping, proposed_matches=led.proposals,
        located_by={k: int(counts.get(k, 0)) for k in _LOCATED_BY},
    )  # fmt: skip
    return ImportResult(layer_id=layer_id, features=frame, report=report, source_name=raw.filename)


# --- building the features ----------------------------------------------------------------------


def _attribute_fields(led: LedgerRows) -> list[str]:
    """The layer's own fields that the ledger maps or the layer requires."""
    required = REQUIRED_COLUMNS[led.layer_id]
    return [
        f
        for f in layer_fields(led.layer_id)
        if f not in _PLACEMENT_FIELDS and (led.mapping.source(f) is not None or f in required)
    ]


def _build_features(led: LedgerRows, accepted: np.ndarray) -> gpd.GeoDataFrame:
    """The accepted rows as features: ids, name, attributes, placement, provenance."""
    rows = led.log.rows[accepted]
    columns: dict[str, Any] = {"id": _fill_ids(led, accepted), "name": led.name[accepted]}
    for name in _attribute_fields(led):
        columns[name] = _attribute(led, name, accepted)
    frame = gpd.GeoDataFrame(
        {
            **columns,
            "township_code": led.town_codes[accepted],
            "village_code": led.village_code[accepted],
            "provenance": np.full(len(accepted), "user", dtype=object),
            "source": [f"user import: {led.raw.filename} row {r}" for r in rows],
            "located_by": led.located_by[accepted],
        },
        geometry=gpd.GeoSeries(list(led.geometry[accepted]), crs=WGS84_CRS),
        crs=WGS84_CRS,
    )
    _fill_township_by_polygon(frame, led.dataset)
    order = [c for c in REQUIRED_COLUMNS[led.layer_id] if c in frame.columns]
    rest = [c for c in frame.columns if c not in order and c != "geometry"]
    return frame[[*order, *rest, "geometry"]].reset_index(drop=True)


def _fill_ids(led: LedgerRows, accepted: np.ndarray) -> np.ndarray:
    """The ids of the accepted rows; ``<LAYER>-U0001`` … for rows without one."""
    ids = led.ids[accepted].copy()
    existing: set[str] = set()
    if led.mode == "append" and led.dataset.has(led.layer_id):
        layer = led.dataset.layer(led.layer_id)
        existing = set(layer["id"].astype(str)) if "id" in layer else set()
    taken = set(ids) | existing
    prefix, counter = led.layer_id[:3].upper(), 0
    for j in np.flatnonzero(ids == "").tolist():
        counter += 1
        while f"{prefix}-U{counter:04d}" in taken:
            counter += 1
        ids[j] = f"{prefix}-U{counter:04d}"
    return ids


def _attribute(led: LedgerRows, name: str, accepted: np.ndarray) -> np.ndarray:
    """One attribute of the accepted rows, with defaults (0 / no / "") and their warnings."""
    rows = led.log.rows[accepted]
    title_zh = field_name_zh(name)
    required = name in REQUIRED_COLUMNS[led.layer_id]
    if name in led.numbers:
        values, junk = (a[accepted] for a in led.numbers[name])
        for row in rows[junk].tolist():
            led.warn("unreadable_value", f"{name} is not a number; stored as 0",
                     f"{title_zh}不是数字，按 0 记录", int(row))  # fmt: skip
        missing = np.isnan(values) & ~junk
        if missing.any() and required:
            led.warn("missing_value", f"{name} not given for {int(missing.sum())} row(s); stored as 0",
                     f"{int(missing.sum())} 行未填{title_zh}，按 0 记录")  # fmt: skip
        clean = np.where(np.isnan(values), 0.0, values) + 0.0  # + 0.0 turns -0 into 0
        return np.round(clean).astype(np.int64) if name in COUNT_FIELDS else clean
    values = led.text(name)[accepted]
    if name not in BOOL_FIELDS:
        return values
    yes, blank, junk = parse_bool(values)
    for row in rows[junk].tolist():
        led.warn("unreadable_value", f"{name} is not yes/no; stored as no",
                 f"{title_zh}不是“是/否”，按“否”记录", int(row))  # fmt: skip
    if blank.any() and required:
        led.warn("missing_value", f"{name} not given for {int(blank.sum())} row(s); stored as no",
                 f"{int(blank.sum())} 行未填{title_zh}，按“否”记录")  # fmt: skip
    return yes


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


# --- warnings on the accepted features ------------------------------------------------------------


def _markup_warnings(led: LedgerRows, frame: gpd.GeoDataFrame, rows: np.ndarray) -> None:
    """Warn for names holding HTML-like markup (stored and shown as plain text)."""
    marked = frame["name"].str.contains(_MARKUP, regex=True).to_numpy()
    for j in np.flatnonzero(marked).tolist():
        led.warn("markup_in_text", "name contains HTML-like markup; it is stored and shown as plain text",
                 "名称中含有类似 HTML 的标记，将按纯文本保存和显示", int(rows[j]))  # fmt: skip


def _norm_name(values: pd.Series) -> np.ndarray:
    return np.array(
        ["".join(unicodedata.normalize("NFKC", str(v)).split()).lower() for v in values],
        dtype=object,
    )


def _duplicate_warnings(led: LedgerRows, frame: gpd.GeoDataFrame, rows: np.ndarray) -> None:
    """Warn for same-name features within :data:`DUPLICATE_DISTANCE_M` (in the file and existing)."""
    pts = shapely.point_on_surface(np.asarray(frame.to_crs(METRIC_CRS).geometry.array))
    names = _norm_name(frame["name"])
    left, right = shapely.STRtree(pts).query(
        pts, predicate="dwithin", distance=DUPLICATE_DISTANCE_M
    )
    same = (left < right) & (names[left] == names[right])
    for a, b in zip(left[same], right[same], strict=True):
        led.warn("duplicate", f"same name as row {int(rows[a])} within {DUPLICATE_DISTANCE_M:.0f} m",
                 f"与第 {int(rows[a])} 行同名，相距不到 {DUPLICATE_DISTANCE_M:.0f} 米", int(rows[b]))  # fmt: skip
    dataset, layer_id = led.dataset, led.layer_id
    if led.mode != "append" or not dataset.has(layer_id) or len(dataset.layer(layer_id)) == 0:
        return
    existing = dataset.metric(layer_id)
    e_pts = shapely.point_on_surface(np.asarray(existing.geometry.array))
    e_names = _norm_name(existing["name"])
    new_i, old_i = shapely.STRtree(e_pts).query(
        pts, predicate="dwithin", distance=DUPLICATE_DISTANCE_M
    )
    same = names[new_i] == e_names[old_i]
    for a, b in zip(new_i[same], old_i[same], strict=True):
        dist_m = float(shapely.distance(pts[a], e_pts[b]))
        old_id = existing["id"].iat[b] if "id" in existing.columns else b
        old_name = existing["name"].iat[b]
        led.warn("duplicate", f"likely duplicate of existing {old_id} {old_name!r}, {dist_m:.0f} m away",
                 f"可能与已有的 {old_id}“{old_name}”重复，相距 {dist_m:.0f} 米", int(rows[a]))  # fmt: skip
