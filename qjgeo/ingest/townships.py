"""Update the township layer from a GIS file: official boundaries (and populations).

The bundled township polygons are estimates (Voronoi cells of the township seats, clipped
to the district). A planner who holds the official boundaries (e.g. from the natural
resources bureau, as GeoPackage, Shapefile, GeoJSON or KML) replaces them township by
township:

- each feature is matched to one existing township by its 9- or 12-digit code, else by its
  name (``马坝镇`` or ``马坝``); unknown or repeated townships are refused, row by row;
- a feature's polygon replaces the estimated one (GCJ-02 / BD-09 files are converted to
  WGS84 vertex by vertex); population figures in its attributes replace the estimates as for
  villages (:func:`qjgeo.ingest.unit_checks.apply_population`);
- a township becomes provenance ``user`` when its boundary *and* its children by age come
  from the file; otherwise it stays ``estimated`` and the report says what is still
  estimated;
- villages whose point falls outside their township's new polygon are reported (their
  township is official, so either the boundary or the village point is off).

As for villages, the result holds the whole updated layer, committed in ``replace`` mode
with the previous version kept under ``.history/``.

The checks run as a pipeline, as for villages (:mod:`qjgeo.ingest.villages`): :data:`CHECKS`
lists them in order, each a small function of one :class:`TownshipRows` writing its verdicts
into the shared row log; the ones both updates need come from :mod:`qjgeo.ingest.unit_checks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS, convert_gdf
from qjgeo.ingest.columns import ColumnMapping, suggest_mapping
from qjgeo.ingest.fields import TOWNSHIP_FIELDS as TOWNSHIP_FIELDS
from qjgeo.ingest.locate import district_area, resolve_township
from qjgeo.ingest.readers import RawTable
from qjgeo.ingest.rowlog import ImportResult, field_text, normalise_crs_name
from qjgeo.ingest.safety import IngestError
from qjgeo.ingest.unit_checks import (
    LayerUpdate,
    UnitKind,
    UnitRows,
    apply_row_population,
    check_population,
    check_repeats,
    check_something_to_update,
    settle_provenance,
    start_update,
    updated_keys,
    updated_layer,
)
from qjgeo.schema import AGE_BANDS

__all__ = ["CHECKS", "TOWNSHIP_FIELDS", "TownshipRows", "validate_townships"]


_SHOWN: Final = 5  # villages named per warning

#: How a township file updates its layer (see :class:`~qjgeo.ingest.unit_checks.UnitKind`).
TOWNSHIP: Final = UnitKind(
    layer="township",
    key_column="code9",
    unit_zh="镇（街道）",
    stays_zh="该镇（街道）",
    source="file",
    place_column="boundary_source",
    place=("boundary", "边界"),
    nothing="nothing to update (no polygon, no population)",
    nothing_zh="没有可更新的边界或人口",
    pop_dtype=float,
)


@dataclass
class TownshipRows(UnitRows):
    """A township file being checked: its features, the dataset and what the checks found.

    Arrays have one entry per row read; ``code`` is the township each row updates and
    ``has_place`` whether it gives a usable polygon (``polygons``, WGS84).
    """

    kind: ClassVar[UnitKind] = TOWNSHIP

    given: np.ndarray = field(init=False)  # the code or name the row gives
    geoms: np.ndarray = field(init=False)  # the file's geometries in WGS84
    usable: np.ndarray = field(init=False)  # a polygon given
    polygons: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        n = len(self.raw)
        self.geoms = np.full(n, None, dtype=object)
        self.usable = np.zeros(n, dtype=bool)
        self.polygons = np.full(n, None, dtype=object)


#: A check: reads the file's cells and earlier findings, writes verdicts into the row log.
Check = Callable[[TownshipRows], None]


# --- the checks, in the order they run --------------------------------------------------------


def check_which_township(t: TownshipRows) -> None:
    """Match each row to a township by its code or name (the first of them given)."""
    texts = (field_text(t.raw, t.mapping, f) for f in ("township_code", "township", "name"))
    given = pd.Series(
        [next((s for s in vals if s), "") for vals in zip(*texts, strict=True)],
        index=t.raw.rows.index,
        dtype=object,
    )
    codes, _unknown = resolve_township(t.dataset, given)
    t.given = given.to_numpy()
    t.code = codes.to_numpy(dtype=object)


def check_unnamed(t: TownshipRows) -> None:
    """Refuse a row naming no township."""
    t.log.reject(t.given == "", "no township name or code", "缺少镇（街道）名称或代码")


def check_no_match(t: TownshipRows) -> None:
    """Refuse a row naming a township the dataset does not have."""
    t.log.reject(t.code == "", "no such township in the dataset", "数据中没有该镇（街道）")


def _file_geometries(geometry: gpd.GeoSeries, crs: str) -> np.ndarray:
    """A GIS file's geometries in WGS84 (GCJ-02 / BD-09 converted vertex by vertex)."""
    frame = gpd.GeoDataFrame(geometry=geometry.reset_index(drop=True), crs=geometry.crs)
    if frame.crs is not None and not frame.crs.is_geographic:
        frame = frame.to_crs(WGS84_CRS)
    if crs in ("gcj02", "bd09"):
        frame = convert_gdf(frame.set_crs(WGS84_CRS, allow_override=True), crs, "wgs84")
    return np.asarray(frame.geometry.array, dtype=object)


def check_polygon_type(t: TownshipRows) -> None:
    """A GIS file: refuse features that are not polygons."""
    if t.raw.geometry is None:
        return
    t.geoms = _file_geometries(t.raw.geometry, t.crs)
    present = np.array([g is not None and not g.is_empty for g in t.geoms], dtype=bool)
    kinds = np.full(len(t.geoms), -1)
    kinds[present] = shapely.get_type_id(t.geoms[present])
    not_area = present & ~np.isin(kinds, [3, 6])  # Polygon, MultiPolygon
    t.log.reject(not_area, "geometry is not a polygon", "几何不是面（多边形）")
    t.usable = present & ~not_area


