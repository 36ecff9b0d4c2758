"""Update the township layer from a GIS file: official boundaries (and populations).

The bundled township polygons are estimates (Voronoi cells of the township seats, clipped
to the district). A planner who holds the official boundaries (e.g. from the natural
resources bureau, as GeoPackage, Shapefile, GeoJSON or KML) replaces them township by
township:

- each feature is matched to one existing township by its 9- or 12-digit code, else by its
  name (``马坝镇`` or ``马坝``); unknown or repeated townships are refused, row by row;
- a feature's polygon replaces the estimated one (GCJ-02 / BD-09 files are converted to
  WGS84 vertex by vertex); population figures in its attributes replace the estimates as for
  villages (:func:`qjgeo.ingest.villages.apply_population`);
- a township becomes provenance ``user`` when its boundary *and* its children by age come
  from the file; otherwise it stays ``estimated`` and the report says what is still
  estimated;
- villages whose point falls outside their township's new polygon are reported (their
  township is official, so either the boundary or the village point is off).

As for villages, the result holds the whole updated layer, committed in ``replace`` mode
with the previous version kept under ``.history/``.
"""

from __future__ import annotations

from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS, convert_gdf
from qjgeo.ingest.columns import ColumnMapping, suggest_mapping
from qjgeo.ingest.locate import district_area, resolve_township
from qjgeo.ingest.readers import RawTable
from qjgeo.ingest.report import ImportResult, RowLog, field_text, normalise_crs_name
from qjgeo.ingest.safety import IngestError
from qjgeo.ingest.villages import (
    BANDS,
    IMPLAUSIBLE_TEXT,
    IMPLAUSIBLE_TEXT_ZH,
    SCALED_TEXT,
    SCALED_TEXT_ZH,
    apply_population,
    read_population,
)
from qjgeo.schema import AGE_BANDS

__all__ = ["TOWNSHIP_FIELDS", "validate_townships"]

#: Fields a township file may give (its polygons come from the file's geometry).
TOWNSHIP_FIELDS: Final[tuple[str, ...]] = (
    "township", "township_code", "name", "population", *AGE_BANDS, "note",
)  # fmt: skip

_SHOWN: Final = 5  # villages named per warning


