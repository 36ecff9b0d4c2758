"""Travel modes (issue 18): networks by mode, travel time, one-way streets, thresholds in
minutes, isochrones — on the real OSM extracts of the shared folder and the bundled data."""

from __future__ import annotations

import bz2
import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import shapely
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra
from typer.testing import CliRunner

from qjgeo.access import nearest_from_arrays
from qjgeo.catalog import load_dataset
from qjgeo.cli import app
from qjgeo.gaps import GapsUnavailable, compute_gaps, gap_surface
from qjgeo.isochrones import IsochroneError, isochrones, node_minutes
from qjgeo.modes import (
    graph_from_arrays,
    graph_from_osm_file,
    load_network,
    network_path,
    save_network,
    way_direction,
    way_in_mode,
    way_speed_kmh,
)
from qjgeo.network import NetworkError, load_walk_graph, save_walk_graph
from qjgeo.network import graph_from_arrays as walk_from_arrays
from qjgeo.params import DEFAULT_PARAMS
from qjgeo.routes import route_lengths
from qjgeo.travel import TravelChoice, TravelError, travel_params

MODES = ("walk", "bike", "drive")
REPO = Path(__file__).resolve().parents[1]


# -- ways, directions and speeds ---------------------------------------------------------


def test_way_filters_follow_the_mode() -> None:
    footway = {"highway": "footway"}
    primary = {"highway": "primary"}
    assert way_in_mode(footway, "walk") and not way_in_mode(footway, "bike")
    assert not way_in_mode(footway, "drive")
    assert all(way_in_mode(primary, m) for m in MODES)
    assert way_in_mode({"highway": "motorway"}, "drive")
    assert not way_in_mode({"highway": "motorway"}, "walk")
    assert not way_in_mode({"highway": "motorway"}, "bike")
    assert not way_in_mode({"highway": "track"}, "drive")  # osmnx's drive filter
    assert not way_in_mode({"highway": "residential", "motor_vehicle": "no"}, "drive")
    assert not way_in_mode({"highway": "residential", "bicycle": "no"}, "bike")
    assert way_in_mode({"highway": "footway", "bicycle": "designated"}, "bike")
    with pytest.raises(ValueError, match=r"未知的出行方式.*unknown travel mode"):
        way_in_mode(primary, "boat")


def test_one_way_only_when_driving() -> None:
    assert way_direction({"highway": "residential", "oneway": "yes"}, "drive") == 1
    assert way_direction({"highway": "residential", "oneway": "-1"}, "drive") == -1
    assert way_direction({"highway": "primary", "junction": "roundabout"}, "drive") == 1
    assert way_direction({"highway": "motorway"}, "drive") == 1
    assert way_direction({"highway": "motorway", "oneway": "no"}, "drive") == 0
    assert way_direction({"highway": "residential", "oneway": "yes"}, "walk") == 0
    assert way_direction({"highway": "residential", "oneway": "yes"}, "bike") == 0


def test_drive_speed_from_maxspeed_else_class() -> None:
    assert way_speed_kmh({"highway": "primary", "maxspeed": "50"}, "drive") == 50
    assert way_speed_kmh({"highway": "primary", "maxspeed": "30 mph"}, "drive") == pytest.approx(
        48.28, abs=0.01
    )
    assert way_speed_kmh({"highway": "primary", "maxspeed": "none?"}, "drive") == 60
    assert way_speed_kmh({"highway": "tertiary"}, "drive") == 30
    assert way_speed_kmh({"highway": "no_such_class"}, "drive") == 20
    assert way_speed_kmh({"highway": "primary", "maxspeed": "80"}, "walk") == 3.6
    assert way_speed_kmh({"highway": "primary"}, "bike") == 15


# -- arrays: cost = time at the reference speed; one-way streets ---------------------------


def _line(mode: str, direction: list[int] | None = None, speed: list[float] | None = None):
    """Three nodes 0 — 1 — 2 along x, 100 m apart."""
    return graph_from_arrays(
        [0, 1, 2], [0.0, 100.0, 200.0], [0.0, 0.0, 0.0], [0, 1], [1, 2], [100.0, 100.0],
        mode=mode, direction=direction, speed_kmh=speed,
    )  # fmt: skip


