"""Demand for a dataset: a known resident total spread over where people live (dasymetric).

``estimate_from_osm(dataset, population=…, shares=…)`` reads the dataset's ``osm_building``,
``osm_landuse`` and ``osm_place`` layers (kept by ``qjgeo osm-import``), turns them into
weighted items (:mod:`qjgeo.demand.weights`), groups them into settlement or hexagon units
and counts residents and children per unit (:mod:`qjgeo.demand.units`). The result is a
``village`` layer — points with the schema's population columns, provenance ``estimated``
— so every indicator, gap table, 2SFCA and siting run reads it as it reads the bundled
villages. :func:`qjgeo.demand.write.write_demand` stores it with the method in the manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely

from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS
from qjgeo.demand.ages import CHILD_BANDS, AgeShares, band_totals
from qjgeo.demand.allocate import largest_remainder
from qjgeo.demand.raster import read_grid_cells
from qjgeo.demand.units import (
    URBAN_DENSITY_PER_KM2,
    URBAN_PLACES,
    UnitAssignment,
    assign_hexagons,
    assign_settlements,
    hexagon_polygons,
    unit_table,
)
from qjgeo.demand.weights import (
    FLOOR_M2_PER_PERSON,
    KIND_BUILDING,
    KIND_LANDUSE,
    KIND_PLACE,
    Items,
    demand_items,
)
from qjgeo.gaps.inputs import work_crs

__all__ = [
    "DemandError",
    "DemandEstimate",
    "UnitOptions",
    "band_totals_from_counts",
    "clip_items",
    "estimate_from_grid",
    "estimate_from_osm",
    "make_units",
    "outline_of",
]

SOURCE_LAYERS: tuple[str, ...] = ("osm_building", "osm_landuse", "osm_place")


class DemandError(ValueError):
    """Demand cannot be estimated as asked; the message says why in Chinese and English."""


@dataclass(frozen=True)
class UnitOptions:
    """How items become units: ``unit`` is ``settlement`` or ``hex``."""

    unit: str = "settlement"
    cell_size_m: float = 500.0
    urban_places: tuple[str, ...] = URBAN_PLACES
    urban_density_per_km2: float = URBAN_DENSITY_PER_KM2


@dataclass(frozen=True)
class DemandEstimate:
    """The estimated demand units (the new ``village`` layer) and how they were made.

    ``units`` is WGS84 points; ``cells`` the hexagons' polygons (``None`` for settlements);
    ``method`` the text written on the layer; ``notices`` what the planner should know
    (a fallback taken, sources missing). ``refines`` is true when existing villages were
    moved and re-weighted (:mod:`qjgeo.demand.refine`): the layer keeps its titles and the
    district totals are left alone.
    """

    units: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame | None
    population: int
    band_totals: dict[str, int]
    method: str
    source: str
    notices: tuple[str, ...] = field(default_factory=tuple)
    refines: bool = False


def outline_of(dataset: Dataset, crs: str) -> shapely.Geometry | None:
    """The dataset's outline (its district layer) in ``crs``; ``None`` without one."""
    if not dataset.has("district") or not len(dataset.layer("district")):
        return None
    return shapely.union_all(dataset.layer("district").to_crs(crs).geometry.to_numpy())


def clip_items(items: Items, outline: shapely.Geometry | None) -> Items:
    """The items inside the outline (all of them without one)."""
    if outline is None or not len(items):
        return items
    keep = shapely.contains_xy(outline, items.xy[:, 0], items.xy[:, 1])
    return Items(
        items.xy[keep],
        items.residents[keep],
        items.kind[keep],
        items.floor_m2[keep],
        items.footprint_m2[keep],
    )


def make_units(
    items: Items, places: gpd.GeoDataFrame | None, options: UnitOptions
) -> tuple[UnitAssignment, np.ndarray | None, list[str]]:
    """Group items into units; settlements fall back to hexagons without named places.

    Returns the assignment, the fallback point of each unit (the place node, for units
    whose items weigh nothing) and notices.
    """
    notices: list[str] = []
    if options.unit not in ("settlement", "hex"):
        raise DemandError(
            f"单元须为 settlement 或 hex / unit must be settlement or hex, got {options.unit!r}"
        )
    if options.unit == "settlement":
        named = places[places["name"].astype(str).str.strip() != ""] if places is not None else None
        if named is not None and len(named):
            xy = shapely.get_coordinates(named.geometry.to_numpy())
            units = assign_settlements(
                items,
                xy,
                named["id"].astype(str).tolist(),
                named["name"].astype(str).tolist(),
                named["place"].astype(str).tolist(),
            )
            return units, xy, notices
        notices.append(
            "数据中没有命名的居民点（place），改用六边形单元 / no named places (osm_place) in "
            f"the dataset: hexagons of {options.cell_size_m:g} m are used instead"
        )
    return assign_hexagons(items, options.cell_size_m), None, notices


