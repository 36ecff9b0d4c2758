"""Build the planner's folium map from a dataset: pure functions, no streamlit.

One call, :func:`build_map`, draws the township polygons (optionally as a choropleth of a
per-township indicator), the villages and any facility or hazard layers, each in its own
toggleable ``FeatureGroup`` with a colour, an icon and an entry in the map's legend. Popups list
every attribute of the feature and its provenance, HTML-escaped. Extra :class:`Overlay` layers
(a gap surface, villages coloured by distance band, villages that flip in a scenario) are drawn
the same way.

Basemaps: ``"none"`` (plain background, works offline; the default), ``"osm"``
(OpenStreetMap), ``"amap"`` (高德, GCJ-02: every vector layer is shifted WGS84 → GCJ-02 before
drawing so it sits on Amap's streets) and ``"tianditu"`` (天地图, CGCS2000 ≈ WGS84, no shift;
needs a key).

The map still points at folium's CDN assets; the app and the exports pass it through
:func:`qjgeo.mapview.offline.localize_map` / :func:`~qjgeo.mapview.offline.standalone_html`.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Figure, MacroElement, Template

from qjgeo.catalog import Dataset
from qjgeo.crs import convert_gdf
from qjgeo.mapview.labels import field_label, value_label

__all__ = [
    "BASEMAPS",
    "DEFAULT_LAYERS",
    "LAYER_STYLES",
    "SIMPLIFY_TOLERANCE_DEG",
    "LayerStyle",
    "Overlay",
    "basemap_system",
    "build_map",
    "display_frame",
    "popup_fields",
]

Basemap = Literal["none", "osm", "amap", "tianditu"]
#: Basemaps offered, in menu order (``"none"`` first: it works offline).
BASEMAPS: Final[tuple[str, ...]] = ("none", "osm", "amap", "tianditu")
#: Township outlines are simplified to this tolerance (degrees, ≈ 50 m) to keep the payload small.
SIMPLIFY_TOLERANCE_DEG: Final = 0.0005
#: Drawn coordinates are rounded to this grid (degrees, ≈ 0.1 m): smaller payload, same map.
COORD_GRID_DEG: Final = 1e-6
#: Layers drawn when the caller does not choose.
DEFAULT_LAYERS: Final[tuple[str, ...]] = ("township", "village")

_AREA_LAYERS: Final = frozenset({"district", "township"})
_UNUSED_ASSETS: Final = frozenset({"bootstrap", "bootstrap_css", "glyphicons_css"})
_ZH_FONT = "'Microsoft YaHei','PingFang SC','Noto Sans CJK SC',sans-serif"


@dataclass(frozen=True)
class LayerStyle:
    """How a layer is drawn: a colour (CSS hex) and a Font Awesome icon name."""

    color: str
    icon: str
    #: awesome-markers colour name nearest to :attr:`color` (its marker palette is fixed).
    marker_color: str = "blue"


#: Colour and icon of every catalog layer (unknown layers fall back to grey dots).
LAYER_STYLES: Final[Mapping[str, LayerStyle]] = {
    "district": LayerStyle("#444444", "draw-polygon", "black"),
    "township": LayerStyle("#3b6ea8", "draw-polygon", "blue"),
    "village": LayerStyle("#6d4c41", "house", "darkred"),
    "park": LayerStyle("#2e7d32", "tree", "green"),
    "family_edu_station": LayerStyle("#8e24aa", "people-roof", "purple"),
    "science_venue": LayerStyle("#1565c0", "flask", "darkblue"),
    "childcare": LayerStyle("#f06292", "baby", "pink"),
    "kindergarten": LayerStyle("#ef6c00", "shapes", "orange"),
    "primary_school": LayerStyle("#0277bd", "school", "blue"),
    "middle_school": LayerStyle("#283593", "graduation-cap", "darkblue"),
    "children_home": LayerStyle("#d81b60", "children", "red"),
    "minors_protection_station": LayerStyle("#5d4037", "shield-halved", "darkpurple"),
    "health_centre": LayerStyle("#c62828", "house-medical", "red"),
    "internet_cafe": LayerStyle("#455a64", "computer", "gray"),
    "water_hazard": LayerStyle("#00838f", "triangle-exclamation", "cadetblue"),
}
_FALLBACK_STYLE: Final = LayerStyle("#757575", "circle", "gray")

_LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "zh": {
        "provenance": "数据来源类型",
        "source": "来源",
        "licence": "许可",
        "as_of": "数据日期",
        "legend": "图例",
        "no_data": "无数据",
        "empty": "（无要素）",
        "layer_provenance": "图层来源类型",
    },
    "en": {
        "provenance": "Provenance",
        "source": "Source",
        "licence": "Licence",
        "as_of": "As of",
        "legend": "Legend",
        "no_data": "no data",
        "empty": "(no features)",
        "layer_provenance": "Layer provenance",
    },
}


@dataclass(frozen=True)
class Overlay:
    """An extra layer drawn on top: e.g. a gap surface or villages coloured by distance band.

    Parameters
    ----------
    id
        Short identifier (used in the layer control's element names).
    title
        Layer name shown in the layer control and legend (already in the display language).
    frame
        Features in WGS84; points become circle markers, polygons filled shapes.
    color_column
        Column whose values pick the colour from ``colors``; ``None`` draws all in ``color``.
    colors
        Category value → CSS colour, also listed in the legend in this order.
    color
        Colour when ``color_column`` is ``None`` or a value is not in ``colors``.
    labels
        Optional category value → legend label (defaults to the value).
    """

    id: str
    title: str
    frame: gpd.GeoDataFrame
    color_column: str | None = None
    colors: Mapping[str, str] = field(default_factory=dict)
    color: str = "#555555"
    labels: Mapping[str, str] = field(default_factory=dict)


def basemap_system(basemap: str) -> str:
    """The coordinate system a basemap's tiles use: ``"gcj02"`` for Amap, else ``"wgs84"``.

    Parameters
    ----------
    basemap
        One of :data:`BASEMAPS`.
    """
    if basemap not in BASEMAPS:
        raise ValueError(f"unknown basemap {basemap!r}; use one of {', '.join(BASEMAPS)}")
    return "gcj02" if basemap == "amap" else "wgs84"


def display_frame(frame: gpd.GeoDataFrame, basemap: str) -> gpd.GeoDataFrame:
    """A WGS84 frame in the coordinates the basemap draws in (shifted to GCJ-02 for Amap).

    Parameters
    ----------
    frame
        Features in WGS84 (EPSG:4326).
    basemap
        One of :data:`BASEMAPS`.
    """
    if basemap_system(basemap) == "gcj02" and len(frame):
        return convert_gdf(frame, "wgs84", "gcj02")
    return frame


def _fmt(value: Any) -> str:
    """A cell value as display text (floats rounded, missing as empty)."""
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "∞"
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, bool | np.bool_):
        return "✓" if value else "✗"
    return str(value)


def popup_fields(
    frame: gpd.GeoDataFrame, *, note: Mapping[str, str] | None = None, lang: str = "zh"
) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """The popup rows of a layer: its attributes under the planner's labels (units included;
    internal columns left out, :mod:`qjgeo.mapview.labels`) plus the layer's provenance,
    HTML-escaped.

    Parameters
    ----------
    frame
        The features (the geometry column is left out).
    note
        Layer-level provenance facts (source, licence, date) added as extra rows.
    lang
        ``"zh"`` or ``"en"``: the labels and coded values (``estimated`` → 估算).

    Returns
    -------
    fields, aliases, values
        Property names (prefixed ``a_``), their escaped labels, and property name → one escaped
        display string per feature.
    """
    labels = _LABELS.get(lang, _LABELS["zh"])
    fields: list[str] = []
    aliases: list[str] = []
    values: dict[str, list[str]] = {}
    columns = [c for c in frame.columns if c != frame.geometry.name]
    for i, col in enumerate(columns):
        label = field_label(str(col), lang)
        if label is None:  # an internal column
            continue
        key = f"a_{i}"
        fields.append(key)
        aliases.append(html.escape(label))
        values[key] = [
            html.escape(value_label(str(col), _fmt(v), lang)) for v in frame[col].tolist()
        ]
    for j, (name, text) in enumerate((note or {}).items()):
        if name in columns:
            continue
        key = f"n_{j}"
        fields.append(key)
        aliases.append(html.escape(labels.get(name, name)))
        values[key] = [html.escape(str(text))] * len(frame)
    return fields, aliases, values


def _popup(
    frame: gpd.GeoDataFrame,
    note: Mapping[str, str] | None,
    lang: str,
    props: dict,
    enabled: bool = True,
) -> folium.GeoJsonPopup | None:
    """Add the escaped attribute values to ``props``; return the popup showing them.

    ``None`` (and nothing added) when popups are off: a map to click on, where a popup
    would take the click.
    """
    if not enabled:
        return None
    fields, aliases, values = popup_fields(frame, note=note, lang=lang)
    props.update(values)
    return folium.GeoJsonPopup(fields=fields, aliases=aliases, labels=True, max_width=420)


def _layer_title(dataset: Dataset, layer_id: str, lang: str) -> str:
    spec = dataset.spec(layer_id)
    return spec.title_zh if lang == "zh" else spec.title_en


def _spec_note(dataset: Dataset, layer_id: str) -> dict[str, str]:
    spec = dataset.spec(layer_id)
    return {"source": spec.source, "licence": spec.licence, "as_of": spec.as_of}


def _feature_collection(
    frame: gpd.GeoDataFrame, props: Mapping[str, Sequence[Any]]
) -> dict[str, Any]:
    """GeoJSON with only the given properties (keeps the payload small)."""
    geoms = shapely.set_precision(np.asarray(frame.geometry.array), COORD_GRID_DEG)
    geo = json.loads(gpd.GeoSeries(geoms, crs=frame.crs).to_json(drop_id=True))
    for i, feat in enumerate(geo["features"]):
        feat["properties"] = {k: v[i] for k, v in props.items()}
    return geo


def _name_column(frame: gpd.GeoDataFrame, lang: str) -> pd.Series:
    if lang == "en" and "name_en" in frame.columns:
        names = frame["name_en"].astype("string").fillna(frame["name"].astype("string"))
    elif "name" in frame.columns:
        names = frame["name"].astype("string")
    elif "id" in frame.columns:
        names = frame["id"].astype("string")
    else:
        names = pd.Series([""] * len(frame), index=frame.index, dtype="string")
    return names.fillna("").map(html.escape)


@dataclass(frozen=True)
class ChoroplethScale:
    """A fixed colour scale for the township choropleth (e.g. red = 0 % covered → green)."""

    colours: tuple[str, ...]
    vmin: float
    vmax: float


def _choropleth_colormap(
    values: pd.Series, caption: str, scale: ChoroplethScale | None = None
) -> cm.LinearColormap | None:
    finite = pd.to_numeric(values, errors="coerce").replace([np.inf, -np.inf], np.nan).dropna()
    if finite.empty:
        return None
    if scale is not None:
        return cm.LinearColormap(
            list(scale.colours), vmin=scale.vmin, vmax=scale.vmax, caption=caption
        )
    vmin, vmax = float(finite.min()), float(finite.max())
    if vmin == vmax:
        vmax = vmin + 1.0
    return cm.LinearColormap(
        ["#fff5eb", "#fdae6b", "#e6550d", "#7f2704"], vmin=vmin, vmax=vmax, caption=caption
    )


def _add_tiles(m: folium.Map, basemap: str, tianditu_key: str | None) -> None:
    if basemap == "osm":
        folium.TileLayer(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            attr="&copy; OpenStreetMap contributors",
            name="OpenStreetMap",
            control=False,
            max_zoom=19,
        ).add_to(m)
    elif basemap == "amap":
        folium.TileLayer(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
            attr="&copy; 高德地图 AutoNavi (GCJ-02)",
            name="高德地图 Amap",
            subdomains="1234",
            control=False,
            max_zoom=18,
        ).add_to(m)
    elif basemap == "tianditu":
        if not tianditu_key:
            raise ValueError(
                "the Tianditu basemap needs a key: set QJGEO_TIANDITU_KEY (https://console.tianditu.gov.cn)"
            )
        for layer in ("vec", "cva"):
            folium.TileLayer(
                f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={tianditu_key}",
                attr="&copy; 天地图 Tianditu",
                name=f"天地图 {layer}",
                subdomains="01234567",
                control=False,
                max_zoom=18,
            ).add_to(m)


_LEGEND_TEMPLATE = (
    """
{% macro html(this, kwargs) %}
<div id="{{ this.get_name() }}" class="qjgeo-legend" style="position:absolute; z-index:9999;
 bottom:24px; right:10px; background:rgba(255,255,255,0.92); padding:6px 9px; border-radius:4px;
 box-shadow:0 1px 4px rgba(0,0,0,0.3); font-size:12px; line-height:18px; max-height:70%;
 overflow:auto; font-family:"""
    + _ZH_FONT.replace("'", "&#39;")
    + """">
{{ this.body }}
</div>
{% endmacro %}
"""
)


class Legend(MacroElement):
    """A fixed HTML legend listing every drawn layer's symbol (body is pre-escaped HTML)."""

    _template = Template(_LEGEND_TEMPLATE)

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.body = body


