"""Site recommendations: greedy and exact maximal covering, fewest sites to a target.

The exact method is checked against PySAL spopt's MCLP on random instances; the greedy
result is checked against the (1 − 1/e) guarantee. Typical greedy/optimum ratio on the 12
random instances below (seeds 0–11, 40–80 demand points, 15–30 candidates, k = 2–6):
min 0.922, mean 0.982, equal to the optimum on 6 of the 12; the figures are
printed by ``test_greedy_within_guarantee`` (``pytest -s``).
"""

from __future__ import annotations

import math
import re
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_array

from qjgeo import Dataset
from qjgeo.scenario import apply, compare
from qjgeo.siting import (
    candidate_sites,
    max_cover_exact,
    max_cover_greedy,
    min_sites_for_target,
    recommend_sites,
    recommendation_to_scenario,
)

GUARANTEE = 1 - 1 / math.e


def _instance(seed: int) -> tuple[np.ndarray, np.ndarray, float, int]:
    rng = np.random.default_rng(seed)
    n_demand = int(rng.integers(40, 81))
    n_cand = int(rng.integers(15, 31))
    demand = rng.uniform(0, 100, (n_demand, 2))
    cand = rng.uniform(0, 100, (n_cand, 2))
    cost = np.hypot(*(demand[:, None, :] - cand[None, :, :]).transpose(2, 0, 1))
    weights = rng.integers(1, 100, n_demand).astype(float)
    return cost, weights, float(rng.uniform(12, 25)), int(rng.integers(2, 7))


def _spopt_objective(cost: np.ndarray, weights: np.ndarray, radius: float, k: int) -> float:
    import pulp
    from spopt.locate import MCLP

    with warnings.catch_warnings():
        # spopt 0.7 builds its model with the PuLP 3 API, deprecated for PuLP 4
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="pulp")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="spopt")
        model = MCLP.from_cost_matrix(cost, weights, service_radius=radius, p_facilities=k)
        model.solve(pulp.HiGHS(msg=False, gapRel=0.0))
    return float(pulp.value(model.problem.objective))


# --------------------------------------------------------------------------------------
# array core on hand-made instances


def _hand_instance() -> tuple[csr_array, np.ndarray]:
    # demand 0..5, candidates A, B, C:  A = {0,1,2}  B = {3,4,5}  C = {0,1,3,4}
    cov = np.zeros((6, 3), dtype=bool)
    cov[[0, 1, 2], 0] = True
    cov[[3, 4, 5], 1] = True
    cov[[0, 1, 3, 4], 2] = True
    return csr_array(cov), np.ones(6)


def test_greedy_hand_instance_gains() -> None:
    cov, w = _hand_instance()
    res = max_cover_greedy(cov, w, 2)
    # C covers 4; then A adds {2} (1) and B adds {5} (1): tie broken by the lower index A
    assert res.selected.tolist() == [2, 0]
    assert res.gains.tolist() == [4.0, 1.0]
    assert res.objective == 5.0 and res.covered_after == 5.0 and res.total_weight == 6.0
    assert res.status == "heuristic"


def test_exact_beats_greedy_on_hand_instance() -> None:
    cov, w = _hand_instance()
    res = max_cover_exact(cov, w, 2)
    assert sorted(res.selected.tolist()) == [0, 1]
    assert res.objective == 6.0 and res.status == "optimal" and res.gap == pytest.approx(0.0)
    assert res.best_bound == pytest.approx(6.0)


def test_already_covered_demand_is_no_gain() -> None:
    cov, w = _hand_instance()
    done = np.array([True, True, False, False, False, False])
    res = max_cover_greedy(cov, w, 1, already_covered=done)
    # C now adds only {3, 4} = 2 and B adds {3, 4, 5} = 3
    assert res.selected.tolist() == [1] and res.gains.tolist() == [3.0]
    assert res.covered_before == 2.0 and res.covered_after == 5.0
    assert res.share_after == pytest.approx(5 / 6)


def test_greedy_stops_when_nothing_left() -> None:
    cov, w = _hand_instance()
    res = max_cover_greedy(cov, w, 3)
    assert res.objective == 6.0
    res = max_cover_greedy(cov, w, 5)
    assert len(res.selected) == 3 or res.status == "no_gain"
    assert res.objective == 6.0


def test_min_sites_greedy_vs_exact() -> None:
    cov, w = _hand_instance()
    greedy = min_sites_for_target(cov, w, 1.0)
    exact = min_sites_for_target(cov, w, 1.0, method="exact")
    assert len(greedy.selected) == 3  # C first, then A and B
    assert sorted(exact.selected.tolist()) == [0, 1]
    assert exact.covered_after == 6.0 and exact.best_bound == 2.0
    # 4 of 6 = 0.667 ≥ 0.6 → one site (C) is enough for 60 %
    assert min_sites_for_target(cov, w, 0.6, method="exact").selected.tolist() == [2]