def test_walk_cost_is_length_and_time_at_speed() -> None:
    net = _line("walk")
    assert not net.directed
    assert np.array_equal(net.graph.weights, net.length_m)  # exact metres, no round-off
    assert np.allclose(net.time_s, 100.0 / 1.0)  # 3.6 km/h = 1 m/s
    assert net.search_graph is net.graph


def test_drive_cost_is_time_at_reference_speed() -> None:
    net = _line("drive", speed=[60.0, 15.0])  # reference 30 km/h
    src = np.repeat(np.arange(3), np.diff(net.graph.indptr))
    by_edge = dict(zip(zip(src, net.graph.indices, strict=True), net.time_s, strict=True))
    assert by_edge[(0, 1)] == pytest.approx(100 / (60 / 3.6))
    assert by_edge[(1, 2)] == pytest.approx(100 / (15 / 3.6))
    assert np.allclose(net.length_m, 100.0)


def test_one_way_street_is_searched_in_its_direction() -> None:
    net = _line("drive", direction=[1, 1])  # 0 → 1 → 2 only
    assert net.directed and net.graph.indices.size == 2
    # trips *to* node 2: from 0 and 1 yes, the way back no
    to_2, _ = node_minutes(net, (200.0, 0.0), direction="to")
    assert np.all(np.isfinite(to_2))
    to_0, _ = node_minutes(net, (0.0, 0.0), direction="to")
    assert np.isfinite(to_0[0]) and np.all(np.isinf(to_0[1:]))
    from_0, _ = node_minutes(net, (0.0, 0.0), direction="from")
    assert np.all(np.isfinite(from_0))


def test_files_round_trip_and_legacy_walk(tmp_path: Path) -> None:
    net = _line("drive", direction=[1, 0], speed=[60.0, 15.0])
    path = save_network(net, tmp_path / "drive.npz")
    back = load_network(path)
    assert back.mode == "drive" and back.directed and back.speed_kmh == net.speed_kmh
    assert np.array_equal(back.graph.weights, net.graph.weights)
    assert np.array_equal(back.length_m, net.length_m)
    assert load_walk_graph(path).n_nodes == 3  # still a plain graph file
    with pytest.raises(NetworkError, match=r"drive.*not walk"):
        load_network(path, mode="walk")
    old = save_walk_graph(
        walk_from_arrays([0, 1], [0.0, 5.0], [0.0, 0.0], [0], [1], [5.0]), tmp_path / "network.npz"
    )
    legacy = load_network(old)
    assert legacy.mode == "walk" and np.array_equal(legacy.length_m, [5.0, 5.0])
    assert network_path(tmp_path, "walk") == old
    assert network_path(tmp_path, "bike") is None
    (tmp_path / "network").mkdir()
    save_network(_line("bike"), tmp_path / "network" / "bike.npz")
    assert network_path(tmp_path, "bike") == tmp_path / "network" / "bike.npz"


# -- route lengths: the metres of the fastest route, not its cost ---------------------------

DETOUR_LEG = float(np.hypot(500.0, 600.0))  # 781.02 m


def _two_roads(mode: str, direction: list[int] | None = None):
    """A slow direct road 0 — 1 (1,000 m at 15 km/h) and a fast detour 0 — 2 — 1 (2 × 781 m
    at 60 km/h): by car the detour is faster (781 cost-metres at 30 km/h) but longer."""
    return graph_from_arrays(
        [0, 1, 2], [0.0, 1000.0, 500.0], [0.0, 0.0, 600.0], [0, 0, 2], [1, 2, 1],
        [1000.0, DETOUR_LEG, DETOUR_LEG], mode=mode, direction=direction,
        speed_kmh=[15.0, 60.0, 60.0] if mode == "drive" else None,
    )  # fmt: skip


