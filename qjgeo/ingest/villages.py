"""Update the village / community layer from a ledger: real points and populations.

The bundled villages carry official names, codes and urban–rural classes, but their points
and populations are estimates. A planner's ledger (村委会 / 居委会 locations, often from Amap
in GCJ-02; population by age from the civil-affairs or health ledgers) replaces those
estimates village by village:

- each row is matched to one existing village by its 12-digit code, else by its name
  (within its township when one is given), as :func:`~qjgeo.ingest.locate.place_by_village`
  does for facilities; near misses are proposed, never applied;
- a row may give a point (longitude/latitude in the stated system, converted to WGS84), a
  population, children by age band, or any of these; what it gives replaces the estimate,
  the rest is kept;
- a village whose point *and* children by age both come from the ledger becomes provenance
  ``user``; one with only part of it replaced stays ``estimated`` (and the report says so),
  so the app's "estimated data" notice disappears only when nothing estimated is left;
- the village list itself does not change: codes, names and classes stay official; villages
  the ledger does not mention keep their estimates.

The result is an :class:`~qjgeo.ingest.report.ImportResult` whose ``features`` are the whole
updated layer, written with :func:`~qjgeo.ingest.commit.commit` in ``replace`` mode (the
previous version goes to ``.history/`` as for any import, and ``qjgeo import-undo`` restores
it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS
from qjgeo.ingest.columns import ColumnMapping, field_name_zh, suggest_mapping
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
from qjgeo.ingest.report import ImportResult, RowLog, field_text, normalise_crs_name
from qjgeo.ingest.safety import IngestError
from qjgeo.schema import AGE_BANDS

__all__ = ["BANDS", "VILLAGE_FIELDS", "apply_population", "read_population", "validate_villages"]

#: Fields a village ledger may give.
VILLAGE_FIELDS: Final[tuple[str, ...]] = (
    "village", "name", "village_code", "township", "lon", "lat", "lonlat",
    "population", *AGE_BANDS, "note",
)  # fmt: skip

#: The age bands that add up to the children aged 0–14.
BANDS: Final[tuple[str, ...]] = ("pop_0_2", "pop_3_5", "pop_6_11", "pop_12_14")


SCALED_TEXT: Final = "no children by age given: the estimated age bands were scaled to match"
SCALED_TEXT_ZH: Final = "未提供分年龄段儿童数：已按比例调整估算的年龄段人数"
IMPLAUSIBLE_TEXT: Final = "more children aged 0–14 than residents"
IMPLAUSIBLE_TEXT_ZH: Final = "0–14 岁儿童多于常住人口"


def apply_population(
    pops: dict[str, np.ndarray], k: int, given: dict[str, float]
) -> tuple[bool, bool]:
    """Put a ledger's population figures into unit ``k`` of ``pops`` (column → values).

    Children given by age band replace the bands (``pop_0_14`` is their sum unless given);
    without them, the estimated bands are scaled to the given ``pop_0_14``, else to the
    given population. Returns ``(scaled, implausible)``: whether bands were scaled, and
    whether more children than residents result.
    """
    old_pop = pops["population"][k]
    if "population" in given:
        pops["population"][k] = given["population"]
    bands_given = [b for b in BANDS if b in given]
    for b in bands_given:
        pops[b][k] = given[b]
    scaled = False
    if bands_given:
        pops["pop_0_14"][k] = given.get("pop_0_14", sum(pops[b][k] for b in BANDS))
    else:
        old_children = sum(pops[b][k] for b in BANDS)
        if "pop_0_14" in given:
            scale = given["pop_0_14"] / old_children if old_children > 0 else np.nan
        elif "population" in given:
            scale = given["population"] / old_pop if old_pop and old_pop > 0 else np.nan
        else:
            scale = np.nan
        if np.isfinite(scale):
            for b in BANDS:
                pops[b][k] = round(pops[b][k] * scale)
            scaled = True
        pops["pop_0_14"][k] = sum(pops[b][k] for b in BANDS)
    return scaled, bool(pops["pop_0_14"][k] > pops["population"][k])


def read_population(
    raw: RawTable, mapping: ColumnMapping, reject: Callable[[np.ndarray, str, str], None]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The population columns a ledger maps (NaN where blank), rejecting junk and negatives;
    and per row whether it gives any population figure."""
    numbers: dict[str, np.ndarray] = {}
    for fld in ("population", *AGE_BANDS):
        if mapping.source(fld):
            values, junk = parse_numbers(_cells(raw, mapping, fld))
            zh = field_name_zh(fld)
            reject(junk, f"{fld} is not a number", f"{zh}不是数字")
            reject(values < 0, f"{fld} is negative", f"{zh}为负数")
            numbers[fld] = values
    gives = np.zeros(len(raw), dtype=bool)
    for values in numbers.values():
        gives |= np.isfinite(values)
    return numbers, gives


def _cells(raw: RawTable, mapping: ColumnMapping, field: str) -> pd.Series:
    """:func:`~qjgeo.ingest.report.field_text` as a Series on the table's index."""
    return pd.Series(field_text(raw, mapping, field), index=raw.rows.index, dtype=object)


