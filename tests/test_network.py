"""Tests for qjgeo.network: building, filtering, storing walk graphs."""

from __future__ import annotations

import bz2
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pyproj
import pytest
from conftest import path_graph
from scipy.sparse.csgraph import dijkstra

from qjgeo.crs import METRIC_CRS, WGS84_CRS
from qjgeo.network import (
    NetworkError,
    WalkGraph,
    graph_from_arrays,
    graph_from_networkx,
    graph_from_osm_file,
    is_walkable_way,
    load_walk_graph,
    save_walk_graph,
    walk_networkx_from_osm_file,
)

FIXTURES = Path(__file__).parent / "fixtures"
OAKLAND_NAME = "West-Oakland.osm.bz2"
MUNICH_NAME = "munich_small.osm"
WALK_FILTER = FIXTURES / "walk_filter.osm"


# --------------------------------------------------------------------------------------
# graph_from_arrays / WalkGraph


def test_distinct_locations() -> None:
    assert path_graph().distinct_locations
    shared = graph_from_arrays([1, 2, 3], [0.0, 0.0, 5.0], [7.0, 7.0, 7.0], [1], [3], [5.0])
    assert not shared.distinct_locations
    same_x = graph_from_arrays([1, 2], [0.0, 0.0], [0.0, 1.0], [1], [2], [1.0])
    assert same_x.distinct_locations


def test_path_graph_csr_is_symmetric_with_exact_weights() -> None:
    g = path_graph()
    assert g.n_nodes == 4 and g.n_edges == 3
    assert g.crs == METRIC_CRS
    dense = g.csgraph.toarray()
    np.testing.assert_array_equal(dense, dense.T)
    assert dense[0, 1] == 100.0 and dense[1, 2] == 150.0 and dense[2, 3] == 200.0
    d = dijkstra(g.csgraph, indices=0)
    np.testing.assert_array_equal(d, [0.0, 100.0, 250.0, 450.0])
    assert g.indices.dtype == np.int32 and g.indptr.dtype == np.int32
    assert g.node_ids.dtype == np.int64


def test_parallel_edges_keep_shortest_and_self_loops_dropped() -> None:
    g = graph_from_arrays(
        [1, 2], [0.0, 10.0], [0.0, 0.0], [1, 2, 1, 1], [2, 1, 1, 2], [30.0, 12.0, 5.0, 20.0]
    )
    assert g.n_edges == 1
    np.testing.assert_array_equal(g.weights, [12.0, 12.0])


def test_zero_length_edge_is_still_an_edge() -> None:
    g = graph_from_arrays([1, 2, 3], [0.0, 0.0, 5.0], [0.0, 0.0, 0.0], [1, 2], [2, 3], [0.0, 5.0])
    np.testing.assert_array_equal(dijkstra(g.csgraph, indices=0), [0.0, 0.0, 5.0])


def test_disconnected_pair_has_two_components() -> None:
    g = graph_from_arrays([1, 2, 3, 4], [0, 10, 1000, 1010], [0, 0, 0, 0], [1, 3], [2, 4], [10, 10])
    labels = g.component_labels
    assert labels[0] == labels[1] != labels[2] == labels[3]
    assert np.isinf(dijkstra(g.csgraph, indices=0)[2])


@pytest.mark.parametrize(
    ("u", "v", "length", "match"),
    [
        ([1], [9], [1.0], "not node ids"),
        ([1], [2], [-1.0], "non-negative"),
        ([1], [2], [np.nan], "finite"),
    ],
)
def test_bad_edges_raise(u: list[int], v: list[int], length: list[float], match: str) -> None:
    with pytest.raises(NetworkError, match=match):
        graph_from_arrays([1, 2], [0.0, 1.0], [0.0, 0.0], u, v, length)


