"""Tests for qjgeo.sfca: 2SFCA and E2SFCA checked against hand-worked numbers and PySAL."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from qjgeo.sfca import (
    decay_weights,
    enhanced_two_step_fca,
    places_per_1000,
    two_step_fca,
)

# --------------------------------------------------------------------------------------
# The worked instance: 3 facilities (places) × 4 demand locations (children), metres.
#
#            S1=10   S2=20   S3=30      children
#   D1        200     800     -          100
#   D2        600     400    1200        200
#   D3         -      900     300        300
#   D4       1500    1000     700        400
#
# Threshold d0 = 1000 m, inclusive ("-" = no route).
#
# Classic 2SFCA (step weights)
#   step 1  S1 reaches D1, D2          -> 100 + 200             = 300   R1 = 10/300  = 1/30
#           S2 reaches D1..D4 (D4 at exactly 1000 m counts)
#                                      -> 100+200+300+400       = 1000  R2 = 20/1000 = 1/50
#           S3 reaches D3, D4 (D2 at 1200 m does not)
#                                      -> 300 + 400             = 700   R3 = 30/700  = 3/70
#   step 2  A1 = R1 + R2 = 1/30 + 1/50 = 4/75     A2 = R1 + R2 = 4/75
#           A3 = R2 + R3 = 1/50 + 3/70 = 11/175   A4 = R2 + R3 = 11/175
#   check   sum P*A = 100*4/75 + 200*4/75 + 300*11/175 + 400*11/175 = 16 + 44 = 60 = sum S
#
# E2SFCA, zones (0, 300] -> 1.0, (300, 600] -> 0.68, (600, 1000] -> 0.22
#   weights  D1: S1 200 -> 1.00, S2 800 -> 0.22
#            D2: S1 600 -> 0.68 (upper bound inclusive), S2 400 -> 0.68, S3 1200 -> 0
#            D3: S2 900 -> 0.22, S3 300 -> 1.00
#            D4: S2 1000 -> 0.22, S3 700 -> 0.22, S1 1500 -> 0
#   step 1  S1: 100*1 + 200*0.68                        = 236  R1 = 10/236
#           S2: 100*0.22 + 200*0.68 + 300*0.22 + 400*0.22 = 312  R2 = 20/312
#           S3: 300*1 + 400*0.22                        = 388  R3 = 30/388
#   step 2  A1 = 1.00*R1 + 0.22*R2 = 10/236 + 4.4/312   = 0.0564755
#           A2 = 0.68*R1 + 0.68*R2 = 6.8/236 + 13.6/312 = 0.0724033
#           A3 = 0.22*R2 + 1.00*R3 = 4.4/312 + 30/388   = 0.0914222
#           A4 = 0.22*R2 + 0.22*R3 = 4.4/312 + 6.6/388  = 0.0311129
#   check   sum P*A = 5.6476 + 14.4807 + 27.4267 + 12.4452 = 60.0 = sum S
# --------------------------------------------------------------------------------------

SUPPLY = np.array([10.0, 20.0, 30.0])
DEMAND = np.array([100.0, 200.0, 300.0, 400.0])
INF = np.inf
DIST = np.array(
    [
        [200.0, 800.0, INF],
        [600.0, 400.0, 1200.0],
        [INF, 900.0, 300.0],
        [1500.0, 1000.0, 700.0],
    ]
)
ZONES = [(300.0, 1.0), (600.0, 0.68), (1000.0, 0.22)]
EXPECTED_2SFCA = np.array([4 / 75, 4 / 75, 11 / 175, 11 / 175])
EXPECTED_E2SFCA = np.array(
    [
        10 / 236 + 4.4 / 312,
        6.8 / 236 + 13.6 / 312,
        4.4 / 312 + 30 / 388,
        4.4 / 312 + 6.6 / 388,
    ]
)


def sparse_dist() -> sp.csr_array:
    """The same instance as a sparse matrix: only routes that exist are stored."""
    rows, cols = np.nonzero(np.isfinite(DIST))
    return sp.csr_array((DIST[rows, cols], (rows, cols)), shape=DIST.shape)


def test_two_step_fca_hand_worked() -> None:
    a = two_step_fca(SUPPLY, DEMAND, DIST, threshold_m=1000.0)
    np.testing.assert_allclose(a, EXPECTED_2SFCA, rtol=1e-12)
    np.testing.assert_allclose(a, [0.0533333, 0.0533333, 0.0628571, 0.0628571], rtol=1e-5)
    assert DEMAND @ a == pytest.approx(SUPPLY.sum())
    np.testing.assert_allclose(
        two_step_fca(SUPPLY, DEMAND, sparse_dist(), threshold_m=1000.0), a, rtol=1e-12
    )


def test_enhanced_two_step_fca_hand_worked() -> None:
    a = enhanced_two_step_fca(SUPPLY, DEMAND, DIST, threshold_m=1000.0, zones=ZONES)
    np.testing.assert_allclose(a, EXPECTED_E2SFCA, rtol=1e-12)
    np.testing.assert_allclose(a, [0.0564755, 0.0724033, 0.0914222, 0.0311129], rtol=1e-5)
    assert DEMAND @ a == pytest.approx(SUPPLY.sum())
    same = two_step_fca(
        SUPPLY, DEMAND, sparse_dist(), threshold_m=1000.0, decay="zones", zones=ZONES
    )
    np.testing.assert_allclose(same, a, rtol=1e-12)


def test_threshold_is_inclusive_and_smaller_catchments() -> None:
    # d0 = 999 m: D4 loses S2 (exactly 1000 m). S2 now serves D1..D3 = 600 -> R2 = 1/30
    a = two_step_fca(SUPPLY, DEMAND, DIST, threshold_m=999.0)
    r1, r2, r3 = 10 / 300, 20 / 600, 30 / 700
    np.testing.assert_allclose(a, [r1 + r2, r1 + r2, r2 + r3, r3], rtol=1e-12)


def test_places_per_1000_children() -> None:
    a = two_step_fca(SUPPLY, DEMAND, DIST, threshold_m=1000.0)
    np.testing.assert_allclose(places_per_1000(a), [160 / 3, 160 / 3, 440 / 7, 440 / 7])


def test_no_demand_in_reach_and_no_supply_in_reach() -> None:
    dist = np.array([[100.0, INF], [INF, INF]])  # S2 reaches nobody; D2 reaches nothing
    a = two_step_fca([5.0, 7.0], [50.0, 10.0], dist, threshold_m=500.0)
    np.testing.assert_array_equal(a, [0.1, 0.0])
    empty_demand = two_step_fca([5.0], [0.0], [[100.0]], threshold_m=500.0)
    np.testing.assert_array_equal(empty_demand, [0.0])


def test_decay_weights() -> None:
    d = np.array([0.0, 300.0, 301.0, 600.0, 1000.0, 1000.5, INF, np.nan])
    np.testing.assert_array_equal(
        decay_weights(d, threshold_m=1000.0, decay="zones", zones=ZONES),
        [1.0, 1.0, 0.68, 0.68, 0.22, 0.0, 0.0, 0.0],
    )
    np.testing.assert_array_equal(decay_weights(d, threshold_m=1000.0), [1, 1, 1, 1, 1, 0, 0, 0])
    # Dai (2010): W(0) = 1, W(d0) = 0, W(d0/2) = (e^-1/8 - e^-1/2) / (1 - e^-1/2) = 0.70137
    g = decay_weights([0.0, 500.0, 1000.0, 1200.0], threshold_m=1000.0, decay="gaussian")
    floor = math.exp(-0.5)
    assert g[0] == pytest.approx(1.0)
    assert g[1] == pytest.approx((math.exp(-0.125) - floor) / (1 - floor))
    assert g[1] == pytest.approx(0.70137, abs=1e-5)
    assert g[2] == pytest.approx(0.0, abs=1e-15) and g[3] == 0.0
    # default E2SFCA zones: thirds of d0 with Luo & Qi's 1 / 0.68 / 0.22
    np.testing.assert_allclose(
        decay_weights([100.0, 500.0, 900.0], threshold_m=900.0, decay="zones"),
        [1.0, 0.68, 0.22],
    )
    np.testing.assert_allclose(
        decay_weights([100.0, 2000.0], threshold_m=1000.0, decay=lambda x: 1 / (1 + x)),
        [1 / 101, 0.0],
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"threshold_m": 0.0}, "threshold_m"),
        ({"threshold_m": 1000.0, "decay": "linear"}, "unknown decay"),
        ({"threshold_m": 1000.0, "zones": ZONES}, "only used with decay='zones'"),
        ({"threshold_m": 1000.0, "decay": "zones", "zones": [(600, 1), (300, 1)]}, "increase"),
    ],
)
def test_bad_options(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        two_step_fca(SUPPLY, DEMAND, DIST, **kwargs)


def test_bad_shapes_and_amounts() -> None:
    with pytest.raises(ValueError, match="n_demand, n_supply"):
        two_step_fca(SUPPLY, DEMAND, DIST.T, threshold_m=1000.0)
    with pytest.raises(ValueError, match="demand"):
        two_step_fca(SUPPLY, -DEMAND, DIST, threshold_m=1000.0)


# --------------------------------------------------------------------------------------
# PySAL access on the same instance


def _pysal_access() -> object:
    """PySAL ``access.Access`` on the worked instance (its cost table: one row per route)."""
    access = pytest.importorskip("access")
    demand = pd.DataFrame({"geoid": ["D1", "D2", "D3", "D4"], "children": DEMAND})
    supply = pd.DataFrame({"geoid": ["S1", "S2", "S3"], "places": SUPPLY})
    rows, cols = np.nonzero(np.isfinite(DIST))
    cost = pd.DataFrame(
        {
            "origin": [f"D{i + 1}" for i in rows],
            "dest": [f"S{j + 1}" for j in cols],
            "cost": DIST[rows, cols],
        }
    )
    return access.Access(
        demand_df=demand,
        demand_index="geoid",
        demand_value="children",
        supply_df=supply,
        supply_index="geoid",
        supply_value="places",
        cost_df=cost,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )


# access 1.1 calls DataFrame.set_index(inplace=True), deprecated in pandas 3.1.
PANDAS_INPLACE = "ignore:The inplace keyword in DataFrame.set_index is deprecated"


@pytest.mark.filterwarnings(PANDAS_INPLACE)
def test_matches_pysal_access_two_stage_fca() -> None:
    """PySAL's raw 2SFCA equals ours; its ``normalize=True`` divides by the mean access.

    PySAL (``access.fca.two_stage_fca``) computes the same R_j = S_j / sum W P and
    A_i = sum W R_j. With ``normalize=False`` (the default) the result is on our scale:
    places per child. With ``normalize=True`` ``helpers.normalized_access`` divides by
    the demand-weighted mean, sum_i P_i A_i / sum_i P_i = sum S / sum P = 60 / 1000, so
    the normalised values are ours × 1000 / 60 (1 = the district average).
    """
    a = _pysal_access()
    ours = two_step_fca(SUPPLY, DEMAND, DIST, threshold_m=1000.0)
    raw = a.two_stage_fca(name="raw", max_cost=1000.0)["raw_places"]  # type: ignore[attr-defined]
    theirs = raw.reindex(["D1", "D2", "D3", "D4"]).fillna(0.0).to_numpy()
    np.testing.assert_allclose(theirs, ours, rtol=1e-12)
    norm = a.two_stage_fca(name="norm", max_cost=1000.0, normalize=True)["norm_places"]  # type: ignore[attr-defined]
    mean_access = (DEMAND @ ours) / DEMAND.sum()
    assert mean_access == pytest.approx(SUPPLY.sum() / DEMAND.sum())
    np.testing.assert_allclose(norm.reindex(["D1", "D2", "D3", "D4"]), ours / mean_access)


@pytest.mark.filterwarnings(PANDAS_INPLACE)
def test_matches_pysal_access_enhanced_two_stage_fca() -> None:
    """E2SFCA with PySAL's step weight function {300: 1, 600: 0.68, 1000: 0.22}.

    ``access.weights.step_fn`` uses the same inclusive upper bounds as our zones, and
    PySAL applies the weight in both steps, as Luo & Qi do and as we do.
    """
    from access import weights

    a = _pysal_access()
    ours = enhanced_two_step_fca(SUPPLY, DEMAND, DIST, threshold_m=1000.0, zones=ZONES)
    res = a.enhanced_two_stage_fca(  # type: ignore[attr-defined]
        name="e2", max_cost=1000.0, weight_fn=weights.step_fn({300: 1.0, 600: 0.68, 1000: 0.22})
    )["e2_places"]
    np.testing.assert_allclose(res.reindex(["D1", "D2", "D3", "D4"]), ours, rtol=1e-12)
    np.testing.assert_allclose(ours, EXPECTED_E2SFCA, rtol=1e-12)


@pytest.mark.filterwarnings(PANDAS_INPLACE)
def test_matches_pysal_access_with_a_gaussian_callable() -> None:
    """PySAL's ``weights.gaussian(sigma)`` is exp(-d²/2σ²) *without* Dai's shift to 0 at d0.

    Passed as a callable decay, ours gives the same numbers; ``decay="gaussian"`` (Dai
    2010) differs on purpose: it reaches 0 at the threshold, so no jump at d0.
    """
    from access import weights

    sigma = 500.0
    a = _pysal_access()
    res = a.two_stage_fca(  # type: ignore[attr-defined]
        name="g", max_cost=1000.0, weight_fn=weights.gaussian(sigma)
    )["g_places"]
    ours = two_step_fca(
        SUPPLY,
        DEMAND,
        DIST,
        threshold_m=1000.0,
        decay=lambda d: np.exp(-(d**2) / (2 * sigma**2)),
    )
    np.testing.assert_allclose(res.reindex(["D1", "D2", "D3", "D4"]), ours, rtol=1e-12)
    dai = two_step_fca(SUPPLY, DEMAND, DIST, threshold_m=1000.0, decay="gaussian")
    assert not np.allclose(dai, ours)
    assert DEMAND @ dai == pytest.approx(SUPPLY.sum())
