"""What the demand estimate keeps from an OSM extract: buildings, land use and places.

``qjgeo osm-import`` stores three layers of kind ``other`` beside the facility layers, so
``qjgeo demand`` works on the dataset folder alone (no need for the extract again):

================== ================================================================
layer              OSM tags and columns
================== ================================================================
``osm_building``   ``building=*`` (closed ways and multipolygons): ``building`` (the
                   tag's value), ``levels`` (``building:levels``, empty when untagged)
``osm_landuse``    ``landuse=residential`` and the non-residential uses that mark
                   where a generic ``building=yes`` is not a home (:data:`NON_RESIDENTIAL_LANDUSE`)
``osm_place``      ``place=city|town|suburb|quarter|neighbourhood|village|hamlet|isolated_dwelling``:
                   ``place``, ``name``, ``population`` (the tag, empty when untagged);
                   an area place becomes a point inside it
================== ================================================================

Geometry OSM gives invalid (a self-touching ring) is repaired with ``make_valid``; what is not
an area after repair is dropped from the polygon layers.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qjgeo.catalog import LayerSpec
from qjgeo.crs import WGS84_CRS

__all__ = [
    "DEMAND_TAGS",
    "NON_RESIDENTIAL_LANDUSE",
    "PLACE_TYPES",
    "demand_source_layers",
    "demand_source_specs",
]

#: ``place=*`` values kept, from the largest to the smallest.
PLACE_TYPES: tuple[str, ...] = (
    "city",
    "town",
    "suburb",
    "quarter",
    "neighbourhood",
    "village",
    "hamlet",
    "isolated_dwelling",
)
#: Land uses where a generic building (``building=yes``) is taken not to be a home.
NON_RESIDENTIAL_LANDUSE: tuple[str, ...] = (
    "industrial",
    "commercial",
    "retail",
    "military",
    "railway",
    "construction",
    "farmyard",
    "garages",
    "religious",
    "education",
    "cemetery",
    "quarry",
    "landfill",
)
#: Tags read for demand (osmnx ``tags=`` form), added to the importer's own.
DEMAND_TAGS: dict[str, list[str] | bool] = {
    "building": True,
    "landuse": ["residential", *NON_RESIDENTIAL_LANDUSE],
    "place": list(PLACE_TYPES),
}

_LAYERS: dict[str, tuple[str, str, str, str]] = {
    "osm_building": (
        "建筑轮廓（人口估算用）",
        "Building footprints (for the demand estimate)",
        "Polygon",
        "building=*; levels from building:levels (empty when untagged). Read by `qjgeo demand`.",
    ),
    "osm_landuse": (
        "土地利用（居住及非居住）",
        "Land use (residential and non-residential)",
        "Polygon",
        "landuse=residential|" + "|".join(NON_RESIDENTIAL_LANDUSE) + ". Read by `qjgeo demand`.",
    ),
    "osm_place": (
        "居民点（OSM place）",
        "Settlements (OSM place)",
        "Point",
        "place=" + "|".join(PLACE_TYPES) + "; population from the population tag "
        "(empty when untagged). Read by `qjgeo demand`.",
    ),
}


def _text(features: pd.DataFrame, key: str) -> pd.Series:
    if key not in features.columns:
        return pd.Series([None] * len(features), index=features.index, dtype=object)
    col = features[key].astype(object)
    return col.where(col.notna(), None)


def _refs(features: pd.DataFrame) -> np.ndarray:
    if isinstance(features.index, pd.MultiIndex) and features.index.nlevels >= 2:
        elem = features.index.get_level_values(0).astype(str)
        ids = features.index.get_level_values(1).astype(str)
        return np.asarray([f"{e}/{i}" for e, i in zip(elem, ids, strict=True)], dtype=object)
    return features.index.astype(str).to_numpy(dtype=object)


def _areas(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Valid polygonal geometry and a mask of the rows that are areas."""
    fixed = np.asarray(shapely.make_valid(geoms), dtype=object)
    odd = np.flatnonzero(~np.isin(shapely.get_type_id(fixed), (3, 6)))
    for i in odd:  # only the few rings repaired into a collection or a line
        fixed[i] = _polygon_part(fixed[i])
    keep = ~shapely.is_empty(fixed) & shapely.is_valid(fixed)
    return fixed, keep


