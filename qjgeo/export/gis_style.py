"""Default QGIS styles of the GIS export, so a colleague's QGIS opens it looking like the map.

:func:`layer_qml` writes a minimal QML document per layer: outline lines for the district
and the townships, villages coloured covered / not covered, facility points (scenario
additions as stars), the gap surface graduated by distance band, and the full column names
as field aliases. :func:`write_layer_styles` stores them in a GeoPackage's ``layer_styles``
table (the table QGIS itself writes and reads, each row the layer's default style); a
Shapefile gets the same QML as a ``<layer>.qml`` file beside it, which QGIS loads by itself.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import pandas as pd
import pyogrio

from qjgeo.export.gis_fields import LABELS
from qjgeo.schema import FACILITY_LAYERS

#: Colours of the distance bands, nearest first (green → red), then "unreachable" (grey).
BAND_COLOURS: Final[tuple[str, ...]] = (
    "26,150,65,160",
    "166,217,106,160",
    "255,255,191,160",
    "253,174,97,160",
    "215,25,28,160",
    "150,150,150,160",
)
_COVERED: Final = "44,123,182,255"
_NOT_COVERED: Final = "215,25,28,255"
_FACILITY_COLOURS: Final[tuple[str, ...]] = (
    "31,120,180,255",
    "51,160,44,255",
    "227,26,28,255",
    "255,127,0,255",
    "106,61,154,255",
    "177,89,40,255",
    "166,206,227,255",
    "178,223,138,255",
    "251,154,153,255",
    "253,191,111,255",
    "202,178,214,255",
)
STYLE_NAME: Final = "qjgeo"


def _options(parent: ET.Element, props: Mapping[str, str]) -> None:
    """Symbol-layer properties as QGIS 3 writes them (an ``Option`` map)."""
    opt = ET.SubElement(parent, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(opt, "Option", name=key, type="QString", value=value)


def _symbol(parent: ET.Element, name: str, kind: str, props: Mapping[str, str]) -> None:
    """One ``<symbol>`` of one simple symbol layer (fill, line or marker)."""
    cls = {"fill": "SimpleFill", "line": "SimpleLine", "marker": "SimpleMarker"}[kind]
    sym = ET.SubElement(
        parent, "symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0"
    )
    layer = ET.SubElement(sym, "layer", {"class": cls, "enabled": "1", "pass": "0", "locked": "0"})
    _options(layer, props)


def _outline(colour: str, width: str) -> dict[str, str]:
    return {
        "color": "0,0,0,0",
        "style": "no",
        "outline_color": colour,
        "outline_style": "solid",
        "outline_width": width,
        "outline_width_unit": "MM",
    }


def _marker(colour: str, shape: str = "circle", size: str = "2.4") -> dict[str, str]:
    return {
        "color": colour,
        "name": shape,
        "size": size,
        "size_unit": "MM",
        "outline_color": "35,35,35,255",
        "outline_width": "0.2",
        "outline_width_unit": "MM",
    }


def _single(renderer_parent: ET.Element, kind: str, props: Mapping[str, str]) -> None:
    renderer = ET.SubElement(renderer_parent, "renderer-v2", type="singleSymbol", symbollevels="0")
    _symbol(ET.SubElement(renderer, "symbols"), "0", kind, props)


def _rules(
    root: ET.Element, kind: str, rules: Sequence[tuple[str, str, Mapping[str, str]]]
) -> None:
    """A rule-based renderer: (filter expression, label, symbol properties) per rule."""
    renderer = ET.SubElement(root, "renderer-v2", type="RuleRenderer", symbollevels="0")
    node = ET.SubElement(renderer, "rules", key="root")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (expr, label, props) in enumerate(rules):
        ET.SubElement(node, "rule", key=f"r{i}", filter=expr, symbol=str(i), label=label)
        _symbol(symbols, str(i), kind, props)


def _graduated(root: ET.Element, field: str, bands: Sequence[tuple[int, str]]) -> None:
    """Graduated fill on the band order, one range per band, labelled with the band."""
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        type="graduatedSymbol",
        attr=field,
        graduatedMethod="GraduatedColor",
        symbollevels="0",
    )
    ranges = ET.SubElement(renderer, "ranges")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (order, label) in enumerate(bands):
        ET.SubElement(
            ranges,
            "range",
            render="true",
            symbol=str(i),
            lower=f"{order - 0.5:.1f}",
            upper=f"{order + 0.5:.1f}",
            label=label,
        )
        colour = BAND_COLOURS[min(order, len(BAND_COLOURS) - 1)]
        props = {"color": colour, "style": "solid", "outline_style": "no"}
        _symbol(symbols, str(i), "fill", props)


def _rgba(colour: str, alpha: int) -> str:
    """``#rrggbb`` → QGIS's ``r,g,b,a``."""
    return ",".join(str(int(colour[i : i + 2], 16)) for i in (1, 3, 5)) + f",{alpha}"


