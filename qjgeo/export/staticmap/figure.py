"""A full gap-map page (:func:`gap_map_figure`) and its PNG / PDF bytes.

The page is put together in named steps: the map axes with their furniture, the titles and
the warning badge, the side panel (legend and township table), and the footer lines.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any, Literal

import geopandas as gpd
import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from qjgeo.catalog import Dataset
from qjgeo.export.fonts import cjk_font_family, pdf_rc
from qjgeo.export.staticmap.data import prepare_gap_results
from qjgeo.export.staticmap.furniture import draw_badge, draw_north_arrow, draw_scale_bar
from qjgeo.export.staticmap.layout import (
    Orientation,
    Paper,
    _figsize,
    font_scale,
    page_boxes,
    page_scale,
    text_lines,
)
from qjgeo.export.staticmap.mapaxes import _add_basemap, draw_gap_axes
from qjgeo.export.staticmap.panels import _draw_side_panel
from qjgeo.export.staticmap.texts import (
    BADGE_STATUSES,
    attribution_line,
    data_status_line,
    district_name,
    facility_titles,
    gap_subtitle,
    map_layers,
    method_line,
    mode_words,
    scenario_line,
    status_badge_lines,
)


def gap_map_figure(
    dataset: Dataset,
    facility_type: str,
    *,
    paper: Paper = "A4",
    orientation: Orientation = "landscape",
    title: str | None = None,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    date: dt.date | None = None,
    basemap: bool = False,
) -> Figure:
    """Lay out a full gap map page as a matplotlib figure.

    Parameters
    ----------
    dataset
        The dataset (with a scenario applied, if any: its ``scenario_name`` is printed).
    facility_type
        Facility layer id, e.g. ``"childcare"``.
    paper, orientation
        Page size (``"A4"`` / ``"A3"``) and orientation.
    title
        Main (Chinese) title; default ``"曲江区 托育机构 步行可达缺口"``.
    gaps
        A precomputed :class:`qjgeo.gaps.GapResult`; computed when ``None``.
    surface
        Gap hexagons; computed with :func:`qjgeo.gaps.gap_surface` when ``None``, left out
        when ``False``.
    date
        Date printed in the footer (today by default).
    basemap
        Add a web basemap under the map (needs ``contextily`` and a network connection).

    Returns
    -------
    matplotlib.figure.Figure
        The page, not yet saved (close it with ``plt.close`` or let it be collected).

    Raises
    ------
    ExportError
        If the facility layer or the village layer is missing, or an option is wrong.
    FontMissingError
        If no CJK font is installed.
    """
    gaps, hexes = prepare_gap_results(dataset, facility_type, gaps=gaps, surface=surface)
    family = cjk_font_family()
    size = _figsize(paper, orientation)
    fs = font_scale(paper)
    with matplotlib.rc_context({**pdf_rc(), "font.family": family}):
        fig = Figure(figsize=size)
        FigureCanvasAgg(fig)
        map_box, side_box = page_boxes(orientation)
        ax = fig.add_axes(map_box)
        drawn = draw_gap_axes(
            ax,
            dataset,
            facility_type,
            gaps,
            family=family,
            surface=hexes,
            label_size=9 * fs,
            marker_scale=fs,
        )
        _draw_map_furniture(ax, basemap=basemap, family=family, fs=fs)
        _draw_titles(fig, dataset, facility_type, gaps, title=title, family=family, fs=fs)
        _draw_side_panel(
            fig, side_box, drawn, gaps, family=family, fs=fs, portrait=orientation == "portrait"
        )
        footer_fs = 6.6 * fs * min(page_scale(size, orientation), 1.0)
        _draw_footer(fig, dataset, facility_type, gaps, date=date, orientation=orientation,
                     fontsize=footer_fs, family=family)  # fmt: skip
    return fig


def _draw_map_furniture(ax: Axes, *, basemap: bool, family: str, fs: float) -> None:
    """The optional web basemap under the map, then the scale bar and the north arrow."""
    if basemap:
        _add_basemap(ax)
    draw_scale_bar(ax, family=family, fontsize=7 * fs)
    draw_north_arrow(ax, family=family)


def _draw_titles(
    fig: Figure,
    dataset: Dataset,
    facility_type: str,
    gaps: Any,
    *,
    title: str | None,
    family: str,
    fs: float,
) -> None:
    """The Chinese title, the English subtitle and, on weak data, the warning badge."""
    zh, en = facility_titles(dataset, facility_type)
    dzh, den = district_name(dataset)
    main_title = title or f"{dzh} {zh} {mode_words(gaps)[0]}可达缺口"
    subtitle = gap_subtitle(den, en, gaps)
    fig.text(
        0.025,
        0.955,
        main_title,
        fontsize=18 * fs,
        fontweight="bold",
        va="top",
        fontfamily=family,
    )
    fig.text(
        0.025, 0.905, subtitle, fontsize=10.5 * fs, va="top", color="#333333", fontfamily=family
    )
    status = str(getattr(gaps, "data_status", dataset.data_status(map_layers(facility_type))))
    if status in BADGE_STATUSES:
        draw_badge(fig, 0.975, 0.955, status_badge_lines(status), fontsize=8.5 * fs,
                   family=family)  # fmt: skip


def _draw_footer(
    fig: Figure,
    dataset: Dataset,
    facility_type: str,
    gaps: Any,
    *,
    date: dt.date | None,
    orientation: str,
    fontsize: float,
    family: str,
) -> None:
    """Scenario and date, distances and method, data status, sources: one line each."""
    layers = map_layers(facility_type)
    footer = [
        scenario_line(dataset, date),
        method_line(dataset, facility_type, gaps),
        data_status_line(dataset, layers),
        attribution_line(dataset, layers),
    ]
    text_lines(
        fig,
        0.025,
        0.105 if orientation == "landscape" else 0.095,
        footer,
        fontsize=fontsize,
        linespacing=1.55,
        max_width=0.95,
        color="#222222",
        fontfamily=family,
    )


def figure_bytes(fig: Figure, fmt: Literal["png", "pdf"], *, dpi: float = 300) -> bytes:
    """Save a figure to PNG (with its dpi recorded) or PDF (fonts embedded) and return the bytes."""
    for text in fig.findobj(Text):
        # One glyph per character: Simplified Chinese forms, no ligatures. Without this the
        # shaper may give a digit two glyphs, or "fi" one, and the PDF embeds the font twice.
        text.set_language("zh-Hans")
        text.set_fontfeatures(["-liga", "-clig", "-dlig"])
    buf = io.BytesIO()
    with matplotlib.rc_context(pdf_rc()):
        metadata = {"Creator": "qjgeo"} if fmt == "pdf" else {"Software": "qjgeo (matplotlib)"}
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata)
    return buf.getvalue()


def gap_map_png(
    dataset: Dataset,
    facility_type: str,
    *,
    paper: Paper = "A4",
    orientation: Orientation = "landscape",
    dpi: float = 300,
    title: str | None = None,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    date: dt.date | None = None,
    basemap: bool = False,
) -> bytes:
    """A gap map as PNG bytes (300 dpi by default; the dpi is written into the file).

    Parameters are those of :func:`gap_map_figure`, plus ``dpi``.

    Returns
    -------
    bytes
        The PNG file.
    """
    fig = gap_map_figure(
        dataset,
        facility_type,
        paper=paper,
        orientation=orientation,
        title=title,
        gaps=gaps,
        surface=surface,
        date=date,
        basemap=basemap,
    )
    return figure_bytes(fig, "png", dpi=dpi)


def gap_map_pdf(
    dataset: Dataset,
    facility_type: str,
    *,
    paper: Paper = "A4",
    orientation: Orientation = "landscape",
    title: str | None = None,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    date: dt.date | None = None,
    basemap: bool = False,
) -> bytes:
    """A gap map as a one-page PDF (vector, CJK font embedded).

    Parameters are those of :func:`gap_map_figure`.

    Returns
    -------
    bytes
        The PDF file.
    """
    fig = gap_map_figure(
        dataset,
        facility_type,
        paper=paper,
        orientation=orientation,
        title=title,
        gaps=gaps,
        surface=surface,
        date=date,
        basemap=basemap,
    )
    return figure_bytes(fig, "pdf", dpi=300)
