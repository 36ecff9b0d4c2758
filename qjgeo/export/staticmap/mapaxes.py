"""The map itself: the layers of a gap map drawn on metric-CRS axes, one step per layer.

:func:`draw_gap_axes` draws, in this order, the district outline, the gap hexagons, the
township boundaries (and the township in focus), the villages covered or not covered and
the facilities; then it fits the extent and places the township names. Each step adds its
legend entries (:class:`~qjgeo.export.staticmap.legend.LegendEntries`) as it draws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.text import Text
from shapely.ops import polylabel

from qjgeo.catalog import Dataset
from qjgeo.crs import METRIC_CRS
from qjgeo.export.staticmap import symbols
from qjgeo.export.staticmap.data import (
    FACILITY_COLOUR,
    UNREACHABLE_COLOUR,
    _metric,
    band_styles,
)
from qjgeo.export.staticmap.errors import ExportError
from qjgeo.export.staticmap.layout import _renderer, _set_extent, declutter_labels, keep_inside
from qjgeo.export.staticmap.legend import LegendEntries, band_swatches
from qjgeo.export.staticmap.texts import facility_titles


def draw_gap_axes(
    ax: Axes,
    dataset: Dataset,
    facility_type: str,
    gaps: Any,
    *,
    family: str,
    surface: gpd.GeoDataFrame | None = None,
    township: str | None = None,
    label_size: float = 9.0,
    marker_scale: float = 1.0,
) -> dict[str, Any]:
    """Draw the gap map contents on metric-CRS axes and return their legend entries.

    Parameters
    ----------
    ax
        Empty matplotlib axes.
    dataset
        The dataset (district, township and facility layers are read from it).
    facility_type
        The facility layer id, e.g. ``"childcare"``.
    gaps
        A :class:`qjgeo.gaps.GapResult` (``villages`` and ``townships`` frames).
    family
        The CJK font family (from :func:`~qjgeo.export.fonts.cjk_font_family`).
    surface
        Optional gap hexagons (WGS84, with ``distance_band``) drawn under the villages.
    township
        A 9-digit township code to zoom the map to (its neighbours stay faint).
    label_size
        Font size of township names, points.
    marker_scale
        Multiplies the marker sizes (smaller maps use < 1).

    Returns
    -------
    dict
        ``"legend"`` (:class:`~qjgeo.export.staticmap.legend.LegendEntries`), ``"labels"``
        (each entry in one line), ``"bands"``, ``"colours"``, ``"data"`` (the geometries
        drawn, metres, for placing the furniture) and ``"labels_drawn"`` (the texts).
    """
    villages = _metric(gaps.villages)
    has_surface = surface is not None and len(surface) > 0
    bands, colours = band_styles([villages] + ([surface] if has_surface else []))
    townships = _metric(dataset.layer("township")) if dataset.has("township") else None
    focus = _focus_township(townships, township)
    fzh, fen = facility_titles(dataset, facility_type)
    legend = LegendEntries()
    data: list[Any] = []
    _set_extent(ax, _map_extent(dataset, focus, villages))  # first: only what is seen is drawn
    view = _view(ax)
    district = _metric(dataset.layer("district")) if dataset.has("district") else None
    if district is not None:
        _draw_district(ax, district, legend, view)
        data.extend(district.geometry.array)
    if surface is not None and has_surface:
        hexes = _metric(surface)
        hexes = hexes[hexes.intersects(view)]
        _draw_surface(ax, hexes, bands, colours, legend, len(villages) > 0, (fzh, fen))
    if townships is not None:
        _draw_townships(ax, townships, focus, legend, view, district)
    villages = villages[villages.within(view)]
    own, others = _own_villages(villages, township)
    if len(own):
        symbols.draw_villages(ax, own, bands, legend, gaps, marker_scale)
    symbols.draw_neighbour_villages(ax, others, legend, marker_scale)
    data.extend(villages.geometry.buffer(400).array)
    facility_points = None
    if dataset.has(facility_type) and len(dataset.layer(facility_type)):
        facility_points = _draw_facilities(ax, dataset, facility_type, legend, marker_scale, view)
        data.extend(facility_points.buffer(400).array)
    if focus is not None:
        data = [g for g in data if g.geom_type == "Polygon" and g.area < 1e7] + list(
            focus.geometry.array
        )
    labels: list[Text] = []
    if townships is not None:
        points = [np.column_stack([g.x, g.y]) for g in (villages.geometry, facility_points)
                  if g is not None and len(g)]  # fmt: skip
        obstacles = np.vstack(points) if points else None
        labels = _label_townships(ax, townships, focus, township, family=family,
                                  label_size=label_size, obstacles=obstacles)  # fmt: skip
    _bare_frame(ax)
    return {"legend": legend, "labels": legend.labels, "bands": bands, "colours": colours,
            "data": data, "labels_drawn": labels}  # fmt: skip


def _focus_township(
    townships: gpd.GeoDataFrame | None, township: str | None
) -> gpd.GeoDataFrame | None:
    """The township the map zooms to (``None`` when none is asked for or there are none)."""
    if townships is None or township is None:
        return None
    focus = townships[townships["code9"].astype(str) == str(township)]
    if focus.empty:
        raise ExportError(f"no township with code {township!r} in the dataset")
    return focus


def _own_villages(
    villages: gpd.GeoDataFrame, township: str | None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The villages of the township in focus and those of its neighbours (all and none without)."""
    if township is None or "township_code" not in villages.columns:
        return villages, villages.iloc[:0]
    mine = (villages["township_code"].astype(str) == str(township)).to_numpy()
    return villages[mine], villages[~mine]


