"""GIS data exports: GeoPackage, GeoJSON, zipped Shapefile and CSV for a colleague's QGIS.

One call gathers the layers a GIS user needs for a facility type (:func:`gis_layers`):

``district``
    the district outline (population, provenance),
``gaps_hex``
    the hexagonal gap surface (distance band of each cell),
``villages_access``
    every village / community with its children, service distance, walking distance to the
    nearest facility, covered or not, distance band and method,
``townships_summary``
    township polygons with children covered / uncovered and the share covered,
``indicators_by_township``
    township polygons with one column per plan indicator (its value) and ``<id>_met``,
``recommendations``
    recommended new sites, when a :class:`qjgeo.siting.Recommendation` is given,
``isochrones``
    the 5 / 10 / 15-minute (or chosen) catchments of a facility or point, when given
    (``minutes``, ``mode``, ``method``, ``area_km2``; largest first, so the nearest is drawn
    on top; ``data_status`` ``estimated`` for straight-line circles, ``osm`` on a network),
``facility_<type>``
    every facility layer of the dataset, with ``scenario_change`` (``added`` / ``changed``
    / ``unchanged``) and ``attribute_status`` naming invented (sample) attributes.

Every layer carries a ``data_status`` column and values rounded to their meaning (metres to
0.1 m, shares to 0.1 %). :func:`gis_package` writes them in CGCS2000 (EPSG:4490) by default,
or the Gauss-Krüger CM 114°E metric CRS (EPSG:4547, zone 38) or WGS84 (:data:`EXPORT_CRS`):
as a multi-layer GeoPackage (each layer with a description and a default QGIS style in its
``layer_styles`` table), one GeoJSON layer, a zip of Shapefiles (UTF-8 ``.cpg``, readable
10-character field names, booleans as 0/1, a ``<layer>.qml`` style with the full names as
aliases and ``fields.csv``) or one CSV table in UTF-8 with a BOM (Excel opens Chinese text
correctly), text cells starting with ``= + - @`` neutralised.

Unreachable distances (``inf`` in the results) are written as empty (null) values with
``distance_band = "unreachable"``: GIS formats have no infinity.
"""

from __future__ import annotations

import io
import json
import tempfile
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from qjgeo.catalog import Dataset
from qjgeo.crs import CGCS2000_CRS, METRIC_CRS, WGS84_CRS
from qjgeo.export.errors import ExportError
from qjgeo.export.gis_fields import (
    SHAPEFILE_FIELDS,
    round_values,
    shapefile_frame,
    shapefile_names,
)
from qjgeo.export.gis_style import layer_qml, write_layer_styles
from qjgeo.schema import FACILITY_LAYERS
from qjgeo.textsafety import neutralise_frame

__all__ = [
    "EXPORT_CRS",
    "GIS_FORMATS",
    "LAYER_NAMES",
    "SHAPEFILE_FIELDS",
    "ExportError",
    "flatten_frame",
    "gis_layers",
    "gis_package",
    "indicators_by_township",
    "table_csv",
]

GisFormat = Literal["gpkg", "geojson", "shp.zip", "csv"]
GIS_FORMATS: Final[tuple[str, ...]] = ("gpkg", "geojson", "shp.zip", "csv")
LAYER_NAMES: Final[tuple[str, ...]] = (
    "district",
    "gaps_hex",
    "villages_access",
    "townships_summary",
    "indicators_by_township",
    "recommendations",
    "isochrones",
    *(f"facility_{t}" for t in FACILITY_LAYERS),
    "facilities",
)
"""Layer names; ``facilities`` (single-layer formats) means ``facility_<the chosen type>``."""

#: The ``--crs`` choices: CGCS2000 lon/lat (default), its Gauss-Krüger zone 38 (CM 114°E,
#: metres, :data:`qjgeo.crs.METRIC_CRS`) and WGS84.
EXPORT_CRS: Final[dict[str, str]] = {
    "cgcs2000": CGCS2000_CRS,
    "cgcs2000-gk": METRIC_CRS,
    "wgs84": WGS84_CRS,
}