def test_duplicate_node_ids_and_geographic_crs_raise() -> None:
    with pytest.raises(NetworkError, match="unique"):
        graph_from_arrays([5, 5], [0.0, 1.0], [0.0, 0.0], [], [], [])
    with pytest.raises(NetworkError, match="not a projected CRS"):
        graph_from_arrays([0, 1], [0.0, 1.0], [0.0, 0.0], [0], [1], [1.0], crs=WGS84_CRS)


def test_walk_graph_arrays_are_read_only_and_inputs_untouched() -> None:
    x = np.array([0.0, 100.0])
    g = WalkGraph(
        node_ids=np.array([1, 2]),
        x=x,
        y=np.zeros(2),
        indptr=np.array([0, 1, 2]),
        indices=np.array([1, 0]),
        weights=np.array([100.0, 100.0]),
        crs=METRIC_CRS,
    )
    assert not g.x.flags.writeable
    assert x.flags.writeable  # the caller's array is not frozen
    with pytest.raises(ValueError, match="read-only"):
        g.weights[0] = 1.0
    np.testing.assert_array_equal(g.node_positions([2, 1]), [1, 0])
    with pytest.raises(KeyError):
        g.node_positions([3])


def test_walk_graph_rejects_inconsistent_csr() -> None:
    with pytest.raises(NetworkError, match="indptr"):
        WalkGraph(
            node_ids=np.array([1, 2]),
            x=np.zeros(2),
            y=np.zeros(2),
            indptr=np.array([0, 1]),
            indices=np.array([1]),
            weights=np.array([1.0]),
            crs=METRIC_CRS,
        )


# --------------------------------------------------------------------------------------
# graph_from_networkx


def _lonlat_graph() -> nx.Graph:
    G = nx.Graph(crs=WGS84_CRS)
    G.add_node(1, x=113.60, y=24.68)
    G.add_node(2, x=113.61, y=24.68)
    G.add_node(3, x=113.61, y=24.69)
    G.add_edge(1, 2, length=1011.0)
    G.add_edge(2, 3, length=1112.0)
    return G


def test_graph_from_networkx_projects_to_metric_crs() -> None:
    g = graph_from_networkx(_lonlat_graph())
    assert g.crs == METRIC_CRS
    t = pyproj.Transformer.from_crs(WGS84_CRS, METRIC_CRS, always_xy=True)
    ex, ey = t.transform([113.60, 113.61, 113.61], [24.68, 24.68, 24.69])
    np.testing.assert_allclose(g.x, ex)
    np.testing.assert_allclose(g.y, ey)
    d = dijkstra(g.csgraph, indices=g.node_positions([1])[0])
    np.testing.assert_array_equal(d[g.node_positions([1, 2, 3])], [0.0, 1011.0, 2123.0])


def test_graph_from_networkx_keeps_metric_input_and_other_crs() -> None:
    G = nx.MultiDiGraph(crs=METRIC_CRS)
    G.add_node(7, x=459000.0, y=2730000.0)
    G.add_node(8, x=459100.0, y=2730000.0)
    G.add_edge(7, 8, length=120.0)
    G.add_edge(8, 7, length=110.0)  # the shorter direction wins for walking
    g = graph_from_networkx(G)
    np.testing.assert_array_equal(g.x, [459000.0, 459100.0])
    np.testing.assert_array_equal(g.weights, [110.0, 110.0])
    utm = graph_from_networkx(_lonlat_graph(), crs=None)
    assert utm.crs == "EPSG:32649"  # UTM zone 49N holds 113.6°E


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda G: G.graph.pop("crs"), "no 'crs'"),
        (lambda G: nx.set_edge_attributes(G, {(1, 2): None}, "length"), "length"),
        (lambda G: G.nodes[1].pop("x"), "'x' and 'y'"),
        (lambda G: nx.relabel_nodes(G, {1: "a"}, copy=False), "integers"),
    ],
)
def test_graph_from_networkx_errors(mutate: object, match: str) -> None:
    G = _lonlat_graph()
    mutate(G)  # type: ignore[operator]
    with pytest.raises(NetworkError, match=match):
        graph_from_networkx(G)


