"""A full gap-map page (:func:`gap_map_figure`) and its PNG / PDF bytes.

The page is put together in named steps: the map axes with their furniture, the titles and
the warning badge, the side panel (legend and township table), and the footer lines.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import matplotlib
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from qjgeo.catalog import Dataset
from qjgeo.export.fonts import cjk_font_family, pdf_rc
from qjgeo.export.staticmap.data import _metric, prepare_gap_results
from qjgeo.export.staticmap.furniture import draw_badge
from qjgeo.export.staticmap.georef import CRS_LABEL, prj_text, world_file
from qjgeo.export.staticmap.inset import Inset, city_context
from qjgeo.export.staticmap.layout import (
    Orientation,
    Paper,
    _figsize,
    font_scale,
    page_boxes,
    page_scale,
    text_lines,
)
from qjgeo.export.staticmap.legend import LegendEntries, LegendLayout
from qjgeo.export.staticmap.mapaxes import _add_basemap, draw_gap_axes
from qjgeo.export.staticmap.panels import _draw_side_panel
from qjgeo.export.staticmap.placement import place_furniture
from qjgeo.export.staticmap.texts import (
    BADGE_STATUSES,
    attribution_line,
    crs_date_line,
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


@dataclass
class MapPage:
    """A laid-out gap-map page and what was placed on it (for saving and for checks)."""

    figure: Figure
    map_ax: Axes
    legend: LegendLayout
    title: str
    subtitle: str
    labels: list[Text] = field(default_factory=list)
    furniture: dict[str, str] = field(default_factory=dict)
    entries: LegendEntries = field(default_factory=LegendEntries)


def gap_map_figure(
    dataset: Dataset,
    facility_type: str,
    *,
    paper: Paper = "A4",
    orientation: Orientation = "landscape",
    title: str | None = None,
    figure_no: str | None = None,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    date: dt.date | None = None,
    basemap: bool = False,
) -> Figure:
    """Lay out a full gap map page as a matplotlib figure (:func:`gap_map_page`'s figure)."""
    return gap_map_page(
        dataset, facility_type, paper=paper, orientation=orientation, title=title,
        figure_no=figure_no, gaps=gaps, surface=surface, date=date, basemap=basemap,
    ).figure  # fmt: skip


def gap_map_page(
    dataset: Dataset,
    facility_type: str,
    *,
    paper: Paper = "A4",
    orientation: Orientation = "landscape",
    title: str | None = None,
    figure_no: str | None = None,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    date: dt.date | None = None,
    basemap: bool = False,
) -> MapPage:
    """Lay out a full gap map page.

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
    figure_no
        Figure number printed before the title, e.g. ``"图 3"`` (a bare ``"3"`` gets ``图``).
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
    MapPage
        The page (figure not yet saved), its map axes, legend layout and titles.

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
        drawn = draw_gap_axes(ax, dataset, facility_type, gaps, family=family, surface=hexes,
                              label_size=9 * fs, marker_scale=fs)  # fmt: skip
        corners = _draw_map_furniture(ax, dataset, drawn, basemap=basemap, family=family, fs=fs)
        main, sub = _draw_titles(fig, dataset, facility_type, gaps, title=title,
                                 figure_no=figure_no, family=family, fs=fs)  # fmt: skip
        legend = _draw_side_panel(fig, side_box, drawn, gaps, family=family, fs=fs,
                                  portrait=orientation == "portrait")  # fmt: skip
        footer_fs = 6.6 * fs * min(page_scale(size, orientation), 1.0)
        _draw_footer(fig, dataset, facility_type, gaps, date=date, orientation=orientation,
                     fontsize=footer_fs, family=family)  # fmt: skip
    return MapPage(fig, ax, legend, main, sub, drawn["labels_drawn"], dict(corners),
                   drawn["legend"])  # fmt: skip


def _draw_map_furniture(
    ax: Axes, dataset: Dataset, drawn: dict[str, Any], *, basemap: bool, family: str, fs: float
) -> dict[str, str]:
    """Basemap, degree ticks, then inset, north arrow and scale bar in the emptiest corners."""
    if basemap:
        _add_basemap(ax)
    context, highlight = (
        city_context(_metric(dataset.layer("district")))
        if dataset.has("district")
        else (None, None)
    )
    inset = None
    if context is not None and highlight is not None:
        inset = Inset(context, highlight, "区位图 Location: 韶关市 Shaoguan", 0.22)
    return dict(place_furniture(ax, drawn, family=family, fs=fs, inset=inset))


def _draw_titles(
    fig: Figure,
    dataset: Dataset,
    facility_type: str,
    gaps: Any,
    *,
    title: str | None,
    figure_no: str | None,
    family: str,
    fs: float,
) -> tuple[str, str]:
    """The Chinese title, the English subtitle and, on weak data, the warning badge."""
    zh, en = facility_titles(dataset, facility_type)
    dzh, den = district_name(dataset)
    main_title = title_block(title or f"{dzh} {zh} {mode_words(gaps)[0]}可达缺口", figure_no)
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
    return main_title, subtitle


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
        crs_date_line(dataset, layers, CRS_LABEL),
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


def title_block(title: str, figure_no: str | None) -> str:
    """The title with its figure number before it (``"3"`` → ``"图 3  title"``)."""
    if not figure_no or not figure_no.strip():
        return title
    number = figure_no.strip()
    if number[0].isdigit():
        number = f"图 {number}"
    return f"{number}  {title}"


def figure_bytes(
    fig: Figure,
    fmt: Literal["png", "pdf"],
    *,
    dpi: float = 300,
    metadata: dict[str, Any] | None = None,
) -> bytes:
    """Save a figure to PNG (with its dpi recorded) or PDF (fonts embedded) and return the bytes.

    ``metadata`` (``Title``, ``Subject``, ``Author``, ``Keywords``) goes into the PDF's
    document information (with ``Creator`` qjgeo and the creation date) or the PNG's text
    chunks (``Subject`` as ``Description``).
    """
    for text in fig.findobj(Text):
        # One glyph per character: Simplified Chinese forms, no ligatures. Without this the
        # shaper may give a digit two glyphs, or "fi" one, and the PDF embeds the font twice.
        text.set_language("zh-Hans")
        text.set_fontfeatures(["-liga", "-clig", "-dlig"])
        _stroke_bold(text)
    buf = io.BytesIO()
    with matplotlib.rc_context(pdf_rc()):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=_metadata(fmt, metadata or {}))
    return buf.getvalue()


def _stroke_bold(text: Text) -> None:
    """Draw a bold text as the regular face thickened by an outline of its own colour.

    The page then embeds one CJK font instead of two (the bold face's subset costs as much
    time as the regular one's: about 1 s a page). The outline is a copy drawn as a path
    under the text, so the text itself stays text (searchable, copyable).
    """
    weight = text.get_fontweight()
    if weight not in ("bold", "heavy", "black", "semibold", "demibold") and not (
        isinstance(weight, int | float) and weight >= 600
    ):
        return
    text.set_fontweight("normal")
    stroke = patheffects.Stroke(linewidth=0.045 * float(text.get_fontsize()),
                                foreground=text.get_color())  # fmt: skip
    effects = text.get_path_effects()
    if effects:  # drawn as a path anyway (a halo): thicken it in place
        text.set_path_effects([*effects, stroke, patheffects.Normal()])
        return
    under = Text(*text.get_position(), text.get_text())
    under.update_from(text)
    under.set_transform(text.get_transform())
    under.set_clip_on(False)
    under.set_zorder(text.get_zorder() - 0.01)
    under.set_path_effects([stroke])
    container = text.axes if text.axes is not None else text.get_figure(root=False)
    if container is not None:
        container.add_artist(under)


def _metadata(fmt: str, given: dict[str, Any]) -> dict[str, Any]:
    """Document metadata in the keys each format takes."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if fmt == "pdf":
        keep = {k: v for k, v in given.items() if k in ("Title", "Subject", "Author", "Keywords")}
        return {"Author": "qjgeo", "Creator": "qjgeo", "CreationDate": now, **keep}
    out = {"Software": "qjgeo (matplotlib)", "Author": "qjgeo",
           "Creation Time": now.isoformat()}  # fmt: skip
    if "Title" in given:
        out["Title"] = str(given["Title"])
    if "Subject" in given:
        out["Description"] = str(given["Subject"])
    return out


def page_metadata(page: MapPage) -> dict[str, Any]:
    """Title and subject of a map page for its file."""
    return {"Title": page.title, "Subject": page.subtitle, "Author": "qjgeo",
            "Keywords": "qjgeo; 儿童友好; gap map"}  # fmt: skip


def gap_map_png_files(
    dataset: Dataset, facility_type: str, *, dpi: float = 300, **options: Any
) -> dict[str, bytes]:
    """A gap map as PNG with its world file and ``.prj`` (GIS places the page georeferenced).

    Parameters are those of :func:`gap_map_page`, plus ``dpi``.

    Returns
    -------
    dict
        ``{".png": ..., ".pgw": ..., ".prj": ...}`` (the world file in EPSG:4547 metres,
        :func:`~qjgeo.export.staticmap.georef.world_file`).
    """
    page = gap_map_page(dataset, facility_type, **options)
    png = figure_bytes(page.figure, "png", dpi=dpi, metadata=page_metadata(page))
    world = world_file(page.figure, page.map_ax, dpi)
    return {".png": png, ".pgw": world.encode("ascii"), ".prj": prj_text().encode("ascii")}


def gap_map_png(
    dataset: Dataset,
    facility_type: str,
    *,
    paper: Paper = "A4",
    orientation: Orientation = "landscape",
    dpi: float = 300,
    title: str | None = None,
    figure_no: str | None = None,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    date: dt.date | None = None,
    basemap: bool = False,
) -> bytes:
    """A gap map as PNG bytes (300 dpi by default; the dpi is written into the file).

    Parameters are those of :func:`gap_map_page`, plus ``dpi``.

    Returns
    -------
    bytes
        The PNG file.
    """
    page = gap_map_page(
        dataset, facility_type, paper=paper, orientation=orientation, title=title,
        figure_no=figure_no, gaps=gaps, surface=surface, date=date, basemap=basemap,
    )  # fmt: skip
    return figure_bytes(page.figure, "png", dpi=dpi, metadata=page_metadata(page))


def gap_map_pdf(
    dataset: Dataset,
    facility_type: str,
    *,
    paper: Paper = "A4",
    orientation: Orientation = "landscape",
    title: str | None = None,
    figure_no: str | None = None,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    date: dt.date | None = None,
    basemap: bool = False,
) -> bytes:
    """A gap map as a one-page PDF (vector, CJK font embedded, title and subject metadata).

    Parameters are those of :func:`gap_map_page`.

    Returns
    -------
    bytes
        The PDF file.
    """
    page = gap_map_page(
        dataset, facility_type, paper=paper, orientation=orientation, title=title,
        figure_no=figure_no, gaps=gaps, surface=surface, date=date, basemap=basemap,
    )  # fmt: skip
    return figure_bytes(page.figure, "pdf", dpi=300, metadata=page_metadata(page))
