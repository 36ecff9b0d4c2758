"""Population grids (WorldPop / GHSL GeoTIFFs) as demand items, read with rasterio.

A grid is read in its own CRS: the outline is projected onto the grid, the cells whose
centres fall inside it are kept, and their centres are projected to the work CRS — so a grid
in another CRS (WGS84, Mollweide…) is handled without resampling, and every person counted
in a cell is kept. Nodata cells (the file's nodata value, NaN, negative values) count as no
one. A grid that does not cover the outline is refused with both extents in the message.

WorldPop's age–sex grids give persons per 5-year group (``chn_f_0_2020.tif``: females aged
0-1, ``_1_`` 1-4, ``_5_`` 5-9, ``_10_`` 10-14); each group is spread evenly over its years
and summed into the schema's bands, as census shares are (:mod:`qjgeo.demand.ages`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from qjgeo.demand.ages import CHILD_BANDS, band_shares
from qjgeo.demand.weights import KIND_BUILDING, Items

__all__ = ["GridCells", "RasterError", "age_group_of", "read_grid_cells"]

_WORLDPOP_GROUPS = {0: (0, 0), 1: (1, 4), 5: (5, 9), 10: (10, 14)}


class RasterError(ValueError):
    """A population grid cannot be used; the message says why in Chinese and English."""


@dataclass(frozen=True)
class GridCells:
    """Cells of a grid inside the outline: centres (work CRS) and persons per cell.

    ``bands`` holds, per schema child band, the children per cell when age grids were given.
    """

    items: Items
    bands: Mapping[str, NDArray[np.float64]] | None
    nodata_cells: int
    crs: str


def age_group_of(label: str) -> tuple[int, int]:
    """The age group of an age grid: ``FILE=1-4`` given explicitly, else WorldPop's name.

    Raises
    ------
    RasterError
        If no group can be read from the name.
    """
    if "=" in label:
        span = label.rsplit("=", 1)[1]
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", span.strip())
        if m:
            return int(m.group(1)), int(m.group(2) or m.group(1))
    m = re.search(r"_[fmt]_(\d+)_\d{4}", Path(label.split("=")[0]).name)
    if m and int(m.group(1)) in _WORLDPOP_GROUPS:
        return _WORLDPOP_GROUPS[int(m.group(1))]
    raise RasterError(
        f"{label}: 无法识别年龄组，请写成 FILE=起-止 / cannot tell the age group: name it as "
        "FILE=FIRST-LAST (e.g. f_1.tif=1-4) or use WorldPop's names (chn_f_1_2020.tif)"
    )


def _extent_text(bounds: Sequence[float], crs: object) -> str:
    b = ", ".join(f"{v:.6g}" for v in bounds)
    return f"[{b}] ({crs})"


def _read_one(
    path: Path, outline_wgs84: shapely.Geometry
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], int, object]:
    """Persons per cell inside the outline, the cells' centres (grid CRS), nodata count."""
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.features import geometry_mask
    from rasterio.windows import Window, from_bounds

    try:
        src = rasterio.open(path)
    except (RasterioIOError, OSError) as exc:
        raise RasterError(f"{path}: 不是可读的栅格文件 / not a readable raster: {exc}") from exc
    with src:
        if src.crs is None:
            raise RasterError(f"{path}: 栅格没有坐标系 / the grid has no CRS (georeferencing)")
        to_grid = pyproj.Transformer.from_crs("EPSG:4326", src.crs, always_xy=True)
        outline = shapely.transform(
            outline_wgs84, lambda c: np.column_stack(to_grid.transform(c[:, 0], c[:, 1]))
        )
        ob, gb = outline.bounds, tuple(src.bounds)
        tol = 0.5 * max(abs(src.res[0]), abs(src.res[1]))
        if ob[0] < gb[0] - tol or ob[1] < gb[1] - tol or ob[2] > gb[2] + tol or ob[3] > gb[3] + tol:
            raise RasterError(
                f"{path}: 栅格未覆盖研究范围 / the grid does not cover the outline: grid extent "
                f"{_extent_text(gb, src.crs)}, outline extent {_extent_text(ob, src.crs)}"
            )
        win = from_bounds(*ob, transform=src.transform).round_offsets().round_lengths()
        win = win.intersection(Window(0, 0, src.width, src.height))
        data = src.read(1, window=win, masked=True).astype(np.float64)
        transform = src.window_transform(win)
        crs = src.crs
    values = np.ma.filled(data, np.nan)
    inside = geometry_mask([outline], out_shape=values.shape, transform=transform, invert=True)
    bad = inside & ~(np.isfinite(values) & (values >= 0))
    rows, cols = np.nonzero(inside & ~bad)
    xs, ys = transform * (cols + 0.5, rows + 0.5)
    return values[rows, cols], np.asarray(xs, float), np.asarray(ys, float), int(bad.sum()), crs


def read_grid_cells(
    path: str | Path,
    outline_wgs84: shapely.Geometry,
    work_crs: str,
    age_grids: Sequence[str] = (),
) -> GridCells:
    """Read a population grid (and optional age grids on the same grid) inside an outline.

    Parameters
    ----------
    path
        The population GeoTIFF (persons per cell).
    outline_wgs84
        The area, lon/lat.
    work_crs
        The metric CRS the cell centres are given in.
    age_grids
        Grids of persons in one age group each (``FILE=FIRST-LAST`` or WorldPop names);
        several grids of one group (females, males) add up. Together they must cover ages
        0-14 once per sex.

    Raises
    ------
    RasterError
        Unreadable file, no CRS, not covering the outline (both extents given), only
        nodata inside the outline, or age grids on another grid.
    """
    values, x, y, nodata, crs = _read_one(Path(path), outline_wgs84)
    if not len(values) or not np.nansum(values) > 0:
        raise RasterError(
            f"{path}: 研究范围内全为无数据或零 / no population inside the outline "
            f"({nodata} nodata cell(s))"
        )
    bands = _age_bands(age_grids, outline_wgs84, x, y) if age_grids else None
    to_work = pyproj.Transformer.from_crs(crs, work_crs, always_xy=True)
    wx, wy = to_work.transform(x, y)
    n = len(values)
    items = Items(
        np.column_stack([wx, wy]),
        values,
        np.full(n, KIND_BUILDING, dtype=np.int8),
        np.zeros(n),
        np.zeros(n),
    )
    return GridCells(items, bands, nodata, str(crs))


def _age_bands(
    grids: Sequence[str], outline: shapely.Geometry, x: NDArray[np.float64], y: NDArray[np.float64]
) -> dict[str, NDArray[np.float64]]:
    """Children per cell and schema band from age-group grids on the population grid."""
    per_group: dict[tuple[int, int], NDArray[np.float64]] = {}
    for label in grids:
        group = age_group_of(label)
        values, gx, gy, _, _ = _read_one(Path(label.split("=")[0]), outline)
        if len(gx) != len(x) or not (np.allclose(gx, x) and np.allclose(gy, y)):
            raise RasterError(
                f"{label}: 年龄栅格须与人口栅格网格一致 / an age grid must share the "
                "population grid (same cells, same CRS)"
            )
        per_group[group] = per_group.get(group, 0) + np.nan_to_num(values)
    band_of_group = {
        g: band_shares({**{h: 0.0 for h in per_group if h != g}, g: 1.0}) for g in per_group
    }
    return {
        b: sum((per_group[g] * band_of_group[g][b] for g in per_group), np.zeros(len(x)))
        for b in CHILD_BANDS
    }
