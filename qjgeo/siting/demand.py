"""What a recommendation covers: the demand units, their weights and what is already covered.

Four kinds of demand (``recommend_sites(demand=...)``):

- ``"children"``: villages weighted by the children of the type's age bands, covered within
  the urban/rural walking distance of an existing or new facility;
- ``"places"`` (childcare): children *without a place* in reach — each village's children
  0–2 × the share of its need the existing places leave unmet, by 2SFCA (places per 1,000
  children within the catchment, against the plan's 6 places per 1,000 residents). A new
  site is sized to its served demand (:mod:`qjgeo.siting.capacity`), so covering a village
  gives its children a place, not only a facility in reach;
- ``"priority"``: only the children of the priority groups (:mod:`qjgeo.priority`);
- ``"townships"``: a township is covered when it holds at least one facility.

For ``children`` and ``places``, ``priority_weight`` w > 1 counts the priority groups' share
of the children w times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_array

from qjgeo.catalog import Dataset
from qjgeo.params import NEW_SITE_CAPACITY
from qjgeo.priority import priority_counts, priority_status, weighted_children
from qjgeo.siting.candidates import _township_of
from qjgeo.siting.coverage import _demand_villages, coverage_matrix
from qjgeo.siting.solvers import _covered_by

if TYPE_CHECKING:
    from qjgeo.network import WalkGraph

DEMANDS: tuple[str, ...] = ("children", "places", "priority", "townships")


@dataclass(frozen=True)
class DemandModel:
    """Coverage, weights and existing coverage of one kind of demand, with its notes.

    Attributes
    ----------
    cov
        Demand units × candidates, boolean.
    weights
        Weight per demand unit.
    done
        Demand units already covered.
    unit
        What the weights count: ``children``, ``children without a place``,
        ``priority-group children`` or ``townships``.
    layers
        Layers the demand rests on (for the data status).
    notes, notes_zh
        How the demand was counted, in English and in Chinese.
    unmet_share
        Villages: the share of demand still unmet (``places``; 1 elsewhere), for capacities.
    """

    cov: csr_array
    weights: NDArray[np.float64]
    done: NDArray[np.bool_]
    unit: str
    layers: list[str]
    notes: list[str]
    notes_zh: list[str]
    unmet_share: NDArray[np.float64] | None = None


def build_demand(
    dataset: Dataset,
    facility_type: str,
    cands: gpd.GeoDataFrame,
    demand: str,
    graph: WalkGraph | None,
    priority_weight: float = 1.0,
) -> DemandModel:
    """The demand model of one kind (see the module docstring)."""
    if demand == "townships":
        return _town_demand(dataset, facility_type, cands)
    villages, children, _ = _demand_villages(dataset, facility_type)
    cov = coverage_matrix(dataset, facility_type, cands, graph=graph)
    note, note_zh = _children_notes(dataset, facility_type, graph)
    notes, notes_zh = [note], [note_zh]
    status, p_note, p_note_zh = priority_status(villages)
    unmet = np.ones(len(villages))
    if demand == "places":
        unmet, s_note, s_note_zh = _unmet_place_share(dataset, graph)
        weights, done, unit = (
            children * unmet,
            np.zeros(len(villages), dtype=bool),
            "children without a place",
        )
        notes.append(s_note)
        notes_zh.append(s_note_zh)
    else:
        existing = dataset.layer(facility_type)
        done = _covered_by(
            coverage_matrix(dataset, facility_type, existing, graph=graph),
            np.arange(len(existing)),
        )
        weights, unit = children, "children"
    if demand == "priority":
        if status == "none":
            raise ValueError(f"demand 'priority': {p_note}")
        share = np.clip(
            priority_counts(villages) / np.maximum(villages["pop_0_14"].to_numpy(float), 1), 0, 1
        )
        weights, unit = children * share, "priority-group children"
        notes.append(f"priority-group children only: {p_note}")
        notes_zh.append(f"只计重点群体儿童：{p_note_zh}")
    elif priority_weight != 1.0:
        if status == "none":
            raise ValueError(f"priority weight ×{priority_weight:g}: {p_note}")
        weights = weighted_children(weights, villages, priority_weight)
        unit = f"{unit} (priority groups ×{priority_weight:g})"
        notes.append(f"children of the priority groups count ×{priority_weight:g}; {p_note}")
        notes_zh.append(f"重点群体儿童按 ×{priority_weight:g} 计权；{p_note_zh}")
    elif status == "none":
        notes.append(p_note)
        notes_zh.append(p_note_zh)
    return DemandModel(cov, weights, done, unit, ["village", facility_type], notes, notes_zh, unmet)


def _unmet_place_share(
    dataset: Dataset, graph: WalkGraph | None
) -> tuple[NDArray[np.float64], str, str]:
    """Per village, the share of the childcare places it needs that 2SFCA finds unmet."""
    from qjgeo.gaps.supply_demand import childcare_accessibility

    acc = childcare_accessibility(dataset, graph=graph)
    villages = dataset.layer("village")
    rule = NEW_SITE_CAPACITY["childcare"]
    pop = villages["population"].to_numpy(dtype=float)
    kids = villages["pop_0_2"].to_numpy(dtype=float)
    need_per_1000 = rule.ratio * pop.sum() / max(kids.sum(), 1.0) * 1000
    have = acc.villages["places_per_1000_children"].to_numpy(dtype=float)
    unmet = np.clip(1.0 - np.nan_to_num(have) / need_per_1000, 0.0, 1.0)
    return (
        unmet,
        f"children without a place: 2SFCA places per 1,000 children 0–2 in reach "
        f"({acc.method}) against the {need_per_1000:,.0f} the plan's 6 per 1,000 residents "
        "implies district-wide; a village's unmet share is what its children count",
        f"无托位儿童：以两步移动搜索法（2SFCA）计算的每千名 0–2 岁儿童可达托位数，对照规划"
        f"每千常住人口 6 个托位折算的 {need_per_1000:,.0f}；按各村未满足的比例计入儿童",
    )


def _town_demand(dataset: Dataset, facility_type: str, cands: gpd.GeoDataFrame) -> DemandModel:
    """Townships as demand units: covered when they hold a facility."""
    towns = dataset.layer("township")
    codes = towns["code9"].astype(str).to_numpy()
    pos = {c: i for i, c in enumerate(codes)}
    cand_town = np.array([pos.get(str(c), -1) for c in cands["township_code"]], dtype=np.int64)
    ok = cand_town >= 0
    cov = csr_array(
        (np.ones(int(ok.sum()), dtype=bool), (cand_town[ok], np.flatnonzero(ok))),
        shape=(len(codes), len(cands)),
    )
    facilities = dataset.layer(facility_type)
    if "township_code" in facilities.columns:
        have = set(facilities["township_code"].dropna().astype(str))
    else:
        have = set(_township_of(dataset, facilities.geometry).tolist())
    done = np.isin(codes, list(have))
    return DemandModel(
        cov, np.ones(len(codes), dtype=np.float64), done, "townships",
        ["township", facility_type],
        ["a township counts as covered when it holds at least one facility"],
        ["镇街内至少有一处设施即算作覆盖"],
    )  # fmt: skip


def _children_notes(
    dataset: Dataset, facility_type: str, graph: WalkGraph | None
) -> tuple[str, str]:
    """The note on the children counted and the distances used, in English and in Chinese."""
    access = dataset.params.facility(facility_type)
    how = (
        "walking network"
        if graph is not None
        else (f"straight line × {dataset.params.detour_factor:g} (no network loaded)")
    )
    how_zh = (
        "步行路网"
        if graph is not None
        else f"直线距离 × {dataset.params.detour_factor:g}（未加载路网）"
    )
    ages_zh = "全部年龄" if access.label == "all ages" else f"{access.label} 岁"
    note = (
        f"children aged {access.label} per village; covered within "
        f"{access.urban_threshold_m:g} m (urban) / {access.rural_threshold_m:g} m (rural), "
        f"distance by {how}"
    )
    note_zh = (
        f"按村统计 {ages_zh}儿童；城镇 {access.urban_threshold_m:g} 米、农村 "
        f"{access.rural_threshold_m:g} 米以内算作覆盖，距离按{how_zh}计算"
    )
    return note, note_zh