def test_route_m_is_the_fastest_routes_length_when_driving() -> None:
    villages = np.array([[0.0, 0.0], [0.0, -10.0]])  # on node 0, and 10 m off it
    school = np.array([[1000.0, 0.0]])
    net = _two_roads("drive")
    cost = nearest_from_arrays(net.search_graph, villages, school).distance_m
    route = route_lengths(net, villages, school)
    assert route == pytest.approx([2 * DETOUR_LEG, 2 * DETOUR_LEG + 10.0])
    # the cost is the time at 30 km/h: half the detour's length, not a length at all
    assert cost == pytest.approx([DETOUR_LEG, DETOUR_LEG + 10.0])
    # the time: the detour at 60 km/h (1 km a minute), the 10 m snap leg at 30 km/h
    assert net.to_minutes(cost) == pytest.approx(2 * DETOUR_LEG / 1000 + np.array([0, 10 / 500]))
    # the detour one-way towards the village: the car must take the slow direct road
    back = _two_roads("drive", direction=[0, -1, -1])
    assert route_lengths(back, villages, school) == pytest.approx([1000.0, 1010.0])
    # what every search is given, the reversed search graph, keeps the lengths too
    assert route_lengths(back.search_graph, villages, school) == pytest.approx([1000.0, 1010.0])
    assert not hasattr(_two_roads("walk").search_graph, "length_m")  # walking: cost is length
    assert nearest_from_arrays(back.search_graph, villages, school).distance_m == pytest.approx(
        [2000.0, 2010.0]
    )
    walk = _two_roads("walk")  # walking: cost is length, the route is the shortest
    assert route_lengths(walk, villages, school) == pytest.approx(
        nearest_from_arrays(walk.search_graph, villages, school).distance_m
    )
    assert np.isinf(route_lengths(net, [[0.0, 9000.0]], school)[0])  # beyond the snap limit


TINY = Path(__file__).resolve().parent / "fixtures" / "gaps" / "tiny"


def _tiny_roads(mode: str):
    """Roads on the tiny gap dataset: V1 (0, 0) — C1 (0, 300) 300 m at 30 km/h, V2 (1000, 0)
    — C1 direct (1,044 m at 10 km/h) or by a corner (1000, 300): 300 + 1,000 m at 60 km/h."""
    x0, y0 = 460000.0, 2730000.0
    xy = np.array([[0, 0], [0, 300], [1000, 0], [1000, 300]], float) + np.array([x0, y0])
    return graph_from_arrays(
        [1, 2, 3, 8], xy[:, 0], xy[:, 1], [1, 3, 3, 8], [2, 2, 8, 2],
        [300.0, float(np.hypot(1000, 300)), 300.0, 1000.0], mode=mode,
        speed_kmh=[30.0, 10.0, 60.0, 60.0] if mode == "drive" else None,
    )  # fmt: skip


@pytest.mark.filterwarnings("ignore:1 of 2 facilities are farther")  # C2 is off these roads
def test_gaps_route_m_on_drive_and_walk_networks() -> None:
    tiny = load_dataset(TINY)
    drive = travel_params(tiny.params, TravelChoice(mode="drive"))
    res = compute_gaps(tiny.with_params(drive), "childcare", graph=_tiny_roads("drive"))
    v = res.villages.set_index("code12")
    assert v.loc["440205001001", "route_m"] == pytest.approx(300.0)  # at 30 km/h: cost = length
    assert v.loc["440205001002", "route_m"] == pytest.approx(1300.0)  # the fast corner route
    assert v.loc["440205001002", "distance_m"] == pytest.approx(650.0)  # its cost at 30 km/h
    assert v.loc["440205001002", "time_min"] == pytest.approx(1.3)  # 1.3 km at 60 km/h
    assert np.isinf(v.loc["440205100202", "route_m"])  # off the network: unreachable
    walk = travel_params(tiny.params, TravelChoice(mode="walk"))
    on_foot = compute_gaps(tiny.with_params(walk), "childcare", graph=_tiny_roads("walk"))
    w = on_foot.villages
    assert w["route_m"].equals(w["distance_m"])
    assert w.set_index("code12").loc["440205001002", "route_m"] == pytest.approx(1044.03, abs=0.01)
    # the gap surface's hexagons too: the route's metres beside the cost
    cells = gap_surface(
        tiny.with_params(drive), "childcare", graph=_tiny_roads("drive").search_graph
    )
    reached = np.isfinite(cells["distance_m"])
    assert reached.any() and np.isfinite(cells["route_m"][reached]).all()
    assert not np.allclose(cells["route_m"][reached], cells["distance_m"][reached])
    on_foot = gap_surface(tiny.with_params(walk), "childcare", graph=_tiny_roads("walk").graph)
    assert on_foot["route_m"].equals(on_foot["distance_m"])