def _catchment_rules(root: ET.Element, fields: Mapping[str, str], frame: pd.DataFrame) -> None:
    """One fill rule per catchment time, coloured as on the map (nearest first, green)."""
    from qjgeo.isochrones import catchment_colours

    minutes = sorted({float(m) for m in frame["minutes"].dropna()})
    field = _q(fields.get("minutes", "minutes"))
    rules = [
        (f"{field} = {m!r}", f"{m:g} 分钟 min",
         {"color": _rgba(c, 110), "style": "solid", "outline_color": _rgba(c, 255),
          "outline_style": "solid", "outline_width": "0.3", "outline_width_unit": "MM"})
        for m, c in zip(minutes, catchment_colours(len(minutes)), strict=True)
    ]  # fmt: skip
    _rules(root, "fill", rules)


def _q(field: str) -> str:
    return '"' + field.replace('"', '""') + '"'


def _renderer(root: ET.Element, name: str, fields: Mapping[str, str], frame: pd.DataFrame) -> None:
    """The renderer of one layer, chosen by the layer's name."""
    if name in ("district",):
        _single(root, "fill", _outline("35,35,35,255", "0.8"))
    elif name in ("townships_summary", "indicators_by_township"):
        _single(root, "fill", _outline("90,90,90,255", "0.4"))
    elif name == "villages_access":
        covered = _q(fields.get("covered", "covered"))
        _rules(
            root,
            "marker",
            [
                (covered, "已覆盖 covered", _marker(_COVERED)),
                (f"NOT {covered}", "未覆盖 not covered", _marker(_NOT_COVERED)),
            ],
        )
    elif name == "gaps_hex":
        pairs = frame[["band_order", "distance_band"]].drop_duplicates().sort_values("band_order")
        bands = [(int(o), str(b)) for o, b in pairs.itertuples(index=False)]
        _graduated(root, fields.get("band_order", "band_order"), bands)
    elif name == "isochrones":
        _catchment_rules(root, fields, frame)
    elif name.startswith("facility_") or name == "recommendations":
        kind = name.removeprefix("facility_")
        i = FACILITY_LAYERS.index(kind) if kind in FACILITY_LAYERS else 0
        colour = _FACILITY_COLOURS[i % len(_FACILITY_COLOURS)]
        if name == "recommendations":
            _single(root, "marker", _marker("255,0,255,255", "star", "4"))
            return
        change = _q(fields.get("scenario_change", "scenario_change"))
        _rules(
            root,
            "marker",
            [
                (
                    f"{change} = 'added'",
                    "情景新增 added in the scenario",
                    _marker(colour, "star", "4"),
                ),
                ("ELSE", "现状 existing", _marker(colour)),
            ],
        )


def layer_qml(name: str, frame: pd.DataFrame, fields: Mapping[str, str] | None = None) -> str:
    """The default QGIS style (QML) of one export layer.

    Parameters
    ----------
    name
        The layer name (``district``, ``townships_summary``, ``villages_access``,
        ``gaps_hex``, ``facility_<type>``, ...); it chooses the symbology.
    frame
        The layer's frame with its full column names.
    fields
        Column → field name as written (Shapefile short names); identity when ``None``.

    Returns
    -------
    str
        A QML document: renderer and field aliases (the full name or a Chinese/English label).
    """
    geometry = frame.geometry.name if hasattr(frame, "geometry") else None
    columns = [c for c in frame.columns if c != geometry]
    fields = dict(fields) if fields is not None else {c: c for c in columns}
    root = ET.Element("qgis", version="3.28.0", styleCategories="Symbology|Fields")
    if geometry is not None:
        _renderer(root, name, fields, frame)
    aliases = ET.SubElement(root, "aliases")
    for i, col in enumerate(columns):
        ET.SubElement(
            aliases, "alias", index=str(i), field=fields.get(col, col), name=LABELS.get(col, col)
        )
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def write_layer_styles(
    path: Path, styles: Sequence[tuple[str, str | None, str, str]], *, owner: str = "qjgeo"
) -> None:
    """Add QGIS's ``layer_styles`` table to a GeoPackage, one default style per layer.

    Parameters
    ----------
    path
        The GeoPackage.
    styles
        ``(table, geometry column or None, QML, description)`` per layer.
    owner
        The ``owner`` column.
    """
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    table = pd.DataFrame(
        {
            "f_table_catalog": [""] * len(styles),
            "f_table_schema": [""] * len(styles),
            "f_table_name": [s[0] for s in styles],
            "f_geometry_column": [s[1] or "" for s in styles],
            "styleName": [STYLE_NAME] * len(styles),
            "styleQML": [s[2] for s in styles],
            "styleSLD": [""] * len(styles),
            "useAsDefault": pd.array([True] * len(styles), dtype=bool),
            "description": [s[3] for s in styles],
            "owner": [owner] * len(styles),
            "ui": [""] * len(styles),
            "update_time": pd.to_datetime([now] * len(styles)),
        }
    )
    pyogrio.write_dataframe(
        table, path, layer="layer_styles", driver="GPKG", layer_options={"FID": "id"}
    )
