"""Networks by travel mode: walking, cycling (e-bike) and driving, with travel time per edge.

A :class:`ModeNetwork` is one mode's network: a :class:`~qjgeo.network.WalkGraph` whose
edge weights are the travel *cost* of the mode, plus the edge lengths in metres. The cost is
travel time expressed in metres at the mode's reference speed
(:attr:`qjgeo.params.TravelMode.speed_kmh`)::

    cost_m = time_s × reference speed (m/s),  time_s = cost_m / reference speed

so every search of :mod:`qjgeo.access` (which works in metres) works unchanged for every
mode, and the straight-line fallback (straight line × the mode's detour factor) is in the
same unit. On the walking and cycling networks every edge travels at the reference speed,
so the cost *is* the length; on the drive network an edge's speed is its ``maxspeed`` or
its highway class's default (:data:`qjgeo.params.DRIVE_SPEEDS_KMH`).

A cost is therefore *not* a distance on the drive network: a search's ``distance_m`` there
is the time × 30 km/h. The length in metres of the route a search finds is
:func:`qjgeo.routes.route_lengths` (the fastest route's edge lengths and the snap legs);
results show planners that length (``route_m`` in :func:`qjgeo.gaps.compute_gaps`) and the
time. The drive network's :attr:`ModeNetwork.search_graph` is a :class:`SearchGraph`, which
keeps the lengths beside the costs for that.

Direction
---------
Walking and cycling are two-way. The drive network is directed: a one-way street
(``oneway=yes|true|1``, ``junction=roundabout|circular``, ``highway=motorway``) is stored
in its direction only, ``oneway=-1|reverse`` against the drawing order. A search from
villages *to* facilities is run from the facilities over the reversed graph
(:attr:`ModeNetwork.search_graph`), so each village's time is its own trip to the facility.

Which ways belong to a mode (:func:`way_in_mode`)
-------------------------------------------------
- ``walk``: :func:`qjgeo.network.is_walkable_way`;
- ``bike``: osmnx's ``network_type="bike"`` filter: any ``highway`` except ``abandoned``,
  ``bus_guideway``, ``construction``, ``corridor``, ``elevator``, ``escalator``, ``footway``,
  ``motor``, ``motorway``, ``motorway_link``, ``no``, ``planned``, ``platform``, ``proposed``,
  ``raceway``, ``razed``, ``steps`` (footways kept with ``bicycle=yes|designated``); not
  ``bicycle=no``, ``access=private|no``, ``service=private``;
- ``drive``: osmnx's ``network_type="drive"`` filter: any ``highway`` except ``abandoned``,
  ``bridleway``, ``bus_guideway``, ``construction``, ``corridor``, ``cycleway``, ``elevator``,
  ``escalator``, ``footway``, ``no``, ``path``, ``pedestrian``, ``planned``, ``platform``,
  ``proposed``, ``raceway``, ``razed``, ``service``, ``steps``, ``track``; not
  ``motor_vehicle=no``, ``motorcar=no``, ``access=private|no``.

Builders (offline)
------------------
:func:`graph_from_osm_file` (``.osm`` / ``.osm.bz2`` through osmnx),
:func:`graph_from_networkx` (an osmnx graph) and :func:`graph_from_arrays` (node and edge
arrays: the entry point for any other reader, e.g. a streamed PBF: give each way's segments
with :func:`way_in_mode`, :func:`way_direction` and :func:`way_speed_kmh`).
:func:`save_network` / :func:`load_network` keep the compact ``.npz`` form; a dataset keeps
one file per mode (:func:`network_path`: ``network/walk.npz`` …, the old single
``network.npz`` read as the walking network).
"""

from __future__ import annotations

import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike, NDArray

from qjgeo.crs import AUTO_CRS, METRIC_CRS
from qjgeo.network import (
    _INDEX_DTYPE,
    NetworkError,
    WalkGraph,
    _check_file,
    _lookup,
    _open_osm,
    _project_nodes,
    is_walkable_way,
    trim_dangling_refs,
)
from qjgeo.params import (
    DEFAULT_PARAMS,
    DRIVE_FALLBACK_SPEED_KMH,
    DRIVE_SPEEDS_KMH,
    MODES,
    PlanningParams,
)