class MetricScale(MacroElement):
    """Leaflet's scale bar in metres only (folium's ``control_scale`` adds miles too)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
{% endmacro %}"""
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


class RefitWhenShown(MacroElement):
    """Fit the bounds again when a map first drawn with no size (a hidden tab) is shown.

    Leaflet fits bounds to the container's size: in a tab not yet opened (streamlit's tabs,
    the component's frame) that size is zero and ``fitBounds`` falls back to the world view.
    When the map gets a size (Leaflet's ``resize``), it is fitted once more.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map, bounds) {
            var size = map.getSize(), fitted = size.x > 0 && size.y > 0;
            map.on("resize", function (e) {
                if (!fitted && e.newSize.x > 0 && e.newSize.y > 0) {
                    fitted = true;
                    map.fitBounds(bounds);
                }
            });
        })({{ this._parent.get_name() }}, {{ this.bounds|tojson }});
{% endmacro %}"""
    )

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "RefitWhenShown"
        self.bounds = bounds


class PlainAttribution(MacroElement):
    """The attribution prefix as plain "Leaflet" (Leaflet ≥ 1.9 adds a national flag icon,
    unfit for a government deliverable); data credits stay beside it."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet");
{% endmacro %}"""
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "PlainAttribution"


def _legend_row(color: str, icon: str | None, label: str, *, shape: str = "icon") -> str:
    label = html.escape(label)
    if shape == "swatch":
        sym = (
            f'<span style="display:inline-block;width:14px;height:10px;background:{color};'
            'border:1px solid #555;margin-right:5px;opacity:.8"></span>'
        )
    elif shape == "dot":
        sym = (
            f'<span style="display:inline-block;width:10px;height:10px;border-radius:50%;'
            f'background:{color};border:1px solid #333;margin-right:5px"></span>'
        )
    else:
        sym = (
            f'<i class="fa-solid fa-{icon}" style="color:{color};width:16px;'
            'text-align:center;margin-right:4px"></i>'
        )
    return f'<div class="qjgeo-legend-row">{sym}{label}</div>'


