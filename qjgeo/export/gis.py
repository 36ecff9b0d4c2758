"""GIS data exports: GeoPackage, GeoJSON, zipped Shapefile and CSV of the gap results.

One call gathers the layers a GIS user needs for a facility type (:func:`gis_layers`):

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
    recommended new sites, when a :class:`qjgeo.siting.Recommendation` is given.

Every layer carries a ``data_status`` column. :func:`gis_package` writes them as a
multi-layer GeoPackage, one GeoJSON layer, a zip of Shapefiles (UTF-8, with ``.cpg`` files and
a ``fields.csv`` mapping the 10-character Shapefile field names back to the full names) or one
CSV table in UTF-8 with a BOM (Excel opens Chinese text correctly), text cells starting with
``= + - @`` neutralised.

Unreachable distances (``inf`` in the results) are written as empty (null) values with
``distance_band = "unreachable"``: GIS formats have no infinity.
"""

from __future__ import annotations

import io
import json
import tempfile
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS
from qjgeo.export.staticmap import ExportError, prepare_gap_results, township_data_status

GisFormat = Literal["gpkg", "geojson", "shp.zip", "csv"]
GIS_FORMATS: Final[tuple[str, ...]] = ("gpkg", "geojson", "shp.zip", "csv")
LAYER_NAMES: Final[tuple[str, ...]] = (
    "gaps_hex",
    "villages_access",
    "townships_summary",
    "indicators_by_township",
    "recommendations",
)

#: Shapefile field names (≤ 10 characters) of the longer column names; other names are cut
#: to 10 characters (made unique with a digit). The zip's ``fields.csv`` lists every mapping.
SHAPEFILE_FIELDS: Final[dict[str, str]] = {
    "township_code": "town_code",
    "township_name": "town_name",
    "children_uncovered": "child_unc",
    "children_covered": "child_cov",
    "share_covered": "share_cov",
    "distance_m": "dist_m",
    "threshold_m": "thresh_m",
    "facility_id": "fac_id",
    "facility_type": "fac_type",
    "distance_band": "dist_band",
    "villages_covered": "vill_cov",
    "data_status": "status",
    "candidate_id": "cand_id",
    "marginal_gain": "marg_gain",
    "marginal_children": "marg_child",
    "marginal_townships": "marg_town",
    "cumulative_covered": "cum_cov",
    "share_after_site": "share_aft",
    "provenance": "provenance",
    "band_order": "band_order",
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
    status = township_data_status(
        indicators, towns["code9"], default=dataset.data_status(["township"])
    )
    out = towns.join(wide.reset_index(drop=True).set_index(towns.index))
    out["data_status"] = status.to_numpy()
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84_CRS)


def gis_layers(
    dataset: Dataset,
    facility_type: str,
    *,
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    indicators: pd.DataFrame | Literal[False] | None = None,
    recommendation: Any = None,
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

    Returns
    -------
    dict
        Layer name → frame, in :data:`LAYER_NAMES` order (those available).

    Raises
    ------
    ExportError
        If the facility or village layer is missing.
    """
    gaps, surface = prepare_gap_results(dataset, facility_type, gaps=gaps, surface=surface)
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

    if indicators is None:
        from qjgeo.indicators import evaluate

        indicators = evaluate(dataset)
    if indicators is not False and indicators is not None and dataset.has("township"):
        layers["indicators_by_township"] = flatten_frame(
            indicators_by_township(dataset, indicators)
        )

    if recommendation is not None:
        sites = flatten_frame(recommendation.sites)
        sites["facility_type"] = getattr(recommendation, "facility_type", facility_type)
        sites["data_status"] = getattr(recommendation, "data_status", status)
        layers["recommendations"] = sites
    return layers


def _shapefile_names(columns: Sequence[str], geometry: str | None) -> dict[str, str]:
    """Map column names to unique Shapefile field names of at most 10 characters."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        if col == geometry:
            continue
        short = SHAPEFILE_FIELDS.get(col, col)[:10]
        base, i = short, 1
        while short.lower() in used:
            suffix = str(i)
            short = base[: 10 - len(suffix)] + suffix
            i += 1
        used.add(short.lower())
        out[col] = short
    return out


def _neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    from qjgeo.textsafety import neutralise_formula

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise_formula, na_action="ignore")
    return out