__all__ = [
    "MODES",
    "NETWORK_DIR",
    "ModeNetwork",
    "SearchGraph",
    "check_mode",
    "describe_networks",
    "graph_from_arrays",
    "graph_from_networkx",
    "graph_from_osm_file",
    "load_network",
    "network_path",
    "networks_from_osm_file",
    "networkx_from_osm_file",
    "save_network",
    "way_direction",
    "way_in_mode",
    "way_speed_kmh",
]

#: Folder of a dataset holding one network file per mode (``walk.npz``, ``bike.npz``, ``drive.npz``).
NETWORK_DIR = "network"
#: The single walking network file of datasets written before travel modes.
LEGACY_NETWORK_FILE = "network.npz"
NPZ_MODE_VERSION = 1

_BIKE_EXCLUDED = frozenset(
    "abandoned bus_guideway construction corridor elevator escalator footway motor motorway "
    "motorway_link no planned platform proposed raceway razed steps".split()
)
_DRIVE_EXCLUDED = frozenset(
    "abandoned bridleway bus_guideway construction corridor cycleway elevator escalator footway "
    "no path pedestrian planned platform proposed raceway razed service steps track".split()
)
_ALLOWED = frozenset({"yes", "designated", "permissive"})
_FORBIDDEN = frozenset({"private", "no"})
_ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
_ONEWAY_BACKWARD = frozenset({"-1", "reverse"})
_SPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$")


def check_mode(mode: str) -> str:
    """Return ``mode`` if it is a travel mode, else raise a ``ValueError`` in Chinese and English."""
    if mode not in MODES:
        raise ValueError(
            f"未知的出行方式 {mode!r}，可选 {' / '.join(MODES)}；"
            f"unknown travel mode {mode!r}, use one of {', '.join(MODES)}"
        )
    return mode


def way_in_mode(tags: Mapping[str, str], mode: str) -> bool:
    """Tell whether an OSM way with these tags belongs to a mode's network (module notes)."""
    check_mode(mode)
    if mode == "walk":
        return is_walkable_way(tags)
    highway = tags.get("highway")
    if highway is None or tags.get("area") == "yes" or tags.get("service") == "private":
        return False
    if mode == "bike":
        bicycle = tags.get("bicycle")
        if bicycle == "no":
            return False
        if highway in _BIKE_EXCLUDED and not (highway == "footway" and bicycle in _ALLOWED):
            return False
        return not (tags.get("access") in _FORBIDDEN and bicycle not in _ALLOWED)
    if highway in _DRIVE_EXCLUDED:
        return False
    if tags.get("motor_vehicle") == "no" or tags.get("motorcar") == "no":
        return False
    return tags.get("access") not in _FORBIDDEN


def way_direction(tags: Mapping[str, str], mode: str) -> int:
    """Direction a mode may travel a way: 0 both, 1 in drawing order, -1 against it.

    Only driving respects one-way streets (walking and cycling are two-way).
    """
    if check_mode(mode) != "drive":
        return 0
    oneway = tags.get("oneway", "").lower()
    if oneway in _ONEWAY_BACKWARD:
        return -1
    implied = (
        tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway"
    )
    if oneway in _ONEWAY_FORWARD or (oneway == "" and implied):
        return 1
    return 0


def _parse_speed(value: Any) -> float | None:
    """A ``maxspeed`` value in km/h (``"40"``, ``"30 mph"``, lists: the lowest), or None."""
    values = value if isinstance(value, list | tuple) else str(value).split(";")
    speeds = []
    for item in values:
        match = _SPEED.match(str(item))
        if match:
            speed = float(match.group(1)) * (1.609344 if match.group(2) == "mph" else 1.0)
            if speed > 0:
                speeds.append(speed)
    return min(speeds) if speeds else None


def way_speed_kmh(
    tags: Mapping[str, Any], mode: str, params: PlanningParams = DEFAULT_PARAMS
) -> float:
    """The speed of a mode on a way, km/h.

    Walking and cycling: the mode's speed (:class:`~qjgeo.params.TravelMode`). Driving: the
    way's ``maxspeed`` where tagged, else its highway class's default
    (:data:`~qjgeo.params.DRIVE_SPEEDS_KMH`, sources there).
    """
    if check_mode(mode) != "drive":
        return params.travel(mode).speed_kmh
    tagged = _parse_speed(tags.get("maxspeed")) if tags.get("maxspeed") is not None else None
    if tagged is not None:
        return tagged
    highway = tags.get("highway")
    if isinstance(highway, list | tuple):  # a simplified edge of several classes: the slowest
        known = [DRIVE_SPEEDS_KMH.get(str(h), DRIVE_FALLBACK_SPEED_KMH) for h in highway]
        return min(known) if known else DRIVE_FALLBACK_SPEED_KMH
    return DRIVE_SPEEDS_KMH.get(str(highway), DRIVE_FALLBACK_SPEED_KMH)