#: How the district outline is drawn (map and legend alike).
DISTRICT_STYLE: dict[str, Any] = {"color": "#222222", "linewidth": 1.4}
#: How township boundaries are drawn: every shared edge once, so the dashes stay regular.
TOWNSHIP_STYLE: dict[str, Any] = {"color": "#555555", "linewidth": 0.8, "linestyle": (0, (4, 2))}
#: The township in focus (brief): filled pale yellow, outlined brown.
FOCUS_FILL = "#fff7bc"
FOCUS_EDGE = "#b35806"


def _view(ax: Axes) -> shapely.Polygon:
    """The map's frame in data units (metres): what lies outside it is neither drawn nor listed."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return shapely.box(x0, y0, x1, y1)


def _draw_district(
    ax: Axes, district: gpd.GeoDataFrame, legend: LegendEntries, view: shapely.Polygon
) -> None:
    """The district outline, on top of the hexagons and township boundaries (when in view)."""
    if not district.boundary.intersects(view).any():
        return
    ax.add_collection(_lines(district, zorder=6, **DISTRICT_STYLE))
    legend.add("line", "区界", "District boundary", **DISTRICT_STYLE)


def _draw_surface(
    ax: Axes,
    hexes: gpd.GeoDataFrame,
    bands: Sequence[str],
    colours: Mapping[str, str],
    legend: LegendEntries,
    with_villages: bool,
    facility: tuple[str, str],
) -> None:
    """The gap hexagons: faint under the villages, or the map's message when alone."""
    fill = hexes["distance_band"].astype(str).map(colours).fillna(UNREACHABLE_COLOUR)
    alpha = 0.22 if with_villages else 0.55  # alone, the surface is the map's message
    ax.add_collection(_polygons(hexes, fill.to_list(), alpha=alpha, linewidth=0, zorder=2))
    shown = [b for b in bands if b in set(hexes["distance_band"].astype(str))]
    legend.heading(f"缺口面（六边形）：到最近{facility[0]}的距离",
                   f"Gap surface (hexagons): distance to nearest {facility[1].lower()}")  # fmt: skip
    band_swatches(legend, shown, colours, alpha=alpha)


def _draw_townships(
    ax: Axes,
    townships: gpd.GeoDataFrame,
    focus: gpd.GeoDataFrame | None,
    legend: LegendEntries,
    view: shapely.Polygon,
    district: gpd.GeoDataFrame | None,
) -> None:
    """Township boundaries (each edge once, dashed), and the township in focus filled.

    The dashed line is drawn and listed only where some of it shows: in view, and not under
    the district outline or the focus township's outline, which are drawn over it.
    """
    covers = [f.geometry.boundary for f in (district, focus) if f is not None]
    if _dashes_show(townships, covers, view):
        ax.add_collection(LineCollection(_inner_edges(townships), zorder=5, **TOWNSHIP_STYLE))
        legend.add("line", "镇街界（估算）", "Township boundary (estimated)", **TOWNSHIP_STYLE)
    if focus is not None:
        ax.add_collection(
            _polygons(focus, [FOCUS_FILL] * len(focus), alpha=0.45, linewidth=0, zorder=1)
        )
        ax.add_collection(_lines(focus, color=FOCUS_EDGE, linewidth=1.8, zorder=6))
        legend.add("patch", "本镇街", "This township", facecolor=to_rgba(FOCUS_FILL, 0.45),
                   edgecolor=FOCUS_EDGE, linewidth=1.8)  # fmt: skip