def validate_villages(
    raw: RawTable,
    dataset: Dataset,
    *,
    mapping: ColumnMapping | None = None,
    crs: str = "wgs84",
) -> ImportResult:
    """Check a village ledger and build the updated village layer (nothing is written).

    Parameters
    ----------
    raw
        The table read by :func:`~qjgeo.ingest.readers.read_table`.
    dataset
        The dataset whose ``village`` layer is updated.
    mapping
        Which column feeds which field (:data:`VILLAGE_FIELDS`); suggested when ``None``.
    crs
        The system of the ledger's coordinates (wgs84, cgcs2000, gcj02, bd09).

    Returns
    -------
    ImportResult
        ``features``: the whole village layer with the ledger's points and populations in
        place (WGS84); ``report``: rows read = accepted + rejected, with reasons in English
        and Chinese, warnings and proposed matches.

    Raises
    ------
    IngestError
        When the dataset has no village layer, or the ledger has no column naming the village
        or nothing to update (no coordinates, no population).
    """
    if not dataset.has("village") or not len(dataset.layer("village")):
        raise IngestError(
            f"{raw.filename}: the dataset has no village layer to update; a village layer "
            "with official codes cannot be created from a ledger"
        )
    crs_n = normalise_crs_name(crs)
    mapping = mapping if mapping is not None else suggest_mapping(raw, "village")
    name_field = "village" if mapping.source("village") else "name"
    if not (mapping.source(name_field) or mapping.source("village_code")):
        raise IngestError(
            f"{raw.filename}: no column naming the village (村/社区, 村代码) among "
            f"{', '.join(raw.columns) or 'no columns'}"
        )
    updatable = ("lon", "lat", "lonlat", "population", *AGE_BANDS)
    if not any(mapping.source(f) for f in updatable):
        raise IngestError(
            f"{raw.filename}: nothing to update: no coordinates (经度/纬度) and no population "
            f"columns (人口, 0-2岁…) among {', '.join(raw.columns)}"
        )

    log = RowLog(raw)
    rows, reason, reason_zh = log.rows, log.reason, log.reason_zh
    reject, warn = log.reject, log.warn

    # --- which village --------------------------------------------------------------
    town_codes, _town_problem = resolve_township(dataset, _cells(raw, mapping, "township"))
    placed = place_by_village(
        dataset, _cells(raw, mapping, "village_code"), _cells(raw, mapping, name_field), town_codes
    )
    code = placed.village_code.to_numpy(dtype=object)
    unnamed = (
        (_cells(raw, mapping, name_field) == "") & (_cells(raw, mapping, "village_code") == "")
    ).to_numpy()
    reject(unnamed, "no village name or code", "缺少村（社区）名称或代码")
    problem = placed.problem.to_numpy(dtype=object)
    no_match = (code == "") & ~unnamed
    for i in np.flatnonzero(no_match):
        if reason[i] == "":
            reason[i] = problem[i] or "no such village"
            reason_zh[i] = placed.problem_zh.iloc[i] or "找不到该村（社区）"
    proposals = [
        {
            "row": int(rows[i]),
            "given": str(_cells(raw, mapping, name_field).iloc[i]),
            "proposal": str(placed.proposal.iloc[i]),
            "village_code": str(placed.proposal_code.iloc[i]),
            "score": float(placed.score[i]),
        }
        for i in np.flatnonzero(no_match & (placed.proposal.to_numpy(dtype=object) != ""))
    ]
    # one row per village: a later row for the same village is refused
    log.refuse_repeats(code, "village", "村（社区）")

    # --- what it gives --------------------------------------------------------------
    lon_text = _cells(raw, mapping, "lon")
    lat_text = _cells(raw, mapping, "lat")
    if mapping.source("lonlat") and not (mapping.source("lon") or mapping.source("lat")):
        lon_text, lat_text = split_lonlat(_cells(raw, mapping, "lonlat"))
    lon, lon_junk = parse_coordinates(lon_text)
    lat, lat_junk = parse_coordinates(lat_text)
    if raw.geometry is not None:  # a GIS file: its points stand for lon/lat
        geoms = np.asarray(raw.geometry.array, dtype=object)
        has = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
        reps = shapely.point_on_surface(geoms[has])
        lon[has], lat[has] = shapely.get_x(reps), shapely.get_y(reps)
        lon_junk &= ~has
        lat_junk &= ~has
    area = district_area(dataset)
    finite = np.isfinite(lon) & np.isfinite(lat)
    guess = guess_coordinate_system(
        area, np.where(finite, lon, np.nan), np.where(finite, lat, np.nan), crs_n
    )
    if guess.message:  # swapped columns, or another system than the one stated
        warn(None, "coordinate_system", guess.message, guess.message_zh)
    reject(lon_junk | lat_junk, "coordinate is not a number", "坐标不是数字")
    one_only = np.isfinite(lon) ^ np.isfinite(lat)
    reject(one_only, "longitude or latitude is missing", "缺少经度或纬度")
    bad_range = np.isfinite(lon) & np.isfinite(lat) & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    reject(bad_range, "coordinates out of range", "坐标超出范围")
    has_point = np.isfinite(lon) & np.isfinite(lat) & ~bad_range
    wlon, wlat = to_wgs84(np.where(has_point, lon, np.nan), np.where(has_point, lat, np.nan), crs_n)
    if area is not None and has_point.any():
        outside = has_point & ~shapely.contains_xy(area, np.nan_to_num(wlon), np.nan_to_num(wlat))
        reject(
            outside,
            f"point outside the district (coordinates stated as {crs_n})",
            f"位置在区界之外（坐标按 {crs_n} 解读）",
        )

    numbers, gives_pop = read_population(raw, mapping, reject)
    reject(
        ~has_point & ~gives_pop,
        "nothing to update (no point, no population)",
        "没有可更新的位置或人口",
    )

    # --- apply ----------------------------------------------------------------------
    villages = dataset.layer("village").to_crs(WGS84_CRS).copy()
    position = {str(c): k for k, c in enumerate(villages["code12"].astype(str))}
    ok = log.ok
    geoms_out = np.asarray(villages.geometry.array, dtype=object).copy()
    prov = villages["provenance"].astype(str).to_numpy(dtype=object).copy()

    def _sources(column: str) -> np.ndarray:
        if column in villages.columns:
            return villages[column].fillna("").astype(str).to_numpy(dtype=object).copy()
        return np.full(len(villages), "", dtype=object)

    loc_src, pop_src = _sources("location_source"), _sources("population_source")
    pops = {
        c: pd.to_numeric(villages[c], errors="coerce").to_numpy(copy=True)
        for c in ("population", *AGE_BANDS)
    }
    towns = villages["township_code"].astype(str).to_numpy()
    township_geoms = (
        dict(zip(dataset.layer("township")["code9"].astype(str),
                 dataset.layer("township").to_crs(WGS84_CRS).geometry, strict=True))
        if dataset.has("township") else {}
    )  # fmt: skip
    for i in np.flatnonzero(ok):
        k = position[str(code[i])]
        row = int(rows[i])
        what: list[str] = []
        if has_point[i]:
            geoms_out[k] = shapely.Point(wlon[i], wlat[i])
            what.append("point")
            poly = township_geoms.get(str(towns[k]))
            if poly is not None and not poly.contains(geoms_out[k]):
                warn(row, "outside_township",
                     f"point lies outside its township's (estimated) boundary: {villages['name'].iloc[k]}",
                     f"位置不在所属镇（街道）的估算边界内：{villages['name'].iloc[k]}")  # fmt: skip
        given = {f: v[i] for f, v in numbers.items() if np.isfinite(v[i])}
        if given:
            scaled, implausible = apply_population(pops, k, given)
            if scaled:
                warn(row, "scaled_age_bands", SCALED_TEXT, SCALED_TEXT_ZH)
            if implausible:
                warn(row, "implausible_value", IMPLAUSIBLE_TEXT, IMPLAUSIBLE_TEXT_ZH)
            what.append("population")
        ledger = f"ledger {raw.filename}"
        if "point" in what:
            loc_src[k] = f"{ledger} ({crs_n})"
        if "population" in what:
            by_age = any(b in given for b in BANDS)
            pop_src[k] = ledger if by_age else f"{ledger} (age bands scaled)"
        located = loc_src[k].startswith("ledger")
        counted = pop_src[k].startswith("ledger") and not pop_src[k].endswith("scaled)")
        if located and counted:
            prov[k] = "user"
        else:
            prov[k] = "estimated"  # whatever it was, part of this village is now an estimate
            missing, missing_zh = (
                ("point", "位置") if not located else ("children by age", "分年龄段儿童数")
            )
            warn(row, "still_estimated",
                 f"{villages['name'].iloc[k]}: {missing} still estimated, so the village stays 'estimated'",
                 f"{villages['name'].iloc[k]}：{missing_zh}仍为估算，该村保持“估算”")  # fmt: skip

    out = villages.copy()
    out["provenance"] = prov
    out["location_source"] = loc_src
    out["population_source"] = np.where(pop_src == "", "estimated", pop_src)
    for c, values in pops.items():
        out[c] = values
    out = gpd.GeoDataFrame(out, geometry=list(geoms_out), crs=WGS84_CRS)
    report = log.report(
        raw,
        "village",
        crs_n,
        mapping,
        proposed_matches=proposals,
        located_by={
            "village_code": int(
                (ok & (placed.located_by.to_numpy(dtype=object) == "village_code")).sum()
            ),
            "village_name": int(
                (ok & (placed.located_by.to_numpy(dtype=object) == "village_name")).sum()
            ),
        },
    )
    return ImportResult(
        layer_id="village",
        features=out,
        report=report,
        source_name=raw.filename,
        updated_keys=tuple(str(c) for c in code[ok]),
    )