def _center(dataset: Dataset, frames: Mapping[str, gpd.GeoDataFrame]) -> tuple[float, float]:
    for frame in frames.values():
        if len(frame):
            minx, miny, maxx, maxy = frame.total_bounds
            return (float(miny + maxy) / 2, float(minx + maxx) / 2)
    return (24.68, 113.6)  # Qujiang


def build_map(
    dataset: Dataset,
    *,
    choropleth: pd.Series | None = None,
    choropleth_title: str = "",
    choropleth_scale: ChoroplethScale | None = None,
    layers: Sequence[str] = DEFAULT_LAYERS,
    basemap: str = "none",
    lang: str = "zh",
    overlays: Sequence[Overlay] = (),
    highlight_township: str | None = None,
    tianditu_key: str | None = None,
    simplify_tolerance_deg: float = SIMPLIFY_TOLERANCE_DEG,
    height: str | int = "100%",
    popups: bool = True,
) -> folium.Map:
    """Draw the dataset's layers on a folium map, one toggleable group per layer, with a legend.

    Parameters
    ----------
    dataset
        The dataset to draw (layers missing from it are skipped).
    choropleth
        Values indexed by township ``code9``; townships are filled by value (grey when missing).
    choropleth_title
        Caption of the choropleth colour scale (display language).
    choropleth_scale
        Fixed colours and range of the choropleth (default: light to dark orange over the
        values' range).
    layers
        Layer ids to draw, bottom to top; ``"township"`` is drawn as polygons, points as icons.
    basemap
        ``"none"`` (offline, default), ``"osm"``, ``"amap"`` (GCJ-02: vector layers shifted) or
        ``"tianditu"`` (needs ``tianditu_key``).
    lang
        ``"zh"`` or ``"en"``: layer titles, names and popup labels.
    overlays
        Extra layers drawn on top (see :class:`Overlay`).
    highlight_township
        ``code9`` of a township to outline in bold.
    tianditu_key
        Tianditu API key (only for ``basemap="tianditu"``).
    simplify_tolerance_deg
        Tolerance (degrees) for simplifying polygons before drawing.
    height
        Map height (CSS).
    popups
        ``False`` for a map to click on (the scenario editor): no attribute popups on any
        feature and no tooltips on areas, so a click anywhere reaches the map itself (Leaflet
        stops a click that opens a popup) and streamlit-folium reports it as ``last_clicked``.

    Returns
    -------
    folium.Map
        Not yet localized: pass it to :func:`qjgeo.mapview.offline.localize_map` for the app.
    """
    system = basemap_system(basemap)
    labels = _LABELS.get(lang, _LABELS["zh"])
    wanted = [lid for lid in dict.fromkeys(layers) if dataset.has(lid)]
    frames = {lid: display_frame(dataset.layer(lid), basemap) for lid in wanted}
    m = _empty_map(dataset, frames, basemap=basemap, tianditu_key=tianditu_key, height=height)
    legend_rows: list[str] = [f"<b>{html.escape(labels['legend'])}</b>"]
    shapes = _ShapeOptions(
        choropleth, choropleth_title, highlight_township, simplify_tolerance_deg, popups,
        choropleth_scale,
    )  # fmt: skip
    colormap = None
    for lid in wanted:
        frame = frames[lid]
        if not len(frame):  # an empty layer (nothing imported yet, all removed): said, not drawn
            legend_rows.append(_empty_layer_row(dataset, lid, lang, labels))
            continue
        layer_colormap = _add_layer(m, dataset, lid, frame, lang, shapes, legend_rows)
        if layer_colormap is not None:
            colormap = layer_colormap

    for ov in overlays:
        _add_overlay(m, ov, system, lang, legend_rows, popups=popups)

    if colormap is not None:
        colormap.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    m.add_child(Legend("".join(legend_rows)), name="qjgeo_legend")
    _fit_bounds(m, frames, [ov.frame for ov in overlays])
    return m