@dataclass(frozen=True, eq=False)
class ModeNetwork:
    """One travel mode's network: cost graph (metres at the reference speed) and lengths.

    Attributes
    ----------
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.
    graph
        The network in CSR form, edges in their direction of travel; ``weights`` are the
        cost in metres at ``speed_kmh`` (module notes).
    length_m
        The length of each edge, aligned with ``graph.indices``.
    speed_kmh
        The reference speed: cost ÷ this speed is the travel time.
    directed
        Whether one-way streets make the network directed (driving).
    """

    mode: str
    graph: WalkGraph
    length_m: NDArray[np.float64]
    speed_kmh: float
    directed: bool

    def __post_init__(self) -> None:
        check_mode(self.mode)
        length = np.asarray(self.length_m, dtype=np.float64)
        if length.shape != self.graph.weights.shape:
            raise NetworkError("ModeNetwork.length_m must have one length per edge")
        length = length.copy()
        length.flags.writeable = False
        object.__setattr__(self, "length_m", length)
        if not self.speed_kmh > 0:
            raise NetworkError(f"ModeNetwork.speed_kmh must be positive, got {self.speed_kmh}")

    @property
    def speed_m_s(self) -> float:
        """The reference speed in metres per second."""
        return self.speed_kmh / 3.6

    @property
    def crs(self) -> str:
        """The metric CRS of the node coordinates."""
        return self.graph.crs

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return self.graph.n_nodes

    @property
    def time_s(self) -> NDArray[np.float64]:
        """Travel time of each edge in seconds, aligned with ``graph.indices``."""
        return self.graph.weights / self.speed_m_s

    @cached_property
    def _reversal(self) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.intp]]:
        """The reversed graph's ``indptr`` and ``indices``, and the order of its edges.

        ``order`` takes ``graph.weights`` / ``length_m`` to the reversed graph's edge order
        (rows by destination, columns sorted within a row).
        """
        g = self.graph
        n = g.n_nodes
        src = np.repeat(np.arange(n, dtype=np.int64), np.diff(g.indptr))
        order = np.lexsort((src, g.indices))
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(g.indices, minlength=n), out=indptr[1:])
        return indptr.astype(_INDEX_DTYPE), src[order].astype(_INDEX_DTYPE), order

    @cached_property
    def search_graph(self) -> WalkGraph:
        """The graph a search *to* a destination runs on: reversed when directed.

        Where the costs are not the lengths (driving) it is a :class:`SearchGraph`, which
        keeps the edge lengths so a search's route can be measured
        (:func:`qjgeo.routes.route_lengths`).
        """
        g = self.graph
        if not self.directed:
            if self.cost_is_length:
                return g
            indptr, indices, weights = g.indptr, g.indices, g.weights
        else:
            indptr, indices, order = self._reversal
            weights = np.ascontiguousarray(g.weights[order], dtype=np.float64)
        if self.cost_is_length:
            return WalkGraph(g.node_ids, g.x, g.y, indptr, indices, weights, g.crs)
        return SearchGraph(
            g.node_ids, g.x, g.y, indptr, indices, weights, g.crs, length_m=self.search_length_m
        )

    @cached_property
    def search_length_m(self) -> NDArray[np.float64]:
        """The edge lengths aligned with ``search_graph.indices``."""
        if not self.directed:
            return self.length_m
        return np.ascontiguousarray(self.length_m[self._reversal[2]])

    @cached_property
    def cost_is_length(self) -> bool:
        """Whether every edge's cost is its length (walking, cycling): routes in cost metres."""
        return bool(np.array_equal(self.graph.weights, self.length_m))

    def to_minutes(self, cost_m: ArrayLike) -> NDArray[np.float64]:
        """Travel time in minutes of costs in metres at the reference speed."""
        return np.asarray(cost_m, dtype=np.float64) / self.speed_m_s / 60.0


