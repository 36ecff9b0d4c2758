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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from qjgeo.schema import AGE_BANDS

#: Straight line × this factor estimates a walking distance when no network is loaded
#: (1.2–1.4 on urban grids; hills need more). See ``standards.md``.
DEFAULT_DETOUR_FACTOR = 1.3
#: Points farther than this from every network node are not snapped (metres).
DEFAULT_SNAP_LIMIT_M = 500.0


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
            age_bands=("pop_0_2",), urban_threshold_m=300, rural_threshold_m=2000
        ),
        "kindergarten": FacilityAccess(
            age_bands=("pop_3_5",), urban_threshold_m=300, rural_threshold_m=2000
        ),
        "primary_school": FacilityAccess(
            age_bands=("pop_6_11",), urban_threshold_m=500, rural_threshold_m=3000
        ),
        "science_venue": FacilityAccess(
            age_bands=("pop_6_11", "pop_12_14"), urban_threshold_m=1000, rural_threshold_m=3000
        ),
        "park": FacilityAccess(
            age_bands=("pop_0_14",), urban_threshold_m=1000, rural_threshold_m=2000
        ),
        "family_edu_station": FacilityAccess(
            age_bands=("pop_0_14",), urban_threshold_m=1000, rural_threshold_m=3000
        ),
        "children_home": FacilityAccess(
            age_bands=("pop_0_14",), urban_threshold_m=300, rural_threshold_m=1000
        ),
    }


class PlanningParams(BaseModel):
    """All planning parameters of a run (what the scenario file records)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    detour_factor: float = Field(default=DEFAULT_DETOUR_FACTOR, ge=1.0, le=3.0)
    snap_limit_m: float = Field(default=DEFAULT_SNAP_LIMIT_M, gt=0)
    access: dict[str, FacilityAccess] = Field(default_factory=_default_access)
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
