"""Water-safety hazards near children: which ones lack fencing, signs or rescue equipment.

The plan (二(二) 主要目标2, 策略措施3) asks to find and remove drowning hazards, fence and
patrol rural water bodies and equip them with rescue gear suited to children.
:func:`rank_hazards` lists the hazards (rivers, reservoirs, ponds) within ``distance_m`` of a
village / community point, a primary school or a kindergarten that lack at least one of the
required protections, ranked by the number of children (aged 0–14) living in the villages
near them.

"Near" is a planning choice: :data:`DEFAULT_HAZARD_DISTANCE_M` = 500 m straight line from the
hazard's outline (a river's course, a pond's shore) to the village point or school, about a
10-minute walk for a child. Village points are estimated locations in the bundled data, so
the ranking inherits that uncertainty (the ``data_status`` column says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from qjgeo.measure import DISTANCE_ATOL_M, DISTANCE_RTOL, NotAvailableError, unit_names

if TYPE_CHECKING:
    from qjgeo.catalog import Dataset

#: Default "near children" distance, metres (planning choice, see the module notes).
DEFAULT_HAZARD_DISTANCE_M = 500.0

#: The protections a hazard near children must have (column → English, Chinese).
PROTECTIONS: dict[str, tuple[str, str]] = {
    "fenced": ("fencing", "防护围栏"),
    "warning_signs": ("warning signs", "警示标志"),
    "rescue_equipment": ("rescue equipment", "救援装备"),
}

DEFAULT_NEAR_LAYERS: tuple[str, ...] = ("village", "primary_school", "kindergarten")

#: Output column holding the names of the features near each hazard, per near layer.
_NEAR_COLUMNS: dict[str, str] = {
    "village": "villages_nearby",
    "primary_school": "schools_nearby",
    "kindergarten": "kindergartens_nearby",
}


def _lists(n: int, hazard_idx: np.ndarray, labels: np.ndarray) -> list[list[str]]:
    """Group ``labels`` by hazard position into one list per hazard (``n`` lists)."""
    grouped = pd.Series(labels, dtype=object).groupby(hazard_idx).agg(list)
    return [list(grouped.get(i, [])) for i in range(n)]


def _checked_hazards(
    dataset: Dataset, distance_m: float, protections: Sequence[str]
) -> gpd.GeoDataFrame:
    """The ``water_hazard`` layer (metric CRS) after checking the arguments against it."""
    if distance_m <= 0:
        raise ValueError(f"distance_m must be positive, got {distance_m}")
    unknown = [p for p in protections if p not in PROTECTIONS]
    if unknown:
        raise ValueError(f"unknown protection(s) {unknown}; use {', '.join(PROTECTIONS)}")
    if not dataset.has("water_hazard"):
        raise NotAvailableError(
            f"not available: dataset {dataset.info.id!r} has no layer water_hazard"
        )
    hazards = dataset.metric("water_hazard")
    missing_cols = [p for p in protections if p not in hazards.columns]
    if missing_cols:
        raise NotAvailableError(
            f"not available: layer 'water_hazard' has no column {missing_cols[0]!r}"
        )
    return hazards


def _identity(hazards: gpd.GeoDataFrame) -> pd.DataFrame:
    """``id``, ``name``, ``kind`` and ``township_code`` of each hazard ("" when unknown)."""
    n = len(hazards)
    return pd.DataFrame(
        {
            "id": hazards["id"].to_numpy(dtype=object) if "id" in hazards.columns else np.arange(n),
            "name": hazards["name"].astype(str).to_numpy(dtype=object),
            "kind": hazards["kind"].to_numpy(dtype=object)
            if "kind" in hazards.columns
            else np.full(n, "", dtype=object),
            "township_code": hazards["township_code"].astype(str).to_numpy(dtype=object)
            if "township_code" in hazards.columns
            else np.full(n, "", dtype=object),
        }
    )


def _nearby(
    out: pd.DataFrame,
    dataset: Dataset,
    hazards: gpd.GeoDataFrame,
    near_layers: Sequence[str],
    limit: float,
) -> tuple[list[str], NDArray[np.float64], NDArray[np.bool_]]:
    """Add the ``*_nearby`` name lists to ``out``; children near each hazard and which are near.

    Also adds ``townships_nearby``: the hazard's own township, then the townships of the
    villages, schools and kindergartens near it (a river along a boundary reaches both).
    Returns the layers used (``water_hazard`` and the near layers the dataset has), the
    children (Σ ``pop_0_14`` of the villages near) and whether anything is near, per hazard.
    """
    n = len(hazards)
    geoms = hazards.geometry.to_numpy()
    children = np.zeros(n)
    near_any = np.zeros(n, dtype=bool)
    used = ["water_hazard"]
    towns: list[list[str]] = [[c] if c else [] for c in out["township_code"].astype(str)]
    for layer_id in near_layers:
        column = _NEAR_COLUMNS.get(layer_id, f"{layer_id}_nearby")
        if not dataset.has(layer_id) or n == 0:
            out[column] = [[] for _ in range(n)]
            continue
        used.append(layer_id)
        near = dataset.metric(layer_id)
        tree = shapely.STRtree(near.geometry.to_numpy())
        h_idx, f_idx = tree.query(geoms, predicate="dwithin", distance=limit)
        near_any[h_idx] = True
        out[column] = _lists(n, h_idx, unit_names(near).to_numpy(dtype=object)[f_idx])
        if "township_code" in near.columns:
            codes = near["township_code"].astype(str).to_numpy(dtype=object)[f_idx]
            for i, found in enumerate(_lists(n, h_idx, codes)):
                towns[i] += [c for c in dict.fromkeys(found) if c and c not in towns[i]]
        if layer_id == "village" and "pop_0_14" in near.columns:
            pop = pd.to_numeric(near["pop_0_14"], errors="coerce").fillna(0).to_numpy(float)
            children += np.bincount(h_idx, weights=pop[f_idx], minlength=n)
    out["townships_nearby"] = towns
    return used, children, near_any


def _lacking(hazards: gpd.GeoDataFrame, protections: Sequence[str]) -> NDArray[np.bool_]:
    """Which protection each hazard lacks (one column per protection; missing = lacking)."""
    lacking = np.zeros((len(hazards), len(protections)), dtype=bool)
    for k, col in enumerate(protections):
        lacking[:, k] = ~hazards[col].fillna(False).astype(bool).to_numpy(dtype=bool)
    return lacking


def _missing_texts(
    lacking: NDArray[np.bool_], protections: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The protections each hazard lacks, as English and Chinese text."""
    en = np.array([PROTECTIONS[p][0] for p in protections], dtype=object)
    zh = np.array([PROTECTIONS[p][1] for p in protections], dtype=object)
    return [", ".join(en[row]) for row in lacking], ["、".join(zh[row]) for row in lacking]


