"""Which facilities a scenario adds, removes, moves or changes: :func:`facility_changes`.

The difference map of a comparison draws them beside the villages whose coverage flips.
"""

from __future__ import annotations

from typing import Final

import geopandas as gpd
import pandas as pd
import shapely

from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS

__all__ = ["CHANGE_KINDS", "facility_changes"]

#: The kinds of change, in the order a legend lists them.
CHANGE_KINDS: Final = ("added", "removed", "moved", "modified")

_COLUMNS = ["facility_type", "id", "name", "change", "geometry"]
#: Columns the scenario engine itself writes (not a planner's change).
_ENGINE_COLUMNS = frozenset({"scenario", "source", "provenance"})
#: Positions closer than this (degrees, ≈ 1 cm) count as the same place.
_SAME_PLACE_DEG = 1e-7


def facility_changes(a: Dataset, b: Dataset) -> gpd.GeoDataFrame:
    """The facilities that differ from ``a`` (baseline) to ``b`` (a scenario applied to it).

    Parameters
    ----------
    a, b
        The two datasets; every facility layer present in either is compared by ``id``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_type, id, name, change, geometry`` in WGS84, ``change`` one of
        :data:`CHANGE_KINDS`: ``added`` (in ``b`` only, at its place), ``removed`` (in ``a``
        only, at its old place), ``moved`` (at its new place) or ``modified`` (same place,
        other attributes). A facility both moved and modified counts as moved.
    """
    parts = [
        _layer_changes(lid, _layer(a, lid), _layer(b, lid))
        for lid in dict.fromkeys([*a.layer_ids, *b.layer_ids])
        if _is_facility(a, lid) or _is_facility(b, lid)
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return gpd.GeoDataFrame({c: [] for c in _COLUMNS[:-1]}, geometry=[], crs=WGS84_CRS)
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out[_COLUMNS], geometry="geometry", crs=WGS84_CRS)


def _is_facility(dataset: Dataset, lid: str) -> bool:
    return dataset.has(lid) and dataset.spec(lid).kind == "facility"


def _layer(dataset: Dataset, lid: str) -> gpd.GeoDataFrame | None:
    if not _is_facility(dataset, lid):
        return None
    frame = dataset.layer(lid)
    frame = frame.to_crs(WGS84_CRS) if frame.crs is not None else frame
    return frame.set_index(frame["id"].astype(str), drop=False)


def _layer_changes(
    lid: str, fa: gpd.GeoDataFrame | None, fb: gpd.GeoDataFrame | None
) -> pd.DataFrame:
    """One layer's changed facilities (``facility_type`` ... ``geometry``)."""
    ids_a = pd.Index([]) if fa is None else fa.index
    ids_b = pd.Index([]) if fb is None else fb.index
    rows = []
    if fb is not None:
        rows.append(_rows(lid, fb.loc[ids_b.difference(ids_a, sort=False)], "added"))
    if fa is not None:
        rows.append(_rows(lid, fa.loc[ids_a.difference(ids_b, sort=False)], "removed"))
    if fa is not None and fb is not None:
        both = ids_a.intersection(ids_b, sort=False)
        old, new = fa.loc[both], fb.loc[both]
        moved = ~shapely.equals_exact(
            old.geometry.to_numpy(), new.geometry.to_numpy(), tolerance=_SAME_PLACE_DEG
        )
        rows.append(_rows(lid, new[moved], "moved"))
        edited = _attributes_differ(old[~moved], new[~moved])
        rows.append(_rows(lid, new[~moved][edited], "modified"))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=_COLUMNS)


def _attributes_differ(old: pd.DataFrame, new: pd.DataFrame) -> pd.Series:
    """Per row: whether any attribute both frames have differs (missing equals missing)."""
    geometry = {old.geometry.name, new.geometry.name}
    columns = [c for c in old.columns if c in new.columns and c not in geometry | _ENGINE_COLUMNS]
    differ = pd.Series(False, index=new.index)
    for col in columns:
        before, after = old[col].astype(object), new[col].astype(object)
        same = (before == after) | (before.isna() & after.isna())
        differ |= ~same.astype(bool)
    return differ


def _rows(lid: str, frame: gpd.GeoDataFrame, change: str) -> pd.DataFrame:
    names = frame["name"] if "name" in frame.columns else pd.Series("", index=frame.index)
    return pd.DataFrame(
        {
            "facility_type": lid,
            "id": frame["id"].astype(str).to_numpy(),
            "name": names.fillna("").astype(str).to_numpy(),
            "change": change,
            "geometry": frame.geometry.to_numpy(),
        }
    )