def _empty_map(
    dataset: Dataset,
    frames: Mapping[str, gpd.GeoDataFrame],
    *,
    basemap: str,
    tianditu_key: str | None,
    height: str | int,
) -> folium.Map:
    """A map centred on the layers, with the metric scale, lean assets and the basemap tiles."""
    m = folium.Map(
        location=_center(dataset, frames or {"_": dataset.layer(dataset.layer_ids[0])}),
        zoom_start=10,
        tiles=None,
        control_scale=False,
        prefer_canvas=False,
        height=height,
    )
    m.add_child(MetricScale())
    m.add_child(PlainAttribution())
    # Bootstrap (≈ 270 KB) and Glyphicons are not used by these maps (icons are Font Awesome):
    # leaving them out makes the map load faster, online or offline.
    m.default_js = [(n, u) for n, u in m.default_js if n not in _UNUSED_ASSETS]
    m.default_css = [(n, u) for n, u in m.default_css if n not in _UNUSED_ASSETS]
    if basemap == "none":
        cast(Figure, m.get_root()).header.add_child(
            folium.Element("<style>.leaflet-container{background:#eef2f3;}</style>")
        )
    _add_tiles(m, basemap, tianditu_key)
    return m


def _empty_layer_row(dataset: Dataset, lid: str, lang: str, labels: Mapping[str, str]) -> str:
    """The legend row of a layer with no features (its symbol, "(empty)" after its title)."""
    style = LAYER_STYLES.get(lid, _FALLBACK_STYLE)
    title = _layer_title(dataset, lid, lang)
    shape = "dot" if lid == "village" else ("swatch" if lid in _AREA_LAYERS else "icon")
    icon = style.icon if shape == "icon" else None
    return _legend_row(style.color, icon, f"{title} {labels['empty']}", shape=shape)


