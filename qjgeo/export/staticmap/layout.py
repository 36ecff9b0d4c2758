"""Page and figure geometry: paper sizes, where the map and side panel sit, text placement.

Exported texts are kept to one line each (:func:`text_lines`); labels that overlap are
nudged apart (:func:`declutter_labels`); the map extent keeps metres square
(:func:`_set_extent`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure, SubFigure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from qjgeo.export.staticmap.errors import ExportError

Paper = Literal["A4", "A3"]
Orientation = Literal["landscape", "portrait"]

#: Paper sizes in inches, landscape (width, height).
PAPER_IN: dict[str, tuple[float, float]] = {"A4": (11.69, 8.27), "A3": (16.54, 11.69)}


def _figsize(paper: str, orientation: str) -> tuple[float, float]:
    if paper not in PAPER_IN:
        raise ExportError(f"paper must be one of {', '.join(PAPER_IN)}, got {paper!r}")
    if orientation not in ("landscape", "portrait"):
        raise ExportError(f"orientation must be landscape or portrait, got {orientation!r}")
    w, h = PAPER_IN[paper]
    return (w, h) if orientation == "landscape" else (h, w)


#: Where a label may go when its own spot is taken, in label widths / heights from it.
_OFFSETS = ((0, -1), (0, 1), (-0.6, 0), (0.6, 0), (0, -2), (0, 2),
            (-1, -1), (1, -1), (-1, 1), (1, 1))  # fmt: skip


def declutter_labels(
    ax: Axes,
    texts: Sequence[Text],
    *,
    obstacles: np.ndarray | None = None,
    radius_pt: float = 3.0,
) -> int:
    """Place labels so none overlaps another, nor (where possible) a point symbol.

    Labels are placed in the given order. Each one stays on its anchor when that spot is free
    of earlier labels and of ``obstacles`` (points in data units, e.g. villages, drawn about
    ``radius_pt`` wide); otherwise it takes the nearby spot (below, above, left, right, one and
    two label heights away) inside the frame that overlaps no label and the fewest points.

    Returns
    -------
    int
        How many labels were moved.
    """
    if not texts:
        return 0
    renderer = _renderer(ax.get_figure(root=True))  # type: ignore[arg-type]
    frame = ax.get_window_extent(renderer)
    pts = ax.transData.transform(obstacles) if obstacles is not None and len(obstacles) else None
    r = radius_pt * ax.get_figure(root=True).dpi / 72  # type: ignore[union-attr]
    to_data = ax.transData.inverted()
    placed: list[Bbox] = []
    moves = 0
    for text in texts:
        box = text.get_window_extent(renderer).expanded(1.08, 1.15)
        best: tuple[int, float, float] | None = None
        for fx, fy in ((0, 0), *_OFFSETS):
            dx, dy = fx * box.width, fy * box.height
            trial = box.translated(dx, dy)
            if any(trial.overlaps(o) for o in placed) or (
                (dx or dy) and not _contains(frame, trial)
            ):
                continue
            score = _points_in(trial, pts, r)
            if best is None or score < best[0]:
                best = (score, dx, dy)
            if score == 0:
                break
        if best is None:
            placed.append(box)
            continue
        _, dx, dy = best
        if dx or dy:
            x_disp, y_disp = ax.transData.transform(text.get_position())
            text.set_position(tuple(to_data.transform((x_disp + dx, y_disp + dy))))
            moves += 1
        placed.append(box.translated(dx, dy))
    return moves


def _contains(outer: Bbox, inner: Bbox) -> bool:
    return bool(
        inner.x0 >= outer.x0 and inner.x1 <= outer.x1 and inner.y0 >= outer.y0
        and inner.y1 <= outer.y1
    )  # fmt: skip


def _points_in(box: Bbox, pts: np.ndarray | None, r: float) -> int:
    """How many points (display coordinates, drawn ``r`` pixels wide) the box touches."""
    if pts is None:
        return 0
    inside = (
        (pts[:, 0] > box.x0 - r) & (pts[:, 0] < box.x1 + r)
        & (pts[:, 1] > box.y0 - r) & (pts[:, 1] < box.y1 + r)
    )  # fmt: skip
    return int(np.count_nonzero(inside))


def keep_inside(ax: Axes, texts: Sequence[Text], *, optional: Sequence[bool]) -> list[Text]:
    """Move labels cut by the map frame inside it; drop optional ones that then overlap.

    Returns
    -------
    list of matplotlib.text.Text
        The labels kept (dropped ones are removed from the axes).
    """
    renderer = _renderer(ax.get_figure(root=True))  # type: ignore[arg-type]
    frame = ax.get_window_extent(renderer)
    to_data = ax.transData.inverted()
    kept: list[Text] = []
    boxes: list[Bbox] = []
    for text, drop_ok in zip(texts, optional, strict=True):
        box = text.get_window_extent(renderer)
        dx = max(frame.x0 + 2 - box.x0, 0) - max(box.x1 - (frame.x1 - 2), 0)
        dy = max(frame.y0 + 2 - box.y0, 0) - max(box.y1 - (frame.y1 - 2), 0)
        if dx or dy:
            x, y = ax.transData.transform(text.get_position())
            text.set_position(tuple(to_data.transform((x + dx, y + dy))))
            box = box.translated(dx, dy)
        if drop_ok and any(box.overlaps(b) for b in boxes):
            text.remove()
            continue
        kept.append(text)
        boxes.append(box)
    return kept


def _set_extent(ax: Axes, bounds: Sequence[float], margin: float = 0.04) -> None:
    """Fit the bounds into the axes box with equal x/y scale (metres stay square)."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    w = max(maxx - minx, 1.0)
    h = max(maxy - miny, 1.0)
    minx, maxx = minx - margin * w, maxx + margin * w
    miny, maxy = miny - margin * h, maxy + margin * h
    bbox = ax.get_position(original=True)
    fig_w, fig_h = ax.get_figure(root=True).get_size_inches()  # type: ignore[union-attr]
    box_ratio = (bbox.height * fig_h) / (bbox.width * fig_w)
    data_ratio = (maxy - miny) / (maxx - minx)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    if data_ratio > box_ratio:
        half_w = (maxy - miny) / box_ratio / 2
        minx, maxx = cx - half_w, cx + half_w
    else:
        half_h = (maxx - minx) * box_ratio / 2
        miny, maxy = cy - half_h, cy + half_h
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal", adjustable="box")