def _source_frames(dataset: Dataset, crs: str) -> tuple[gpd.GeoDataFrame, ...]:
    missing = [layer for layer in SOURCE_LAYERS if not dataset.has(layer)]
    if missing:
        raise DemandError(
            f"数据集缺少 {', '.join(missing)} 图层，请用新版 qjgeo osm-import 重新导入 / dataset "
            f"{dataset.info.id!r} has no {', '.join(missing)} layer: re-import the extract with "
            "`qjgeo osm-import` (which keeps buildings, land use and places), or use --raster"
        )
    return tuple(dataset.layer(layer).to_crs(crs) for layer in SOURCE_LAYERS)


def estimate_from_osm(
    dataset: Dataset,
    *,
    population: int,
    shares: AgeShares,
    options: UnitOptions = UnitOptions(),
) -> DemandEstimate:
    """Spread a resident total over the dataset's OSM buildings, land use and places.

    Parameters
    ----------
    dataset
        A dataset holding ``osm_building``, ``osm_landuse`` and ``osm_place``.
    population
        The residents of the area (e.g. a census total), a whole number ≥ 0.
    shares
        The share of residents in each child band.
    options
        Settlement or hexagon units and the urban rule.

    Raises
    ------
    DemandError
        If the source layers are missing or nothing in them shows where people live.
    """
    crs = work_crs(dataset)
    buildings, landuse, places = _source_frames(dataset, crs)
    items = clip_items(demand_items(buildings, landuse, places), outline_of(dataset, crs))
    if population > 0 and not items.residents.sum() > 0:
        raise DemandError(
            "范围内没有住宅建筑、居住用地或居民点，无法分配人口 / no residential building, "
            "residential land use or place inside the outline: nowhere to put the residents"
        )
    units, fallback, notices = make_units(items, places, options)
    totals = band_totals(population, shares)
    frame, xy = unit_table(
        items,
        units,
        population,
        totals,
        fallback_xy=fallback,
        urban_places=options.urban_places,
        urban_density_per_km2=options.urban_density_per_km2,
    )
    method = _method_text(items, units, population, shares, totals, options)
    source = f"qjgeo demand: dasymetric from OSM buildings / land use / places of {dataset.info.id}"
    return _estimate(frame, xy, crs, units, options, population, totals, method, source, notices)


def _estimate(
    frame: object,
    xy: np.ndarray,
    crs: str,
    units: UnitAssignment,
    options: UnitOptions,
    population: int,
    totals: dict[str, int],
    method: str,
    source: str,
    notices: Sequence[str],
) -> DemandEstimate:
    """Put the unit table on points (WGS84) and add the hexagons' polygons."""
    table = gpd.GeoDataFrame(frame, geometry=shapely.points(xy), crs=crs)
    table["provenance"] = "estimated"
    table["demand_method"] = method.split(";")[0]
    cells = None
    if units.kind != "settlement":
        polys = hexagon_polygons(table["code12"].tolist(), options.cell_size_m)
        cells = gpd.GeoDataFrame(table.drop(columns="geometry"), geometry=polys, crs=crs).to_crs(
            WGS84_CRS
        )
    return DemandEstimate(
        table.to_crs(WGS84_CRS), cells, int(population), totals, method, source, tuple(notices)
    )


