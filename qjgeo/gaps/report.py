"""One gaps request from start to finish: what ``qjgeo gaps`` runs, for any front end.

:func:`gaps_report` takes the values of the command's options, checks them, computes the
gaps (and the supply–demand ratio), writes the files asked for and returns a
:class:`GapsReport` for a renderer to show. Every problem the user can fix is raised as
:class:`~qjgeo.gaps.GapsUnavailable` (:class:`~qjgeo.gaps.GapsOptionError` for an
option) with a one-line message naming the command-line option concerned.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd

from qjgeo.catalog import Dataset
from qjgeo.gaps.compute import GapResult, compute_gaps
from qjgeo.gaps.files import (
    OUT_SUFFIXES,
    SURFACE_SUFFIXES,
    write_gap_surface,
    write_gap_villages,
)
from qjgeo.gaps.inputs import GapsOptionError, gap_types
from qjgeo.gaps.supply_demand import AccessibilityResult, childcare_accessibility
from qjgeo.gaps.surface import DEFAULT_CELL_SIZE_M, outline_cell_size
from qjgeo.network import WalkGraph

#: The supply–demand methods of ``--supply-demand`` and the 2SFCA method and decay of each.
SUPPLY_DEMAND_METHODS: dict[str, tuple[Literal["2sfca", "e2sfca"], Literal["step", "gaussian"]]] = {
    "2sfca": ("2sfca", "step"),
    "e2sfca": ("e2sfca", "step"),
    "gaussian": ("2sfca", "gaussian"),
}


@dataclass(frozen=True)
class GapsReport:
    """What :func:`gaps_report` found, ready to be shown.

    Attributes
    ----------
    dataset
        The dataset used (scenario applied).
    facility_type
        The facility layer id.
    graph_note
        Where the walking network came from (or that there is none).
    result
        The gaps; ``None`` for a dataset without villages, of which only the surface was
        written (``note`` says so).
    villages
        The rows of ``result.villages`` to show (the township asked for), most children
        uncovered first.
    townships
        The rows of ``result.townships`` to show.
    access
        Childcare places per 1,000 children (``--supply-demand``), else ``None``.
    note
        For a surface-only report: the line telling the user so.
    """

    dataset: Dataset
    facility_type: str
    graph_note: str
    result: GapResult | None = None
    villages: gpd.GeoDataFrame | None = None
    townships: pd.DataFrame | None = None
    access: AccessibilityResult | None = None
    note: str = ""


def _ignore(line: str) -> None:
    """The default ``notify``: say nothing."""


def gaps_report(
    load: Callable[[], Dataset],
    facility_type: str,
    *,
    load_graph: Callable[[Dataset], tuple[WalkGraph | None, str]],
    threshold_m: float | None = None,
    township: str | None = None,
    out: Path | None = None,
    surface: Path | None = None,
    cell_size_m: float | None = None,
    supply_demand: str | None = None,
    notify: Callable[[str], None] = _ignore,
) -> GapsReport:
    """Run one gaps request: check the options, compute, write the files, report.

    Parameters
    ----------
    load
        Gives the dataset (scenario applied); called once the options are checked, so an
        invalid option is reported before any data is read.
    facility_type
        Facility layer id (``--type``).
    load_graph
        Gives the walking network for the dataset and a line saying where it came from;
        called once the facility type is known to be valid.
    threshold_m
        One service distance for urban and rural villages (``--threshold-m``); also the
        2SFCA catchment.
    township
        Keep only this township (9-digit code or name, ``--township``).
    out
        Also write the villages to this ``.gpkg``/``.geojson``/``.csv`` file (``--out``).
    surface
        Also write the hexagonal gap surface to this ``.gpkg``/``.geojson`` file
        (``--surface``); the only output for a dataset without villages.
    cell_size_m
        Hexagon size (``--cell-size-m``); default 500 m, or about 1,000 cells over the
        outline for a dataset without villages.
    supply_demand
        ``"2sfca"``, ``"e2sfca"`` or ``"gaussian"`` (``--supply-demand``, childcare only).
    notify
        Receives a line for every file written (``"wrote PATH (…)"``), as it is written.

    Returns
    -------
    GapsReport
        The gaps of the township asked for, the supply–demand figures and where the
        distances came from.

    Raises
    ------
    GapsUnavailable
        For an invalid option, an unknown facility type, a township not found, gaps that
        cannot be computed for the dataset or a file that cannot be written; the message is
        one line for the user.
    """
    _check_options(threshold_m, cell_size_m, out, surface)
    dataset = load()
    _check_type(dataset, facility_type, supply_demand)
    graph, graph_note = load_graph(dataset)
    if cell_size_m is None:
        cell_size_m = DEFAULT_CELL_SIZE_M if dataset.has("village") else outline_cell_size(dataset)
    if not dataset.has("village") and surface is not None:
        # no demand layer (e.g. an OSM import): the distance surface is all there is
        notify(write_gap_surface(dataset, facility_type, surface, cell_size_m, graph, threshold_m))
        note = (
            f"dataset {dataset.info.id!r} has no village layer: per-village and township "
            f"gaps are not available; the surface shows distances only ({graph_note})"
        )
        return GapsReport(dataset, facility_type, graph_note, note=note)
    result = compute_gaps(dataset, facility_type, graph=graph, threshold_m=threshold_m)
    villages, towns, code = _select_township(result, township)
    if out is not None:
        notify(write_gap_villages(result, villages, out, dataset))
    if surface is not None:
        notify(write_gap_surface(dataset, facility_type, surface, cell_size_m, graph, threshold_m))
    access = None
    if supply_demand is not None:
        method, decay = SUPPLY_DEMAND_METHODS[supply_demand]
        access = childcare_accessibility(
            dataset, method=method, decay=decay, threshold_m=threshold_m, graph=graph
        )
        if code is not None:
            access = dataclasses.replace(
                access, townships=access.townships[access.townships["code9"] == code]
            )
    return GapsReport(dataset, facility_type, graph_note, result, villages, towns, access)


def _check_options(
    threshold_m: float | None, cell_size_m: float | None, out: Path | None, surface: Path | None
) -> None:
    """Refuse option values that are wrong whatever the data."""
    if threshold_m is not None and not (threshold_m > 0 and math.isfinite(threshold_m)):
        raise GapsOptionError(
            f"--threshold-m must be a positive distance in metres, got {threshold_m}"
        )
    if cell_size_m is not None and not cell_size_m > 0:
        raise GapsOptionError(f"--cell-size-m must be positive, got {cell_size_m}")
    for option, path, allowed in (
        ("--out", out, OUT_SUFFIXES),
        ("--surface", surface, SURFACE_SUFFIXES),
    ):
        if path is not None and path.suffix.lower() not in allowed:
            raise GapsOptionError(f"{option} {path}: use a {', '.join(allowed)} file")


def _check_type(dataset: Dataset, facility_type: str, supply_demand: str | None) -> None:
    """Refuse a facility type the dataset cannot give gaps for, or supply–demand of one."""
    valid = gap_types(dataset)
    if facility_type not in valid:
        known = ", ".join(valid) or "none"
        missing = [t for t in dataset.params.access if t not in valid]
        extra = f" (not in this dataset: {', '.join(missing)})" if missing else ""
        raise GapsOptionError(
            f"unknown or unavailable --type {facility_type!r}; valid types: {known}{extra}"
        )
    if supply_demand is not None and facility_type != "childcare":
        raise GapsOptionError("--supply-demand applies to --type childcare only")
    if supply_demand is not None and supply_demand not in SUPPLY_DEMAND_METHODS:
        raise GapsOptionError(
            f"--supply-demand must be one of {', '.join(SUPPLY_DEMAND_METHODS)}, "
            f"got {supply_demand!r}"
        )


def _select_township(
    result: GapResult, township: str | None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, str | None]:
    """Villages (most children uncovered first) and townships to show, and the code kept."""
    villages = result.villages
    towns = result.townships
    code = None
    if township is not None:
        hit = towns[(towns["code9"] == township) | (towns["name"] == township)]
        if hit.empty:
            raise GapsOptionError(
                f"--township {township!r} not found; townships: "
                + ", ".join(f"{c} {n}" for c, n in zip(towns["code9"], towns["name"], strict=True))
            )
        code = str(hit["code9"].iloc[0])
        villages = villages[villages["township_code"].astype(str) == code]
        towns = hit
    villages = villages.sort_values(
        ["children_uncovered", "distance_m"], ascending=[False, False], kind="stable"
    )
    return villages, towns, code
