"""The canonical layers qjgeo knows and the attributes each must carry.

A dataset's manifest may describe any layer, but the layers named here are the ones the
indicators, gaps, scenarios and exports read, so their attributes are checked on load.
"""

from __future__ import annotations

from typing import Final, Literal

Provenance = Literal["official", "estimated", "sample", "user", "osm"]
PROVENANCES: Final[tuple[str, ...]] = ("official", "estimated", "sample", "user", "osm")
#: Provenances that must be flagged wherever a view or a number rests on them.
WEAK_PROVENANCES: Final[frozenset[str]] = frozenset({"estimated", "sample"})

#: Population columns carried by the district, township and village layers.
AGE_BANDS: Final[dict[str, tuple[int, int]]] = {
    "pop_0_2": (0, 2),
    "pop_3_5": (3, 5),
    "pop_6_11": (6, 11),
    "pop_12_14": (12, 14),
    "pop_0_14": (0, 14),
}
POPULATION_COLUMNS: Final[tuple[str, ...]] = ("population", *AGE_BANDS)

ADMIN_LAYERS: Final[tuple[str, ...]] = ("district", "township", "village")
FACILITY_LAYERS: Final[tuple[str, ...]] = (
    "park",
    "family_edu_station",
    "science_venue",
    "childcare",
    "kindergarten",
    "primary_school",
    "middle_school",
    "children_home",
    "minors_protection_station",
    "health_centre",
    "internet_cafe",
)
HAZARD_LAYERS: Final[tuple[str, ...]] = ("water_hazard",)
KNOWN_LAYERS: Final[tuple[str, ...]] = ADMIN_LAYERS + FACILITY_LAYERS + HAZARD_LAYERS

_FEATURE: Final[tuple[str, ...]] = ("id", "name", "provenance")

#: Required attribute columns for each canonical layer id.
REQUIRED_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "district": ("code", "name", "provenance", *POPULATION_COLUMNS),
    "township": (
        "code9",
        "code12",
        "name",
        "type",
        "provenance",
        "child_friendly_demo",
        *POPULATION_COLUMNS,
    ),
    "village": (
        "code12",
        "name",
        "township_code",
        "ur_code",
        "urban",
        "tap_water",
        "provenance",
        *POPULATION_COLUMNS,
    ),
    "park": (*_FEATURE, "township_code", "has_play_area", "child_friendly_base"),
    "family_edu_station": (*_FEATURE, "township_code", "village_code", "level"),
    "science_venue": (*_FEATURE, "township_code", "youth_science_base", "child_friendly_base"),
    "childcare": (*_FEATURE, "township_code", "places", "puhui"),
    "kindergarten": (*_FEATURE, "township_code", "places", "puhui"),
    "primary_school": (*_FEATURE, "township_code", "places"),
    "middle_school": (*_FEATURE, "township_code", "places"),
    "children_home": (*_FEATURE, "township_code", "village_code"),
    "minors_protection_station": (*_FEATURE, "township_code", "kind"),
    "health_centre": (
        *_FEATURE,
        "township_code",
        "kind",
        "gp_or_paediatrician",
        "child_health_doctors",
        "paediatric_doctors",
        "paediatric_beds",
    ),
    "internet_cafe": (*_FEATURE, "township_code", "kind"),
    "water_hazard": (
        *_FEATURE,
        "township_code",
        "kind",
        "fenced",
        "warning_signs",
        "rescue_equipment",
    ),
}

#: Geometry types each canonical layer may hold (shapely geometry type names).
GEOMETRY_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "district": ("Polygon", "MultiPolygon"),
    "township": ("Polygon", "MultiPolygon"),
    "village": ("Point",),
    "water_hazard": ("LineString", "MultiLineString", "Polygon", "MultiPolygon", "Point"),
    **{layer: ("Point",) for layer in FACILITY_LAYERS},
}
