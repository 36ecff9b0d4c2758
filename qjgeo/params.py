"""Planning parameters: service distances, age bands, detour factor.

Every number here is a planning choice with a documented default (``docs/standards.md`` of the
project brief: GB 50180-2018 life circles), never a constant. A :class:`~qjgeo.catalog.Dataset`
carries one :class:`PlanningParams`; scenarios override parts of it (:func:`merge_params`).

Defaults (urban / rural walking distance):

========================== ============= ======= ======= =====================================
facility                   children      urban   rural   basis
========================== ============= ======= ======= =====================================
childcare                  0–2           300 m   2000 m  5-minute life circle
kindergarten               3–5           300 m   2000 m  5-minute circle (GB 50180-93 ≤ 300 m)
primary_school             6–11          500 m   3000 m  10-minute circle
science_venue              6–14          1000 m  3000 m  15-minute circle (儿童友好空间导则)
park                       0–14          1000 m  2000 m  15-minute circle
family_edu_station         0–14          1000 m  3000 m  15-minute circle
children_home              0–14          300 m   1000 m  5-minute circle
========================== ============= ======= ======= =====================================

Rural villages are far more spread out: a 1 km walk leaves most of a mountain township
uncovered by construction, so rural distances are their own parameters (2–3 km walk).

Travel modes and time standards (issue 18)
-------------------------------------------
Three modes (:data:`MODES`): ``walk``, ``bike`` (bicycle / e-bike) and ``drive``, each a
:class:`TravelMode` with the speed used on its network and for the straight-line estimate
(``docs/standards.md`` of the brief, "Travel time by mode"):

======= =========== ========= ==================================================================
mode    speed       detour    source
======= =========== ========= ==================================================================
walk    3.6 km/h    1.3 (*)   children's walking: 3–3.6 km/h for kindergarten trips; GB 50180-2018
                              5-minute circle ≈ 300 m = 60 m/min = 3.6 km/h
bike    15 km/h     1.3 (*)   e-bike (电动自行车) average on rural roads 12–15 km/h; design maximum
                              25 km/h (GB 17761-2018)
drive   30 km/h     1.4       straight-line estimate only: class-4 rural roads, design speed
                              20–30 km/h (JTG B01-2014), hills wind more than a walk
======= =========== ========= ==================================================================

(*) ``None``: the run's :attr:`PlanningParams.detour_factor` (1.3, scenario-overridable).

On a drive network each edge's speed is its ``maxspeed`` tag where tagged, else the default of
its highway class (:data:`DRIVE_SPEEDS_KMH`: the low end of the design speeds of JTG B01-2014
《公路工程技术标准》 for highways and CJJ 37-2012 《城市道路工程设计规范》 for urban streets).

Each facility type also has a time standard per urban / rural unit (mode and minutes,
``FacilityAccess.urban_mode`` / ``urban_minutes`` …): the urban ones are the life circles in
minutes of GB 50180-2018 walked by children (5 / 10 / 15 min); the rural ones the usual local
mode (e-bike) for village-level services and ≈ 30 minutes by car for township-level ones
(science venue), after the "rural service circles" of ``standards.md``. The metre thresholds
above stay the default of a run without a mode (walking, as before).

====================== ================ ===================
facility               urban            rural
====================== ================ ===================
childcare              5 min walk       15 min bike
kindergarten           5 min walk       15 min bike
primary_school         10 min walk      20 min bike
science_venue          15 min walk      30 min drive
park                   15 min walk      15 min bike
family_edu_station     15 min walk      15 min bike
children_home          5 min walk       15 min walk
====================== ================ ===================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from qjgeo.schema import AGE_BANDS

#: Straight line × this factor estimates a walking distance when no network is loaded
#: (1.2–1.4 on urban grids; hills need more). See ``standards.md``.
DEFAULT_DETOUR_FACTOR = 1.3
#: Points farther than this from every network node are not snapped (metres).
DEFAULT_SNAP_LIMIT_M = 500.0

#: The travel modes, each with its own network and speed.
MODES: tuple[str, ...] = ("walk", "bike", "drive")
Mode = Literal["walk", "bike", "drive"]

#: Default speed per highway class on a drive network without ``maxspeed`` (km/h): the low
#: (mountain-terrain) end of the design speeds of JTG B01-2014 《公路工程技术标准》 (motorway
#: 80–120, class 1 60–100, class 2 60–80, class 3 30–40, class 4 20–30) and of CJJ 37-2012
#: 《城市道路工程设计规范》 for streets (local streets 20–40); ramps (``*_link``) at half the road.
DRIVE_SPEEDS_KMH: dict[str, float] = {
    "motorway": 80.0,
    "motorway_link": 40.0,
    "trunk": 60.0,
    "trunk_link": 30.0,
    "primary": 60.0,
    "primary_link": 30.0,
    "secondary": 40.0,
    "secondary_link": 20.0,
    "tertiary": 30.0,
    "tertiary_link": 15.0,
    "unclassified": 20.0,
    "residential": 20.0,
    "living_street": 10.0,
    "road": 20.0,
}
#: Speed of a drivable way of a class not listed above (km/h).
DRIVE_FALLBACK_SPEED_KMH = 20.0


class TravelMode(BaseModel):
    """How fast a mode travels, and its straight-line detour factor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    speed_kmh: float = Field(gt=0, le=200, description="speed on the network and for estimates")
    detour_factor: float | None = Field(
        default=None,
        ge=1.0,
        le=3.0,
        description="straight line × this = route length; None: the run's detour_factor",
    )
    title_zh: str
    title_en: str

    @property
    def speed_m_s(self) -> float:
        """The speed in metres per second."""
        return self.speed_kmh / 3.6


