"""Site recommendations for a dataset, and scenarios made from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse import csr_array

from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS
from qjgeo.siting.candidates import candidate_sites
from qjgeo.siting.capacity import served_villages, site_capacities
from qjgeo.siting.demand import DEMANDS, build_demand
from qjgeo.siting.exact import max_cover_exact, min_sites_for_target
from qjgeo.siting.milp import Solver
from qjgeo.siting.solvers import Method, SitingResult, max_cover_greedy

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

#: Attributes written into scenarios made from a recommendation. Childcare and kindergarten
#: places are not here: they follow from the demand each site serves
#: (:data:`qjgeo.params.NEW_SITE_CAPACITY`). A primary school gets a placeholder (a
#: 36-class school, 1,620 places), flagged as such in the scenario's assumptions.
DEFAULT_NEW_CAPACITY: dict[str, dict[str, Any]] = {
    "childcare": {"puhui": True},
    "kindergarten": {"puhui": True},
    "primary_school": {"places": 1620},
}
_PLACEHOLDER_NOTE = (
    "placeholder: places {places} (a 36-class primary school), not derived from demand; edit",
    "占位值：学位 {places} 个（36 班小学），并非按需求测算；请修改",
)


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
                    "sites_requested": r.k_requested or len(self.sites),
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


def recommend_sites(
    dataset: Dataset,
    facility_type: str,
    *,
    k: int | None = None,
    target_share: float | None = None,
    method: Method = "greedy",
    candidates: Literal["villages", "seats", "hex"] | gpd.GeoDataFrame = "villages",
    demand: Literal["children", "places", "priority", "townships"] = "children",
    graph: WalkGraph | None = None,
    time_limit_s: float = 30.0,
    solver: Solver = "highs",
    hex_spacing_m: float = 1000.0,
    priority_weight: float = 1.0,
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
        within the urban/rural walking threshold; ``"places"`` (childcare): children
        without a place in reach by 2SFCA; ``"priority"``: children of the priority groups
        only; ``"townships"``: a township is covered when it holds at least one facility
        (e.g. 70 % of townships with a science venue). See :mod:`qjgeo.siting.demand`.
    graph
        Walking network; without one, straight line × the detour factor.
    time_limit_s, solver
        For ``method="exact"``.
    hex_spacing_m
        Spacing of the ``"hex"`` candidate grid, metres.
    priority_weight
        ≥ 1: children of the priority groups count this many times (``children`` and
        ``places`` demand); needs priority counts in the village layer.

    Returns
    -------
    Recommendation
        Ranked sites with marginal gain, coverage before/after and, for childcare and
        kindergartens, the places each site needs for the demand it serves.

    Raises
    ------
    ValueError
        For a missing layer, an unknown facility type, or neither/both of ``k`` and
        ``target_share``.
    """
    _check_request(dataset, facility_type, k, target_share, demand, priority_weight)
    cands = candidate_sites(dataset, candidates, hex_spacing_m=hex_spacing_m)
    label = candidates if isinstance(candidates, str) else "file"
    model = build_demand(dataset, facility_type, cands, demand, graph, priority_weight)
    notes, notes_zh = list(model.notes), list(model.notes_zh)
    if target_share is not None:
        result = min_sites_for_target(
            model.cov, model.weights, target_share, already_covered=model.done,
            method=method, time_limit_s=time_limit_s, solver=solver,
        )  # fmt: skip
    else:
        assert k is not None
        result = _max_cover(
            model.cov, model.weights, k, model.done, method, time_limit_s, solver
        )  # fmt: skip
    if result.message:
        notes.append(result.message)
        notes_zh.append(result.message_zh)
    if dataset.demand_source():
        notes.append(f"demand source: {dataset.demand_source()}")
        notes_zh.append(f"需求（儿童）来源：{dataset.demand_source()}")
    status = dataset.data_status([x for x in model.layers if dataset.has(x)])
    if status != "official":
        notes.append(f"rests on {status} data: check the sites on the ground before use")
        status_zh = _DATA_STATUS_ZH.get(status, status)
        notes_zh.append(f"基于{status_zh}数据：使用前请实地核查选址")
    sites = _ranked_sites(cands, result, model.unit)
    if demand != "townships":
        owner = served_villages(model.cov, result.selected, model.done)
        served = site_capacities(dataset, facility_type, owner, len(sites), share=model.unmet_share)
        for col in served.columns:
            sites[col] = served[col].to_numpy()
    return Recommendation(
        facility_type=facility_type,
        demand=demand,
        sites=sites,
        result=result,
        unit=model.unit,
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
    priority_weight: float,
) -> None:
    """Refuse a recommendation request the dataset or the arguments cannot serve."""
    if (k is None) == (target_share is None):
        raise ValueError("give either k (number of new sites) or target_share, not both")
    if not dataset.has(facility_type):
        raise ValueError(f"facility layer {facility_type!r} is not available in this dataset")
    if demand not in DEMANDS:
        raise ValueError(f"demand must be one of {', '.join(DEMANDS)}, got {demand!r}")
    needed = ["township"] if demand == "townships" else ["village"]
    for layer in needed:
        if not dataset.has(layer):
            raise ValueError(f"demand layer {layer!r} is not available in this dataset")
    if demand == "places" and facility_type != "childcare":
        raise ValueError("demand 'places' (children without a place, 2SFCA) is for childcare")
    if not (isinstance(priority_weight, int | float) and 1 <= priority_weight <= 100):
        raise ValueError(f"priority_weight must be a number in [1, 100], got {priority_weight!r}")


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
    places: Sequence[int] | None = None,
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
        Attributes of every new facility (default :data:`DEFAULT_NEW_CAPACITY`).
    places
        Places of each site, in rank order, replacing the ones derived from the demand
        served (the planner's edit); the assumption then says they were set by hand.
    base
        Base scenario (``None`` = baseline).

    Returns
    -------
    Scenario
        ``add`` holds one facility per site, in rank order, in WGS84; a capacity derived
        from demand, or a placeholder, is stated in the facility's ``assumptions``.

    Raises
    ------
    ValueError
        When ``places`` does not give one whole number ≥ 0 per site.
    """
    from qjgeo.scenario import FacilityAdd, Scenario

    derived = _site_places(rec, places)
    r = rec.result
    if not description:
        description = (
            f"{len(rec.sites)} new {rec.facility_type} site(s) recommended by the {r.method} "
            f"method ({rec.candidates} candidates, {rec.demand} demand): covered "
            f"{r.covered_before:,.0f} → {r.covered_after:,.0f} of {r.total_weight:,.0f} "
            f"{rec.unit}; data {rec.data_status}"
        )
    adds = []
    for i, row in enumerate(rec.sites.itertuples()):
        attrs = dict(DEFAULT_NEW_CAPACITY.get(rec.facility_type, {}))
        attrs.update(attributes or {})
        notes = list(derived[i][1]) if derived else []
        if derived:
            attrs["places"] = derived[i][0]
        elif "places" in attrs and not (attributes and "places" in attributes):
            notes = [n.format(places=attrs["places"]) for n in _PLACEHOLDER_NOTE]
        adds.append(
            FacilityAdd(
                type=rec.facility_type,
                lon=float(row.lon),
                lat=float(row.lat),
                crs="wgs84",
                name=f"{name} #{int(row.rank)} ({row.name})",
                attributes=attrs,
                assumptions=notes,
            )
        )
    return Scenario(name=name, description=description, base=base, add=adds)


def _site_places(
    rec: Recommendation, places: Sequence[int] | None
) -> list[tuple[int, tuple[str, ...]]]:
    """Places per site and the assumption behind them (empty for types without places)."""
    sites = rec.sites
    if places is not None:
        values = list(places)
        if len(values) != len(sites):
            raise ValueError(f"places: {len(values)} values given for {len(sites)} sites")
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
                raise ValueError(f"places: site {i + 1}: a whole number ≥ 0 expected, got {v!r}")
        derived = sites["places"].tolist() if "places" in sites.columns else [None] * len(sites)
        out: list[tuple[int, tuple[str, ...]]] = []
        for i, (v, d) in enumerate(zip(values, derived, strict=True)):
            if d is not None and int(v) == int(d):
                basis = (str(sites["places_basis"].iloc[i]), str(sites["places_basis_zh"].iloc[i]))
                out.append((int(v), basis))
                continue
            was = f" (derived from demand: {int(d)})" if d is not None else ""
            was_zh = f"（按需求测算为 {int(d)}）" if d is not None else ""
            out.append((int(v), (f"places set by the planner{was}", f"由规划人员设定{was_zh}")))
        return out
    if "places" not in sites.columns:
        return []
    return [
        (int(p), (str(en), str(zh)))
        for p, en, zh in zip(
            sites["places"], sites["places_basis"], sites["places_basis_zh"], strict=True
        )
    ]