def test_network_outside_metric_crs_area_is_refused() -> None:
    G = _lonlat_graph()
    for node in G.nodes:
        G.nodes[node]["x"] -= 235.0  # move to California
    with pytest.raises(NetworkError, match="area of use"):
        graph_from_networkx(G)


# --------------------------------------------------------------------------------------
# OSM files and the walk filter


@pytest.mark.parametrize(
    ("tags", "walkable"),
    [
        ({"highway": "footway"}, True),
        ({"highway": "residential"}, True),
        ({"highway": "trunk"}, False),
        ({"highway": "trunk", "foot": "yes"}, True),
        ({"highway": "trunk_link"}, False),
        ({"highway": "motorway"}, False),
        ({"highway": "motorway_link", "foot": "yes"}, False),
        ({"highway": "residential", "foot": "no"}, False),
        ({"highway": "service", "access": "private"}, False),
        ({"highway": "pedestrian", "access": "no", "foot": "yes"}, True),
        ({"highway": "service", "service": "private"}, False),
        ({"highway": "cycleway"}, False),
        ({"highway": "cycleway", "foot": "designated"}, True),
        ({"highway": "pedestrian", "area": "yes"}, False),
        ({"highway": "primary", "sidewalk": "separate"}, False),
        ({"building": "yes"}, False),
        ({}, False),
    ],
)
def test_is_walkable_way(tags: dict[str, str], walkable: bool) -> None:
    assert is_walkable_way(tags) is walkable


def test_osm_file_walk_filter_keeps_only_walkable_ways() -> None:
    G = walk_networkx_from_osm_file(WALK_FILTER, simplify=False)
    assert {osmid for *_, osmid in G.edges(data="osmid")} == {101, 102, 105, 110}
    assert sorted(G.nodes) == [1, 2, 3, 5, 6, 12]
    # walking ignores oneway: way 102 is oneway=yes but both directions exist
    assert G.has_edge(3, 2) and G.has_edge(2, 3)


def test_osm_file_default_crs_and_exact_lengths() -> None:
    g = graph_from_osm_file(WALK_FILTER)
    assert g.crs == METRIC_CRS
    assert g.node_ids.tolist() == [1, 3, 5, 12]  # simplified: 2 and 6 are interstitial
    assert g.n_edges == 2
    a = ox.distance.great_circle(24.680, 113.600, 24.680, 113.601)
    b = ox.distance.great_circle(24.680, 113.601, 24.680, 113.602)
    d = dijkstra(g.csgraph, indices=0)
    assert d[1] == pytest.approx(a + b, rel=1e-12)
    assert np.isinf(d[2])  # the motorway and the plain trunk are not walkable
    unsimplified = graph_from_osm_file(WALK_FILTER, simplify=False)
    assert unsimplified.n_nodes == 6


def test_real_extracts_read_bz2_and_drop_non_highway_ways(osm_dir: Path) -> None:
    oakland = osm_dir / OAKLAND_NAME
    for path in (oakland, osm_dir / MUNICH_NAME):  # both files hold buildings, parks, streams...
        G = walk_networkx_from_osm_file(path, simplify=False)
        assert G.number_of_edges() > 0
        assert all(highway is not None for *_, highway in G.edges(data="highway"))
    with pytest.raises(NetworkError, match="area of use"):
        graph_from_osm_file(oakland, crs="EPSG:4547")  # California is not in EPSG:4547
    g = graph_from_osm_file(oakland, crs=None)
    assert g.crs == "EPSG:32610"
    assert g.n_nodes > 20
    # by default the metric CRS is chosen from the data's location: UTM 10N, no refusal
    assert graph_from_osm_file(oakland).crs == load_walk_graph(oakland).crs == "EPSG:32610"


