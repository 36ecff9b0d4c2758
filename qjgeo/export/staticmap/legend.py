"""The gap map's legend: one entry per symbol drawn, laid out from measured text extents.

Every entry holds the very style its layer was drawn with (line width and dashes, fill and
alpha, marker and marker area), so the legend shows each symbol exactly as it appears on the
map. Labels are bilingual, Chinese first: each half is wrapped to the legend's width from the
widths the renderer measures (:func:`wrap_text`), never cut. When the entries do not fit the
height given, the font shrinks until they do (:func:`draw_legend`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from qjgeo.export.staticmap.layout import Box, _renderer

Kind = Literal["heading", "line", "patch", "marker"]

#: Tokens of a label: a CJK character (a line may break after any), a word with its spaces.
_TOKENS = re.compile(
    r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+\s*|\s+"
)


@dataclass(frozen=True)
class LegendItem:
    """One legend entry: a symbol drawn in the style of its layer and a bilingual label.

    ``style`` holds the keyword arguments the map used: ``color``/``linewidth``/``linestyle``
    for a line, ``facecolor``/``edgecolor``/``linewidth``/``alpha`` for a patch, ``marker``/
    ``s`` (area, points²)/``facecolor``/``edgecolor``/``linewidth`` for a marker.
    """

    kind: Kind
    zh: str
    en: str = ""
    style: Mapping[str, Any] = field(default_factory=dict)
    indent: bool = False

    @property
    def label(self) -> str:
        """The label in one line (zh and en)."""
        return f"{self.zh} {self.en}".strip()


@dataclass
class LegendEntries:
    """Legend entries, collected while the map is drawn (drawing order)."""

    items: list[LegendItem] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        """Each entry's label in one line."""
        return [item.label for item in self.items]

    def add(self, kind: Kind, zh: str, en: str = "", *, indent: bool = False, **style: Any) -> None:
        """Append one entry (``style``: the drawing's keyword arguments)."""
        self.items.append(LegendItem(kind, zh, en, dict(style), indent))

    def heading(self, zh: str, en: str = "") -> None:
        """A line of text without a symbol (heads a list of bands)."""
        self.add("heading", zh, en)


@dataclass(frozen=True)
class LegendLayout:
    """Where the legend was drawn: its frame and its texts (display pixels), its font size."""

    frame: Bbox
    texts: list[Text]
    fontsize: float


def wrap_text(text: str, width_px: float, measure: Any) -> list[str]:
    """Break ``text`` into lines no wider than ``width_px``, as ``measure(line)`` gives widths.

    Lines break between words and after any CJK character; a single token wider than the
    width is split character by character. Nothing is dropped.
    """
    lines: list[str] = []
    current = ""
    for token in _TOKENS.findall(text):
        trial = current + token
        if current.strip() and measure(trial.rstrip()) > width_px:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current = trial
        if len(current.strip()) > 1 and measure(current.rstrip()) > width_px:
            pieces = _split_chars(current, width_px, measure)
            lines.extend(p.rstrip() for p in pieces[:-1])
            current = pieces[-1]
    if current.strip():
        lines.append(current.rstrip())
    return lines or [""]


def _split_chars(text: str, width_px: float, measure: Any) -> list[str]:
    """A token too wide for a line, cut into pieces that fit."""
    out, current = [], ""
    for ch in text:
        if current and measure((current + ch).rstrip()) > width_px:
            out.append(current)
            current = ch
        else:
            current += ch
    return [*out, current]


def _measure(fig: Figure, family: str, size: float, weight: str = "normal") -> Any:
    """A function giving a one-line text's width in display pixels."""
    renderer = _renderer(fig)
    prop = FontProperties(family=family, size=size, weight=weight)

    def width(text: str) -> float:
        return float(renderer.get_text_width_height_descent(text, prop, ismath=False)[0])

    return width


def draw_legend(
    fig: Figure,
    rect: Box,
    entries: LegendEntries,
    *,
    family: str,
    fs: float,
    title: tuple[str, str] = ("图例", "Legend"),
    frame: bool = True,
) -> LegendLayout:
    """Draw the legend in ``rect`` (figure fractions), anchored at its top left corner.

    The legend takes the full width of ``rect`` and as much of its height as it needs; the
    font (7.2 pt × ``fs`` to start with) shrinks in steps of 8 % down to 4.5 pt until every
    entry fits.

    Returns
    -------
    LegendLayout
        The frame and every text drawn, for placing what comes below and for checking.
    """
    fig_h_pt = fig.get_figheight() * 72
    size = 7.2 * fs
    while True:
        rows = _rows(fig, rect, entries, family=family, size=size, title=title)
        height_pt = rows[-1][0] if rows else 0.0
        if height_pt <= rect[3] * fig_h_pt or size <= 4.5:
            break
        size = max(size * 0.92, 4.5)
    ax = _legend_axes(fig, rect)
    texts = _draw_rows(ax, rows, entries, family=family, size=size)
    w_pt = rect[2] * fig.get_figwidth() * 72
    box = Rectangle((0.5, -height_pt), w_pt - 1, height_pt - 0.5, facecolor="white",
                    edgecolor="#666666" if frame else "none", linewidth=0.6, zorder=0)  # fmt: skip
    ax.add_patch(box)
    return LegendLayout(box.get_window_extent(_renderer(fig)), texts, size)


