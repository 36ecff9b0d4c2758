"""Tests for qjgeo.access: nearest facility and distance matrices, network and straight line."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from conftest import path_graph
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import Point, Polygon

import qjgeo.access as access_mod
import qjgeo.dijkstra
from qjgeo.access import (
    DEFAULT_DETOUR_FACTOR,
    METHOD_NETWORK,
    METHOD_STRAIGHT_LINE,
    UNREACHABLE_BEYOND_MAX,
    UNREACHABLE_MISSING_GEOMETRY,
    UNREACHABLE_NETWORK,
    UNREACHABLE_NO_FACILITIES,
    UNREACHABLE_SNAP,
    distance_matrix_within,
    nearest_facility,
    nearest_facility_by_node,
    nearest_from_arrays,
)
from qjgeo.crs import METRIC_CRS, WGS84_CRS
from qjgeo.network import WalkGraph, graph_from_arrays, graph_from_networkx
from qjgeo.network import walk_networkx_from_osm_file as walk_nx

# A place in Qujiang, in METRIC_CRS metres, so that WGS84 round trips are meaningful.
X0, Y0 = 459_500.0, 2_730_600.0


def grid_graph(n: int = 3, spacing: float = 100.0, x0: float = 0.0, y0: float = 0.0) -> WalkGraph:
    """n × n grid, node id = row * n + col, edges ``spacing`` long."""
    ids = np.arange(n * n)
    x = x0 + (ids % n) * spacing
    y = y0 + (ids // n) * spacing
    right = ids[(ids % n) < n - 1]
    up = ids[ids < n * (n - 1)]
    u = np.concatenate([right, up])
    v = np.concatenate([right + 1, up + n])
    return graph_from_arrays(ids, x, y, u, v, np.full(u.size, spacing))


def disconnected_pair() -> WalkGraph:
    """Two 100 m edges 1 km apart: nodes 1–2 at x = 0, 100 and 3–4 at x = 1000, 1100."""
    return graph_from_arrays(
        [1, 2, 3, 4], [0.0, 100.0, 1000.0, 1100.0], [0.0] * 4, [1, 3], [2, 4], [100.0, 100.0]
    )


def points(
    xy: list[tuple[float, float]], crs: str | None = METRIC_CRS, **cols: object
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=[Point(p) for p in xy], crs=crs)


# --------------------------------------------------------------------------------------
# Hand-made graphs, exact numbers


def test_origin_and_facility_on_nodes() -> None:
    r = nearest_from_arrays(path_graph(), [(0.0, 0.0)], [(450.0, 0.0)], ["kg"])
    assert r.distance_m.tolist() == [450.0]
    assert r.facility_id.tolist() == ["kg"]
    assert r.method.tolist() == [METHOD_NETWORK]
    assert r.straight_m.tolist() == [450.0]
    assert r.snap_m.tolist() == [0.0]


def test_both_snap_distances_are_added() -> None:
    # origin 30 m above node 11 (x=100); facility 40 m below node 12 (x=250):
    # 30 + 150 + 40 = 220 m
    r = nearest_from_arrays(path_graph(), [(100.0, 30.0)], [(250.0, -40.0)])
    assert r.distance_m[0] == pytest.approx(220.0, abs=1e-9)
    assert r.snap_m[0] == pytest.approx(30.0)
    assert r.straight_m[0] == pytest.approx(math.hypot(150.0, 70.0))
    assert r.facility_index.tolist() == [0]


def test_facility_snap_is_part_of_the_search_not_added_afterwards() -> None:
    # A sits 200 m off node 11 (100 m from the origin): 100 + 200 = 300 m.
    # B sits on node 12 (250 m away): 250 m. The nearest *node* is A's, but B is nearer.
    r = nearest_from_arrays(path_graph(), [(0.0, 0.0)], [(100.0, 200.0), (250.0, 0.0)], ["A", "B"])
    assert r.facility_id.tolist() == ["B"]
    assert r.distance_m.tolist() == [250.0]


def test_several_facilities_on_one_node_the_closer_one_wins() -> None:
    g = path_graph()
    # both snap to node 12 (x=250); F2 is 20 m off, F1 50 m off
    r = nearest_from_arrays(g, [(0.0, 0.0)], [(250.0, 50.0), (250.0, -20.0)], ["F1", "F2"])
    assert r.facility_id.tolist() == ["F2"]
    assert r.distance_m[0] == pytest.approx(270.0)
    # a tie goes to the first in input order
    tie = nearest_from_arrays(g, [(0.0, 0.0)], [(250.0, 20.0), (250.0, -20.0)], ["T1", "T2"])
    assert tie.facility_id.tolist() == ["T1"]


def test_facility_exactly_at_the_threshold_is_reached() -> None:
    g = path_graph()
    at = nearest_from_arrays(g, [(0.0, 0.0)], [(450.0, 0.0)], max_distance_m=450.0)
    assert at.distance_m.tolist() == [450.0] and at.method.tolist() == [METHOD_NETWORK]
    beyond = nearest_from_arrays(g, [(0.0, 0.0)], [(450.0, 0.0)], max_distance_m=449.99)
    assert beyond.distance_m.tolist() == [np.inf]
    assert beyond.facility_id.tolist() == [None]
    assert beyond.method.tolist() == [UNREACHABLE_BEYOND_MAX]
    # float sums: 0.1 + 0.2 != 0.3, yet a facility at "300 mm" is within 0.3 m
    tiny = graph_from_arrays([0, 1, 2], [0.0, 0.1, 0.3], [0.0] * 3, [0, 1], [1, 2], [0.1, 0.2])
    r = nearest_from_arrays(tiny, [(0.0, 0.0)], [(0.3, 0.0)], max_distance_m=0.3)
    assert r.method.tolist() == [METHOD_NETWORK]
    # straight line × detour, at the threshold: 100 m × 1.3 = 130 m
    sl = nearest_from_arrays(None, [(0.0, 0.0)], [(100.0, 0.0)], max_distance_m=130.0)
    assert sl.distance_m[0] == pytest.approx(130.0)
    assert sl.method.tolist() == [METHOD_STRAIGHT_LINE]


@pytest.mark.parametrize("graph", [path_graph(), None], ids=["network", "straight"])
def test_empty_facility_layer(graph: WalkGraph | None) -> None:
    r = nearest_from_arrays(graph, [(0.0, 0.0), (100.0, 0.0)], np.empty((0, 2)))
    assert np.isinf(r.distance_m).all()
    assert r.facility_id.tolist() == [None, None]
    assert r.method.tolist() == [UNREACHABLE_NO_FACILITIES] * 2
    assert np.isinf(r.straight_m).all()


def test_origin_beyond_snap_limit_is_reported_not_dropped() -> None:
    r = nearest_from_arrays(path_graph(), [(0.0, 600.0), (0.0, 0.0)], [(450.0, 0.0)])
    assert r.distance_m.tolist() == [np.inf, 450.0]
    assert r.method.tolist() == [UNREACHABLE_SNAP, METHOD_NETWORK]
    assert r.snap_m[0] == pytest.approx(600.0)  # the true distance is still reported
    assert r.straight_m[0] == pytest.approx(math.hypot(450.0, 600.0))
    wider = nearest_from_arrays(path_graph(), [(0.0, 600.0)], [(450.0, 0.0)], snap_limit_m=600.0)
    assert wider.distance_m[0] == pytest.approx(1050.0)


def test_facility_beyond_snap_limit_warns_and_is_left_out() -> None:
    with pytest.warns(UserWarning, match="1 of 2 facilities"):
        r = nearest_from_arrays(
            path_graph(), [(0.0, 0.0)], [(0.0, 900.0), (450.0, 0.0)], ["far", "near"]
        )
    assert r.facility_id.tolist() == ["near"]
    with pytest.warns(UserWarning, match="1 of 1 facilities"):
        only_far = nearest_from_arrays(path_graph(), [(0.0, 0.0)], [(0.0, 900.0)])
    assert only_far.method.tolist() == [UNREACHABLE_NETWORK]


def test_disconnected_component_is_unreachable() -> None:
    g = disconnected_pair()
    origins = [(0.0, 0.0), (1100.0, 0.0)]
    r = nearest_from_arrays(g, origins, [(1000.0, 0.0)], ["F"])
    assert r.distance_m.tolist() == [np.inf, 100.0]
    assert r.facility_id.tolist() == [None, "F"]
    assert r.method.tolist() == [UNREACHABLE_NETWORK, METHOD_NETWORK]
    # with a service distance, "no route at all" is still told apart from "too far"
    lim = nearest_from_arrays(g, [*origins, (1000.0, 0.0)], [(1000.0, 0.0)], max_distance_m=50.0)
    assert lim.method.tolist() == [UNREACHABLE_NETWORK, UNREACHABLE_BEYOND_MAX, METHOD_NETWORK]
    assert lim.distance_m.tolist() == [np.inf, np.inf, 0.0]


def test_grid_distances() -> None:
    g = grid_graph()
    # origin at node 0 (0, 0); facilities at node 8 (200, 200) and node 5 (200, 100)
    r = nearest_from_arrays(g, [(0.0, 0.0), (200.0, 200.0)], [(200.0, 100.0), (200.0, 200.0)])
    assert r.distance_m.tolist() == [300.0, 0.0]
    assert r.facility_index.tolist() == [0, 1]


def test_nearest_facility_by_node() -> None:
    dist, fac = nearest_facility_by_node(path_graph(), [(450.0, 0.0), (0.0, 10.0)])
    np.testing.assert_allclose(dist, [10.0, 110.0, 200.0, 0.0])
    assert fac.tolist() == [1, 1, 0, 0]
    dist, fac = nearest_facility_by_node(path_graph(), [(450.0, 0.0)], max_distance_m=200.0)
    assert dist.tolist() == [np.inf, np.inf, 200.0, 0.0]
    assert fac.tolist() == [-1, -1, 0, 0]


def test_straight_line_times_detour() -> None:
    r = nearest_from_arrays(None, [(0.0, 0.0), (0.0, 0.0)], [(300.0, 400.0), (0.0, 1000.0)])
    assert r.distance_m[0] == pytest.approx(500.0 * DEFAULT_DETOUR_FACTOR)
    assert r.method.tolist() == [METHOD_STRAIGHT_LINE] * 2
    assert np.isnan(r.snap_m).all()
    r2 = nearest_from_arrays(None, [(0.0, 0.0)], [(300.0, 400.0)], detour_factor=1.0)
    assert r2.distance_m[0] == pytest.approx(500.0)
    with pytest.raises(ValueError, match="detour_factor"):
        nearest_from_arrays(None, [(0.0, 0.0)], [(1.0, 1.0)], detour_factor=0.9)


def test_missing_origin_coordinates() -> None:
    r = nearest_from_arrays(path_graph(), [(np.nan, np.nan), (0.0, 0.0)], [(100.0, 0.0)])
    assert r.method.tolist() == [UNREACHABLE_MISSING_GEOMETRY, METHOD_NETWORK]
    assert r.distance_m[0] == np.inf


# --------------------------------------------------------------------------------------
# GeoDataFrame wrapper


def test_nearest_facility_frame_keeps_index_order_and_converts_crs() -> None:
    g = grid_graph(x0=X0, y0=Y0)
    # the third origin snaps 30 m to node (200, 0), then walks 100 m up to k1: 130 m
    origins = points([(X0 + 200, Y0 + 200), (X0, Y0), (X0 + 170, Y0)])
    origins.index = pd.Index(["c", "a", "b"], name="village")
    origins_wgs = origins.to_crs(WGS84_CRS)
    facilities = points([(X0 + 200, Y0 + 100), (X0, Y0 + 100)], id=["k1", "k2"])
    facilities_wgs = facilities.to_crs(WGS84_CRS)
    out = nearest_facility(g, origins_wgs, facilities_wgs)
    assert list(out.columns) == ["distance_m", "facility_id", "method", "straight_m", "snap_m"]
    assert out.index.equals(origins.index)
    np.testing.assert_allclose(out["distance_m"], [100.0, 100.0, 130.0], atol=1e-6)
    assert out["facility_id"].tolist() == ["k1", "k2", "k1"]
    assert out["facility_id"].dtype == object and out["method"].dtype == object
    assert (out["method"] == METHOD_NETWORK).all()
    straight = nearest_facility(None, origins, facilities)
    np.testing.assert_allclose(
        straight["distance_m"], np.array([100.0, 100.0, math.hypot(30, 100)]) * 1.3
    )
    assert (straight["method"] == METHOD_STRAIGHT_LINE).all()


def test_frame_without_crs_raises_naming_it() -> None:
    g = path_graph()
    with pytest.raises(ValueError, match="origins has no CRS"):
        nearest_facility(g, points([(0, 0)], crs=None), points([(1, 0)], id=["x"]))
    with pytest.raises(ValueError, match="facilities has no CRS"):
        nearest_facility(g, points([(0, 0)]), points([(1, 0)], crs=None, id=["x"]))


def test_frame_id_column_polygons_and_empty_layers() -> None:
    g = path_graph()
    park = Polygon([(240, -10), (260, -10), (260, 10), (240, 10)])  # around node 12
    facilities = gpd.GeoDataFrame({"name": ["park"]}, geometry=[park], crs=METRIC_CRS)
    origins = points([(0.0, 0.0)])
    out = nearest_facility(g, origins, facilities, facility_id_col="name")
    assert out["facility_id"].tolist() == ["park"]
    assert out["distance_m"].iloc[0] == pytest.approx(250.0)  # representative point
    by_index = nearest_facility(g, origins, facilities, facility_id_col=None)
    assert by_index["facility_id"].tolist() == [0]
    with pytest.raises(ValueError, match="no column 'id'"):
        nearest_facility(g, origins, facilities)
    empty = facilities.iloc[0:0]
    out = nearest_facility(g, origins, empty, facility_id_col="name")
    assert out["method"].tolist() == [UNREACHABLE_NO_FACILITIES]
    assert out["facility_id"].tolist() == [None]
    with_missing = gpd.GeoDataFrame(geometry=[None, Point(0, 0)], crs=METRIC_CRS)
    out = nearest_facility(g, with_missing, facilities, facility_id_col="name")
    assert out["method"].tolist() == [UNREACHABLE_MISSING_GEOMETRY, METHOD_NETWORK]


# --------------------------------------------------------------------------------------
# Properties and brute force


@st.composite
def random_case(draw: st.DrawFn) -> tuple[WalkGraph, np.ndarray, np.ndarray]:
    """A jittered grid whose edges are at least as long as the straight line."""
    n = draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    ids = np.arange(n * n)
    x = (ids % n) * 100.0 + rng.uniform(-30, 30, ids.size)
    y = (ids // n) * 100.0 + rng.uniform(-30, 30, ids.size)
    right = ids[(ids % n) < n - 1]
    up = ids[ids < n * (n - 1)]
    u = np.concatenate([right, up])
    v = np.concatenate([right + 1, up + n])
    keep = rng.random(u.size) < draw(st.floats(0.5, 1.0))  # may disconnect the grid
    u, v = u[keep], v[keep]
    chord = np.hypot(x[u] - x[v], y[u] - y[v])
    length = chord * rng.uniform(1.0, 1.6, u.size)
    g = graph_from_arrays(ids, x, y, u, v, length)
    k = draw(st.integers(1, 5))
    span = n * 100.0
    origins = rng.uniform(-50, span, (draw(st.integers(1, 12)), 2))
    facilities = rng.uniform(-50, span, (k, 2))
    return g, origins, facilities


@settings(max_examples=60, deadline=None)
@given(random_case())
def test_network_distance_is_at_least_straight_line(case: tuple) -> None:
    g, origins, facilities = case
    r = nearest_from_arrays(g, origins, facilities, snap_limit_m=1e6)
    reached = np.isfinite(r.distance_m)
    assert np.all(r.distance_m[reached] >= r.straight_m[reached] * (1 - 1e-12))
    m = distance_matrix_within(g, origins, facilities, max_distance_m=400.0, snap_limit_m=1e6)
    coo = m.tocoo()
    straight = np.hypot(*(origins[coo.row] - facilities[coo.col]).T)
    assert np.all(coo.data >= straight * (1 - 1e-12))


@settings(max_examples=60, deadline=None)
@given(random_case(), st.sampled_from([None, 150.0, 300.0]))
def test_matches_brute_force_over_all_pairs(case: tuple, max_distance: float | None) -> None:
    g, origins, facilities = case
    snap_limit = 1e6
    r = nearest_from_arrays(
        g, origins, facilities, max_distance_m=max_distance, snap_limit_m=snap_limit
    )
    _, o_node = g.kdtree.query(origins)
    o_snap = np.hypot(*(origins - g.xy[o_node]).T)
    _, f_node = g.kdtree.query(facilities)
    f_snap = np.hypot(*(facilities - g.xy[f_node]).T)
    all_pairs = dijkstra(g.csgraph)
    # total[i, f] = origin snap + network + facility snap
    total = o_snap[:, None] + all_pairs[np.ix_(o_node, f_node)] + f_snap[None, :]
    expected = total.min(axis=1)
    if max_distance is not None:
        expected[expected > max_distance] = np.inf
    np.testing.assert_allclose(r.distance_m, expected, rtol=1e-12, atol=1e-9)
    found = np.isfinite(expected)
    chosen = total[np.flatnonzero(found), r.facility_index[found]]
    np.testing.assert_allclose(chosen, expected[found], rtol=1e-12, atol=1e-9)
    # the sparse matrix holds exactly the pairs within reach
    limit = 300.0 if max_distance is None else max_distance
    m = distance_matrix_within(
        g, origins, facilities, max_distance_m=limit, snap_limit_m=snap_limit
    )
    dense = np.where(total <= limit, total, np.inf)
    got = np.full(total.shape, np.inf)
    coo = m.tocoo()
    got[coo.row, coo.col] = coo.data
    np.testing.assert_allclose(got, dense, rtol=1e-12, atol=1e-9)


def _same_result(a: access_mod.NearestResult, b: access_mod.NearestResult) -> None:
    for name in ("distance_m", "facility_index", "facility_id", "method", "straight_m", "snap_m"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@settings(max_examples=30, deadline=None)
@given(random_case(), st.sampled_from([None, 150.0]))
def test_origins_on_the_nodes_give_what_the_kdtree_gives(
    case: tuple, max_distance: float | None
) -> None:
    g, _, facilities = case
    fast = nearest_from_arrays(g, g.xy, facilities, max_distance_m=max_distance)
    with pytest.MonkeyPatch.context() as mp:  # every origin through the KD-tree
        mp.setattr(access_mod, "_snap_origins", access_mod._snap)
        slow = nearest_from_arrays(g, g.xy, facilities, max_distance_m=max_distance)
    _same_result(fast, slow)
    assert np.all(fast.snap_m == 0.0)


def test_nodes_sharing_a_location_are_snapped_by_the_kdtree() -> None:
    # nodes 1 and 2 share (0, 0) but only 2 is linked to the facility's node 3
    g = graph_from_arrays([1, 2, 3], [0.0, 0.0, 100.0], [0.0, 0.0, 0.0], [2], [3], [100.0])
    assert not g.distinct_locations
    fast = nearest_from_arrays(g, g.xy, [(100.0, 0.0)])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(access_mod, "_snap_origins", access_mod._snap)
        slow = nearest_from_arrays(g, g.xy, [(100.0, 0.0)])
    _same_result(fast, slow)
    assert fast.distance_m[0] == fast.distance_m[1]  # one node for both, as the tree says


# --------------------------------------------------------------------------------------
# Sparse distance matrix


@pytest.mark.parametrize("backend", ["delta", "scipy"])
def test_distance_matrix_within_on_grid_and_blocks(
    monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    monkeypatch.setattr(qjgeo.dijkstra, "_numba_available", lambda: backend == "delta")
    g = grid_graph()
    origins = np.array([(0.0, 0.0), (200.0, 200.0), (100.0, 0.0), (0.0, 900.0)])
    cands = np.array([(0.0, 0.0), (200.0, 0.0), (100.0, 100.0)])
    m = distance_matrix_within(g, origins, cands, max_distance_m=200.0)
    assert m.shape == (4, 3)
    expected = np.array(
        [[0.0, 200.0, 200.0], [np.inf, 200.0, 200.0], [100.0, 100.0, 100.0], [np.inf] * 3]
    )
    got = np.full(m.shape, np.inf)
    coo = m.tocoo()
    got[coo.row, coo.col] = coo.data
    np.testing.assert_array_equal(got, expected)
    assert m.nnz == 8  # the explicit zero (origin on the candidate) is stored
    # scipy: one candidate per block of rows; compiled: room for one pair, grown as needed
    monkeypatch.setattr(qjgeo.dijkstra, "_DENSE_BUDGET_BYTES", 8)
    monkeypatch.setattr(qjgeo.dijkstra, "_initial_pairs_capacity", lambda n_sources: 1)
    again = distance_matrix_within(g, origins, cands, max_distance_m=200.0)
    assert (again != m).nnz == 0 and again.nnz == m.nnz


def test_distance_matrix_within_straight_line_and_frames() -> None:
    origins = points([(X0, Y0), (X0 + 1000.0, Y0)]).to_crs(WGS84_CRS)
    cands = points([(X0, Y0), (X0 + 300.0, Y0 + 400.0)])
    m = distance_matrix_within(None, origins, cands, max_distance_m=650.0)
    got = np.full(m.shape, np.inf)
    coo = m.tocoo()
    got[coo.row, coo.col] = coo.data
    np.testing.assert_allclose(got, [[0.0, 650.0], [np.inf, np.inf]], atol=1e-6)
    assert m.nnz == 2
    empty = distance_matrix_within(None, origins, cands.iloc[0:0], max_distance_m=650.0)
    assert empty.shape == (2, 0) and empty.nnz == 0


# --------------------------------------------------------------------------------------
# Real OSM extracts: the same answer as networkx


@pytest.mark.parametrize("name", ["West-Oakland.osm.bz2", "munich_small.osm"])
@pytest.mark.parametrize("simplify", [True, False])
@pytest.mark.parametrize("backend", ["delta", "scipy"])
def test_nearest_equals_networkx_multi_source_on_osm(
    osm_dir: Path, name: str, simplify: bool, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # both search backends (qjgeo.dijkstra) give networkx's distances
    monkeypatch.setattr(qjgeo.dijkstra, "_numba_available", lambda: backend == "delta")
    G = walk_nx(osm_dir / name, simplify=simplify)
    g = graph_from_networkx(G, crs=None)
    rng = np.random.default_rng(7)
    fac_pos = rng.choice(g.n_nodes, size=min(4, g.n_nodes), replace=False)
    # origins and facilities exactly on nodes: snap 0 on both sides
    r = nearest_from_arrays(g, g.xy, g.xy[fac_pos], g.node_ids[fac_pos])
    assert np.all(r.snap_m == 0.0)
    theirs = nx.multi_source_dijkstra_path_length(
        G, [int(i) for i in g.node_ids[fac_pos]], weight="length"
    )
    expected = np.array([theirs.get(int(i), np.inf) for i in g.node_ids])
    np.testing.assert_allclose(r.distance_m, expected, rtol=1e-6)
    assert set(r.method) <= {METHOD_NETWORK, UNREACHABLE_NETWORK}
    assert np.array_equal(r.method == UNREACHABLE_NETWORK, np.isinf(expected))
    # the facility named is one at that distance
    _, paths = nx.multi_source_dijkstra(G, [int(i) for i in g.node_ids[fac_pos]], weight="length")
    finite = np.isfinite(expected)
    start_of_path = np.array([paths[int(i)][0] for i in g.node_ids[finite]])
    chosen = r.facility_id[finite].astype(np.int64)
    fac_xy = dict(zip(g.node_ids[fac_pos].tolist(), g.xy[fac_pos], strict=True))
    # ties between equidistant facilities may differ; the distance may not
    same = chosen == start_of_path
    for node_id, fid in zip(g.node_ids[finite][~same], chosen[~same], strict=True):
        d_fid = nx.shortest_path_length(G, int(fid), int(node_id), weight="length")
        assert d_fid == pytest.approx(theirs[int(node_id)], rel=1e-6), fac_xy