@pytest.mark.filterwarnings("ignore:1 of 2 facilities are farther")
def test_cli_gaps_shows_route_metres_by_car(tmp_path: Path) -> None:
    import json

    net = save_network(_tiny_roads("drive"), tmp_path / "drive.npz")
    args = ["gaps", "--type", "childcare", "--data", str(TINY), "--network", str(net)]
    runner = CliRunner()
    table = runner.invoke(app, [*args, "--mode", "drive"])
    assert table.exit_code == 0, table.output
    v2 = next(row for row in table.output.splitlines() if "440205001002" in row)
    assert "1,300" in v2 and "650" not in v2  # the route's metres, never the cost
    assert "route_m = the route's length (m)" in table.output
    payload = json.loads(runner.invoke(app, [*args, "--mode", "drive", "--format", "json"]).output)
    by_code = {v["code12"]: v for v in payload["villages"]}
    assert by_code["440205001002"]["route_m"] == pytest.approx(1300.0)
    assert by_code["440205001002"]["distance_m"] == pytest.approx(650.0)
    out = tmp_path / "v.csv"
    assert runner.invoke(app, [*args, "--mode", "drive", "--out", str(out)]).exit_code == 0
    import pandas as pd

    written = pd.read_csv(out, encoding="utf-8-sig", dtype={"code12": str}).set_index("code12")
    assert written.loc["440205001002", "route_m"] == pytest.approx(1300.0)


def test_gaps_route_m_is_distance_without_network(dataset) -> None:
    for mode in MODES:
        params = travel_params(dataset.params, TravelChoice(mode=mode))
        v = compute_gaps(dataset.with_params(params), "childcare").villages
        assert v["route_m"].equals(v["distance_m"]), mode


# -- the real OSM extracts -----------------------------------------------------------------


@pytest.fixture(scope="module")
def munich(osm_dir: Path) -> dict[str, object]:
    src = osm_dir / "munich_small.osm"
    return {m: graph_from_osm_file(src, mode=m, crs=None, simplify=False) for m in MODES}


def _with_one_way(src: Path, dest: Path) -> set[tuple[int, int]]:
    """Copy an extract, signing its drivable two-way ways one-way; their (from, to) pairs.

    The shared extracts map no drivable one-way street, so the test set-up signs some.
    """
    with bz2.open(src) if src.suffix == ".bz2" else src.open("rb") as handle:
        tree = ET.parse(handle)
    pairs: set[tuple[int, int]] = set()
    for i, way in enumerate(tree.getroot().iter("way")):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        if way_in_mode(tags, "drive") and "oneway" not in tags and i % 2 == 0:
            ET.SubElement(way, "tag", {"k": "oneway", "v": "yes"})
            refs = [int(nd.get("ref", "0")) for nd in way.iter("nd")]
            pairs.update(itertools.pairwise(refs))
    tree.write(dest, encoding="utf-8", xml_declaration=True)
    return pairs


def test_osm_one_way_streets_respected_when_driving(osm_dir: Path, tmp_path: Path) -> None:
    signed = tmp_path / "oakland-one-way.osm"
    pairs = _with_one_way(osm_dir / "West-Oakland.osm.bz2", signed)
    assert len(pairs) > 10
    for mode in MODES:
        g = graph_from_osm_file(signed, mode=mode, crs=None, simplify=False).graph
        src = g.node_ids[np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))]
        edges = set(zip(src.tolist(), g.node_ids[g.indices].tolist(), strict=True))
        present = [p for p in pairs if p in edges]
        assert len(present) == len(pairs)  # every signed segment is in every network …
        backwards = [p for p in present if (p[1], p[0]) in edges]
        if mode == "drive":
            assert not backwards  # … but a car only travels it the way it is signed
        else:
            assert len(backwards) == len(present)  # walking and cycling: both ways