def test_min_sites_target_met_and_unreachable() -> None:
    cov, w = _hand_instance()
    done = np.array([True, True, True, True, False, False])
    met = min_sites_for_target(cov, w, 0.6, already_covered=done)
    assert met.status == "target_met" and len(met.selected) == 0
    cov2 = csr_array(cov.toarray()[:, :1])  # only A: 3 of 6 reachable
    res = min_sites_for_target(cov2, w, 0.9, method="exact")
    assert res.status == "target_unreachable" and "50.0%" in res.message
    assert "50.0%" in res.message_zh and "无法达到" in res.message_zh
    assert "已达到" in met.message_zh


def test_bad_inputs() -> None:
    cov, w = _hand_instance()
    with pytest.raises(ValueError, match="weights has 5"):
        max_cover_greedy(cov, w[:5], 1)
    with pytest.raises(ValueError, match="k must be"):
        max_cover_greedy(cov, w, -1)
    with pytest.raises(ValueError, match="target_share"):
        min_sites_for_target(cov, w, 1.5)
    with pytest.raises(ValueError, match="solver"):
        max_cover_exact(cov, w, 1, solver="gurobi")  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(12))
def test_exact_matches_spopt_mclp(seed: int) -> None:
    cost, weights, radius, k = _instance(seed)
    cov = csr_array(cost <= radius)
    ours = max_cover_exact(cov, weights, k)
    assert ours.status == "optimal"
    assert ours.objective == pytest.approx(_spopt_objective(cost, weights, radius, k))
    # the objective is the weight actually covered by the chosen sites
    covered = cov[:, ours.selected].sum(axis=1) > 0
    assert ours.objective == pytest.approx(float(weights[covered].sum()))


def test_exact_cbc_matches_highs() -> None:
    cost, weights, radius, k = _instance(3)
    cov = csr_array(cost <= radius)
    assert max_cover_exact(cov, weights, k, solver="cbc").objective == pytest.approx(
        max_cover_exact(cov, weights, k).objective
    )


def test_greedy_within_guarantee() -> None:
    ratios = []
    for seed in range(12):
        cost, weights, radius, k = _instance(seed)
        cov = csr_array(cost <= radius)
        opt = max_cover_exact(cov, weights, k).objective
        greedy = max_cover_greedy(cov, weights, k).objective
        assert greedy <= opt + 1e-9
        assert greedy >= GUARANTEE * opt - 1e-9
        ratios.append(greedy / opt)
    print(
        f"\ngreedy/optimum over 12 instances: min {min(ratios):.3f}, "
        f"mean {np.mean(ratios):.3f}, optimal in {sum(r > 1 - 1e-9 for r in ratios)}"
    )


# --------------------------------------------------------------------------------------
# dataset level


def test_recommendation_agrees_with_gaps_after_apply(dataset: Dataset) -> None:
    """The children a recommendation says it covers are the ones the scenario covers."""
    rec = recommend_sites(dataset, "childcare", k=3)
    exact = recommend_sites(dataset, "childcare", k=3, method="exact")
    assert exact.result.objective >= rec.result.objective - 1e-9
    assert rec.data_status == "sample"
    assert list(rec.sites["rank"]) == [1, 2, 3]
    assert np.all(np.diff(rec.sites["marginal_children"]) <= 0)  # greedy order
    scenario = recommendation_to_scenario(rec, "rec_test")
    # places follow from the residents each site newly serves (6 per 1,000), an assumption
    places = [a.attributes["places"] for a in scenario.add]
    assert places == rec.sites["places"].tolist()
    assert places == [max(1, round(p * 6 / 1000)) for p in rec.sites["served_population"]]
    assert all(a.assumptions and "assumed" in a.assumptions[0] for a in scenario.add)
    after = apply(dataset, scenario)
    cmp = compare(dataset, after, facility_types=["childcare"])
    row = cmp.coverage.iloc[0]
    assert row["covered_a"] == pytest.approx(rec.result.covered_before)
    assert row["newly_covered"] == pytest.approx(rec.result.objective)
    assert row["newly_uncovered"] == 0


def test_town_coverage_science_venues(dataset: Dataset) -> None:
    """Fewest science venues so that ≥ 70 % of townships hold one."""
    towns = dataset.layer("township")["code9"].astype(str)
    have = set(dataset.layer("science_venue")["township_code"].astype(str)) & set(towns)
    rec = recommend_sites(
        dataset, "science_venue", target_share=0.7, demand="townships", candidates="seats"
    )
    needed = max(0, math.ceil(0.7 * len(towns) - 1e-9) - len(have))
    assert len(rec.sites) == needed
    assert rec.result.covered_before == len(have)
    assert set(rec.sites["township_code"]).isdisjoint(have)
    assert rec.result.share_after >= 0.7


_CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(
    ("facility_type", "options"),
    [
        ("childcare", {"k": 3, "method": "exact"}),
        ("childcare", {"k": 500}),  # more sites than add coverage: a "no gain" note
        ("science_venue", {"target_share": 0.7, "demand": "townships", "candidates": "seats"}),
    ],
)
def test_notes_zh_parallel_notes(dataset: Dataset, facility_type: str, options: dict) -> None:
    """Every English note has a Chinese note at the same place, saying the same numbers."""
    rec = recommend_sites(dataset, facility_type, **options)
    assert rec.notes and len(rec.notes_zh) == len(rec.notes)
    for en, zh in zip(rec.notes, rec.notes_zh, strict=True):
        assert _CJK.search(zh), zh
        numbers = r"\d+(?:\.\d+)?"
        assert sorted(re.findall(numbers, en)) == sorted(re.findall(numbers, zh))
    assert rec.notes_zh[-1] == "基于样例数据：使用前请实地核查选址"


def _tiny_dataset(dataset: Dataset) -> Dataset:
    """Two townships of the bundled data with their villages, for hand checks."""
    towns = dataset.layer("township")
    keep = towns[towns["code9"].isin(["440205109", "440205108"])]
    out = dataset.with_layer("township", keep)
    villages = dataset.layer("village")
    return out.with_layer("village", villages[villages["township_code"].isin(keep["code9"])])


def test_candidate_kinds(dataset: Dataset) -> None:
    seats = candidate_sites(dataset, "seats")
    assert len(seats) == len(dataset.layer("township"))
    assert (seats["candidate_id"] == seats["township_code"]).all()
    hexes = candidate_sites(dataset, "hex", hex_spacing_m=3000)
    district = shapely.union_all(dataset.layer("district").geometry.array)
    assert len(hexes) > 100 and shapely.intersects(district, hexes.geometry.array).all()
    user = gpd.GeoDataFrame(
        {"name": ["in", "out"]},
        geometry=[shapely.Point(113.6, 24.69), shapely.Point(120.0, 30.0)],
        crs="EPSG:4326",
    )
    got = candidate_sites(dataset, user)
    assert got["name"].tolist() == ["in"] and got["township_code"].notna().all()
    with pytest.raises(ValueError, match="no CRS"):
        candidate_sites(dataset, user.set_crs(None, allow_override=True))


def test_recommend_errors(dataset: Dataset) -> None:
    with pytest.raises(ValueError, match="either k"):
        recommend_sites(dataset, "childcare", k=2, target_share=0.5)
    tiny = _tiny_dataset(dataset)
    no_layer = Dataset(
        info=tiny.info,
        specs={k: v for k, v in tiny.specs.items() if k != "childcare"},
        frames={k: v for k, v in tiny.frames.items() if k != "childcare"},
    )
    with pytest.raises(ValueError, match="not available"):
        recommend_sites(no_layer, "childcare", k=1)


def test_fewest_sites_for_child_share(dataset: Dataset) -> None:
    tiny = _tiny_dataset(dataset)
    rec = recommend_sites(tiny, "kindergarten", target_share=0.5, method="exact")
    greedy = recommend_sites(tiny, "kindergarten", target_share=0.5)
    assert rec.result.share_after >= 0.5 and greedy.result.share_after >= 0.5
    assert len(rec.sites) <= len(greedy.sites)
    assert rec.result.status == "optimal"


def test_time_limited_exact_never_below_greedy() -> None:
    """Whatever the solver manages in its time, the answer keeps the greedy start."""
    rng = np.random.default_rng(5)
    demand, cand = rng.uniform(0, 20_000, (3000, 2)), rng.uniform(0, 20_000, (300, 2))
    cov = csr_array(np.hypot(*(demand[:, None, :] - cand[None, :, :]).transpose(2, 0, 1)) <= 3000)
    w = rng.integers(1, 100, 3000).astype(float)
    greedy = max_cover_greedy(cov, w, 8)
    quick = max_cover_exact(cov, w, 8, time_limit_s=0.05)
    assert quick.objective >= greedy.objective - 1e-9
    assert quick.best_bound >= quick.objective - 1e-6 and 0 <= quick.gap < 1
    assert quick.status in ("optimal", "time_limit") or quick.status.startswith("time_limit")
    assert greedy.best_bound >= quick.objective - 1e-6  # the greedy's own bound is valid


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(5, 30),
    st.integers(3, 15),
    st.floats(0.05, 0.4),
    st.integers(1, 5),
)
def test_greedy_le_exact_le_bounds(seed: int, n: int, m: int, density: float, k: int) -> None:
    rng = np.random.default_rng(seed)
    cov = csr_array(rng.random((n, m)) < density)
    w = rng.integers(0, 20, n).astype(float)
    done = rng.random(n) < 0.2
    greedy = max_cover_greedy(cov, w, k, already_covered=done)
    exact = max_cover_exact(cov, w, k, already_covered=done)
    assert greedy.objective <= exact.objective + 1e-9
    assert exact.objective <= greedy.best_bound + 1e-9
    assert greedy.objective >= GUARANTEE * exact.objective - 1e-9
    assert exact.covered_before == pytest.approx(float(w[done].sum()))
    # gains add up to the weight newly covered by the chosen sites
    newly = (np.asarray(cov[:, exact.selected].sum(axis=1)).ravel() > 0) & ~done
    assert exact.objective == pytest.approx(float(w[newly].sum()))
