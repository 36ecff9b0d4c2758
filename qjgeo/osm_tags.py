"""The OSM tags qjgeo reads: one table per layer, the union read from an extract, selection.

:data:`LAYER_TAGS` is the one source of truth for the OSM importer
(:mod:`qjgeo.osm_import`), the PBF clip (:mod:`qjgeo.osm_pbf`), the download
(:mod:`qjgeo.osm_fetch`) and the ledger importer's OSM XML reader
(:mod:`qjgeo.ingest.readers`); :data:`READ_TAGS` adds what demand estimation keeps
(:data:`qjgeo.demand.osm_layers.DEMAND_TAGS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import pandas as pd

from qjgeo.demand.osm_layers import DEMAND_TAGS

__all__ = [
    "LAYER_TAGS",
    "NO_OSM_TAG_LAYERS",
    "OSM_TAGS",
    "READ_TAGS",
    "describe_tags",
    "select_layer",
    "tag_is",
    "tag_matches",
    "tag_values",
    "union_tags",
]


#: OSM tags of each layer read from OSM, in osmnx ``tags=`` form: a key maps to the values
#: that select a feature, or to ``True`` for any value. The one source of truth for the
#: importer (:func:`classify_features`) and the ledger importer's OSM XML reader. Key order
#: matters: the first key whose tag matches gives the feature's ``kind``.
LAYER_TAGS: Final[dict[str, dict[str, list[str] | bool]]] = {
    "park": {"leisure": ["park", "playground"]},
    "kindergarten": {"amenity": ["kindergarten"]},
    "childcare": {"amenity": ["childcare"]},
    "primary_school": {"amenity": ["school"]},
    "science_venue": {"tourism": ["museum"], "amenity": ["library"]},
    "health_centre": {"amenity": ["hospital", "clinic", "doctors"], "healthcare": True},
    "internet_cafe": {"amenity": ["internet_cafe"], "leisure": ["amusement_arcade"]},
    "water_hazard": {
        "waterway": ["river", "stream", "canal"],
        "water": ["reservoir", "pond"],
        "natural": ["water"],
        "landuse": ["reservoir"],
    },
}

#: Canonical facility layers no OSM tag identifies: they are never read from OSM.
NO_OSM_TAG_LAYERS: Final[tuple[str, ...]] = (
    "middle_school",
    "family_edu_station",
    "children_home",
    "minors_protection_station",
)


def union_tags(
    tables: Iterable[Mapping[str, list[str] | bool]],
) -> dict[str, bool | str | list[str]]:
    """Merge several osmnx tag tables into one that selects what any of them selects.

    Parameters
    ----------
    tables
        Tag tables in osmnx ``tags=`` form (key → list of values, or ``True`` for any).

    Returns
    -------
    dict
        One table: per key ``True`` if any table takes every value, else the sorted union
        of the values.
    """
    merged: dict[str, bool | str | list[str]] = {}
    for table in tables:
        for key, values in table.items():
            have = merged.get(key)
            if values is True or have is True:
                merged[key] = True
            elif isinstance(values, list):
                old = have if isinstance(have, list) else []
                merged[key] = sorted({*old, *values})
    return merged


#: The OSM tags read by the importer: the union of :data:`LAYER_TAGS` (osmnx ``tags=`` form).
OSM_TAGS: Final[dict[str, bool | str | list[str]]] = union_tags(LAYER_TAGS.values())
#: Everything an extract, a clip or a download must keep: the layers' tags and demand's.
READ_TAGS: Final[dict[str, bool | str | list[str]]] = union_tags([OSM_TAGS, DEMAND_TAGS])  # type: ignore[list-item]


def describe_tags(layer_id: str) -> str:
    """The OSM tags of a layer as a planner reads them, e.g. ``leisure=park|playground``.

    Parameters
    ----------
    layer_id
        A layer of :data:`LAYER_TAGS`.

    Returns
    -------
    str
        ``key=value|value`` (``key=*`` for any value), comma-separated.
    """
    return ", ".join(
        f"{key}=" + ("*" if values is True else "|".join(values or []))
        for key, values in LAYER_TAGS[layer_id].items()
    )


def tag_values(frame: pd.DataFrame, key: str) -> pd.Series:
    """A tag's values per feature (``None`` where untagged or the key is absent)."""
    if key in frame.columns:
        return frame[key].astype(object).where(frame[key].notna(), None)
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def tag_is(frame: pd.DataFrame, key: str, values: tuple[str, ...]) -> pd.Series:
    """Whether each feature's ``key`` tag is one of ``values``."""
    return tag_values(frame, key).isin(values)


def tag_matches(frame: pd.DataFrame, key: str, values: list[str] | bool) -> pd.Series:
    """Whether each feature matches ``key`` with ``values`` (``True``: any value)."""
    if values is True:
        return tag_values(frame, key).notna()
    return tag_is(frame, key, tuple(values or ()))


def select_layer(features: pd.DataFrame, layer_id: str) -> pd.Series:
    """Which OSM features belong to a layer, by the layer's tags in :data:`LAYER_TAGS`.

    Parameters
    ----------
    features
        OSM features with one column per tag key (osmnx ``features_from_xml`` output); a
        missing key column means no feature has that tag.
    layer_id
        A layer of :data:`LAYER_TAGS`.

    Returns
    -------
    pandas.Series
        Boolean, aligned with ``features``: true where any of the layer's tags matches.

    Raises
    ------
    KeyError
        If the layer has no OSM tags (see :data:`NO_OSM_TAG_LAYERS`).
    """
    if layer_id not in LAYER_TAGS:
        raise KeyError(f"no OSM tags for layer {layer_id!r} (known: {', '.join(LAYER_TAGS)})")
    mask = pd.Series(False, index=features.index, dtype=bool)
    for key, values in LAYER_TAGS[layer_id].items():
        mask |= tag_matches(features, key, values).to_numpy(dtype=bool)
    return mask
