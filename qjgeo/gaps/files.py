"""Gap tables and gap surfaces written to GIS files (GeoPackage, GeoJSON) or CSV.

The messages name the command-line options (``--out``, ``--surface``) the paths come from:
these writers are what ``qjgeo gaps --out/--surface`` run (see :func:`qjgeo.gaps.gaps_report`).
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pandas as pd

from qjgeo.catalog import Dataset
from qjgeo.gaps.compute import GapResult
from qjgeo.gaps.inputs import GapsOptionError
from qjgeo.gaps.surface import gap_surface
from qjgeo.network import WalkGraph
from qjgeo.textsafety import neutralise_frame

#: File types the per-village gaps can be written to.
OUT_SUFFIXES: tuple[str, ...] = (".gpkg", ".geojson", ".csv")
#: File types the gap surface can be written to.
SURFACE_SUFFIXES: tuple[str, ...] = (".gpkg", ".geojson")


def _finite_or_none(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """For GIS files: ``inf`` distance → empty (the ``method`` column says 'unreachable')."""
    out = frame.copy()
    for column in ("distance_m", "route_m"):
        if column in out.columns:
            out[column] = out[column].where(out[column].map(math.isfinite))
    return out


def write_gap_villages(
    result: GapResult, villages: gpd.GeoDataFrame, path: Path, dataset: Dataset
) -> str:
    """Write per-village gaps to ``path`` (``.gpkg`` adds the townships); say what was written.

    Parameters
    ----------
    result
        The gaps (its township table, method and data status are written too).
    villages
        The village rows to write (``result.villages``, possibly filtered and sorted).
    path
        A ``.gpkg``, ``.geojson`` or ``.csv`` file (CSV: UTF-8 with BOM, ``lon``/``lat``
        columns); unreachable distances are left empty in GIS files. ``route_m`` is the
        route's length in metres, ``distance_m`` the search cost (:class:`GapResult`).
    dataset
        Supplies the township outlines of a GeoPackage.

    Returns
    -------
    str
        ``"wrote PATH (…)"``, for the user.

    Raises
    ------
    GapsOptionError
        For another file type, a missing directory or a failed write.
    """
    suffix = path.suffix.lower()
    if suffix not in OUT_SUFFIXES:
        raise GapsOptionError(f"--out {path}: use a .gpkg, .geojson or .csv file")
    if not path.parent.is_dir():
        raise GapsOptionError(f"--out {path}: directory {path.parent} does not exist")
    meta = (
        f"{result.facility_type}; children {result.age_label}; method {result.method}; "
        f"data status {result.data_status}"
    )
    vil = villages.assign(data_status=result.data_status, facility_type=result.facility_type)
    try:
        if suffix == ".csv":
            frame = neutralise_frame(pd.DataFrame(vil.drop(columns="geometry")))
            frame["lon"] = vil.geometry.x
            frame["lat"] = vil.geometry.y
            # bytes, so Windows does not turn pandas' line ends into "\r\r\n"
            path.write_bytes(frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig"))
        elif suffix == ".geojson":
            _finite_or_none(vil).to_file(path, driver="GeoJSON")
        else:
            _write_gpkg(result, vil, path, dataset)
    except OSError as exc:
        raise GapsOptionError(f"--out {path}: cannot write: {exc}") from exc
    return f"wrote {path} ({meta})"


def _write_gpkg(
    result: GapResult, villages: gpd.GeoDataFrame, path: Path, dataset: Dataset
) -> None:
    """Layers ``gap_villages`` and ``gap_townships`` (with outlines when the dataset has them)."""
    if path.exists():
        path.unlink()
    _finite_or_none(villages).to_file(path, driver="GPKG", layer="gap_villages")
    towns = result.townships.assign(data_status=result.data_status)
    if dataset.has("township"):
        shapes = dataset.layer("township")[["code9", "geometry"]].assign(
            code9=lambda f: f["code9"].astype(str)
        )
        towns = shapes.merge(towns, on="code9", how="right")
        towns.to_file(path, driver="GPKG", layer="gap_townships")
    else:
        gpd.GeoDataFrame(towns, geometry=[None] * len(towns), crs=villages.crs).to_file(
            path, driver="GPKG", layer="gap_townships"
        )


def write_gap_surface(
    dataset: Dataset,
    facility_type: str,
    path: Path,
    cell_size_m: float,
    graph: WalkGraph | None,
    threshold_m: float | None,
) -> str:
    """Compute the hexagonal gap surface and write it to ``path``; say what was written.

    Parameters
    ----------
    dataset, facility_type, cell_size_m, graph, threshold_m
        As for :func:`qjgeo.gaps.gap_surface`.
    path
        A ``.gpkg`` file (else GeoJSON); unreachable distances are left empty.

    Returns
    -------
    str
        ``"wrote PATH (N hexagons, METHOD, data status STATUS)"``, for the user.

    Raises
    ------
    GapsUnavailable
        If the surface cannot be computed, or the directory does not exist.
    """
    cells = gap_surface(
        dataset, facility_type, cell_size_m=cell_size_m, graph=graph, threshold_m=threshold_m
    )
    status = dataset.data_status(["village", facility_type])
    cells = cells.assign(data_status=status)
    if not path.parent.is_dir():
        raise GapsOptionError(f"--surface {path}: directory {path.parent} does not exist")
    driver = "GPKG" if path.suffix.lower() == ".gpkg" else "GeoJSON"
    if path.exists():
        path.unlink()
    _finite_or_none(cells).to_file(path, driver=driver)
    if not len(dataset.layer(facility_type)):
        method = "no facilities: every cell unreachable"
    else:
        method = "network" if graph is not None else "straight_line_x_detour"
    return f"wrote {path} ({len(cells)} hexagons, {method}, data status {status})"