@dataclass(frozen=True)
class _ShapeOptions:
    """How features are drawn: the township choropleth, the township outlined, simplification,
    and whether features have popups (and areas tooltips)."""

    choropleth: pd.Series | None
    choropleth_title: str
    highlight_township: str | None
    simplify_tolerance_deg: float
    popups: bool = True
    choropleth_scale: ChoroplethScale | None = None


def _add_layer(
    m: folium.Map,
    dataset: Dataset,
    lid: str,
    frame: gpd.GeoDataFrame,
    lang: str,
    shapes: _ShapeOptions,
    legend_rows: list[str],
) -> cm.LinearColormap | None:
    """Draw one layer in its own group: shapes, markers or both; add its legend row.

    Returns
    -------
    branca.colormap.LinearColormap or None
        The choropleth's colour scale, when this layer is the township choropleth.
    """
    style = LAYER_STYLES.get(lid, _FALLBACK_STYLE)
    title = _layer_title(dataset, lid, lang)
    group = folium.FeatureGroup(name=title, show=True)
    names = _name_column(frame, lang)
    geom_types = set(frame.geom_type.unique())
    is_point = geom_types <= {"Point", "MultiPoint"}
    # admin areas are shapes only; a facility / hazard drawn as a shape (a pond, a park
    # outline) also gets its icon, so a small one stays visible at district scale
    is_shape = not is_point
    with_marker = is_point or lid not in _AREA_LAYERS
    props: dict[str, Sequence[Any]] = {"name": list(names)}
    popup = _popup(frame, _spec_note(dataset, lid), lang, props, shapes.popups)
    key_col = "code9" if "code9" in frame.columns else ("id" if "id" in frame.columns else None)
    if key_col is not None:
        props[key_col] = [str(v) for v in frame[key_col]]
    props["layer"] = [lid] * len(frame)
    colormap = None
    if is_shape:
        colormap = _add_shapes(group, lid, frame, props, popup, (style.color, title), shapes)
        if not with_marker:
            legend_rows.append(_legend_row(style.color, None, title, shape="swatch"))
    if with_marker:
        legend_rows.append(_add_markers(group, frame, props, popup, style, title, lid))
    group.add_to(m)
    return colormap