def _polygon_part(geom: shapely.Geometry) -> shapely.Geometry:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _numbers(values: pd.Series) -> np.ndarray:
    text = values.astype("string").str.extract(r"(\d+(?:\.\d+)?)", expand=False)
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)


def _frame(columns: dict[str, object], geoms: np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        pd.DataFrame(columns), geometry=gpd.GeoSeries(geoms, crs=WGS84_CRS), crs=WGS84_CRS
    )


def demand_source_layers(features: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """The buildings, land use and places of OSM features (osmnx ``features_from_xml``).

    Parameters
    ----------
    features
        OSM features in WGS84 with one column per tag key.

    Returns
    -------
    dict
        ``osm_building``, ``osm_landuse``, ``osm_place`` (each possibly empty), provenance
        ``osm``.
    """
    refs = _refs(features)
    geoms = features.geometry.to_numpy()
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))  # Polygon, MultiPolygon
    out: dict[str, gpd.GeoDataFrame] = {}

    building = _text(features, "building")
    mask = building.notna().to_numpy() & polygonal
    fixed, keep = _areas(geoms[mask])
    sub = features[mask][keep]
    out["osm_building"] = _frame(
        {
            "id": refs[mask][keep],
            "building": building[mask][keep].astype(str).to_numpy(dtype=object),
            "levels": _numbers(_text(sub, "building:levels")),
            "provenance": "osm",
        },
        fixed[keep],
    )

    landuse = _text(features, "landuse")
    wanted = landuse.isin(DEMAND_TAGS["landuse"]).to_numpy()  # type: ignore[arg-type]
    mask = wanted & polygonal
    fixed, keep = _areas(geoms[mask])
    out["osm_landuse"] = _frame(
        {
            "id": refs[mask][keep],
            "landuse": landuse[mask][keep].astype(str).to_numpy(dtype=object),
            "provenance": "osm",
        },
        fixed[keep],
    )

    place = _text(features, "place")
    mask = place.isin(PLACE_TYPES).to_numpy() & ~shapely.is_empty(geoms)
    sub = features[mask]
    points = shapely.point_on_surface(geoms[mask]) if mask.any() else np.empty(0, dtype=object)
    out["osm_place"] = _frame(
        {
            "id": refs[mask],
            "name": _text(sub, "name").fillna("").astype(str).to_numpy(dtype=object),
            "place": place[mask].astype(str).to_numpy(dtype=object),
            "population": _numbers(_text(sub, "population")),
            "provenance": "osm",
        },
        points,
    )
    return out


def demand_source_specs(
    source: str, licence: str, as_of: str, layers: Mapping[str, gpd.GeoDataFrame]
) -> tuple[LayerSpec, ...]:
    """Manifest entries (kind ``other``, provenance ``osm``) for :func:`demand_source_layers`.

    Parameters
    ----------
    source
        The source text of the dataset's OSM layers (e.g. ``© OpenStreetMap contributors
        (area.osm)``).
    licence
        Their licence (``ODbL 1.0``).
    as_of
        The extract's date.
    layers
        The layers, to say when one is empty.
    """
    specs = []
    for layer_id, (title_zh, title_en, geometry_type, notes) in _LAYERS.items():
        empty = "" if len(layers.get(layer_id, ())) else " None mapped in this extract."
        specs.append(
            LayerSpec(
                id=layer_id,
                title_zh=title_zh,
                title_en=title_en,
                kind="other",
                geometry_type=geometry_type,
                file=f"{layer_id}.gpkg",
                provenance="osm",
                source=source,
                licence=licence,
                as_of=as_of,
                notes=notes + empty,
            )
        )
    return tuple(specs)