def _legend_axes(fig: Figure, rect: Box) -> Axes:
    """Axes over ``rect`` whose data units are points from its top left corner (y down < 0)."""
    ax = fig.add_axes(rect)
    ax.axis("off")
    w_pt = rect[2] * fig.get_figwidth() * 72
    h_pt = rect[3] * fig.get_figheight() * 72
    ax.set_xlim(0, w_pt)
    ax.set_ylim(-h_pt, 0)
    ax.set_zorder(30)
    return ax


#: One legend row: (bottom in points below the top, entry index or -1 for the title,
#: text lines as (text, colour, weight, size), top of the row in points).
_Row = tuple[float, int, list[tuple[str, str, str, float]], float]


def _rows(
    fig: Figure,
    rect: Box,
    entries: LegendEntries,
    *,
    family: str,
    size: float,
    title: tuple[str, str],
) -> list[_Row]:
    """Wrap every label at font ``size`` and stack the rows; the last bottom is the height."""
    px_per_pt = fig.dpi / 72
    w_pt = rect[2] * fig.get_figwidth() * 72
    pad = 0.7 * size
    handle = 2.6 * size
    gap = 0.6 * size
    plain = _measure(fig, family, size)
    bold = _measure(fig, family, size * 1.15, "bold")
    small = _measure(fig, family, size * 0.92)
    y = pad
    out: list[_Row] = []
    title_lines = wrap_text(" ".join(title), (w_pt - 2 * pad) * px_per_pt * 0.97, bold)
    lines = [(t, "#111111", "bold", size * 1.15) for t in title_lines]
    step = size * 1.15 * 1.3
    out.append((y + step * len(lines), -1, lines, y))
    y += step * len(lines) + 0.35 * size
    for i, item in enumerate(entries.items):
        left = pad + (size if item.indent else 0) + (0 if item.kind == "heading" else handle + gap)
        width_px = (w_pt - left - pad) * px_per_pt * 0.97
        lines = [(t, "#111111", "normal", size) for t in wrap_text(item.zh, width_px, plain)]
        if item.en and item.en != item.zh:
            lines += [(t, "#555555", "normal", size * 0.92)
                      for t in wrap_text(item.en, width_px, small)]  # fmt: skip
        height = sum(s * 1.25 for *_, s in lines)
        height = max(height, _symbol_height(item))
        top = y + (0.25 * size if item.kind == "heading" and i else 0)
        out.append((top + height, i, lines, top))
        y = top + height + 0.3 * size
    bottom = y + pad - 0.3 * size
    out.append((bottom, -2, [], bottom))
    return out


def _symbol_height(item: LegendItem) -> float:
    """Points a symbol needs (a big marker is taller than one text line)."""
    if item.kind == "marker":
        return float(item.style.get("s", 20.0)) ** 0.5 + 2
    return 0.0


def _draw_rows(
    ax: Axes, rows: list[_Row], entries: LegendEntries, *, family: str, size: float
) -> list[Text]:
    """Draw the rows: symbols left, text lines right, one single-line text per line."""
    pad = 0.7 * size
    handle = 2.6 * size
    gap = 0.6 * size
    texts: list[Text] = []
    for _, index, lines, top in rows:
        if index == -2:
            continue
        item = entries.items[index] if index >= 0 else None
        left = pad
        if item is not None:
            left += size if item.indent else 0
            if item.kind != "heading":
                first_h = lines[0][3] * 1.25 if lines else size
                _draw_symbol(ax, item, left, -(top + first_h / 2), handle)
                left += handle + gap
        y = top
        for text, colour, weight, s in lines:
            texts.append(ax.text(left, -y, text, fontsize=s, color=colour, fontweight=weight,
                                 fontfamily=family, va="top", ha="left", zorder=3))  # fmt: skip
            y += s * 1.25 if item is not None else s * 1.3
    return texts


def _draw_symbol(ax: Axes, item: LegendItem, x: float, y_mid: float, width: float) -> None:
    """One symbol, centred on ``y_mid``, in the style its layer was drawn with."""
    style = dict(item.style)
    if item.kind == "line":
        ax.add_line(Line2D([x, x + width], [y_mid, y_mid], zorder=2, **style))
    elif item.kind == "patch":
        h = 0.6 * width
        ax.add_patch(Rectangle((x, y_mid - h / 2), width, h, zorder=2, **style))
    elif item.kind == "marker":
        ax.scatter([x + width / 2], [y_mid], zorder=2, **style)


def band_swatches(
    entries: LegendEntries,
    bands: Sequence[str],
    colours: Mapping[str, str],
    *,
    alpha: float,
) -> None:
    """One swatch per band, filled as the hexagons are (stepped colour ramp)."""
    for band in bands:
        entries.add("patch", band, indent=True, facecolor=colours[band], alpha=alpha,
                    edgecolor="none", linewidth=0)  # fmt: skip