def _renderer(fig: Figure | SubFigure) -> Any:
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)  # type: ignore[arg-type]
    return canvas.get_renderer()


def text_lines(
    fig: Figure,
    x: float,
    y: float,
    lines: Sequence[str],
    *,
    fontsize: float,
    linespacing: float = 1.5,
    max_width: float | None = None,
    **style: Any,
) -> list[Text]:
    """Place lines of text one below another, each line its own single-line text.

    matplotlib shapes a multi-line text without its language and font features (Chinese
    glyph forms, no ligatures), so every exported text is kept to one line. A line wider than
    ``max_width`` (figure fraction) is split in two (:func:`_split_line`) until it fits.

    Returns
    -------
    list of matplotlib.text.Text
        The texts placed, top first.
    """
    renderer = _renderer(fig)
    step = fontsize * linespacing / 72 / fig.get_figheight()
    fig_w_px = fig.dpi * fig.get_figwidth()
    placed: list[Text] = []
    pending = list(lines)
    while pending:
        line = pending.pop(0)
        text = fig.text(x, y, line, fontsize=fontsize, va="top", **style)
        too_wide = (
            max_width is not None and text.get_window_extent(renderer).width / fig_w_px > max_width
        )
        parts = _split_line(line) if too_wide else None
        if parts is not None:
            text.remove()
            pending[0:0] = [parts[0], "    " + parts[1]]
            continue
        placed.append(text)
        y -= step
    return placed


def _split_line(line: str) -> tuple[str, str] | None:
    """Split a long line in two at the separator nearest its middle.

    Tries the Chinese / English separator ``" / "`` first, then ``"; "``, then ``", "``;
    ``None`` when the line has none of them.
    """
    middle = len(line) / 2
    for sep in (" / ", "; ", "；", ", "):
        cuts = [i for i in range(len(line)) if line.startswith(sep, i)]
        if cuts:
            cut = min(cuts, key=lambda i: abs(i - middle))
            head = line[:cut] + sep.rstrip()  # keep the separator: nothing is lost
            return head.rstrip(), line[cut + len(sep) :].lstrip()
    return None


#: A rectangle on the page in figure fractions: left, bottom, width, height.
Box = tuple[float, float, float, float]


def page_boxes(orientation: str) -> tuple[Box, Box]:
    """Where the map and the side panel (legend, township table) sit on a gap-map page.

    Landscape pages put the panel to the right of the map, portrait pages below it.
    """
    if orientation == "landscape":
        return (0.04, 0.155, 0.645, 0.715), (0.705, 0.135, 0.275, 0.735)
    return (0.06, 0.42, 0.9, 0.46), (0.04, 0.115, 0.92, 0.275)


def font_scale(paper: str) -> float:
    """How much larger texts and markers are drawn on ``paper`` than on A4 (1.3 on A3)."""
    return 1.0 if paper == "A4" else 1.3


def page_scale(size: tuple[float, float], orientation: str) -> float:
    """The page's width (landscape) or height (portrait) over the width of A4 landscape."""
    return (
        size[0] / PAPER_IN["A4"][0] if orientation == "landscape" else size[1] / PAPER_IN["A4"][0]
    )
