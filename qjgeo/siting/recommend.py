"""Site recommendations for a dataset, and scenarios made from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse import csr_array

from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS
from qjgeo.siting.candidates import _township_of, candidate_sites
from qjgeo.siting.coverage import _demand_villages, coverage_matrix
from qjgeo.siting.exact import max_cover_exact, min_sites_for_target
from qjgeo.siting.milp import Solver
from qjgeo.siting.solvers import Method, SitingResult, _covered_by, max_cover_greedy

if TYPE_CHECKING:
    from qjgeo.network import WalkGraph
    from qjgeo.scenario import Scenario

#: Chinese names of the data statuses a recommendation can rest on (as the app labels them).
_DATA_STATUS_ZH: dict[str, str] = {
    "sample": "样例",
    "estimated": "估算",
    "osm": "OSM",
    "user": "用户",
    "official": "官方",
}

#: Placeholder capacity written into scenarios made from a recommendation (edit before use):
#: a community childcare point (托育点) ~50 places, a 9-class kindergarten 270, a 36-class
#: primary school 1,620.
DEFAULT_NEW_CAPACITY: dict[str, dict[str, Any]] = {
    "childcare": {"places": 50, "puhui": True},
    "kindergarten": {"places": 270, "puhui": True},
    "primary_school": {"places": 1620},
}


@dataclass(frozen=True, eq=False)
class Recommendation:
    """Ranked new sites for one facility type, with coverage before and after.

    Attributes
    ----------
    facility_type
        Facility layer id.
    demand
        ``"children"`` (villages weighted by the type's age bands) or ``"townships"``
        (a township is covered when it holds ≥ 1 facility).
    sites
        WGS84 GeoDataFrame, one row per new site in rank order: ``rank, candidate_id,
        name, township_code, lon, lat, marginal_gain, cumulative_covered,
        share_after_site`` and ``marginal_children`` or ``marginal_townships``.
    result
        The array-level :class:`SitingResult` (status, objective, bound, gap, time).
    unit
        What the weights count: ``"children"`` or ``"townships"``.
    candidates
        How the candidates were made (``"villages"``, ``"seats"``, ``"hex"``, ``"file"``).
    n_candidates
        Number of candidate sites considered.
    data_status
        ``official``/``estimated``/``sample``: the weakest data the result rests on.
    notes, notes_zh
        Planner-readable caveats (thresholds used, distance method, target reached...), in
        English and, one for one, in Chinese.
    """

    facility_type: str
    demand: str
    sites: gpd.GeoDataFrame
    result: SitingResult
    unit: str
    candidates: str
    n_candidates: int
    data_status: str
    notes: tuple[str, ...] = field(default=())
    notes_zh: tuple[str, ...] = field(default=())

    @property
    def method(self) -> str:
        """``"greedy"`` or ``"exact"``."""
        return self.result.method

    @property
    def gap(self) -> float:
        """Relative optimality gap (``nan`` when unknown or greedy)."""
        return self.result.gap

    def summary(self) -> pd.DataFrame:
        """One-row table: coverage before/after, sites, method, status, gap, data status."""
        r = self.result
        return pd.DataFrame(
            [
                {
                    "facility_type": self.facility_type,
                    "demand": self.demand,
                    "sites": len(self.sites),
                    "covered_before": r.covered_before,
                    "covered_after": r.covered_after,
                    "total": r.total_weight,
                    "share_before": r.share_before,
                    "share_after": r.share_after,
                    "method": r.method,
                    "status": r.status,
                    "gap": r.gap,
                    "time_s": round(r.time_s, 3),
                    "candidates": f"{self.candidates} ({self.n_candidates})",
                    "data_status": self.data_status,
                }
            ]
        )


def _town_demand(
    dataset: Dataset, facility_type: str, cands: gpd.GeoDataFrame
) -> tuple[csr_array, NDArray[np.float64], NDArray[np.bool_]]:
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
    return cov, np.ones(len(codes), dtype=np.float64), done


def recommend_sites(
    dataset: Dataset,
    facility_type: str,
    *,
    k: int | None = None,
    target_share: float | None = None,
    method: Method = "greedy",
    candidates: Literal["villages", "seats", "hex"] | gpd.GeoDataFrame = "villages",
    demand: Literal["children", "townships"] = "children",
    graph: WalkGraph | None = None,
    time_limit_s: float = 30.0,
    solver: Solver = "highs",
    hex_spacing_m: float = 1000.0,
) -> Recommendation:
    """Recommend new sites for a facility type, keeping every existing facility.

    Parameters
    ----------
    dataset
        The (possibly scenario-applied) data.
    facility_type
        Facility layer id, e.g. ``"childcare"``.
    k
        Number of new sites (maximal covering). Give ``k`` or ``target_share``.
    target_share
        Share of children (or of townships) to reach with the fewest new sites.
    method
        ``"greedy"`` or ``"exact"``.
    candidates
        ``"villages"``, ``"seats"``, ``"hex"`` or a GeoDataFrame of candidate points.
    demand
        ``"children"``: villages weighted by the children of the type's age bands, covered
        within the urban/rural walking threshold; ``"townships"``: a township is covered
        when it holds at least one facility (e.g. 70 % of townships with a science venue).
    graph
        Walking network; without one, straight line × the detour factor.
    time_limit_s, solver
        For ``method="exact"``.
    hex_spacing_m
        Spacing of the ``"hex"`` candidate grid, metres.

    Returns
    -------
    Recommendation
        Ranked sites with marginal gain and coverage before/after.

    Raises
    ------
    ValueError
        For a missing layer, an unknown facility type, or neither/both of ``k`` and
        ``target_share``.
    """
    _check_request(dataset, facility_type, k, target_share, demand)
    cands = candidate_sites(dataset, candidates, hex_spacing_m=hex_spacing_m)
    label = candidates if isinstance(candidates, str) else "file"
    notes: list[str] = []
    notes_zh: list[str] = []
    if demand == "children":
        cov, weights, done = _children_demand(dataset, facility_type, cands, graph)
        notes_en, note_zh = _children_notes(dataset, facility_type, graph)
        notes.append(notes_en)
        notes_zh.append(note_zh)
        unit = "children"
        layers = ["village", facility_type]
    else:
        cov, weights, done = _town_demand(dataset, facility_type, cands)
        unit = "townships"
        notes.append("a township counts as covered when it holds at least one facility")
        notes_zh.append("镇街内至少有一处设施即算作覆盖")
        layers = ["township", facility_type]
    if target_share is not None:
        result = min_sites_for_target(
            cov, weights, target_share, already_covered=done, method=method,
            time_limit_s=time_limit_s, solver=solver,
        )  # fmt: skip
    else:
        assert k is not None
        result = _max_cover(cov, weights, k, done, method, time_limit_s, solver)
    if result.message:
        notes.append(result.message)
        notes_zh.append(result.message_zh)
    status = dataset.data_status([x for x in layers if dataset.has(x)])
    if status != "official":
        notes.append(f"rests on {status} data: check the sites on the ground before use")
        status_zh = _DATA_STATUS_ZH.get(status, status)
        notes_zh.append(f"基于{status_zh}数据：使用前请实地核查选址")
    return Recommendation(
        facility_type=facility_type,
        demand=demand,
        sites=_ranked_sites(cands, result, unit),
        result=result,
        unit=unit,
        candidates=label,
        n_candidates=len(cands),
        data_status=status,
        notes=tuple(notes),
        notes_zh=tuple(notes_zh),
    )


def _check_request(
    dataset: Dataset,
    facility_type: str,
    k: int | None,
    target_share: float | None,
    demand: str,
) -> None:
    """Refuse a recommendation request the dataset or the arguments cannot serve."""
    if (k is None) == (target_share is None):
        raise ValueError("give either k (number of new sites) or target_share, not both")
    if not dataset.has(facility_type):
        raise ValueError(f"facility layer {facility_type!r} is not available in this dataset")
    needed = ["village"] if demand == "children" else ["township"]
    for layer in needed:
        if not dataset.has(layer):
            raise ValueError(f"demand layer {layer!r} is not available in this dataset")
    if demand not in ("children", "townships"):
        raise ValueError(f"demand must be 'children' or 'townships', got {demand!r}")


def _children_demand(
    dataset: Dataset,
    facility_type: str,
    cands: gpd.GeoDataFrame,
    graph: WalkGraph | None,
) -> tuple[csr_array, NDArray[np.float64], NDArray[np.bool_]]:
    """Villages × candidates coverage, children per village, villages already covered."""
    _, weights, _ = _demand_villages(dataset, facility_type)
    cov = coverage_matrix(dataset, facility_type, cands, graph=graph)
    existing = dataset.layer(facility_type)
    done = _covered_by(
        coverage_matrix(dataset, facility_type, existing, graph=graph),
        np.arange(len(existing)),
    )
    return cov, weights, done


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


def _max_cover(
    cov: csr_array,
    weights: NDArray[np.float64],
    k: int,
    done: NDArray[np.bool_],
    method: Method,
    time_limit_s: float,
    solver: Solver,
) -> SitingResult:
    """``k`` new sites by the method asked for."""
    if method == "greedy":
        return max_cover_greedy(cov, weights, k, already_covered=done)
    if method == "exact":
        return max_cover_exact(
            cov, weights, k, already_covered=done, time_limit_s=time_limit_s, solver=solver
        )
    raise ValueError(f"method must be 'greedy' or 'exact', got {method!r}")


def _ranked_sites(cands: gpd.GeoDataFrame, result: SitingResult, unit: str) -> gpd.GeoDataFrame:
    """The chosen candidates in rank order, with marginal and cumulative coverage."""
    chosen = cands.iloc[result.selected].reset_index(drop=True)
    cumulative = result.covered_before + np.cumsum(result.gains)
    return gpd.GeoDataFrame(
        {
            "rank": np.arange(1, len(chosen) + 1),
            "candidate_id": chosen["candidate_id"].to_numpy(),
            "name": chosen["name"].to_numpy(),
            "township_code": chosen["township_code"].to_numpy(),
            "lon": chosen.geometry.x.round(6).to_numpy(),
            "lat": chosen.geometry.y.round(6).to_numpy(),
            "marginal_gain": result.gains,
            f"marginal_{unit}": result.gains,
            "cumulative_covered": cumulative,
            "share_after_site": cumulative / result.total_weight
            if result.total_weight
            else np.full(len(chosen), np.nan),
        },
        geometry=chosen.geometry.to_numpy(),
        crs=WGS84_CRS,
    )


def recommendation_to_scenario(
    rec: Recommendation,
    name: str,
    description: str = "",
    *,
    attributes: dict[str, Any] | None = None,
    base: str | None = None,
) -> Scenario:
    """Turn recommended sites into a scenario that adds them (one step to a scenario file).

    Parameters
    ----------
    rec
        The recommendation.
    name
        Scenario name.
    description
        Free text; a summary of the recommendation is used when empty.
    attributes
        Attributes of every new facility; default :data:`DEFAULT_NEW_CAPACITY` for types
        that need a capacity (placeholder figures: edit them before using the numbers).
    base
        Base scenario (``None`` = baseline).

    Returns
    -------
    Scenario
        ``add`` holds one facility per site, in rank order, in WGS84.
    """
    from qjgeo.scenario import FacilityAdd, Scenario

    attrs = dict(DEFAULT_NEW_CAPACITY.get(rec.facility_type, {}))
    attrs.update(attributes or {})
    r = rec.result
    if not description:
        description = (
            f"{len(rec.sites)} new {rec.facility_type} site(s) recommended by the {r.method} "
            f"method ({rec.candidates} candidates, {rec.demand} demand): covered "
            f"{r.covered_before:,.0f} → {r.covered_after:,.0f} of {r.total_weight:,.0f} "
            f"{rec.unit}; data {rec.data_status}"
        )
    adds = [
        FacilityAdd(
            type=rec.facility_type,
            lon=float(row.lon),
            lat=float(row.lat),
            crs="wgs84",
            name=f"{name} #{int(row.rank)} ({row.name})",
            attributes=attrs,
        )
        for row in rec.sites.itertuples()
    ]
    return Scenario(name=name, description=description, base=base, add=adds)
