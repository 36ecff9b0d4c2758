"""Where the map sits on the Earth: degree ticks on its frame, a world file and a ``.prj``.

The map is drawn in EPSG:4547 (CGCS2000 / 3-degree Gauss-Krüger CM 114°E, metres) with equal
x / y scale, so a PNG page is an affine image of that plane: pixel (column, row) → (x, y)
metres by the six numbers of an ESRI world file (:func:`world_file`). The world file and the
``.prj`` (:func:`prj_text`) beside a PNG let GIS software place the whole page georeferenced
(the margins and the side panel get coordinates too; only the map frame is meaningful).

The frame carries degree labels (:func:`draw_graticule_ticks`): where each meridian crosses
the bottom edge and each parallel the left edge, found by converting points along the edge,
so they are exact despite the grid convergence (< 0.2° here).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from pyproj import CRS, Transformer
from pyproj.enums import WktVersion

from qjgeo.crs import METRIC_CRS

#: How the map's CRS is named on the page.
CRS_LABEL = "CGCS2000 / 3-degree Gauss-Kruger CM 114E (EPSG:4547)"
#: Steps of the degree ticks, in minutes of arc.
_STEPS_MIN = (1, 2, 5, 10, 15, 20, 30, 60, 120)


@lru_cache(maxsize=2)
def _to_degrees(crs: str) -> Transformer:
    return Transformer.from_crs(crs, "EPSG:4490", always_xy=True)


def degree_label(value: float, axis: str) -> str:
    """``113°30′E`` / ``24°45′N`` (whole minutes)."""
    hemi = ("E" if value >= 0 else "W") if axis == "lon" else ("N" if value >= 0 else "S")
    total = round(abs(value) * 60)
    deg, minute = divmod(total, 60)
    return f"{deg}°{minute:02d}′{hemi}" if minute else f"{deg}°{hemi}"


def _ticks(edge_m: np.ndarray, degrees: np.ndarray, most: int) -> tuple[list[float], list[float]]:
    """Round degree values along an edge (at most ``most``) and where they fall on it."""
    lo, hi = float(np.min(degrees)), float(np.max(degrees))
    for step in _STEPS_MIN:
        s = step / 60
        values = np.arange(np.ceil(lo / s) * s, hi + 1e-9, s)
        if len(values) <= most:
            break
    order = np.argsort(degrees)
    where = np.interp(values, degrees[order], edge_m[order])
    return [float(v) for v in values], [float(w) for w in where]


def graticule_ticks(
    ax: Axes, *, crs: str = METRIC_CRS, most: int = 5
) -> tuple[tuple[list[float], list[str]], tuple[list[float], list[str]]]:
    """Tick positions (metres) and labels for meridians on the bottom edge, parallels on the left."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    to_deg = _to_degrees(crs)
    xs = np.linspace(x0, x1, 256)
    lon, _ = to_deg.transform(xs, np.full_like(xs, y0))
    ys = np.linspace(y0, y1, 256)
    _, lat = to_deg.transform(np.full_like(ys, x0), ys)
    lons, xpos = _ticks(xs, np.asarray(lon), most)
    lats, ypos = _ticks(ys, np.asarray(lat), most)
    return (
        (xpos, [degree_label(v, "lon") for v in lons]),
        (ypos, [degree_label(v, "lat") for v in lats]),
    )


def draw_graticule_ticks(ax: Axes, *, family: str, fontsize: float, crs: str = METRIC_CRS) -> None:
    """Degree labels on the map frame: longitudes below, latitudes left (turned upright)."""
    (xpos, xlab), (ypos, ylab) = graticule_ticks(ax, crs=crs)
    ax.set_xticks(xpos, xlab, fontsize=fontsize, fontfamily=family)
    ax.set_yticks(ypos, ylab, fontsize=fontsize, fontfamily=family, rotation=90, va="center")
    ax.tick_params(direction="in", length=4, width=0.6, pad=2, top=True, right=True,
                   labeltop=False, labelright=False, colors="#333333")  # fmt: skip


def world_file(fig: Figure, ax: Axes, dpi: float) -> str:
    """The ESRI world file (``.pgw``) of ``fig`` saved as PNG at ``dpi``, in the axes' CRS.

    Call it after the figure has been drawn (the equal-aspect axes take their final place on
    drawing). Six lines: x size of a pixel, two rotation terms (0), y size (negative), and the
    x, y of the centre of the top-left pixel.
    """
    pos = ax.get_position()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width_px = fig.get_figwidth() * dpi
    height_px = fig.get_figheight() * dpi
    a = (x1 - x0) / (pos.width * width_px)
    e = -(y1 - y0) / (pos.height * height_px)
    c = x0 + (0.5 - pos.x0 * width_px) * a
    f = y1 + (0.5 - (1 - pos.y1) * height_px) * e
    return "\n".join(f"{v:.10f}" for v in (a, 0.0, 0.0, e, c, f)) + "\n"


def pixel_to_map(world: str, column: float, row: float) -> tuple[float, float]:
    """The map coordinates of a pixel's centre (0-based column and row) from a world file."""
    a, d, b, e, c, f = (float(v) for v in world.split())
    return a * column + b * row + c, d * column + e * row + f


def map_to_pixel(world: str, x: float, y: float) -> tuple[float, float]:
    """The (column, row) of map coordinates, inverting :func:`pixel_to_map` (no rotation)."""
    a, _, _, e, c, f = (float(v) for v in world.split())
    return (x - c) / a, (y - f) / e


def prj_text(crs: str = METRIC_CRS) -> str:
    """The ``.prj`` beside a PNG: the CRS as ESRI WKT1."""
    return CRS.from_user_input(crs).to_wkt(WktVersion.WKT1_ESRI)


def bounds_degrees(bounds: Sequence[float], crs: str = METRIC_CRS) -> tuple[float, ...]:
    """Metric bounds converted to lon / lat (for checks and captions)."""
    lon, lat = _to_degrees(crs).transform([bounds[0], bounds[2]], [bounds[1], bounds[3]])
    return (float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1]))
