"""The side panel of a gap map: the legend and a township table of children covered.

On landscape pages the panel stands to the right of the map (legend above the table), on
portrait pages below it (legend left, table right).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from qjgeo.export.staticmap.data import _summary_rows
from qjgeo.export.staticmap.layout import Box
from qjgeo.export.staticmap.legend import LegendLayout, draw_legend
from qjgeo.export.staticmap.texts import NO_DEMAND_LINES

#: Left edges of the table's columns (name) and right edges (share, children), axes fractions.
_COLUMNS = (0.0, 0.5, 0.98)


def _draw_side_panel(
    fig: Figure,
    box: Box,
    drawn: Mapping[str, Any],
    gaps: Any,
    *,
    family: str,
    fs: float,
    portrait: bool,
) -> LegendLayout:
    """Legend and a township table of children covered, to the right of (or below) the map."""
    x, y, w, h = box
    legend_h = 0.58 * h if not portrait else h
    legend_w = w if not portrait else 0.45 * w
    legend_rect = (x, y + h - legend_h, legend_w, legend_h)
    legend = draw_legend(fig, legend_rect, drawn["legend"], family=family, fs=fs)
    t_ax = _table_axes(fig, box, legend, portrait=portrait)
    if not getattr(gaps, "has_demand", True):
        _no_demand_note(t_ax, family=family, fs=fs)
        return legend
    cells, bold_last = township_table_cells(gaps)
    _table_heading(t_ax, family=family, fs=fs)
    row_h = _table_rows(t_ax, cells, bold_last, family=family, fs=fs)
    _table_note(t_ax, 0.9 - len(cells) * row_h - 0.01, family=family, fs=fs)
    return legend


def _table_axes(fig: Figure, box: Box, legend: LegendLayout, *, portrait: bool) -> Axes:
    """Empty axes for the table: below the legend (landscape) or right of it (portrait)."""
    x, y, w, h = box
    tx = x if not portrait else x + 0.5 * w
    tw = w if not portrait else 0.5 * w
    table_top = y + h
    if not portrait:
        table_top = float(fig.transFigure.inverted().transform((0, legend.frame.y0))[1]) - 0.03
    table_h = table_top - y
    t_ax = fig.add_axes((tx, y, tw, table_h))
    t_ax.axis("off")
    return t_ax


def _no_demand_note(t_ax: Axes, *, family: str, fs: float) -> None:
    """What stands in the table's place when no children were counted (no village layer)."""
    for k, line in enumerate(NO_DEMAND_LINES):
        t_ax.text(0, 1 - k * 0.05, line, fontsize=7.4 * fs, va="top", color="#333333",
                  fontfamily=family, transform=t_ax.transAxes)  # fmt: skip


def township_table_cells(gaps: Any) -> tuple[list[list[str]], bool]:
    """The township table's cells, header first, lowest share covered first.

    Parameters
    ----------
    gaps
        A :class:`qjgeo.gaps.GapResult` (``townships`` frame and ``district`` totals).

    Returns
    -------
    tuple
        The rows of cells (name, share covered, children not covered), a district row last
        when the district share is known; and whether the last row is set in bold (the
        district's totals carry a share, even one not known).
    """
    rows = _summary_rows(gaps)
    district = getattr(gaps, "district", {}) or {}
    cells = [["镇街", "覆盖率", "未覆盖儿童"]]
    for _, r in rows.iterrows():
        share = r.get("share_covered")
        cells.append(
            [
                str(r["name"]),
                "—" if share is None or pd.isna(share) else f"{float(share):.0%}",
                f"{int(r['children_uncovered']):,}",
            ]
        )
    share_d = district.get("share_covered")
    if share_d is not None and not pd.isna(share_d):
        cells.append(
            [
                "全区 District",
                f"{float(share_d):.0%}",
                f"{int(district.get('children_uncovered', 0)):,}",
            ]
        )
    return cells, share_d is not None


def _table_heading(t_ax: Axes, *, family: str, fs: float) -> None:
    """The table's title line."""
    head = "镇街儿童覆盖 Children covered by township"
    t_ax.text(
        0,
        1,
        head,
        fontsize=8.5 * fs,
        fontweight="bold",
        va="top",
        fontfamily=family,
        transform=t_ax.transAxes,
    )


def _table_rows(
    t_ax: Axes, cells: list[list[str]], bold_last: bool, *, family: str, fs: float
) -> float:
    """Draw the table's rows (header underlined, header and totals bold); return the row height."""
    n = len(cells)
    row_h = min(0.075, 0.78 / max(n, 1))
    for i, row in enumerate(cells):
        ry = 0.9 - i * row_h
        weight = "bold" if i == 0 or (i == n - 1 and bold_last) else "normal"
        for j, text in enumerate(row):
            t_ax.text(
                _COLUMNS[j],
                ry,
                text,
                fontsize=7.4 * fs,
                fontweight=weight,
                va="top",
                ha="left" if j == 0 else "right",
                fontfamily=family,
                transform=t_ax.transAxes,
            )
        if i == 0:
            t_ax.plot(
                [0, 0.98], [ry - row_h * 0.8] * 2, color="#444444", lw=0.6, transform=t_ax.transAxes
            )
    return row_h


def _table_note(t_ax: Axes, top: float, *, family: str, fs: float) -> None:
    """What the share means, under the table (``top`` in axes fractions)."""
    note = ("覆盖率 = 在服务距离（时间）内的儿童占比 / share of", "children within the service "
            "distance (time); 最低者在前 lowest first")  # fmt: skip
    fig = t_ax.get_figure(root=True)
    height_pt = t_ax.get_position().height * fig.get_figheight() * 72  # type: ignore[union-attr]
    step = 6.2 * fs * 1.35 / height_pt
    for k, line in enumerate(note):
        t_ax.text(0, top - k * step, line, fontsize=6.2 * fs, va="top",
                  color="#555555", fontfamily=family, transform=t_ax.transAxes)  # fmt: skip