def validate_townships(
    raw: RawTable,
    dataset: Dataset,
    *,
    mapping: ColumnMapping | None = None,
    crs: str = "wgs84",
) -> ImportResult:
    """Check a township boundary file and build the updated township layer (nothing written).

    Parameters
    ----------
    raw
        A GIS file read by :func:`~qjgeo.ingest.readers.read_table` (or a table of
        populations only).
    dataset
        The dataset whose ``township`` layer is updated.
    mapping
        Which column feeds which field (:data:`TOWNSHIP_FIELDS`); suggested when ``None``.
    crs
        The system of the file's coordinates (wgs84, cgcs2000, gcj02, bd09).

    Returns
    -------
    ImportResult
        ``features``: the whole township layer with the file's polygons and populations in
        place (WGS84); ``report``: rows read = accepted + rejected, reasons in English and
        Chinese, warnings.

    Raises
    ------
    IngestError
        When the dataset has no township layer, the file names no township, or gives neither
        polygons nor populations.
    """
    if not dataset.has("township") or not len(dataset.layer("township")):
        raise IngestError(
            f"{raw.filename}: the dataset has no township layer to update; a township layer "
            "with official codes cannot be created from a file"
        )
    crs_n = normalise_crs_name(crs)
    mapping = mapping if mapping is not None else suggest_mapping(raw, "township")
    if not any(mapping.source(f) for f in ("township_code", "township", "name")):
        raise IngestError(
            f"{raw.filename}: no column naming the township (镇街, 乡镇代码, 名称) among "
            f"{', '.join(raw.columns) or 'no columns'}"
        )
    has_geometry = raw.geometry is not None
    if not has_geometry and not any(mapping.source(f) for f in ("population", *AGE_BANDS)):
        raise IngestError(
            f"{raw.filename}: nothing to update: township boundaries need a GIS file with "
            "polygons (GeoPackage, Shapefile, GeoJSON, KML), and no population columns were found"
        )

    n = len(raw)
    log = RowLog(raw)
    rows = log.rows
    reject, warn = log.reject, log.warn

    # --- which township -------------------------------------------------------------
    given_text = pd.Series(
        [
            next((t for t in vals if t), "")
            for vals in zip(
                *(field_text(raw, mapping, f) for f in ("township_code", "township", "name")),
                strict=True,
            )
        ],
        index=raw.rows.index,
        dtype=object,
    )
    codes, _unknown = resolve_township(dataset, given_text)
    code = codes.to_numpy(dtype=object)
    reject((given_text == "").to_numpy(), "no township name or code", "缺少镇（街道）名称或代码")
    reject(
        code == "",
        "no such township in the dataset",
        "数据中没有该镇（街道）",
    )
    log.refuse_repeats(code, "township", "镇（街道）")

    # --- polygons -------------------------------------------------------------------
    polygons = np.full(n, None, dtype=object)
    if raw.geometry is not None:
        frame = gpd.GeoDataFrame(geometry=raw.geometry.reset_index(drop=True), crs=raw.geometry.crs)
        if frame.crs is not None and not frame.crs.is_geographic:
            frame = frame.to_crs(WGS84_CRS)
        if crs_n in ("gcj02", "bd09"):
            frame = convert_gdf(frame.set_crs(WGS84_CRS, allow_override=True), crs_n, "wgs84")
        geoms = np.asarray(frame.geometry.array, dtype=object)
        present = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
        kinds = np.full(n, -1)
        kinds[present] = shapely.get_type_id(geoms[present])
        not_area = present & ~np.isin(kinds, [3, 6])  # Polygon, MultiPolygon
        reject(not_area, "geometry is not a polygon", "几何不是面（多边形）")
        usable = present & ~not_area
        invalid = np.zeros(n, dtype=bool)
        invalid[usable] = ~shapely.is_valid(geoms[usable])
        if invalid.any():
            geoms[invalid] = shapely.make_valid(geoms[invalid])
            warn(None, "geometry", f"{int(invalid.sum())} invalid polygons repaired",
                 f"已修复 {int(invalid.sum())} 个无效多边形")  # fmt: skip
        area = district_area(dataset)
        if area is not None and usable.any():
            reps = shapely.point_on_surface(geoms[usable])
            far = np.zeros(n, dtype=bool)
            far[usable] = ~shapely.contains_xy(area, shapely.get_x(reps), shapely.get_y(reps))
            reject(far, f"polygon outside the district (coordinates stated as {crs_n})",
                   f"多边形在区界之外（坐标按 {crs_n} 解读）")  # fmt: skip
        polygons[usable] = geoms[usable]
    numbers, gives_pop = read_population(raw, mapping, reject)
    has_polygon = np.array([g is not None for g in polygons], dtype=bool)
    reject(~has_polygon & ~gives_pop, "nothing to update (no polygon, no population)",
           "没有可更新的边界或人口")  # fmt: skip

    # --- apply ----------------------------------------------------------------------
    towns = dataset.layer("township").to_crs(WGS84_CRS).copy()
    position = {str(c): k for k, c in enumerate(towns["code9"].astype(str))}
    ok = log.ok
    geoms_out = np.asarray(towns.geometry.array, dtype=object).copy()
    prov = towns["provenance"].astype(str).to_numpy(dtype=object).copy()
    pops = {
        c: pd.to_numeric(towns[c], errors="coerce").to_numpy(dtype=float, copy=True)
        for c in ("population", *AGE_BANDS)
    }

    def sources(column: str) -> np.ndarray:
        if column in towns.columns:
            return towns[column].fillna("").astype(str).to_numpy(dtype=object).copy()
        return np.full(len(towns), "", dtype=object)

    bnd_src, pop_src = sources("boundary_source"), sources("population_source")
    ledger = f"file {raw.filename}"
    for i in np.flatnonzero(ok):
        k = position[str(code[i])]
        row = int(rows[i])
        if has_polygon[i]:
            geoms_out[k] = polygons[i]
            bnd_src[k] = f"{ledger} ({crs_n})"
        given = {f: v[i] for f, v in numbers.items() if np.isfinite(v[i])}
        if given:
            scaled, implausible = apply_population(pops, k, given)
            if scaled:
                warn(row, "scaled_age_bands", SCALED_TEXT, SCALED_TEXT_ZH)
            if implausible:
                warn(row, "implausible_value", IMPLAUSIBLE_TEXT, IMPLAUSIBLE_TEXT_ZH)
            by_age = any(b in given for b in BANDS)
            pop_src[k] = ledger if by_age else f"{ledger} (age bands scaled)"
        bounded = bnd_src[k].startswith("file")
        counted = pop_src[k].startswith("file") and not pop_src[k].endswith("scaled)")
        name = str(towns["name"].iloc[k])
        if bounded and counted:
            prov[k] = "user"
        else:
            prov[k] = "estimated"
            what, what_zh = (
                ("boundary", "边界") if not bounded else ("children by age", "分年龄段儿童数")
            )
            warn(row, "still_estimated",
                 f"{name}: {what} still estimated, so the township stays 'estimated'",
                 f"{name}：{what_zh}仍为估算，该镇（街道）保持“估算”")  # fmt: skip

    # villages outside their township's new boundary
    if dataset.has("village") and len(dataset.layer("village")):
        villages = dataset.layer("village").to_crs(WGS84_CRS)
        for i in np.flatnonzero(ok & has_polygon):
            k = position[str(code[i])]
            mine = villages[villages["township_code"].astype(str) == str(code[i])]
            if not len(mine):
                continue
            out = mine[~shapely.contains_xy(geoms_out[k], mine.geometry.x, mine.geometry.y)]
            if len(out):
                names = "、".join(out["name"].astype(str).head(_SHOWN)) + (
                    f" … (+{len(out) - _SHOWN})" if len(out) > _SHOWN else ""
                )
                warn(int(rows[i]), "villages_outside",
                     f"{len(out)} of {len(mine)} villages of {towns['name'].iloc[k]} lie outside "
                     f"the new boundary (their points may be estimates): {names}",
                     f"{towns['name'].iloc[k]} 有 {len(out)}/{len(mine)} 个村（社区）点位不在新边界内"
                     f"（点位可能为估算）：{names}")  # fmt: skip

    result_frame = towns.copy()
    result_frame["provenance"] = prov
    result_frame["boundary_source"] = np.where(bnd_src == "", "estimated", bnd_src)
    result_frame["population_source"] = pop_src
    for c, values in pops.items():
        result_frame[c] = values
    result_frame = gpd.GeoDataFrame(result_frame, geometry=list(geoms_out), crs=WGS84_CRS)
    report = log.report(raw, "township", crs_n, mapping)
    return ImportResult(
        layer_id="township",
        features=result_frame,
        report=report,
        source_name=raw.filename,
        updated_keys=tuple(str(c) for c in code[ok]),
    )
