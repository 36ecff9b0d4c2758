"""Village symbols: covered or not under the urban / rural walking distance, then how far.

The primary message of a gap map is whether a village's children are within the planning
walking distance (城镇 300 m / 农村 2,000 m for childcare): covered villages are small green
dots; villages not covered are red, larger the farther their nearest facility (the distance
band is the secondary message); villages no facility can be reached from are grey.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
from matplotlib.axes import Axes

from qjgeo.export.staticmap.data import UNREACHABLE_COLOUR
from qjgeo.export.staticmap.legend import LegendEntries

COVERED_COLOUR = "#1a9850"
NOT_COVERED_COLOUR = "#d73027"
_EDGE: dict[str, Any] = {"edgecolor": "#333333", "linewidth": 0.4}


def uncovered_sizes(bands: Sequence[str], marker_scale: float) -> dict[str, float]:
    """Marker areas (points²) of villages not covered, growing with the distance band."""
    n = len(bands)
    areas = np.linspace(18, 58, n) if n > 1 else np.array([30.0] * n)
    return {b: float(a) * marker_scale for b, a in zip(bands, areas, strict=True)}


def draw_villages(
    ax: Axes,
    villages: gpd.GeoDataFrame,
    bands: Sequence[str],
    legend: LegendEntries,
    gaps: Any,
    marker_scale: float,
) -> None:
    """Villages covered (green) and not covered (red, sized by distance band), with legend."""
    covered = villages["covered"].astype(bool).to_numpy()
    finite = np.isfinite(villages["distance_m"].to_numpy(dtype=float))
    band = villages["distance_band"].astype(str).to_numpy()
    x = villages.geometry.x.to_numpy()
    y = villages.geometry.y.to_numpy()
    urban_m, rural_m = _thresholds(gaps, villages)
    if covered.any():
        style: dict[str, Any] = {
            "marker": "o",
            "s": 18 * marker_scale,
            "facecolor": COVERED_COLOUR,
            **_EDGE,
        }
        ax.scatter(x[covered], y[covered], zorder=8, **style)
        legend.add("marker", f"已覆盖（城镇 ≤{urban_m:,.0f} m、农村 ≤{rural_m:,.0f} m）",
                   f"Covered (urban ≤{urban_m:,.0f} m, rural ≤{rural_m:,.0f} m)",
                   **style)  # fmt: skip
    out = ~covered & finite
    shown = [b for b in bands if b in set(band[out])]
    if shown:
        legend.heading("未覆盖，按到最近设施的距离", "Not covered, by distance to nearest")
    sizes = uncovered_sizes(shown, marker_scale)
    for b in reversed(shown):  # the largest first, so small dots stay visible on top
        pick = out & (band == b)
        style = {
            "marker": "o",
            "s": sizes[b],
            "facecolor": NOT_COVERED_COLOUR,
            **_EDGE,
        }
        ax.scatter(x[pick], y[pick], zorder=8.5, alpha=0.9, **style)
    for b in shown:
        legend.add("marker", b, indent=True, marker="o", s=sizes[b],
                   facecolor=NOT_COVERED_COLOUR, alpha=0.9, **_EDGE)  # fmt: skip
    never = ~covered & ~finite
    if never.any():
        style = {
            "marker": "X",
            "s": 40 * marker_scale,
            "facecolor": UNREACHABLE_COLOUR,
            **_EDGE,
        }
        ax.scatter(x[never], y[never], zorder=8.5, **style)
        legend.add("marker", "无可达设施", "No facility reachable", **style)


#: Villages of the neighbouring townships on a township's map: context, not its message.
NEIGHBOUR_STYLE: dict[str, Any] = {"marker": "o", "facecolor": "#d9d9d9", "edgecolor": "#888888",
                                   "linewidth": 0.4}  # fmt: skip


def draw_neighbour_villages(
    ax: Axes, villages: gpd.GeoDataFrame, legend: LegendEntries, marker_scale: float
) -> None:
    """Villages of the townships around the one in focus: small grey dots, one legend entry."""
    if not len(villages):
        return
    style = {**NEIGHBOUR_STYLE, "s": 10 * marker_scale}
    ax.scatter(villages.geometry.x, villages.geometry.y, zorder=7.5, **style)
    legend.add("marker", "相邻镇街的村（社区）", "Villages of neighbouring townships", **style)


def _thresholds(gaps: Any, villages: gpd.GeoDataFrame) -> tuple[float, float]:
    """The urban and rural walking distances the coverage was judged by."""
    params = getattr(gaps, "params_used", None) or {}
    if "urban_threshold_m" in params and "rural_threshold_m" in params:
        return float(params["urban_threshold_m"]), float(params["rural_threshold_m"])
    urban = villages["urban"].astype(bool).to_numpy()
    t = villages["threshold_m"].to_numpy(dtype=float)
    u = float(t[urban].max()) if urban.any() else float("nan")
    r = float(t[~urban].max()) if (~urban).any() else float("nan")
    return u, r