def _default_modes() -> dict[Mode, TravelMode]:
    return {
        "walk": TravelMode(speed_kmh=3.6, title_zh="步行（儿童）", title_en="walk (children)"),
        "bike": TravelMode(speed_kmh=15.0, title_zh="电动自行车", title_en="e-bike"),
        "drive": TravelMode(speed_kmh=30.0, detour_factor=1.4, title_zh="驾车", title_en="car"),
    }


class FacilityAccess(BaseModel):
    """Who a facility type serves and how far they may walk to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    age_bands: tuple[str, ...] = Field(
        description="population columns summed for demand, e.g. ('pop_0_2',)"
    )
    urban_threshold_m: float = Field(
        gt=0, description="walking distance for urban units (城乡分类 1xx)"
    )
    rural_threshold_m: float = Field(
        gt=0, description="walking distance for rural units (城乡分类 2xx)"
    )
    urban_mode: Mode = Field(default="walk", description="travel mode of the urban time standard")
    urban_minutes: float = Field(default=15.0, gt=0, description="urban time standard, minutes")
    rural_mode: Mode = Field(default="bike", description="travel mode of the rural time standard")
    rural_minutes: float = Field(default=15.0, gt=0, description="rural time standard, minutes")

    @field_validator("age_bands")
    @classmethod
    def _known_bands(cls, bands: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [b for b in bands if b not in AGE_BANDS and b != "population"]
        if unknown or not bands:
            raise ValueError(
                f"unknown age band(s) {unknown}; use {', '.join(AGE_BANDS)} or population"
            )
        return bands

    @property
    def label(self) -> str:
        """A short label of the age range, e.g. ``'6–14'``."""
        if self.age_bands == ("population",):
            return "all ages"
        lo = min(AGE_BANDS[b][0] for b in self.age_bands if b in AGE_BANDS)
        hi = max(AGE_BANDS[b][1] for b in self.age_bands if b in AGE_BANDS)
        return f"{lo}–{hi}"


def _default_access() -> dict[str, FacilityAccess]:
    return {
        "childcare": FacilityAccess(
            age_bands=("pop_0_2",),
            urban_threshold_m=300,
            rural_threshold_m=2000,
            urban_minutes=5,
            rural_mode="bike",
            rural_minutes=15,
        ),
        "kindergarten": FacilityAccess(
            age_bands=("pop_3_5",),
            urban_threshold_m=300,
            rural_threshold_m=2000,
            urban_minutes=5,
            rural_mode="bike",
            rural_minutes=15,
        ),
        "primary_school": FacilityAccess(
            age_bands=("pop_6_11",),
            urban_threshold_m=500,
            rural_threshold_m=3000,
            urban_minutes=10,
            rural_mode="bike",
            rural_minutes=20,
        ),
        "science_venue": FacilityAccess(
            age_bands=("pop_6_11", "pop_12_14"),
            urban_threshold_m=1000,
            rural_threshold_m=3000,
            urban_minutes=15,
            rural_mode="drive",
            rural_minutes=30,
        ),
        "park": FacilityAccess(
            age_bands=("pop_0_14",),
            urban_threshold_m=1000,
            rural_threshold_m=2000,
            urban_minutes=15,
            rural_mode="bike",
            rural_minutes=15,
        ),
        "family_edu_station": FacilityAccess(
            age_bands=("pop_0_14",),
            urban_threshold_m=1000,
            rural_threshold_m=3000,
            urban_minutes=15,
            rural_mode="bike",
            rural_minutes=15,
        ),
        "children_home": FacilityAccess(
            age_bands=("pop_0_14",),
            urban_threshold_m=300,
            rural_threshold_m=1000,
            urban_minutes=5,
            rural_mode="walk",
            rural_minutes=15,
        ),
    }


class PlanningParams(BaseModel):
    """All planning parameters of a run (what the scenario file records)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    detour_factor: float = Field(default=DEFAULT_DETOUR_FACTOR, ge=1.0, le=3.0)
    snap_limit_m: float = Field(default=DEFAULT_SNAP_LIMIT_M, gt=0)
    access: dict[str, FacilityAccess] = Field(default_factory=_default_access)
    modes: dict[Mode, TravelMode] = Field(default_factory=_default_modes)
    #: The run's travel mode; ``None``: walking with the metre distances (as before modes).
    #: Set by :func:`qjgeo.travel.travel_params`, which turns the thresholds into the mode's.
    mode: Mode | None = None
    #: One time threshold (minutes) for every type and village, set with ``mode``.
    minutes: float | None = Field(default=None, gt=0)
    #: The run's own detour factor before a mode with its own replaced ``detour_factor``.
    base_detour_factor: float | None = Field(default=None, ge=1.0, le=3.0)
    #: Per-indicator overrides of the targets file, ``{indicator_id: {key: value}}``;
    #: validated by :mod:`qjgeo.indicators` when evaluated.
    target_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def facility(self, layer_id: str) -> FacilityAccess:
        """Access parameters of a facility type (``KeyError`` naming the known ones)."""
        try:
            return self.access[layer_id]
        except KeyError:
            known = ", ".join(self.access)
            raise KeyError(f"no access parameters for {layer_id!r} (known: {known})") from None

    def travel(self, mode: str) -> TravelMode:
        """The speed and detour factor of a travel mode (``ValueError`` in zh/en if unknown)."""
        try:
            return self.modes[mode]  # type: ignore[index]
        except KeyError:
            raise ValueError(
                f"未知的出行方式 {mode!r}，可选 {' / '.join(MODES)}；"
                f"unknown travel mode {mode!r}, use one of {', '.join(MODES)}"
            ) from None

    def detour_of(self, mode: str) -> float:
        """The straight-line detour factor of a mode (the run's own when the mode has none)."""
        own = self.travel(mode).detour_factor
        return own if own is not None else self.detour_factor


