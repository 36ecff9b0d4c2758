"""Where the map furniture goes: the corners of the map frame that cover the least data.

Each piece (location inset, north arrow, scale bar) has a size in axes fractions; the corners
are scored by the area of drawn geometry (metres², village and facility symbols as small
discs) and of township labels they would cover, and each piece takes the emptiest corner
still free, largest piece first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.text import Text

from qjgeo.export.staticmap.furniture import draw_north_arrow, draw_scale_bar, nice_length_m
from qjgeo.export.staticmap.georef import draw_graticule_ticks
from qjgeo.export.staticmap.inset import Inset, draw_location_inset
from qjgeo.export.staticmap.layout import _renderer

Corner = Literal["upper left", "upper right", "lower left", "lower right"]
CORNERS: tuple[Corner, ...] = ("upper right", "upper left", "lower left", "lower right")
#: Gap between a piece and the map frame, axes fraction.
MARGIN = 0.015


def corner_box(corner: str, width: float, height: float) -> tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)`` in axes fractions of a piece of that size in that corner."""
    x0 = MARGIN if corner.endswith("left") else 1 - MARGIN - width
    y0 = MARGIN if corner.startswith("lower") else 1 - MARGIN - height
    return x0, y0, x0 + width, y0 + height


def _data_box(ax: Axes, box: Sequence[float]) -> Any:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    return shapely.box(x0 + box[0] * (x1 - x0), y0 + box[1] * (y1 - y0),
                       x0 + box[2] * (x1 - x0), y0 + box[3] * (y1 - y0))  # fmt: skip


def label_shapes(ax: Axes, labels: Sequence[Text]) -> list[Any]:
    """The labels' extents as boxes in data units."""
    if not labels:
        return []
    renderer = _renderer(ax.get_figure(root=True))  # type: ignore[arg-type]
    inv = ax.transData.inverted()
    out = []
    for text in labels:
        e = text.get_window_extent(renderer)
        (a, b), (c, d) = inv.transform([(e.x0, e.y0), (e.x1, e.y1)])
        out.append(shapely.box(a, b, c, d))
    return out


def covered_area(ax: Axes, box: Sequence[float], shapes: Sequence[Any]) -> float:
    """Area (data units²) of ``shapes`` inside the axes-fraction ``box``."""
    if not len(shapes):
        return 0.0
    region = _data_box(ax, box)
    return float(np.sum(shapely.area(shapely.intersection(np.asarray(shapes), region))))


def choose_corners(
    ax: Axes, sizes: Mapping[str, tuple[float, float]], shapes: Sequence[Any]
) -> dict[str, Corner]:
    """Give each piece (name → width, height in axes fractions) its own emptiest corner.

    Larger pieces choose first; ties go to the order of :data:`CORNERS` (north arrow up right).
    """
    free = list(CORNERS)
    out: dict[str, Corner] = {}
    for name in sorted(sizes, key=lambda n: -sizes[n][0] * sizes[n][1]):
        w, h = sizes[name]
        scores = [covered_area(ax, corner_box(c, w, h), shapes) for c in free]
        best = free[int(np.argmin(scores))]
        out[name] = best
        free.remove(best)
        if not free:
            break
    return out


def place_furniture(
    ax: Axes,
    drawn: Mapping[str, Any],
    *,
    family: str,
    fs: float,
    inset: Inset | None = None,
    arrow_size: float = 0.07,
) -> dict[str, Corner]:
    """Degree ticks on the frame; the inset, north arrow and scale bar in the emptiest corners.

    ``drawn`` is what :func:`~qjgeo.export.staticmap.draw_gap_axes` returned (its ``data``
    geometries and ``labels_drawn`` are what the furniture must not cover).

    Returns
    -------
    dict
        The corner each piece went to (``"north_arrow"``, ``"scale_bar"``, ``"inset"``).
    """
    draw_graticule_ticks(ax, family=family, fontsize=6.2 * fs)
    x0, x1 = ax.get_xlim()
    bar = nice_length_m(x1 - x0, 0.25) / (x1 - x0)
    sizes = {"north_arrow": (0.08, arrow_size + 0.08), "scale_bar": (bar + 0.09, 0.1)}
    if inset is not None:
        sizes["inset"] = _inset_size(ax, inset)
    shapes = [*drawn["data"], *label_shapes(ax, drawn["labels_drawn"])]
    corners = choose_corners(ax, sizes, shapes)
    draw_scale_bar(ax, family=family, fontsize=7 * fs, corner=corners["scale_bar"])
    draw_north_arrow(ax, family=family, size=arrow_size, corner=corners["north_arrow"])
    if inset is not None and "inset" in corners:
        b = corner_box(corners["inset"], *sizes["inset"])
        inset_ax = ax.inset_axes((b[0], b[1], b[2] - b[0], (b[3] - b[1]) * 0.88), zorder=25)
        draw_location_inset(inset_ax, inset.context, inset.highlight, title=inset.title,
                            family=family, fontsize=5.5 * fs)  # fmt: skip
    return corners


def _inset_size(ax: Axes, inset: Inset) -> tuple[float, float]:
    """The inset's (width, height) in axes fractions: its width, the context's shape tall."""
    minx, miny, maxx, maxy = inset.context.total_bounds
    fig = ax.get_figure(root=True)
    pos = ax.get_position()
    fw, fh = fig.get_size_inches()  # type: ignore[union-attr]
    ratio = (maxy - miny) / (maxx - minx) * (pos.width * fw) / (pos.height * fh)
    return inset.width, min(inset.width * ratio * 1.12, 0.45)