def _add_shapes(
    group: folium.FeatureGroup,
    lid: str,
    frame: gpd.GeoDataFrame,
    props: dict[str, Sequence[Any]],
    popup: folium.GeoJsonPopup | None,
    look: tuple[str, str],
    options: _ShapeOptions,
) -> cm.LinearColormap | None:
    """Simplified polygons, townships filled by the choropleth value if any, one outlined.

    ``look`` is the layer's colour and title.
    """
    base_color, title = look
    key_col = "code9" if "code9" in frame.columns else ("id" if "id" in frame.columns else None)
    shapes = frame.copy()
    shapes[shapes.geometry.name] = shapes.geometry.simplify(
        options.simplify_tolerance_deg, preserve_topology=True
    )
    fill: list[str | None] = [None] * len(frame)
    colormap = None
    if lid == "township" and options.choropleth is not None and "code9" in frame.columns:
        colormap, fill = _choropleth_fill(
            frame, props, options.choropleth, options.choropleth_title, options.choropleth_scale
        )
    props["fill"] = fill
    props["bold"] = (
        [str(c) == str(options.highlight_township) for c in frame[key_col]]
        if key_col == "code9"
        else [False] * len(frame)
    )
    data = _feature_collection(shapes, props)

    def _style(feature: dict[str, Any], base_color: str = base_color) -> dict[str, Any]:
        p = feature["properties"]
        filled = p.get("fill")
        return {
            "color": "#d62728" if p.get("bold") else base_color,
            "weight": 4 if p.get("bold") else 1.5,
            "fillColor": filled or base_color,
            "fillOpacity": 0.65 if filled else 0.08,
        }

    tooltip_fields = ["name", "value"] if "value" in props else ["name"]
    tooltip = (
        folium.GeoJsonTooltip(fields=tooltip_fields, labels=False, sticky=False)
        if options.popups
        else None
    )
    folium.GeoJson(
        data,
        name=title,
        style_function=_style,
        highlight_function=lambda _f: {"weight": 3, "color": "#222222"},
        tooltip=tooltip,
        popup=popup,
        smooth_factor=1.0,
    ).add_to(group)
    return colormap