def _times(net, ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
    g = net.graph
    pos = g.node_positions(ids)
    matrix = csr_array((weights, g.indices, g.indptr), shape=(g.n_nodes, g.n_nodes))
    return dijkstra(matrix, directed=True, indices=pos)[:, pos]


@pytest.mark.parametrize("name", ["munich_small.osm", "West-Oakland.osm.bz2"])
def test_drive_times_not_longer_than_walking(osm_dir: Path, name: str) -> None:
    """Driving is never slower than walking between two nodes both networks hold, unless
    the walk takes a path no car may use (a footway shortcut: the walk is shorter)."""
    nets = {m: graph_from_osm_file(osm_dir / name, mode=m, crs=None, simplify=False)
            for m in ("walk", "drive")}  # fmt: skip
    common = np.intersect1d(nets["walk"].graph.node_ids, nets["drive"].graph.node_ids)
    assert common.size >= 5
    walk = _times(nets["walk"], common, nets["walk"].time_s)
    drive = _times(nets["drive"], common, nets["drive"].time_s)
    walk_m = _times(nets["walk"], common, nets["walk"].length_m)
    drive_m = _times(nets["drive"], common, nets["drive"].length_m)
    connected = np.isfinite(drive) & np.isfinite(walk)
    assert connected.sum() > common.size  # more than the diagonal
    slower = connected & (drive > walk + 1e-9)
    assert np.all(walk_m[slower] < drive_m[slower])  # only where walking has a shortcut
    assert slower.sum() <= 0.01 * connected.sum()
    same_route = connected & (drive_m <= walk_m * (1 + 1e-9))
    assert np.all(drive[same_route] <= walk[same_route] + 1e-9)


def _networkx_route_m(net, origin: int, facilities: list[int]) -> float:
    """networkx's length of the fastest trip from node ``origin`` to its nearest facility."""
    import networkx as nx

    g = net.graph
    G = nx.DiGraph()
    src = np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))
    for u, v, t, m in zip(src, g.indices, net.time_s, net.length_m, strict=True):
        G.add_edge(int(u), int(v), time=float(t), length=float(m))
    times = nx.single_source_dijkstra_path_length(G, origin, weight="time")
    best = min((times[f], f) for f in facilities if f in times)[1]
    path = nx.shortest_path(G, origin, best, weight="time")
    return float(sum(G.edges[a, b]["length"] for a, b in itertools.pairwise(path)))


@pytest.mark.parametrize("name", ["munich_small.osm", "West-Oakland.osm.bz2"])
def test_route_m_is_networkx_fastest_path_length(osm_dir: Path, tmp_path: Path, name: str) -> None:
    """On the real extracts (Oakland with one-way streets signed): villages a few metres off
    nodes, schools on nodes; route_m = origin snap + networkx's fastest path's length."""
    src = osm_dir / name
    if name.startswith("West"):
        _with_one_way(src, tmp_path / "one-way.osm")
        src = tmp_path / "one-way.osm"
    net = graph_from_osm_file(src, mode="drive", crs=None, simplify=False)
    g = net.graph
    rng = np.random.default_rng(7)
    facilities = sorted(rng.choice(g.n_nodes, 3, replace=False).tolist())
    origins = rng.choice(g.n_nodes, 12, replace=False)
    shift = np.array([3.0, -4.0])  # 5 m off the node (farther from any other node)
    oxy = g.xy[origins] + shift
    route = route_lengths(net, oxy, g.xy[facilities])
    cost = nearest_from_arrays(net.search_graph, oxy, g.xy[facilities]).distance_m
    snap = np.hypot(*shift)
    checked = 0
    for i, node in enumerate(origins):
        if not np.isfinite(cost[i]):
            assert np.isinf(route[i])
            continue
        own = np.hypot(*(g.xy - oxy[i]).T).argmin() == node
        if own:  # snapped to its own node
            assert route[i] == pytest.approx(snap + _networkx_route_m(net, int(node), facilities))
            checked += 1
    assert checked >= 5
    assert net.directed  # a car trip is searched to the school, over the reversed graph
    if name.startswith("West"):  # roads at 20 and 40 km/h (Munich's: nearly all at 30)
        finite = np.isfinite(cost)
        assert np.any(np.abs(route[finite] - cost[finite]) > 1.0)  # a length, not the cost


