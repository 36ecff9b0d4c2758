"""Where people live, as weights: residential floor area, else residential land, else places.

The dasymetric step of :mod:`qjgeo.demand`. Every source becomes *items* — a point in the
metric CRS with an indicative number of residents — so the three kinds mix on one scale
before the known total is spread over them (:mod:`qjgeo.demand.units`):

1. **buildings** (``osm_building``): footprint area × levels (``building:levels``, 1 when
   untagged, capped at :data:`MAX_LEVELS`) ÷ :data:`FLOOR_M2_PER_PERSON`. A building counts
   when its type is a dwelling (:data:`RESIDENTIAL_BUILDINGS`), when it stands inside
   residential land use (whatever its type: a building inside a residential area is never
   left out), or when it is generic (``building=yes`` or an unknown value), at least
   :data:`MIN_FOOTPRINT_M2`, and not inside non-residential land use. Typed non-dwellings
   (:data:`NON_DWELLING_BUILDINGS`: schools, shops, sheds…) outside residential land are
   left out.
2. **residential land use without a counted building**: area × :data:`LANDUSE_FLOOR_RATIO`
   ÷ :data:`FLOOR_M2_PER_PERSON`, at a point inside the area.
3. **places without either within their radius** (:data:`PLACE_RADIUS_M`): the ``population``
   tag, else a default by place type (:data:`PLACE_DEFAULT_RESIDENTS`).

Only the proportions matter within one kind; the constants set how the kinds weigh against
each other where the mapping is patchy. All of it is vectorised: shapely ``STRtree`` queries for
the polygons, a scipy KD-tree on coordinates for the points.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

__all__ = [
    "FLOOR_M2_PER_PERSON",
    "LANDUSE_FLOOR_RATIO",
    "MAX_LEVELS",
    "MIN_FOOTPRINT_M2",
    "NON_DWELLING_BUILDINGS",
    "PLACE_DEFAULT_RESIDENTS",
    "PLACE_RADIUS_M",
    "RESIDENTIAL_BUILDINGS",
    "Items",
    "building_items",
    "demand_items",
    "landuse_items",
    "place_items",
]

#: Housing floor area per resident, m² (China, 2020 census: 41.76 m² per person; rounded).
FLOOR_M2_PER_PERSON = 40.0
#: Floor area per m² of residential land where no building is mapped (a low-rise guess).
LANDUSE_FLOOR_RATIO = 0.3
#: Levels above this are read as a tagging error and capped.
MAX_LEVELS = 60
#: Generic buildings smaller than this (m²) outside residential land are sheds, not homes.
MIN_FOOTPRINT_M2 = 20.0
RESIDENTIAL_BUILDINGS: frozenset[str] = frozenset(
    {
        "residential", "house", "apartments", "detached", "semidetached_house", "terrace",
        "dormitory", "bungalow", "farm", "cabin", "static_caravan", "houseboat", "mixed_use",
        "villa", "stilt_house", "trullo", "ger",
    }
)  # fmt: skip
NON_DWELLING_BUILDINGS: frozenset[str] = frozenset(
    {
        "commercial", "industrial", "retail", "office", "warehouse", "garage", "garages",
        "shed", "church", "chapel", "temple", "mosque", "shrine", "cathedral", "religious",
        "school", "university", "college", "kindergarten", "hospital", "public", "civic",
        "government", "train_station", "transportation", "parking", "service", "roof",
        "barn", "cowshed", "stable", "sty", "greenhouse", "farm_auxiliary", "hangar",
        "storage_tank", "toilets", "construction", "ruins", "sports_hall", "stadium",
        "supermarket", "hotel", "kiosk", "bridge", "carport", "transformer_tower",
        "water_tower", "silo", "bunker", "factory", "manufacture", "fire_station",
        "grandstand", "pavilion", "gatehouse", "boathouse", "digester", "tower",
    }
)  # fmt: skip
#: Radius (m) within which a place is taken to be mapped by buildings or land use already.
PLACE_RADIUS_M: dict[str, float] = {
    "city": 3000, "town": 1500, "suburb": 800, "quarter": 500, "neighbourhood": 400,
    "village": 500, "hamlet": 250, "isolated_dwelling": 100,
}  # fmt: skip
#: Residents of a place with no ``population`` tag (used only where nothing else is mapped).
PLACE_DEFAULT_RESIDENTS: dict[str, float] = {
    "city": 100_000, "town": 10_000, "suburb": 10_000, "quarter": 3_000,
    "neighbourhood": 2_000, "village": 500, "hamlet": 50, "isolated_dwelling": 5,
}  # fmt: skip

KIND_BUILDING, KIND_LANDUSE, KIND_PLACE = 0, 1, 2


@dataclass(frozen=True)
class Items:
    """Weighted points in a metric CRS: ``residents`` is indicative, ``kind`` 0/1/2 says
    building / land use / place, ``floor_m2`` the floor area behind a building item."""

    xy: NDArray[np.float64]
    residents: NDArray[np.float64]
    kind: NDArray[np.int8]
    floor_m2: NDArray[np.float64]
    footprint_m2: NDArray[np.float64]

    @classmethod
    def empty(cls) -> Items:
        """No items."""
        z = np.zeros(0)
        return cls(np.zeros((0, 2)), z, np.zeros(0, dtype=np.int8), z, z)

    def __len__(self) -> int:
        return len(self.residents)

    def concat(self, other: Items) -> Items:
        """These items followed by ``other``."""
        return Items(
            np.vstack([self.xy, other.xy]),
            np.concatenate([self.residents, other.residents]),
            np.concatenate([self.kind, other.kind]).astype(np.int8),
            np.concatenate([self.floor_m2, other.floor_m2]),
            np.concatenate([self.footprint_m2, other.footprint_m2]),
        )


def _inside(
    points: NDArray[np.object_], areas: NDArray[np.object_]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which points lie inside any of the areas, and which areas hold a point (one query)."""
    hit = np.zeros(len(points), dtype=bool)
    holds = np.zeros(len(areas), dtype=bool)
    if len(points) and len(areas):
        idx, area_idx = shapely.STRtree(areas).query(points, predicate="within")
        hit[idx] = True
        holds[area_idx] = True
    return hit, holds