@dataclass(frozen=True, eq=False)
class SearchGraph(WalkGraph):
    """A :class:`~qjgeo.network.WalkGraph` whose weights are costs that are not the edge
    lengths (the drive network's :attr:`ModeNetwork.search_graph`), with those lengths.

    Every search runs on it as on any graph (costs); :func:`qjgeo.routes.route_lengths`
    measures the routes in metres with ``length_m``, one per edge aligned with ``indices``.
    """

    length_m: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))

    def __post_init__(self) -> None:
        super().__post_init__()
        length = np.array(self.length_m, dtype=np.float64)
        if length.shape != self.weights.shape:
            raise NetworkError("SearchGraph.length_m must have one length per edge")
        length.flags.writeable = False
        object.__setattr__(self, "length_m", length)


def _directed_csr(
    n: int,
    u: NDArray[np.int64],
    v: NDArray[np.int64],
    cost: NDArray[np.float64],
    length: NDArray[np.float64],
    direction: NDArray[np.int8],
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]:
    """Edges in their travel direction(s), the cheapest parallel edge kept, self-loops dropped."""
    fwd = (direction >= 0) & (u != v)
    bwd = (direction <= 0) & (u != v)
    src = np.concatenate([u[fwd], v[bwd]])
    dst = np.concatenate([v[fwd], u[bwd]])
    wt = np.concatenate([cost[fwd], cost[bwd]])
    ln = np.concatenate([length[fwd], length[bwd]])
    order = np.lexsort((ln, wt, dst, src))
    src, dst, wt, ln = src[order], dst[order], wt[order], ln[order]
    first = np.ones(src.shape[0], dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    src, dst, wt, ln = src[first], dst[first], wt[first], ln[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    if indptr[-1] >= np.iinfo(_INDEX_DTYPE).max:
        raise NetworkError("graph too large for int32 CSR indices")
    return indptr.astype(_INDEX_DTYPE), dst.astype(_INDEX_DTYPE), wt, ln


def _edge_ends(ids: NDArray[np.int64], u_ids: ArrayLike, v_ids: ArrayLike) -> tuple[Any, Any]:
    """Positions of the edge end ids among ``ids``."""
    u = np.asarray(u_ids, dtype=np.int64)
    v = np.asarray(v_ids, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    if ids.size > 1 and np.any(sorted_ids[1:] == sorted_ids[:-1]):
        raise NetworkError("node ids must be unique")
    return _lookup(sorted_ids, order, u), _lookup(sorted_ids, order, v)


def graph_from_arrays(
    node_ids: ArrayLike,
    x: ArrayLike,
    y: ArrayLike,
    edge_u: ArrayLike,
    edge_v: ArrayLike,
    length_m: ArrayLike,
    *,
    mode: str = "walk",
    speed_kmh: ArrayLike | None = None,
    direction: ArrayLike | None = None,
    crs: str = METRIC_CRS,
    params: PlanningParams = DEFAULT_PARAMS,
) -> ModeNetwork:
    """Build a mode's network from node and edge arrays (any reader's entry point).

    Parameters
    ----------
    node_ids, x, y
        Unique integer node ids and their coordinates in ``crs`` (metres).
    edge_u, edge_v, length_m
        The edges (segments or whole ways) by end node id, and their lengths in metres.
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.
    speed_kmh
        Speed on each edge (default: the mode's speed), e.g. from :func:`way_speed_kmh`.
    direction
        Per edge: 0 two-way, 1 from ``edge_u`` to ``edge_v`` only, -1 the other way only
        (:func:`way_direction`); default all two-way.
    crs
        Projected CRS of ``x`` and ``y``.
    params
        Planning parameters holding the mode's reference speed.

    Raises
    ------
    NetworkError
        If ids are duplicated or unknown, lengths or speeds are invalid, or ``crs`` is not
        metric.
    """
    reference = params.travel(check_mode(mode)).speed_kmh
    ids = np.asarray(node_ids, dtype=np.int64)
    length = np.asarray(length_m, dtype=np.float64)
    speed = np.full(length.shape, reference) if speed_kmh is None else np.asarray(speed_kmh, float)
    way_dir = (
        np.zeros(length.shape, np.int8) if direction is None else np.asarray(direction, np.int8)
    )
    if not (speed.shape == length.shape == way_dir.shape) or length.ndim != 1:
        raise NetworkError("edge arrays (ends, lengths, speeds, directions) must match in length")
    if length.size and not (np.all(np.isfinite(length)) and length.min() >= 0):
        raise NetworkError("edge lengths must be finite and non-negative (metres)")
    if speed.size and not (np.all(np.isfinite(speed)) and speed.min() > 0):
        raise NetworkError("edge speeds must be finite and positive (km/h)")
    u, v = _edge_ends(ids, edge_u, edge_v)
    cost = np.where(speed == reference, length, length * (reference / speed))
    indptr, indices, weights, lengths = _directed_csr(ids.size, u, v, cost, length, way_dir)
    graph = WalkGraph(
        node_ids=ids,
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        indptr=indptr,
        indices=indices,
        weights=weights,
        crs=crs,
    )
    return ModeNetwork(
        mode=mode,
        graph=graph,
        length_m=lengths,
        speed_kmh=reference,
        directed=bool(np.any(way_dir != 0)),
    )


def graph_from_networkx(
    G: nx.Graph,
    *,
    mode: str = "walk",
    crs: str | None = AUTO_CRS,
    params: PlanningParams = DEFAULT_PARAMS,
    source: str = "networkx graph",
) -> ModeNetwork:
    """Build a mode's network from a networkx / osmnx graph.

    Parameters
    ----------
    G
        Integer-labelled graph with node ``x``/``y``, edge ``length`` (metres) and a graph
        ``crs``. A directed graph (osmnx ``MultiDiGraph``) is taken edge by edge in its
        direction (osmnx lists two-way streets both ways); an undirected one is two-way.
        Driving speeds come from the edges' ``maxspeed`` / ``highway`` (or ``speed_kph``).
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.
    crs
        Target metric CRS; the default chooses it from the data's location
        (:func:`qjgeo.crs.metric_crs_for`); ``None`` for the local UTM zone.
    params
        Planning parameters (speeds).
    source
        Name of the data source for error messages.
    """
    check_mode(mode)
    from_crs = G.graph.get("crs")
    if from_crs is None:
        raise NetworkError(f"{source}: graph has no 'crs' graph attribute")
    nodes = list(G.nodes)
    if not all(isinstance(node, int | np.integer) for node in nodes):
        raise NetworkError(f"{source}: node labels must be integers")
    try:
        x = np.array([G.nodes[n]["x"] for n in nodes], dtype=np.float64)
        y = np.array([G.nodes[n]["y"] for n in nodes], dtype=np.float64)
    except KeyError as exc:
        raise NetworkError(f"{source}: every node needs 'x' and 'y' attributes") from exc
    edges = list(G.edges(data=True))
    if any(d.get("length") is None for _, _, d in edges):
        raise NetworkError(f"{source}: every edge needs a 'length' attribute (metres)")
    speed = [
        float(d["speed_kph"])
        if mode == "drive" and "speed_kph" in d
        else way_speed_kmh(d, mode, params)
        for _, _, d in edges
    ]
    px, py, target = _project_nodes(x, y, str(from_crs), crs, source)
    try:
        return graph_from_arrays(
            np.asarray(nodes, dtype=np.int64),
            px,
            py,
            [e[0] for e in edges],
            [e[1] for e in edges],
            [e[2]["length"] for e in edges],
            mode=mode,
            speed_kmh=speed,
            # osmnx lists a two-way street both ways: only driving keeps the direction
            direction=np.full(len(edges), int(G.is_directed() and mode == "drive"), np.int8),
            crs=target,
            params=params,
        )
    except NetworkError as exc:
        raise NetworkError(f"{source}: {exc}") from exc


def _mode_ways(path: Path, mode: str) -> dict[int, dict[str, str]]:
    """Tags of the ways of a mode in an OSM XML file (streamed), by way id."""
    ways: dict[int, dict[str, str]] = {}
    with _open_osm(path) as handle:
        for _, elem in ET.iterparse(handle, events=("end",)):
            if elem.tag == "way":
                tags = {tag.get("k", ""): tag.get("v", "") for tag in elem.iter("tag")}
                if way_in_mode(tags, mode):
                    ways[int(elem.get("id", "0"))] = tags
                elem.clear()
            elif elem.tag in ("node", "relation"):
                elem.clear()
    return ways


def _read_osm(p: Path, mode: str) -> tuple[nx.MultiDiGraph, dict[int, dict[str, str]], int]:
    """osmnx's graph of every way (one-way streets directed for driving), the mode's ways."""
    import osmnx as ox

    two_way = mode != "drive"
    try:
        return (
            ox.graph_from_xml(p, bidirectional=two_way, simplify=False, retain_all=True),
            _mode_ways(p, mode),
            0,
        )
    except ValueError as exc:
        if "missing nodes" not in str(exc):
            raise
    with tempfile.TemporaryDirectory(prefix="qjgeo-osm-") as tmp:
        trimmed = Path(tmp) / "trimmed.osm"
        cut = trim_dangling_refs(p, trimmed)
        G = ox.graph_from_xml(trimmed, bidirectional=two_way, simplify=False, retain_all=True)
        return G, _mode_ways(trimmed, mode), cut


def networkx_from_osm_file(
    path: str | Path,
    *,
    mode: str = "walk",
    simplify: bool = True,
    params: PlanningParams = DEFAULT_PARAMS,
) -> nx.MultiDiGraph:
    """Read a mode's network of an OSM XML file as an osmnx graph (WGS84), offline.

    Edges get ``speed_kph`` (:func:`way_speed_kmh`) and ``travel_time`` (seconds); the
    drive graph keeps one-way streets in their direction only.

    Raises
    ------
    NetworkError
        If the file is missing, unreadable or holds no way of the mode.
    """
    import osmnx as ox

    check_mode(mode)
    p = _check_file(path)
    try:
        G, ways, cut = _read_osm(p, mode)
    except Exception as exc:  # any parse failure is a bad file: name it
        raise NetworkError(f"cannot read OSM file {p}: {exc}") from exc
    drop = [(u, v, k) for u, v, k, osmid in G.edges(keys=True, data="osmid") if osmid not in ways]
    G.remove_edges_from(drop)
    G.remove_nodes_from([node for node, degree in G.degree() if degree == 0])
    if G.number_of_edges() == 0:
        raise NetworkError(f"no {mode} ways in OSM file {p}")
    for _, _, data in G.edges(data=True):
        speed = way_speed_kmh(ways[data["osmid"]], mode, params)
        data["speed_kph"] = speed
        data["travel_time"] = data["length"] / (speed / 3.6)
    if simplify:
        G = ox.simplify_graph(
            G,
            edge_attrs_differ=["speed_kph"],
            edge_attr_aggs={"length": sum, "travel_time": sum},
        )
        for _, _, data in G.edges(data=True):  # a merged edge: its mean speed
            data["speed_kph"] = data["length"] / max(data["travel_time"], 1e-12) * 3.6
    G.graph["ways_cut_at_edge"] = cut
    G.graph["mode"] = mode
    return G


def graph_from_osm_file(
    path: str | Path,
    *,
    mode: str = "walk",
    crs: str | None = AUTO_CRS,
    simplify: bool = True,
    params: PlanningParams = DEFAULT_PARAMS,
) -> ModeNetwork:
    """Build a mode's network from an OSM XML file (``.osm`` / ``.osm.bz2``), offline.

    Parameters
    ----------
    path
        The OSM XML file.
    mode
        ``"walk"``, ``"bike"`` or ``"drive"`` (module notes for the filters and speeds).
    crs
        Target metric CRS; ``None`` for the local UTM zone.
    simplify
        Simplify the topology (times and lengths between kept nodes unchanged).
    params
        Planning parameters (speeds).
    """
    G = networkx_from_osm_file(path, mode=mode, simplify=simplify, params=params)
    return graph_from_networkx(G, mode=mode, crs=crs, params=params, source=str(path))


def networks_from_osm_file(
    path: str | Path,
    *,
    crs: str | None = METRIC_CRS,
    params: PlanningParams = DEFAULT_PARAMS,
) -> tuple[dict[str, ModeNetwork], dict[str, str], int]:
    """Every mode's network of an OSM XML file, offline (what ``osm-import`` writes).

    Returns
    -------
    networks : dict
        ``{mode: ModeNetwork}`` for the modes the extract has ways of.
    problems : dict
        ``{mode: reason}`` for the modes it has none of (or cannot be built).
    ways_cut : int
        Ways cut by the extract's edge (split at the missing nodes).
    """
    networks: dict[str, ModeNetwork] = {}
    problems: dict[str, str] = {}
    cut = 0
    for mode in MODES:
        try:
            G = networkx_from_osm_file(path, mode=mode, params=params)
            networks[mode] = graph_from_networkx(
                G, mode=mode, crs=crs, params=params, source=str(path)
            )
            cut = max(cut, int(G.graph.get("ways_cut_at_edge", 0)))
        except NetworkError as exc:
            problems[mode] = str(exc)
    return networks, problems, cut


def describe_networks(networks: Mapping[str, ModeNetwork]) -> str:
    """One line per dataset: each mode's file, nodes, edges and CRS."""
    return "; ".join(
        f"{mode}: {NETWORK_DIR}/{mode}.npz ({net.n_nodes} nodes, {net.graph.indices.size} "
        f"directed edges, {net.speed_kmh:g} km/h reference{', one-way streets' if net.directed else ''}, "
        f"{net.crs})"
        for mode, net in networks.items()
    )


# --------------------------------------------------------------------------------------
# Files


def network_path(directory: str | Path, mode: str) -> Path | None:
    """A dataset folder's network file of a mode, or None (the old ``network.npz`` is walk)."""
    folder = Path(directory)
    own = folder / NETWORK_DIR / f"{check_mode(mode)}.npz"
    if own.is_file():
        return own
    legacy = folder / LEGACY_NETWORK_FILE
    return legacy if mode == "walk" and legacy.is_file() else None


def save_network(network: ModeNetwork, path: str | Path) -> Path:
    """Write a mode's network to ``.npz`` (also readable by :func:`qjgeo.network.load_walk_graph`)."""
    from qjgeo.network import NPZ_FORMAT_VERSION

    p = Path(path)
    if p.suffix != ".npz":
        raise NetworkError(f"networks are saved as .npz, got {p}")
    g = network.graph
    with p.open("wb") as handle:
        np.savez_compressed(
            handle,
            crs=np.array(g.crs),
            format_version=np.array(NPZ_FORMAT_VERSION),
            mode_version=np.array(NPZ_MODE_VERSION),
            mode=np.array(network.mode),
            speed_kmh=np.array(network.speed_kmh),
            directed=np.array(network.directed),
            node_ids=g.node_ids,
            x=g.x,
            y=g.y,
            indptr=g.indptr,
            indices=g.indices,
            weights=g.weights,
            length_m=network.length_m,
        )
    return p


def load_network(
    path: str | Path,
    *,
    mode: str | None = None,
    crs: str | None = AUTO_CRS,
    params: PlanningParams = DEFAULT_PARAMS,
) -> ModeNetwork:
    """Load a mode's network: ``.npz`` (this module's, or an old walking ``network.npz``),
    or build it from ``.osm`` / ``.osm.bz2``.

    Parameters
    ----------
    path
        The file.
    mode
        The mode expected (default: the file's; ``walk`` for an old walking network).
    crs
        Target CRS when built from OSM XML.
    params
        Planning parameters (speeds, for OSM XML and old walking files).

    Raises
    ------
    NetworkError
        If the file is missing or unreadable, or holds another mode than ``mode``.
    """
    from qjgeo.network import load_walk_graph

    p = _check_file(path)
    if p.name.lower().endswith((".osm", ".osm.bz2")):
        return graph_from_osm_file(p, mode=mode or "walk", crs=crs, params=params)
    if not p.name.lower().endswith(".npz"):
        raise NetworkError(f"unknown network file type: {p} (expected .npz, .osm or .osm.bz2)")
    graph = load_walk_graph(p)
    try:
        with np.load(p, allow_pickle=False) as data:
            extra = (
                (str(data["mode"]), float(data["speed_kmh"]), bool(data["directed"]))
                if "mode" in data.files
                else None
            )
            length = np.array(data["length_m"]) if extra else graph.weights
    except Exception as exc:  # a corrupt file: name it
        raise NetworkError(f"cannot read network file {p}: {exc}") from exc
    found, speed, directed = extra or ("walk", params.travel("walk").speed_kmh, False)
    if mode is not None and check_mode(mode) != found:
        raise NetworkError(
            f"{p} 是{found}路网，不是 {mode}；{p} holds the {found} network, not {mode}"
        )
    return ModeNetwork(mode=found, graph=graph, length_m=length, speed_kmh=speed, directed=directed)