def _dashes_show(
    townships: gpd.GeoDataFrame, covers: Sequence[gpd.GeoSeries], view: shapely.Polygon
) -> bool:
    """Whether a stretch of township boundary shows in view, not under an outline on top."""
    edges = shapely.union_all(shapely.boundary(townships.geometry.array)).intersection(view)
    for cover in covers:
        edges = edges.difference(shapely.union_all(cover.array).buffer(1.0))
    x0, _, x1, _ = view.bounds
    return bool(edges.length > 0.01 * (x1 - x0))


def _inner_edges(townships: gpd.GeoDataFrame) -> list[np.ndarray]:
    """The townships' boundaries as lines, every shared edge once, merged end to end."""
    rings = shapely.boundary(townships.geometry.array)
    merged = shapely.line_merge(shapely.union_all(rings))
    parts = shapely.get_parts(merged)
    return [np.asarray(p.coords) for p in parts if not p.is_empty]


def _draw_facilities(
    ax: Axes,
    dataset: Dataset,
    facility_type: str,
    legend: LegendEntries,
    marker_scale: float,
    view: shapely.Polygon,
) -> gpd.GeoSeries:
    """The facilities in view as triangles, on top of everything but the labels; their points."""
    fac = _metric(dataset.layer(facility_type))
    pts = fac.geometry.representative_point()
    pts = pts[pts.within(view)]
    if not len(pts):
        return pts
    style: dict[str, Any] = {"marker": "^", "s": 34 * marker_scale, "facecolor": FACILITY_COLOUR,
             "edgecolor": "white", "linewidth": 0.5}  # fmt: skip
    ax.scatter(pts.x, pts.y, zorder=9, **style)
    zh, en = facility_titles(dataset, facility_type)
    legend.add("marker", zh, en, **style)
    return pts


def _map_extent(
    dataset: Dataset, focus: gpd.GeoDataFrame | None, villages: gpd.GeoDataFrame
) -> Sequence[float]:
    """The bounds to show: the township in focus, else the district, else the villages."""
    if focus is not None:
        return focus.total_bounds
    if dataset.has("district"):
        return _metric(dataset.layer("district")).total_bounds
    return villages.total_bounds


def _label_townships(
    ax: Axes,
    townships: gpd.GeoDataFrame,
    focus: gpd.GeoDataFrame | None,
    township: str | None,
    *,
    family: str,
    label_size: float,
    obstacles: np.ndarray | None = None,
) -> list[Text]:
    """Township names inside the extent, smallest townships first, overlaps nudged apart.

    With a township in focus, the other names are grey and not bold.
    """
    anchors = _label_anchors(ax, townships, focus)
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    order = np.argsort(townships.area.to_numpy())  # small townships keep their spot
    texts: list[Text] = []
    shapes: dict[int, Any] = {}
    for i in order:
        pt = anchors.iloc[i]
        if not (x0 <= pt.x <= x1 and y0 <= pt.y <= y1):
            continue
        shapes[len(texts)] = townships.geometry.iloc[i]
        code = townships["code9"].iloc[i]
        strong = focus is None or str(code) == str(township)
        texts.append(
            ax.text(
                pt.x,
                pt.y,
                str(townships["name"].iloc[i]),
                ha="center",
                va="center",
                fontsize=label_size,
                fontfamily=family,
                fontweight="bold" if strong else "normal",
                color="#111111" if strong else "#777777",
                zorder=12,
                path_effects=halo,
                clip_on=True,
            )
        )
    declutter_labels(ax, texts, obstacles=obstacles)
    optional = [t.get_fontweight() != "bold" for t in texts]  # neighbours of the focus
    if focus is not None:
        area = shapely.union_all(focus.geometry.array)
        neighbours = [(t, shapes[k]) for k, t in enumerate(texts) if optional[k]]
        gone = _off_the_focus(ax, neighbours, area)
        texts = [t for t in texts if t not in gone]
        optional = [t.get_fontweight() != "bold" for t in texts]
    return keep_inside(ax, texts, optional=optional)


