"""The location inset (区位图): the district within Shaoguan, or a township within the district.

The city's county outlines ship with the package (``shaoguan_districts.json``, simplified 天地图
outlines; provenance in ``shaoguan_districts.md``). The inset is drawn only when the dataset's
district lies in Shaoguan (an OpenStreetMap import elsewhere gets none).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
from matplotlib.axes import Axes

from qjgeo.crs import METRIC_CRS
from qjgeo.export.staticmap.mapaxes import _lines, _polygons

_OUTLINES = Path(__file__).with_name("shaoguan_districts.json")
HIGHLIGHT = "#d6604d"


@dataclass(frozen=True)
class Inset:
    """What a location inset shows: the context (grey), the place highlighted, its title,
    and its width as a fraction of the map frame."""

    context: gpd.GeoDataFrame
    highlight: gpd.GeoDataFrame
    title: str
    width: float = 0.22


@lru_cache(maxsize=1)
def shaoguan_districts() -> gpd.GeoDataFrame:
    """Shaoguan's 10 county-level units (adcode, name), metric CRS (EPSG:4547)."""
    return gpd.read_file(_OUTLINES).set_crs("EPSG:4326", allow_override=True).to_crs(METRIC_CRS)


def city_context(
    district: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """Shaoguan's outlines and the one holding ``district`` (metric), or ``(None, None)``."""
    city = shaoguan_districts()
    if not len(district):
        return None, None
    centre = district.geometry.union_all().representative_point()
    inside = city[city.geometry.contains(centre)]
    return (city, inside) if len(inside) else (None, None)


def draw_location_inset(
    ax: Axes,
    context: gpd.GeoDataFrame,
    highlight: gpd.GeoDataFrame,
    *,
    title: str,
    family: str,
    fontsize: float,
) -> None:
    """Draw ``context`` (grey) with ``highlight`` filled red on empty axes, framed and titled."""
    ax.add_collection(_polygons(context, ["#f0f0f0"] * len(context), linewidth=0, zorder=1))
    ax.add_collection(_lines(context, color="#8c8c8c", linewidth=0.4, zorder=2))
    ax.add_collection(
        _polygons(highlight, [HIGHLIGHT] * len(highlight), linewidth=0, alpha=0.9, zorder=3)
    )
    ax.add_collection(_lines(highlight, color="#67001f", linewidth=0.6, zorder=4))
    minx, miny, maxx, maxy = context.total_bounds
    pad = 0.04 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal", adjustable="box", anchor="SW")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("white")
    for spine in ax.spines.values():
        spine.set_linewidth(0.6)
        spine.set_color("#444444")
    ax.text(0.0, 1.02, title, transform=ax.transAxes, fontsize=fontsize, fontfamily=family,
            va="bottom", ha="left", color="#222222")  # fmt: skip