def _ranked(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Most children nearby first, then most schools / kindergartens, then id; with ``rank``."""
    school_cols = [c for c in ("schools_nearby", "kindergartens_nearby") if c in frame.columns]
    schools = (
        frame[school_cols].map(len).sum(axis=1) if school_cols else pd.Series(0, index=frame.index)
    )
    order = np.lexsort(
        (
            frame["id"].astype(str).to_numpy(),
            -schools.to_numpy(),
            -frame["children_nearby"].to_numpy(),
        )
    )
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame


def rank_hazards(
    dataset: Dataset,
    *,
    distance_m: float = DEFAULT_HAZARD_DISTANCE_M,
    protections: Sequence[str] = tuple(PROTECTIONS),
    near_layers: Sequence[str] = DEFAULT_NEAR_LAYERS,
    include_all: bool = False,
) -> gpd.GeoDataFrame:
    """Water hazards near children lacking a protection, most children nearby first.

    Parameters
    ----------
    dataset
        Holds ``water_hazard`` (with ``fenced``, ``warning_signs``, ``rescue_equipment``)
        and the layers in ``near_layers`` (missing ones are skipped).
    distance_m
        A hazard is near a village point / school / kindergarten within this straight-line
        distance of its outline (inclusive), metres. Default 500 m.
    protections
        Columns that must be true for a hazard to count as protected; a missing value
        counts as missing protection.
    near_layers
        Layers whose features make a hazard "near children" (default: villages, primary
        schools, kindergartens).
    include_all
        Return every hazard (with the same columns) instead of only the unprotected ones
        near children.

    Returns
    -------
    geopandas.GeoDataFrame
        In WGS84, one row per hazard: ``rank``, ``id``, ``name``, ``kind``,
        ``township_code``, ``townships_nearby`` (its own township, then those of the
        villages / schools / kindergartens near it: the hazard counts in each),
        ``children_nearby`` (Σ ``pop_0_14`` of villages near),
        ``villages_nearby`` / ``schools_nearby`` / ``kindergartens_nearby`` (name lists),
        ``missing`` / ``missing_zh`` (protections lacking, text), ``near_children``,
        ``unprotected``, ``provenance``, ``data_status`` and the geometry.

    Raises
    ------
    NotAvailableError
        If the dataset has no ``water_hazard`` layer or it lacks a protection column.
    """
    hazards = _checked_hazards(dataset, distance_m, protections)
    limit = distance_m * (1 + DISTANCE_RTOL) + DISTANCE_ATOL_M
    out = _identity(hazards)
    used, children, near_any = _nearby(out, dataset, hazards, near_layers, limit)
    lacking = _lacking(hazards, protections)
    out["children_nearby"] = children.round().astype(int)
    out["missing"], out["missing_zh"] = _missing_texts(lacking, protections)
    out["near_children"] = near_any
    out["unprotected"] = pd.Series(lacking.any(axis=1), dtype=bool)
    out["provenance"] = hazards["provenance"].to_numpy(dtype=object)
    out["data_status"] = dataset.data_status(used)
    frame = gpd.GeoDataFrame(out, geometry=dataset.layer("water_hazard").geometry.to_numpy())
    frame = frame.set_crs(dataset.layer("water_hazard").crs)
    if not include_all:
        frame = frame.loc[frame["near_children"] & frame["unprotected"]]
    return _ranked(frame)