def _off_the_focus(ax: Axes, labels: Sequence[tuple[Text, Any]], focus: Any) -> list[Text]:
    """Move a neighbour's name that lies over the township in focus to where it clears it, in
    the neighbour's part of the map; remove it when there is no such place.

    Returns
    -------
    list of matplotlib.text.Text
        The names removed.
    """
    renderer = _renderer(ax.get_figure(root=True))  # type: ignore[arg-type]
    to_data = ax.transData.inverted()
    view = _view(ax)
    gone: list[Text] = []
    for text, shape in labels:
        box = shapely.box(*to_data.transform(text.get_window_extent(renderer)).ravel())
        if not box.intersects(focus):
            continue
        x0, y0, x1, y1 = box.bounds
        half_w, half_h = (x1 - x0) / 2, (y1 - y0) / 2
        room = shapely.box(view.bounds[0] + half_w, view.bounds[1] + half_h,
                           view.bounds[2] - half_w, view.bounds[3] - half_h)  # fmt: skip
        free = shape.intersection(room).difference(focus.buffer(half_w, join_style="mitre"))
        parts = [p for p in shapely.get_parts(free) if p.geom_type == "Polygon" and p.area > 0]
        if not parts:
            text.remove()
            gone.append(text)
            continue
        spot = polylabel(max(parts, key=lambda p: p.area), tolerance=half_h / 4)
        text.set_position((spot.x, spot.y))
    return gone


def _label_anchors(
    ax: Axes, townships: gpd.GeoDataFrame, focus: gpd.GeoDataFrame | None
) -> gpd.GeoSeries:
    """Where each name goes: inside the township, and on a township's map inside the part seen
    (so the neighbours around the one in focus are named too)."""
    if focus is None:
        return townships.geometry.representative_point()
    x0, y0, x1, y1 = _view(ax).bounds
    inner = shapely.box(x0 + 0.08 * (x1 - x0), y0 + 0.08 * (y1 - y0),
                        x1 - 0.08 * (x1 - x0), y1 - 0.08 * (y1 - y0))  # fmt: skip
    points = []
    for geom in townships.geometry.array:
        seen = geom.intersection(inner)
        parts = [p for p in shapely.get_parts(seen) if p.geom_type == "Polygon" and p.area > 0]
        if not parts:
            points.append(geom.representative_point())
            continue
        biggest = max(parts, key=lambda p: p.area)  # the name where the township is widest
        points.append(polylabel(biggest, tolerance=max(biggest.length / 200, 1.0)))
    return gpd.GeoSeries(points, index=townships.index, crs=townships.crs)


def _bare_frame(ax: Axes) -> None:
    """No axis labels or ticks (the units are metres of a projected CRS), a thin frame."""
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.6)


def _lines(frame: gpd.GeoDataFrame, **style: Any) -> LineCollection:
    """Polygon outlines (or lines) of a frame as one matplotlib collection."""
    geoms = frame.geometry.array
    boundary = shapely.boundary(geoms)
    lines = shapely.get_parts(
        np.where(np.isin(shapely.get_type_id(geoms), (3, 6)), boundary, geoms)  # polygon → rings
    )
    lines = shapely.get_parts(lines)
    coords, index = shapely.get_coordinates(lines, return_index=True)
    splits = np.flatnonzero(np.diff(index)) + 1
    return LineCollection(np.split(coords, splits), **style)


def _polygons(frame: gpd.GeoDataFrame, colours: Sequence[str], **style: Any) -> PolyCollection:
    """Polygon exteriors of a frame as one filled collection (holes ignored; hexagons have none)."""
    parts, which = shapely.get_parts(frame.geometry.array, return_index=True)
    rings = shapely.get_exterior_ring(parts)
    coords, index = shapely.get_coordinates(rings, return_index=True)
    splits = np.flatnonzero(np.diff(index)) + 1
    face = [colours[i] for i in which]
    return PolyCollection(np.split(coords, splits), facecolors=face, **style)


def _add_basemap(ax: Axes) -> None:
    try:
        import contextily  # type: ignore[import-not-found]
    except ImportError as exc:
        raise ExportError(
            "a web basemap needs the optional package contextily and a network connection; "
            "export without basemap (the default)"
        ) from exc
    try:
        contextily.add_basemap(ax, crs=METRIC_CRS, attribution_size=5, zorder=0)
    except Exception as exc:  # network errors come in many types
        raise ExportError(f"could not fetch the web basemap (offline?): {exc}") from exc