def _lonlat_of(net, node: int) -> tuple[float, float]:
    import pyproj

    to_ll = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    return to_ll.transform(net.graph.x[node], net.graph.y[node])


@pytest.mark.parametrize("mode", MODES)
def test_isochrones_hold_exactly_the_nodes_reached(munich, mode: str) -> None:
    net = munich[mode]
    g = net.graph
    centre = int(np.argmin(np.hypot(g.x - g.x.mean(), g.y - g.y.mean())))
    at, _ = node_minutes(net, (g.x[centre], g.y[centre]))
    finite = np.sort(at[np.isfinite(at) & (at > 0)])
    minutes = [float(finite[len(finite) // 3]), float(finite[-1]) * 0.8, 15.0]
    frame = isochrones(net, _lonlat_of(net, centre), mode=mode, minutes=minutes)
    assert list(frame["method"]) == ["network"] * 3 and list(frame["mode"]) == [mode] * 3
    metric = frame.to_crs(net.crs)
    points = shapely.points(g.xy)
    for (_, row), t in zip(metric.iterrows(), sorted(minutes), strict=True):
        inside = shapely.covers(row.geometry, points)
        reached = at <= t * (1 + 1e-9)
        assert np.array_equal(inside, reached), (mode, t)
        assert row["nodes_reached"] == reached.sum()
    assert frame["area_km2"].is_monotonic_increasing


def test_isochrone_straight_line_and_errors(munich) -> None:
    frame = isochrones(None, (113.6, 24.68), mode="bike", minutes=[10])
    assert frame["method"].iloc[0] == "straight_line_x_detour"
    assert frame["radius_m"].iloc[0] == pytest.approx(10 * 60 * 15 / 3.6 / 1.3)
    assert frame["area_km2"].iloc[0] == pytest.approx(
        np.pi * frame["radius_m"].iloc[0] ** 2 / 1e6, rel=1e-3
    )
    with pytest.raises(IsochroneError, match=r"分钟.*minutes"):
        isochrones(None, (113.6, 24.68), minutes=[0])
    with pytest.raises(IsochroneError, match="not walk"):
        isochrones(munich["drive"], (11.5, 48.1), mode="walk")
    with pytest.raises(IsochroneError, match="network"):
        isochrones(munich["walk"], (113.6, 24.68), mode="walk")  # far from Munich


# -- thresholds in minutes: the bundled data (no network: straight line) -------------------


def test_travel_choice_checks_with_zh_en_messages() -> None:
    with pytest.raises(TravelError, match=r"只能是.*must be one of"):
        TravelChoice(mode="boat")
    with pytest.raises(TravelError, match=r"只能给一个.*not both"):
        TravelChoice(mode="walk", minutes=5, threshold_m=100)
    with pytest.raises(TravelError, match=r"正数.*positive"):
        TravelChoice(minutes=-1)


def test_legacy_run_unchanged_and_says_walk(dataset) -> None:
    before = compute_gaps(dataset, "childcare")
    again = compute_gaps(dataset.with_params(travel_params(dataset.params, TravelChoice())),
                         "childcare")  # fmt: skip
    assert before.villages["distance_m"].equals(again.villages["distance_m"])
    p = before.params_used
    assert p["mode"] == "walk" and p["threshold_unit"] == "m"
    assert p["urban_threshold_m"] == 300 and p["urban_threshold_min"] == pytest.approx(5.0)
    v = before.villages
    assert np.allclose(v["time_min"], v["distance_m"] / 60.0)  # 3.6 km/h = 60 m/min


def test_rural_village_by_e_bike_in_minutes_and_metres(dataset) -> None:
    params = travel_params(dataset.params, TravelChoice(mode="bike"))
    res = compute_gaps(dataset.with_params(params), "childcare")
    v = res.villages
    rural = v[~v["urban"]]
    assert set(v["mode"]) == {"bike"} and res.method == "straight_line_x_detour"
    assert np.allclose(rural["threshold_min"], 15.0)
    assert np.allclose(rural["threshold_m"], 15 * 60 * 15 / 3.6)  # 3,750 m
    assert np.allclose(v["time_min"], v["distance_m"] / (15 / 3.6) / 60)
    p = res.params_used
    assert (p["mode"], p["threshold_unit"], p["rural_threshold_min"]) == ("bike", "min", 15.0)
    # the drive standard of a science venue in the countryside: 30 minutes by car
    drive = travel_params(dataset.params, TravelChoice(mode="drive", minutes=30))
    assert drive.detour_factor == 1.4 and drive.base_detour_factor == dataset.params.detour_factor
    assert travel_params(drive, TravelChoice(mode="walk")).detour_factor == 1.3


def test_network_of_another_mode_is_refused(dataset) -> None:
    params = travel_params(dataset.params, TravelChoice(mode="bike"))
    with pytest.raises(GapsUnavailable, match="not bike"):
        compute_gaps(dataset.with_params(params), "childcare", graph=_line("walk"))


def test_default_time_standards_documented() -> None:
    cc = DEFAULT_PARAMS.facility("childcare")
    assert (cc.urban_mode, cc.urban_minutes, cc.rural_mode, cc.rural_minutes) == (
        "walk", 5, "bike", 15,
    )  # fmt: skip
    assert DEFAULT_PARAMS.facility("science_venue").rural_mode == "drive"
    assert DEFAULT_PARAMS.travel("walk").speed_kmh == 3.6


def test_cli_gaps_says_mode_minutes_and_metres() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["gaps", "--type", "childcare", "--mode", "bike"])
    assert result.exit_code == 0, result.output
    assert "mode: bike (e-bike, 15 km/h)" in result.output
    assert "rural 15 min (3,750 m)" in result.output
    assert "walk" not in result.output.split("villages")[0]  # never called walking
    minutes = runner.invoke(app, ["gaps", "--type", "park", "--mode", "drive", "--minutes", "10"])
    assert "10 min (5,000 m) (urban and rural, --minutes)" in minutes.output
    bad = runner.invoke(app, ["gaps", "--type", "park", "--minutes", "5", "--threshold-m", "9"])
    assert bad.exit_code == 2 and "not both" in bad.output


def test_cli_isochrones_and_mode_on_indicators_site_scenario(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "iso.geojson"
    iso = runner.invoke(app, ["isochrones", "--type", "childcare", "--facility", "CHI007",
                              "--mode", "bike", "--minutes", "5,15", "--out", str(out)])  # fmt: skip
    assert iso.exit_code == 0, iso.output
    assert "mode bike (e-bike, 15 km/h)" in iso.output and "straight_line_x_detour" in iso.output
    import geopandas as gpd

    written = gpd.read_file(out)
    assert list(written["minutes"]) == [5.0, 15.0] and set(written["mode"]) == {"bike"}
    bad = runner.invoke(app, ["isochrones", "--lonlat", "113.6"])
    assert bad.exit_code == 2 and "LON,LAT" in bad.output
    for args in (
        ["indicators", "--mode", "bike"],
        ["site", "--type", "childcare", "--k", "1", "--mode", "drive", "--minutes", "10"],
        [
            "scenario",
            "run",
            str(REPO / "scenarios" / "childcare_in_luokeng.yaml"),
            "--mode",
            "bike",
        ],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert "mode: " in result.output and "km/h" in result.output, args
    wrong = runner.invoke(app, ["indicators", "--mode", "boat"])
    assert wrong.exit_code == 2