def table_csv(frame: pd.DataFrame) -> bytes:
    """A table as CSV in UTF-8 with a BOM, formula-like text neutralised, geometry as lon/lat.

    Points get ``lon`` and ``lat`` columns; other geometries are written as WKT.
    """
    table = pd.DataFrame(flatten_frame(frame))
    if isinstance(frame, gpd.GeoDataFrame):
        geom = frame.geometry.to_crs(WGS84_CRS) if frame.crs is not None else frame.geometry
        table = table.drop(columns=[frame.geometry.name])
        if len(geom) and (geom.geom_type == "Point").all():
            table["lon"] = geom.x.round(6).to_numpy()
            table["lat"] = geom.y.round(6).to_numpy()
        else:
            table["wkt"] = geom.to_wkt().to_numpy()
    table = _neutralise_frame(table)
    return table.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _write(frame: pd.DataFrame, path: Path, layer: str, driver: str, **kw: Any) -> None:
    """Write one layer with pyogrio (non-spatial tables allowed in GeoPackage)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL notes on field widths
        if isinstance(frame, gpd.GeoDataFrame):
            pyogrio.write_dataframe(frame, path, layer=layer, driver=driver, **kw)
        else:
            pyogrio.write_dataframe(pd.DataFrame(frame), path, layer=layer, driver=driver, **kw)


def gis_package(
    dataset: Dataset,
    facility_type: str,
    *,
    fmt: GisFormat = "gpkg",
    layer: str = "villages_access",
    gaps: Any = None,
    surface: gpd.GeoDataFrame | Literal[False] | None = None,
    indicators: pd.DataFrame | Literal[False] | None = None,
    recommendation: Any = None,
) -> bytes:
    """Gap results for GIS as file bytes: GeoPackage, GeoJSON, zipped Shapefile or CSV.

    Parameters
    ----------
    dataset
        The dataset (a scenario applied, if any).
    facility_type
        Facility layer id, e.g. ``"childcare"``.
    fmt
        ``"gpkg"`` (every layer in one file), ``"shp.zip"`` (every layer, one Shapefile each,
        UTF-8 ``.cpg``, plus ``fields.csv``), ``"geojson"`` or ``"csv"`` (the one ``layer``).
    layer
        The layer written by the single-layer formats (default ``"villages_access"``).
    gaps, surface, indicators, recommendation
        See :func:`gis_layers`.

    Returns
    -------
    bytes
        The file content.

    Raises
    ------
    ExportError
        For an unknown format or layer, or a dataset lacking the needed layers.
    """
    if fmt not in GIS_FORMATS:
        raise ExportError(f"GIS format must be one of {', '.join(GIS_FORMATS)}, got {fmt!r}")
    if fmt in ("geojson", "csv") and layer not in LAYER_NAMES:
        raise ExportError(f"layer must be one of {', '.join(LAYER_NAMES)}, got {layer!r}")
    layers = gis_layers(
        dataset,
        facility_type,
        gaps=gaps,
        surface=surface,
        indicators=indicators,
        recommendation=recommendation,
    )
    if fmt in ("geojson", "csv") and layer not in layers:
        raise ExportError(
            f"layer {layer!r} is not available for this export (have: {', '.join(layers)})"
        )
    if fmt == "csv":
        return table_csv(layers[layer])
    with tempfile.TemporaryDirectory(prefix="qjgeo-export-") as tmp:
        root = Path(tmp)
        if fmt == "gpkg":
            path = root / "export.gpkg"
            for name, frame in layers.items():
                _write(frame, path, name, "GPKG")
            return path.read_bytes()
        if fmt == "geojson":
            frame = layers[layer]
            if not isinstance(frame, gpd.GeoDataFrame):
                raise ExportError(f"layer {layer!r} has no geometry; export it as CSV instead")
            path = root / f"{layer}.geojson"
            _write(frame, path, layer, "GeoJSON", RFC7946=True)
            return path.read_bytes()
        return _shapefile_zip(layers, root)


def _shapefile_zip(layers: Mapping[str, pd.DataFrame], root: Path) -> bytes:
    """Write each spatial layer as a UTF-8 Shapefile and zip them with ``fields.csv``."""
    mapping_rows: list[dict[str, str]] = []
    for name, frame in layers.items():
        if not isinstance(frame, gpd.GeoDataFrame):
            continue
        names = _shapefile_names(list(frame.columns), frame.geometry.name)
        mapping_rows += [{"layer": name, "field": s, "column": c} for c, s in names.items()]
        renamed = frame.rename(columns=names)
        for col, short in names.items():  # Shapefile has no boolean type
            if pd.api.types.is_bool_dtype(frame[col]):
                renamed[short] = frame[col].map({True: "True", False: "False"})
        _write(renamed, root / f"{name}.shp", name, "ESRI Shapefile", encoding="UTF-8")
    mapping = pd.DataFrame(mapping_rows, columns=["layer", "field", "column"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.iterdir()):
            zf.write(path, arcname=path.name)
        zf.writestr(
            "fields.csv", mapping.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
        )
    return buf.getvalue()