def check_polygon_validity(t: TownshipRows) -> None:
    """Repair invalid polygons (one warning for the file); they are the rows' boundaries."""
    if not t.usable.any():
        return
    invalid = np.zeros(len(t.usable), dtype=bool)
    invalid[t.usable] = ~shapely.is_valid(t.geoms[t.usable])
    if invalid.any():
        t.geoms[invalid] = shapely.make_valid(t.geoms[invalid])
        t.log.warn(None, "geometry", f"{int(invalid.sum())} invalid polygons repaired",
                   f"已修复 {int(invalid.sum())} 个无效多边形")  # fmt: skip
    t.polygons[t.usable] = t.geoms[t.usable]
    t.has_place = np.array([g is not None for g in t.polygons], dtype=bool)


def check_polygon_inside(t: TownshipRows) -> None:
    """Refuse polygons outside the district (judged by a point on each)."""
    if not t.usable.any():
        return
    area = district_area(t.dataset)
    if area is None:
        return
    reps = shapely.point_on_surface(t.geoms[t.usable])
    far = np.zeros(len(t.usable), dtype=bool)
    far[t.usable] = ~shapely.contains_xy(area, shapely.get_x(reps), shapely.get_y(reps))
    t.log.reject(far, f"polygon outside the district (coordinates stated as {t.crs})",
                 f"多边形在区界之外（坐标按 {t.crs} 解读）")  # fmt: skip


#: The checks of a township file, in order.
CHECKS: Final[tuple[Check, ...]] = (
    check_which_township,
    check_unnamed,
    check_no_match,
    check_repeats,
    check_polygon_type,
    check_polygon_validity,
    check_polygon_inside,
    check_population,
    check_something_to_update,
)


def validate_townships(
    raw: RawTable,
    dataset: Dataset,
    *,
    mapping: ColumnMapping | None = None,
    crs: str = "wgs84",
) -> ImportResult:
    """Check a township boundary file and build the updated township layer (nothing written).

    Runs :data:`CHECKS` in order, then applies the accepted rows township by township.

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
    _refuse_without_townships(raw, dataset)
    crs_n = normalise_crs_name(crs)
    mapping = mapping if mapping is not None else suggest_mapping(raw, "township")
    _refuse_unusable_file(raw, mapping)
    t = TownshipRows(raw=raw, dataset=dataset, mapping=mapping, crs=crs_n)
    for check in CHECKS:
        check(t)
    return _build_result(t)


def _refuse_without_townships(raw: RawTable, dataset: Dataset) -> None:
    """Raise :class:`IngestError` when the dataset has no townships to update."""
    if not dataset.has("township") or not len(dataset.layer("township")):
        raise IngestError(
            f"{raw.filename}: the dataset has no township layer to update; a township layer "
            "with official codes cannot be created from a file"
        )


def _refuse_unusable_file(raw: RawTable, mapping: ColumnMapping) -> None:
    """Raise :class:`IngestError` for a file naming no township or giving nothing to update."""
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


# --- building the updated layer ---------------------------------------------------------------


def _apply_townships(t: TownshipRows, upd: LayerUpdate) -> None:
    """Apply each accepted row to its township: boundary, population, provenance."""
    for i in np.flatnonzero(t.log.ok).tolist():
        k = upd.position[str(t.code[i])]
        if t.has_place[i]:
            upd.geoms[k] = t.polygons[i]
            upd.place_src[k] = f"{t.source_text()} ({t.crs})"
        apply_row_population(t, upd, i, k)
        settle_provenance(t, upd, i, k)


def _villages_outside_warnings(t: TownshipRows, upd: LayerUpdate) -> None:
    """Warn for villages whose point lies outside their township's new boundary."""
    if not t.dataset.has("village") or not len(t.dataset.layer("village")):
        return
    villages = t.dataset.layer("village").to_crs(WGS84_CRS)
    for i in np.flatnonzero(t.log.ok & t.has_place).tolist():
        k = upd.position[str(t.code[i])]
        mine = villages[villages["township_code"].astype(str) == str(t.code[i])]
        if not len(mine):
            continue
        out = mine[~shapely.contains_xy(upd.geoms[k], mine.geometry.x, mine.geometry.y)]
        if not len(out):
            continue
        names = "、".join(out["name"].astype(str).head(_SHOWN)) + (
            f" … (+{len(out) - _SHOWN})" if len(out) > _SHOWN else ""
        )
        town = upd.frame["name"].iloc[k]
        t.log.warn(int(t.log.rows[i]), "villages_outside",
                   f"{len(out)} of {len(mine)} villages of {town} lie outside "
                   f"the new boundary (their points may be estimates): {names}",
                   f"{town} 有 {len(out)}/{len(mine)} 个村（社区）点位不在新边界内"
                   f"（点位可能为估算）：{names}")  # fmt: skip


def _build_result(t: TownshipRows) -> ImportResult:
    """The whole updated township layer and the report."""
    upd = start_update(t)
    _apply_townships(t, upd)
    _villages_outside_warnings(t, upd)
    features = updated_layer(
        upd,
        {
            "boundary_source": np.where(upd.place_src == "", "estimated", upd.place_src),
            "population_source": upd.pop_src,
        },
    )
    return ImportResult(
        layer_id="township",
        features=features,
        report=t.log.report(t.raw, "township", t.crs, t.mapping),
        source_name=t.raw.filename,
        updated_keys=updated_keys(t),
    )