def _text(value: Any) -> Any:
    """Lists / sets / dicts become readable text (GIS fields hold scalars only)."""
    if isinstance(value, list | tuple | set | frozenset):
        return (
            "、".join(str(v) for v in sorted(value, key=str))
            if isinstance(value, set | frozenset)
            else "、".join(str(v) for v in value)
        )
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def flatten_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy fit for GIS / table formats: list cells joined as text, ``inf`` → null.

    Parameters
    ----------
    frame
        Any result frame (GeoDataFrame or plain).

    Returns
    -------
    pandas.DataFrame
        Same rows and columns; object columns holding lists/dicts become strings, infinite
        floats become ``NaN``, booleans with missing values become text.
    """
    out = frame.copy()
    geom = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col == geom:
            continue
        series = out[col]
        if series.dtype == object:
            out[col] = series.map(_text)
            values = out[col].dropna()
            if len(values) and values.map(lambda v: isinstance(v, bool)).all():
                out[col] = out[col].map(lambda v: None if v is None else str(bool(v)))
            elif len(values) and not values.map(lambda v: isinstance(v, str)).all():
                out[col] = out[col].map(lambda v: None if v is None or v is pd.NA else str(v))
        elif pd.api.types.is_float_dtype(series):
            out[col] = series.where(np.isfinite(series.to_numpy(dtype=float)))
    return out


def indicators_by_township(dataset: Dataset, indicators: pd.DataFrame) -> gpd.GeoDataFrame:
    """Township polygons with one column per indicator value and ``<id>_met``.

    Parameters
    ----------
    dataset
        Needs the township layer.
    indicators
        The frame of :func:`qjgeo.indicators.evaluate` (rows with a 9-digit ``scope``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``code9``, ``name``, then for each indicator ``<id>`` (value) and ``<id>_met``
        (``"True"``, ``"False"`` or empty when it cannot be judged), and ``data_status``
        (the weakest of the indicators' data).
    """
    towns = dataset.layer("township")[["code9", "name", "geometry"]].copy()
    towns["code9"] = towns["code9"].astype(str)
    rows = indicators[indicators["scope"].astype(str) != "district"]
    if rows.empty:
        towns["data_status"] = dataset.data_status(["township"])
        return gpd.GeoDataFrame(towns, geometry="geometry", crs=WGS84_CRS)
    values = rows.pivot_table(
        index="scope", columns="id", values="value", aggfunc="first", sort=False
    )
    met = rows.assign(
        met_text=rows["met"].map(lambda v: None if v is None or pd.isna(v) else str(bool(v)))
    )
    met = met.pivot_table(
        index="scope", columns="id", values="met_text", aggfunc="first", sort=False
    )
    ids = list(dict.fromkeys(rows["id"]))
    wide = pd.DataFrame(index=pd.Index(towns["code9"], name="scope"))
    for ind in ids:
        wide[ind] = values[ind].reindex(wide.index) if ind in values else np.nan
        wide[f"{ind}_met"] = met[ind].reindex(wide.index) if ind in met else None
    from qjgeo.export.staticmap import township_data_status  # loads matplotlib: late

    status = township_data_status(
        indicators, towns["code9"], default=dataset.data_status(["township"])
    )
    out = towns.join(wide.reset_index(drop=True).set_index(towns.index))
    out["data_status"] = status.to_numpy()
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84_CRS)


def _scenario_change(frame: pd.DataFrame) -> pd.Series:
    """``added`` / ``changed`` / ``unchanged`` per feature, from the scenario's marks."""
    change = pd.Series("unchanged", index=frame.index, dtype=object)
    if "scenario" not in frame.columns:
        return change
    marked = frame["scenario"].notna() & (frame["scenario"].astype(str) != "")
    source = frame["source"].astype(str) if "source" in frame.columns else ""
    added = marked & (frame["provenance"].astype(str) == "user")
    added &= pd.Series(source, index=frame.index).str.startswith("scenario ")
    change[marked] = "changed"
    change[added] = "added"
    return change


def _labelled(dataset: Dataset, layer_id: str) -> gpd.GeoDataFrame:
    """A dataset layer, flattened, with ``attribute_status`` and ``data_status`` columns.

    ``attribute_status`` names the attributes whose values are declared sample / estimated
    (e.g. ``has_play_area: sample``), so invented attributes stay labelled outside qjgeo.
    """
    frame = dataset.layer(layer_id)
    declared = {
        col: str(p) for col, p in dataset.spec(layer_id).attribute_provenance.items()
        if col in frame.columns
    }  # fmt: skip
    out = flatten_frame(frame)
    out["attribute_status"] = "; ".join(f"{c}: {p}" for c, p in declared.items())
    out["data_status"] = dataset.data_status([layer_id], attributes={layer_id: list(declared)})
    return gpd.GeoDataFrame(out, geometry=frame.geometry.name, crs=frame.crs)


def context_layers(dataset: Dataset) -> dict[str, gpd.GeoDataFrame]:
    """The district outline and every facility layer of a dataset, as exported.

    Parameters
    ----------
    dataset
        The dataset (a scenario applied, if any).

    Returns
    -------
    dict
        ``district`` (when the dataset has it) and ``facility_<type>`` for each facility
        layer, each with ``attribute_status`` and ``data_status``; facility layers also with
        ``facility_type`` and ``scenario_change``.
    """
    layers: dict[str, gpd.GeoDataFrame] = {}
    if dataset.has("district"):
        layers["district"] = _labelled(dataset, "district")
    for kind in FACILITY_LAYERS:
        if not dataset.has(kind):
            continue
        frame = _labelled(dataset, kind)
        frame.insert(0, "facility_type", kind)
        frame.insert(len(frame.columns) - 1, "scenario_change", _scenario_change(frame))
        layers[f"facility_{kind}"] = frame
    return layers


def _gap_layers(
    dataset: Dataset, facility_type: str, gaps: Any, surface: Any
) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """``gaps_hex``, ``villages_access`` and ``townships_summary`` of one facility type."""
    status = str(gaps.data_status)
    layers: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {}
    if surface is not None:
        hexes = flatten_frame(surface)
        hexes["facility_type"] = facility_type
        hexes["data_status"] = status
        layers["gaps_hex"] = hexes
    if not getattr(gaps, "has_demand", True):  # no villages: the distance surface is all
        return layers
    villages = flatten_frame(gaps.villages)
    if dataset.has("township") and "township_name" not in villages.columns:
        names = dataset.layer("township").set_index(dataset.layer("township")["code9"].astype(str))[
            "name"
        ]
        villages.insert(
            list(villages.columns).index("township_code") + 1,
            "township_name",
            villages["township_code"].astype(str).map(names),
        )
    villages["facility_type"] = facility_type
    villages["data_status"] = status
    layers["villages_access"] = villages

    summary = pd.DataFrame(gaps.townships).copy()
    summary["code9"] = summary["code9"].astype(str)
    summary["facility_type"] = facility_type
    summary["data_status"] = status
    if dataset.has("township"):
        towns = dataset.layer("township")[["code9", "geometry"]].copy()
        towns["code9"] = towns["code9"].astype(str)
        summary = gpd.GeoDataFrame(
            towns.merge(summary, on="code9", how="right"), geometry="geometry", crs=WGS84_CRS
        )
    layers["townships_summary"] = flatten_frame(summary)
    return layers


def _isochrone_layer(catchments: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The catchments, largest first (the nearest drawn on top), with ``data_status``."""
    frame = flatten_frame(catchments.sort_values("minutes", ascending=False))
    straight = frame["method"].astype(str) == "straight_line_x_detour"
    frame["data_status"] = np.where(straight, "estimated", "osm")
    return gpd.GeoDataFrame(frame, geometry=catchments.geometry.name, crs=catchments.crs)


def gis_layers(
    dataset: Dataset,
    facility_type: str,
    *,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    indicators: pd.DataFrame | Literal[False] | None = None,
    recommendation: Any = None,
    context: bool = True,
    catchments: gpd.GeoDataFrame | None = None,
) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Gather the export layers of one facility type (WGS84, one ``data_status`` column each).

    Parameters
    ----------
    dataset
        The dataset (a scenario applied, if any).
    facility_type
        Facility layer id, e.g. ``"childcare"``.
    gaps
        Precomputed :class:`qjgeo.gaps.GapResult` (computed when ``None``).
    surface
        Precomputed gap hexagons; computed when ``None``; left out when ``False``.
    indicators
        Precomputed :func:`qjgeo.indicators.evaluate` frame; computed when ``None``; left
        out when ``False``.
    recommendation
        A :class:`qjgeo.siting.Recommendation` whose ``sites`` become ``recommendations``.
    context
        Add the district outline and every facility layer (:func:`context_layers`).
    catchments
        Isochrones (:func:`qjgeo.isochrones.isochrones`, optionally with ``place``) written
        as the ``isochrones`` layer.

    Returns
    -------
    dict
        Layer name → frame, in :data:`LAYER_NAMES` order (those available), values rounded
        to their meaning (:func:`qjgeo.export.gis_fields.round_values`).

    Raises
    ------
    ExportError
        If the facility or village layer is missing.
    """
    from qjgeo.export.staticmap import prepare_gap_results  # loads matplotlib: late

    gaps, surface = prepare_gap_results(dataset, facility_type, gaps=gaps, surface=surface)
    extra = context_layers(dataset) if context else {}
    layers: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {}
    if "district" in extra:
        layers["district"] = extra.pop("district")
    layers.update(_gap_layers(dataset, facility_type, gaps, surface))
    has_demand = getattr(gaps, "has_demand", True)
    if has_demand and indicators is None:
        from qjgeo.indicators import evaluate

        indicators = evaluate(dataset)
    if has_demand and indicators is not False and indicators is not None:
        if dataset.has("township"):
            layers["indicators_by_township"] = flatten_frame(
                indicators_by_township(dataset, indicators)
            )
    if recommendation is not None:
        sites = flatten_frame(recommendation.sites)
        sites["facility_type"] = getattr(recommendation, "facility_type", facility_type)
        sites["data_status"] = getattr(recommendation, "data_status", str(gaps.data_status))
        layers["recommendations"] = sites
    if catchments is not None and len(catchments):
        layers["isochrones"] = _isochrone_layer(catchments)
    layers.update(extra)
    return {name: round_values(frame) for name, frame in layers.items()}


def _csv_geometry(frame: gpd.GeoDataFrame, crs: str) -> pd.DataFrame:
    """The geometry as columns: ``lon``/``lat`` (or ``x``/``y`` in metres) of points, or WKT."""
    geom = frame.geometry.to_crs(crs) if frame.crs is not None else frame.geometry
    metric = crs == METRIC_CRS
    out = pd.DataFrame(index=frame.index)
    if len(geom) and (geom.geom_type == "Point").all():
        digits = 1 if metric else 6
        out["x" if metric else "lon"] = geom.x.round(digits).to_numpy()
        out["y" if metric else "lat"] = geom.y.round(digits).to_numpy()
    else:
        out["wkt"] = geom.to_wkt(rounding_precision=1 if metric else 6).to_numpy()
    return out


def table_csv(frame: pd.DataFrame, crs: str = WGS84_CRS) -> bytes:
    """A table as CSV in UTF-8 with a BOM, formula-like text neutralised, geometry as columns.

    Points get ``lon`` and ``lat`` columns (``x`` and ``y`` in metres in the Gauss-Krüger
    CRS); other geometries are written as WKT, in ``crs``.
    """
    table = pd.DataFrame(flatten_frame(frame))
    if isinstance(frame, gpd.GeoDataFrame):
        table = table.drop(columns=[frame.geometry.name])
        table = pd.concat([table, _csv_geometry(frame, crs)], axis=1)
    table = neutralise_frame(table)
    return table.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _write(frame: pd.DataFrame, path: Path, layer: str, driver: str, **kw: Any) -> None:
    """Write one layer with pyogrio (non-spatial tables allowed in GeoPackage)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL notes on field widths
        if isinstance(frame, gpd.GeoDataFrame):
            pyogrio.write_dataframe(frame, path, layer=layer, driver=driver, **kw)
        else:
            pyogrio.write_dataframe(pd.DataFrame(frame), path, layer=layer, driver=driver, **kw)


def _isochrone_text(frame: pd.DataFrame) -> str:
    if not {"minutes", "mode", "method"} <= set(frame.columns) or not len(frame):
        return "等时圈 catchments"
    place = str(frame["place"].iloc[0]) if "place" in frame.columns else ""
    times = "/".join(f"{m:g}" for m in sorted(frame["minutes"]))
    return (
        f"等时圈 catchments {place}: {times} min, mode {frame['mode'].iloc[0]}, "
        f"method {frame['method'].iloc[0]}"
    )


def describe_layer(name: str, facility_type: str, frame: pd.DataFrame) -> str:
    """A one-line Chinese/English description of an export layer (GeoPackage metadata)."""
    status = ", ".join(sorted({str(v) for v in frame.get("data_status", pd.Series()).dropna()}))
    texts = {
        "district": "曲江区界 district outline",
        "gaps_hex": f"{facility_type} 步行距离缺口面 gap surface (distance band per hexagon)",
        "villages_access": f"村（社区）{facility_type} 覆盖 villages: walking distance, covered",
        "townships_summary": f"乡镇 {facility_type} 覆盖汇总 townships: children covered",
        "indicators_by_township": "乡镇规划指标 plan indicators by township",
        "recommendations": f"{facility_type} 推荐新址 recommended new sites",
        "isochrones": _isochrone_text(frame),
    }
    text = texts.get(name)
    if text is None and name.startswith("facility_"):
        text = f"设施 facilities: {name.removeprefix('facility_')} (scenario_change: 情景变化)"
    return f"{text or name}; qjgeo export; data status 数据状态: {status or 'n/a'}"


def _reproject(
    layers: Mapping[str, pd.DataFrame], crs: str
) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    return {
        name: frame.to_crs(crs) if isinstance(frame, gpd.GeoDataFrame) else frame
        for name, frame in layers.items()
    }


def _geopackage(layers: Mapping[str, pd.DataFrame], path: Path, facility_type: str) -> bytes:
    """Every layer in one GeoPackage, each described and styled for QGIS."""
    styles: list[tuple[str, str | None, str, str]] = []
    for name, frame in layers.items():
        description = describe_layer(name, facility_type, frame)
        options = {"DESCRIPTION": description, "IDENTIFIER": name}
        _write(frame, path, name, "GPKG", layer_options=options)
        spatial = isinstance(frame, gpd.GeoDataFrame)
        styles.append((name, "geom" if spatial else None, layer_qml(name, frame), description))
    write_layer_styles(path, styles)
    return path.read_bytes()


def _single_layer(layers: Mapping[str, pd.DataFrame], layer: str, facility_type: str) -> str:
    """The name of the one layer a GeoJSON / CSV export writes (``facilities`` resolved)."""
    if layer not in LAYER_NAMES:
        raise ExportError(f"layer must be one of {', '.join(LAYER_NAMES)}, got {layer!r}")
    name = f"facility_{facility_type}" if layer == "facilities" else layer
    if name not in layers:
        raise ExportError(
            f"layer {layer!r} is not available for this export (have: {', '.join(layers)})"
        )
    return name


def gis_package(
    dataset: Dataset,
    facility_type: str,
    *,
    fmt: GisFormat = "gpkg",
    layer: str = "villages_access",
    crs: str = "cgcs2000",
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    indicators: pd.DataFrame | Literal[False] | None = None,
    recommendation: Any = None,
    catchments: gpd.GeoDataFrame | None = None,
) -> bytes:
    """Gap results and their context for GIS as file bytes: GeoPackage, GeoJSON, Shapefile, CSV.

    Parameters
    ----------
    dataset
        The dataset (a scenario applied, if any).
    facility_type
        Facility layer id, e.g. ``"childcare"``.
    fmt
        ``"gpkg"`` (every layer in one file, described and styled for QGIS), ``"shp.zip"``
        (every spatial layer, one Shapefile each, UTF-8 ``.cpg``, a ``.qml`` style, plus
        ``fields.csv``), ``"geojson"`` or ``"csv"`` (the one ``layer``).
    layer
        The layer written by the single-layer formats (default ``"villages_access"``;
        ``"facilities"`` is the chosen type's facility layer).
    crs
        A key of :data:`EXPORT_CRS`: ``"cgcs2000"`` (EPSG:4490, default), ``"cgcs2000-gk"``
        (EPSG:4547, metres) or ``"wgs84"`` (EPSG:4326; a GeoJSON is then RFC 7946).
    gaps, surface, indicators, recommendation, catchments
        See :func:`gis_layers`.

    Returns
    -------
    bytes
        The file content.

    Raises
    ------
    ExportError
        For an unknown format, CRS or layer, or a dataset lacking the needed layers.
    """
    if fmt not in GIS_FORMATS:
        raise ExportError(f"GIS format must be one of {', '.join(GIS_FORMATS)}, got {fmt!r}")
    if crs not in EXPORT_CRS:
        raise ExportError(f"crs must be one of {', '.join(EXPORT_CRS)}, got {crs!r}")
    if fmt in ("geojson", "csv") and layer not in LAYER_NAMES:
        raise ExportError(f"layer must be one of {', '.join(LAYER_NAMES)}, got {layer!r}")
    layers = gis_layers(
        dataset,
        facility_type,
        gaps=gaps,
        surface=surface,
        indicators=indicators,
        recommendation=recommendation,
        catchments=catchments,
    )
    target = EXPORT_CRS[crs]
    if fmt == "csv":
        return table_csv(layers[_single_layer(layers, layer, facility_type)], target)
    layers = _reproject(layers, target)
    with tempfile.TemporaryDirectory(prefix="qjgeo-export-") as tmp:
        root = Path(tmp)
        if fmt == "gpkg":
            return _geopackage(layers, root / "export.gpkg", facility_type)
        if fmt == "geojson":
            name = _single_layer(layers, layer, facility_type)
            frame = layers[name]
            if not isinstance(frame, gpd.GeoDataFrame):
                raise ExportError(f"layer {layer!r} has no geometry; export it as CSV instead")
            path = root / f"{name}.geojson"
            _write(frame, path, name, "GeoJSON", RFC7946=target == WGS84_CRS)
            return path.read_bytes()
        return _shapefile_zip(layers, root)


def _shapefile_zip(layers: Mapping[str, pd.DataFrame], root: Path) -> bytes:
    """Each spatial layer as a UTF-8 Shapefile with a ``.qml`` style, zipped with ``fields.csv``."""
    mapping_rows: list[dict[str, str]] = []
    for name, frame in layers.items():
        if not isinstance(frame, gpd.GeoDataFrame):
            continue
        geometry = frame.geometry.name
        names = shapefile_names(list(frame.columns), geometry)
        mapping_rows += [{"layer": name, "field": s, "column": c} for c, s in names.items()]
        renamed = shapefile_frame(frame, geometry).rename(columns=names)
        _write(renamed, root / f"{name}.shp", name, "ESRI Shapefile", encoding="UTF-8")
        (root / f"{name}.qml").write_text(layer_qml(name, frame, names), encoding="utf-8")
    mapping = pd.DataFrame(mapping_rows, columns=["layer", "field", "column"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.iterdir()):
            zf.write(path, arcname=path.name)
        zf.writestr(
            "fields.csv", mapping.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
        )
    return buf.getvalue()
