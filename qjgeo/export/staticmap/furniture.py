"""Map furniture: the scale bar, the north arrow and the warning badge."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Polygon, Rectangle
from matplotlib.transforms import Bbox

from qjgeo.export.staticmap.layout import _renderer, text_lines


def nice_length_m(span_m: float, fraction: float = 0.25) -> float:
    """A round scale-bar length (1, 2 or 5 × 10ⁿ m) no longer than ``fraction`` of ``span_m``."""
    if not span_m > 0 or not math.isfinite(span_m):
        raise ValueError(f"span_m must be a positive finite number of metres, got {span_m!r}")
    target = span_m * fraction
    exp = math.floor(math.log10(target))
    for step in (5, 2, 1):
        length = step * 10.0**exp
        if length <= target:
            return length
    return 10.0**exp


@dataclass(frozen=True)
class ScaleBar:
    """Where a scale bar was drawn, in map units (metres), and what its label says."""

    x0_m: float
    y_m: float
    length_m: float
    label: str


def draw_scale_bar(
    ax: Axes,
    *,
    family: str,
    fraction: float = 0.25,
    fontsize: float = 7,
    corner: str = "lower left",
) -> ScaleBar:
    """Draw a two-segment scale bar in a corner of a metric-CRS map (lower left by default).

    The axes' data units must be metres (EPSG:4547 here), so the bar is exactly as long as
    its label says.

    Returns
    -------
    ScaleBar
        The bar's start, length (metres) and label, for checking.
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length_m(x1 - x0, fraction)
    left, lower = corner.endswith("left"), corner.startswith("lower")
    bx = x0 + 0.04 * (x1 - x0) if left else x1 - 0.04 * (x1 - x0) - length
    by = y0 + 0.04 * (y1 - y0) if lower else y1 - 0.08 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    half = length / 2
    ax.add_patch(
        Rectangle((bx, by), half, h, facecolor="black", edgecolor="black", lw=0.6, zorder=20)
    )
    ax.add_patch(
        Rectangle((bx + half, by), half, h, facecolor="white", edgecolor="black", lw=0.6, zorder=20)
    )
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    km = length >= 1000
    unit = "km" if km else "m"

    def fmt(v: float) -> str:
        return f"{v / 1000:g}" if km else f"{v:g}"

    for pos, value in ((0.0, 0.0), (half, half), (length, length)):
        text = fmt(value) + (f" {unit}" if pos == length else "")
        ax.text(
            bx + pos,
            by + h * 1.6,
            text,
            ha="center",
            va="bottom",
            fontsize=fontsize,
            fontfamily=family,
            zorder=21,
            path_effects=halo,
        )
    label = f"{fmt(length)} {unit}"
    return ScaleBar(x0_m=bx, y_m=by, length_m=length, label=label)


def draw_north_arrow(
    ax: Axes, *, family: str, size: float = 0.07, corner: str = "upper right"
) -> None:
    """Draw a north arrow (grid north ≈ true north here) in a corner (upper right by default)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    w = x1 - x0
    hgt = y1 - y0
    length = size * hgt
    cx = x1 - 0.05 * w if corner.endswith("right") else x0 + 0.05 * w
    top = y1 - 0.03 * hgt if corner.startswith("upper") else y0 + 0.07 * hgt + length
    half_w = 0.35 * length
    base = top - length
    ax.add_patch(
        Polygon(
            [(cx, top), (cx - half_w, base), (cx, base + 0.3 * length)],
            closed=True,
            facecolor="black",
            edgecolor="black",
            lw=0.6,
            zorder=20,
        )
    )
    ax.add_patch(
        Polygon(
            [(cx, top), (cx + half_w, base), (cx, base + 0.3 * length)],
            closed=True,
            facecolor="white",
            edgecolor="black",
            lw=0.6,
            zorder=20,
        )
    )
    ax.text(
        cx,
        base - 0.01 * hgt,
        "N 北",
        ha="center",
        va="top",
        fontsize=8,
        fontweight="bold",
        fontfamily=family,
        zorder=21,
        path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
    )


def draw_badge(
    fig: Figure, x: float, y: float, lines: Sequence[str], *, fontsize: float, family: str
) -> None:
    """A red warning box in the top-right corner (e.g. "sample data — not official")."""
    texts = text_lines(fig, x, y, lines, fontsize=fontsize, linespacing=1.35, ha="right",
                       color="#b2182b", fontfamily=family)  # fmt: skip
    renderer = _renderer(fig)
    box = Bbox.union([t.get_window_extent(renderer) for t in texts])
    inv = fig.transFigure.inverted()
    (x0, y0), (x1, y1) = inv.transform([(box.x0, box.y0), (box.x1, box.y1)])
    pad_x = 0.008 + 0.02 * (x1 - x0)  # a PDF viewer sets the text a little wider than Agg
    pad_y = 0.006 * fig.get_figwidth() / fig.get_figheight()
    fig.add_artist(
        FancyBboxPatch(
            (x0 - pad_x, y0 - pad_y), x1 - x0 + 2 * pad_x, y1 - y0 + 2 * pad_y,
            boxstyle="round,pad=0,rounding_size=0.004", transform=fig.transFigure,
            facecolor="#fff5f0", edgecolor="#b2182b", linewidth=0.8, zorder=-1,
        )
    )  # fmt: skip