def _method_text(
    items: Items,
    units: UnitAssignment,
    population: int,
    shares: AgeShares,
    totals: dict[str, int],
    options: UnitOptions,
) -> str:
    count = {k: int((items.kind == k).sum()) for k in (KIND_BUILDING, KIND_LANDUSE, KIND_PLACE)}
    unit = (
        "settlements (each building joins its nearest named OSM place)"
        if units.kind == "settlement"
        else f"hexagons {options.cell_size_m:g} m apart"
    )
    bands = ", ".join(f"{b} {totals[b]}" for b in CHILD_BANDS)
    return (
        f"dasymetric estimate (qjgeo demand) of {population} residents; weights: "
        f"{count[KIND_BUILDING]} residential buildings (footprint × levels ÷ "
        f"{FLOOR_M2_PER_PERSON:g} m² per person), {count[KIND_LANDUSE]} residential areas "
        f"without mapped buildings, {count[KIND_PLACE]} places without either; units: {unit}; "
        f"children by band from {shares.source} ({bands}); totals exact (largest remainder); "
        f"urban: place type {'/'.join(options.urban_places)} or ≥ "
        f"{options.urban_density_per_km2:g} residents per km²; tap_water unknown (empty)"
    )


def estimate_from_grid(
    dataset: Dataset,
    path: str,
    *,
    age_grids: Sequence[str] = (),
    population: int | None = None,
    shares: AgeShares | None = None,
    options: UnitOptions = UnitOptions(),
) -> DemandEstimate:
    """Aggregate a population grid (and age grids) inside the outline to demand units.

    Parameters
    ----------
    dataset
        The dataset: its ``district`` outline clips the grid; its ``osm_place`` layer (if
        any) gives settlement units.
    path
        The population GeoTIFF.
    age_grids
        Age-group grids (see :func:`qjgeo.demand.raster.read_grid_cells`); without them
        ``shares`` gives the children.
    population
        A resident total to keep (the grid then only says where); default the grid's sum.
    shares
        Child shares when no age grids are given.

    Raises
    ------
    DemandError
        No outline, neither age grids nor shares; :class:`~qjgeo.demand.raster.RasterError`
        for the grid itself.
    """
    crs = work_crs(dataset)
    outline = outline_of(dataset, WGS84_CRS)
    if outline is None:
        raise DemandError("数据集没有 district 范围图层 / the dataset has no district outline")
    if not age_grids and shares is None:
        raise DemandError(
            "请给出年龄栅格或儿童占比 / give age grids (--raster-age-bands) or age shares "
            "(--age-shares / --children-share)"
        )
    grid = read_grid_cells(path, outline, crs, age_grids)
    total = round(float(grid.items.residents.sum())) if population is None else population
    places = dataset.layer("osm_place").to_crs(crs) if dataset.has("osm_place") else None
    units, fallback, notices = make_units(grid.items, places, options)
    if grid.nodata_cells:
        notices.append(
            f"{grid.nodata_cells} 个无数据栅格按 0 计 / nodata cell(s) counted as no one"
        )
    if grid.bands is not None:
        child_sum = {b: float(v.sum()) for b, v in grid.bands.items()}
        scale = total / float(grid.items.residents.sum())
        totals = band_totals_from_counts(child_sum, scale)
        children_from = f"age grids ({len(age_grids)} file(s))"
    else:
        assert shares is not None
        totals = band_totals(total, shares)
        children_from = shares.source
    frame, xy = unit_table(
        grid.items,
        units,
        total,
        totals,
        fallback_xy=fallback,
        item_bands=grid.bands,
        urban_places=options.urban_places,
        urban_density_per_km2=options.urban_density_per_km2,
    )
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    unit = "settlements (nearest named place)" if units.kind == "settlement" else units.kind
    bands = ", ".join(f"{b} {totals[b]}" for b in CHILD_BANDS)
    method = (
        f"population grid {name} ({grid.crs}) clipped to the outline, cells by centre; "
        f"{total} residents; units: {unit}; children from {children_from} ({bands}); "
        "totals exact (largest remainder); tap_water unknown (empty)"
    )
    source = f"qjgeo demand: population grid {name}"
    return _estimate(frame, xy, crs, units, options, total, totals, method, source, notices)


def band_totals_from_counts(children: dict[str, float], scale: float = 1.0) -> dict[str, int]:
    """Whole persons per band from fractional counts, the sum of all bands kept rounded."""
    scaled = [children[b] * scale for b in CHILD_BANDS]
    counts = largest_remainder(round(sum(scaled)), scaled) if sum(scaled) > 0 else np.zeros(4)
    return {b: int(c) for b, c in zip(CHILD_BANDS, counts, strict=True)}