def building_items(
    footprints: NDArray[np.object_],
    building: NDArray[np.object_],
    levels: NDArray[np.float64],
    residential: NDArray[np.object_],
    non_residential: NDArray[np.object_],
) -> tuple[Items, NDArray[np.bool_]]:
    """Items of the buildings that count as homes, and the residential areas holding one.

    Parameters
    ----------
    footprints
        Building polygons (metric CRS).
    building
        The ``building`` tag of each.
    levels
        ``building:levels`` of each (NaN when untagged).
    residential, non_residential
        Residential and non-residential land-use polygons (metric CRS).

    Returns
    -------
    (Items, numpy.ndarray)
        The homes (metric CRS), and per residential area whether a building stands in it
        (every building in a residential area is a home).
    """
    area = shapely.area(footprints)
    points = shapely.centroid(footprints)
    kind = np.asarray(building, dtype=object).astype(str)
    in_res, area_has_home = _inside(points, residential)
    in_other = _inside(points, non_residential)[0] & ~in_res
    dwelling = np.isin(kind, list(RESIDENTIAL_BUILDINGS))
    typed_not = np.isin(kind, list(NON_DWELLING_BUILDINGS))
    generic = ~dwelling & ~typed_not & (area >= MIN_FOOTPRINT_M2) & ~in_other
    counted = in_res | dwelling | generic
    lv = np.clip(np.nan_to_num(np.asarray(levels, dtype=float), nan=1.0), 1, MAX_LEVELS)
    floor = area[counted] * np.floor(lv[counted])
    homes = Items(
        shapely.get_coordinates(points[counted]),
        floor / FLOOR_M2_PER_PERSON,
        np.full(int(counted.sum()), KIND_BUILDING, dtype=np.int8),
        floor,
        area[counted],
    )
    return homes, area_has_home


def landuse_items(residential: NDArray[np.object_], has_home: NDArray[np.bool_]) -> Items:
    """Items of the residential areas holding no counted building (metric CRS)."""
    if not len(residential):
        return Items.empty()
    empty = residential[~has_home]
    floor = shapely.area(empty) * LANDUSE_FLOOR_RATIO
    return Items(
        shapely.get_coordinates(shapely.point_on_surface(empty)).reshape(-1, 2),
        floor / FLOOR_M2_PER_PERSON,
        np.full(len(empty), KIND_LANDUSE, dtype=np.int8),
        floor,
        np.zeros(len(empty)),
    )


def place_items(
    points: NDArray[np.object_],
    place: NDArray[np.object_],
    population: NDArray[np.float64],
    mapped_xy: NDArray[np.float64],
) -> Items:
    """Items of places with no building or land-use item within their radius (metric CRS)."""
    if not len(points):
        return Items.empty()
    kind = np.asarray(place, dtype=object).astype(str)
    radius = np.asarray([PLACE_RADIUS_M.get(k, 300.0) for k in kind])  # per place, not per building
    covered = np.zeros(len(points), dtype=bool)
    if len(mapped_xy):  # a KD-tree on coordinates: no point geometry per building
        near = cKDTree(mapped_xy).query_ball_point(
            shapely.get_coordinates(points), r=radius, return_length=True
        )
        covered = np.asarray(near) > 0
    default = np.asarray([PLACE_DEFAULT_RESIDENTS.get(k, 0.0) for k in kind])
    pop = np.asarray(population, dtype=float)
    residents = np.where(np.isfinite(pop) & (pop > 0), pop, default)[~covered]
    return Items(
        shapely.get_coordinates(points[~covered]).reshape(-1, 2),
        residents,
        np.full(len(residents), KIND_PLACE, dtype=np.int8),
        np.zeros(len(residents)),
        np.zeros(len(residents)),
    )


def demand_items(
    buildings: gpd.GeoDataFrame, landuse: gpd.GeoDataFrame, places: gpd.GeoDataFrame
) -> Items:
    """Every item of the three sources, in the frames' (metric) CRS.

    Parameters
    ----------
    buildings
        ``osm_building`` (``building``, ``levels``), metric CRS.
    landuse
        ``osm_landuse`` (``landuse``), metric CRS.
    places
        ``osm_place`` (``place``, ``population``), metric CRS.
    """
    use = landuse["landuse"].astype(str).to_numpy() if len(landuse) else np.zeros(0, dtype=str)
    lgeom = landuse.geometry.to_numpy()
    residential, other = lgeom[use == "residential"], lgeom[use != "residential"]
    homes, has_home = building_items(
        buildings.geometry.to_numpy(),
        buildings["building"].to_numpy(dtype=object),
        buildings["levels"].to_numpy(dtype=float, na_value=np.nan),
        residential,
        other,
    )
    land = landuse_items(residential, has_home)
    mapped = homes.concat(land)
    towns = place_items(
        places.geometry.to_numpy(),
        places["place"].to_numpy(dtype=object),
        places["population"].to_numpy(dtype=float, na_value=np.nan),
        mapped.xy,
    )
    return mapped.concat(towns)