DEFAULT_PARAMS = PlanningParams()


class CapacityRule(BaseModel):
    """How many places a recommended facility gets: the plan's ratio × the demand it serves.

    ``places = round(ratio × Σ base)`` over the villages the site newly serves, ``base`` a
    population column of the village layer.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: str = Field(description="village column the ratio applies to, e.g. population")
    ratio: float = Field(gt=0, description="places per unit of base")
    basis_en: str
    basis_zh: str


#: Capacity of recommended capacity-bearing facilities, from the plan's own ratios
#: (``plan-targets.md``). Childcare: the plan's ratio is per resident (≥ 6 places per 1,000
#: residents, 每千常住人口托位数 ≥ 6), so the residents of the villages served are used;
#: kindergartens: gross enrolment 100 % (places ≥ children 3–5 served).
NEW_SITE_CAPACITY: dict[str, CapacityRule] = {
    "childcare": CapacityRule(
        base="population",
        ratio=6.0 / 1000,
        basis_en="6 places per 1,000 residents of the villages it newly serves (plan target)",
        basis_zh="按其新覆盖村（社区）常住人口每千人 6 个托位（规划目标）",
    ),
    "kindergarten": CapacityRule(
        base="pop_3_5",
        ratio=1.0,
        basis_en="one place per child aged 3–5 in the villages it newly serves "
        "(gross enrolment 100 %, plan target)",
        basis_zh="按其新覆盖村（社区）3–5 岁儿童每人 1 个学位（毛入园率 100%，规划目标）",
    ),
}


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``update`` merged in, nested mappings merged key by key.

    Parameters
    ----------
    base
        The values to start from (not modified).
    update
        Partial, nested overrides; a non-mapping value replaces the base value.
    """
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def merge_params(params: PlanningParams, overrides: dict[str, Any]) -> PlanningParams:
    """Return ``params`` with a (partial, nested) dict of overrides applied and re-validated.

    Parameters
    ----------
    params
        The parameters to start from.
    overrides
        E.g. ``{"detour_factor": 1.4, "access": {"childcare": {"rural_threshold_m": 3000}}}``.

    Raises
    ------
    pydantic.ValidationError
        Naming the key and value that do not fit.
    """
    merged = deep_merge(params.model_dump(), overrides)
    return PlanningParams.model_validate(merged)