@pytest.mark.parametrize("name", [OAKLAND_NAME, MUNICH_NAME])
@pytest.mark.parametrize("simplify", [True, False])
def test_csgraph_distances_equal_networkx(osm_dir: Path, name: str, simplify: bool) -> None:
    """Node-to-node distances from the CSR arrays equal networkx's on the same graph."""
    G = walk_networkx_from_osm_file(osm_dir / name, simplify=simplify)
    g = graph_from_networkx(G, crs=None)
    rng = np.random.default_rng(4)
    sources = rng.choice(g.n_nodes, size=min(5, g.n_nodes), replace=False)
    ours, _, _ = dijkstra(g.csgraph, indices=sources, min_only=True, return_predecessors=True)
    theirs = nx.multi_source_dijkstra_path_length(
        G, [int(g.node_ids[s]) for s in sources], weight="length"
    )
    assert len(theirs) == int(np.isfinite(ours).sum())
    expected = np.array([theirs.get(int(i), np.inf) for i in g.node_ids])
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


# --------------------------------------------------------------------------------------
# Storage and dispatch


def test_npz_round_trip(tmp_path: Path, osm_dir: Path) -> None:
    g = graph_from_osm_file(osm_dir / OAKLAND_NAME, crs=None)
    path = save_walk_graph(g, tmp_path / "oakland.npz")
    back = load_walk_graph(path)
    for name in ("node_ids", "x", "y", "indptr", "indices", "weights"):
        np.testing.assert_array_equal(getattr(back, name), getattr(g, name))
        assert getattr(back, name).dtype == getattr(g, name).dtype
    assert back.crs == g.crs


def test_load_dispatches_on_suffix(tmp_path: Path, osm_dir: Path) -> None:
    oakland = osm_dir / OAKLAND_NAME
    from_osm = load_walk_graph(WALK_FILTER)
    assert from_osm.n_edges == 2
    from_bz2 = load_walk_graph(oakland, crs=None)
    # .graphml written by osmnx from the same walk network gives the same graph
    graphml = tmp_path / "oakland.graphml"
    ox.save_graphml(walk_networkx_from_osm_file(oakland), graphml)
    from_graphml = load_walk_graph(graphml, crs=None)
    np.testing.assert_array_equal(np.sort(from_graphml.node_ids), np.sort(from_bz2.node_ids))
    np.testing.assert_allclose(np.sort(from_graphml.weights), np.sort(from_bz2.weights), rtol=1e-9)
    # a plain (uncompressed) copy of the bz2 extract reads the same
    plain = tmp_path / "oakland.osm"
    plain.write_bytes(bz2.decompress(oakland.read_bytes()))
    np.testing.assert_array_equal(load_walk_graph(plain, crs=None).weights, from_bz2.weights)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("missing.osm", None, "not found"),
        ("graph.shp", b"x", "unknown walk graph file type"),
        ("broken.npz", b"not a zip", "cannot read walk graph file"),
        ("broken.osm", b"<osm><way id='1'>", "cannot read OSM file"),
        ("broken.osm.bz2", b"not bz2", "cannot read OSM file"),
        ("broken.graphml", b"<graphml", "cannot read GraphML file"),
        ("empty.osm", b"<osm version='0.6'></osm>", "cannot read OSM file"),
        ("no_paths.osm", b"<osm><node id='1' lat='24.68' lon='113.6'/></osm>", "no walkable"),
    ],
)
def test_bad_files_raise_network_error_naming_the_file(
    tmp_path: Path, name: str, content: bytes | None, match: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(NetworkError, match=match) as info:
        load_walk_graph(path)
    assert name in str(info.value)
    assert isinstance(info.value, ValueError)


def test_npz_with_wrong_arrays_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, format_version=np.array(1), crs=np.array(METRIC_CRS), node_ids=np.arange(2))
    with pytest.raises(NetworkError, match=r"bad\.npz"):
        load_walk_graph(path)
    with pytest.raises(NetworkError, match=r"\.npz"):
        save_walk_graph(path_graph(), tmp_path / "graph.bin")