def _choropleth_fill(
    frame: gpd.GeoDataFrame,
    props: dict[str, Sequence[Any]],
    choropleth: pd.Series,
    caption: str,
    scale: ChoroplethScale | None = None,
) -> tuple[cm.LinearColormap | None, list[str | None]]:
    """Each township's value (added to ``props``) and its fill colour (grey when missing)."""
    colormap = _choropleth_colormap(choropleth, caption, scale)
    vals = pd.to_numeric(
        frame["code9"].astype(str).map(choropleth.rename(index=str)), errors="coerce"
    )
    props["value"] = [_fmt(v) for v in vals]
    fill: list[str | None] = [
        colormap(float(v)) if colormap is not None and np.isfinite(v) else "#cccccc" for v in vals
    ]
    return colormap, fill


def _add_markers(
    group: folium.FeatureGroup,
    frame: gpd.GeoDataFrame,
    props: dict[str, Sequence[Any]],
    popup: folium.GeoJsonPopup | None,
    style: LayerStyle,
    title: str,
    lid: str,
) -> str:
    """Villages as dots, other features as icons (at a point inside shapes); the legend row."""
    points = frame.copy()
    points[points.geometry.name] = points.geometry.representative_point()
    data = _feature_collection(points, props)
    if lid == "village":
        marker: folium.Marker | folium.CircleMarker = folium.CircleMarker(
            radius=4, color="#ffffff", weight=1, fill=True,
            fill_color=style.color, fill_opacity=0.9,
        )  # fmt: skip
        row = _legend_row(style.color, None, title, shape="dot")
    else:
        marker = folium.Marker(
            icon=folium.Icon(color=style.marker_color, icon=style.icon, prefix="fa")
        )
        row = _legend_row(style.color, style.icon, title)
    folium.GeoJson(
        data,
        name=title,
        marker=marker,
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        popup=popup,
    ).add_to(group)
    return row


def _fit_bounds(
    m: folium.Map, frames: Mapping[str, gpd.GeoDataFrame], overlays: Sequence[gpd.GeoDataFrame] = ()
) -> None:
    """Zoom to the first layer with features (the bottom one drawn) and the overlays."""
    bounds_frame = next((f for f in frames.values() if len(f)), None)
    shown = [f.total_bounds for f in (bounds_frame, *overlays) if f is not None and len(f)]
    if shown:
        box = np.asarray(shown, dtype=float)
        minx, miny = box[:, 0].min(), box[:, 1].min()
        maxx, maxy = box[:, 2].max(), box[:, 3].max()
        pad = max(0.0, 0.002 - (maxx - minx), 0.002 - (maxy - miny)) / 2  # one point: ≈ 200 m
        bounds = [[miny - pad, minx - pad], [maxy + pad, maxx + pad]]  # (Leaflet: no zoom ∞)
        m.fit_bounds(bounds)
        m.add_child(RefitWhenShown(bounds))


def _add_overlay(
    m: folium.Map,
    ov: Overlay,
    system: str,
    lang: str,
    legend_rows: list[str],
    *,
    popups: bool = True,
) -> None:
    frame = ov.frame
    if frame is None or not len(frame):
        return
    if frame.crs is not None and not frame.crs.is_geographic:
        frame = frame.to_crs("EPSG:4326")
    if system == "gcj02":
        frame = convert_gdf(frame, "wgs84", "gcj02")
    if ov.color_column is not None and ov.color_column in frame.columns:
        cats = frame[ov.color_column].astype("string").fillna("")
        colors = [ov.colors.get(str(c), ov.color) for c in cats]
    else:
        colors = [ov.color] * len(frame)
    names = _name_column(frame, lang)
    props: dict[str, Sequence[Any]] = {
        "name": list(names),
        "c": colors,
        "layer": [ov.id] * len(frame),
    }
    popup = _popup(frame, None, lang, props, popups)
    for key in ("code9", "code12", "id"):
        if key in frame.columns:
            props[key] = [str(v) for v in frame[key]]
    geom_types = set(frame.geom_type.unique())
    is_area = geom_types <= {"Polygon", "MultiPolygon"}
    group = folium.FeatureGroup(name=ov.title, show=True)
    if is_area:
        data = _feature_collection(frame, props)
        folium.GeoJson(
            data,
            name=ov.title,
            style_function=lambda f: {
                "color": f["properties"]["c"],
                "weight": 0.3,
                "fillColor": f["properties"]["c"],
                "fillOpacity": 0.45,
            },
            popup=popup,
        ).add_to(group)
        shape = "swatch"
    else:
        pts = frame.copy()
        pts[pts.geometry.name] = pts.geometry.representative_point()
        data = _feature_collection(pts, props)
        folium.GeoJson(
            data,
            name=ov.title,
            marker=folium.CircleMarker(radius=6, weight=1, fill=True, fill_opacity=0.95),
            style_function=lambda f: {"color": "#222222", "fillColor": f["properties"]["c"]},
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
            popup=popup,
        ).add_to(group)
        shape = "dot"
    group.add_to(m)
    legend_rows.append(f"<div><b>{html.escape(ov.title)}</b></div>")
    if ov.colors and ov.color_column is not None:
        for value, color in ov.colors.items():
            legend_rows.append(_legend_row(color, None, ov.labels.get(value, value), shape=shape))
    else:
        legend_rows.append(_legend_row(ov.color, None, ov.title, shape=shape))
