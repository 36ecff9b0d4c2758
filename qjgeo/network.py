"""Compact walking networks for distance calculations.

A :class:`WalkGraph` holds an undirected walking network as plain NumPy arrays in
compressed sparse row (CSR) form, ready for :mod:`scipy.sparse.csgraph`:

- ``node_ids``: OSM (or any integer) node ids, ``int64``;
- ``x``, ``y``: node coordinates in a projected, metric CRS (by default
  :data:`qjgeo.crs.METRIC_CRS`), ``float64``;
- ``indptr``, ``indices``, ``weights``: the adjacency in CSR form; every undirected edge
  is stored in both directions, its weight is its walking length in metres. Parallel
  edges are collapsed to the shortest one; self-loops are dropped.

Builders
--------
Offline: :func:`graph_from_osm_file` (``.osm`` / ``.osm.bz2``), :func:`graph_from_graphml`,
:func:`graph_from_networkx`, :func:`graph_from_arrays`, and :func:`load_walk_graph`, which
dispatches on the file suffix (``.osm``, ``.osm.bz2``, ``.graphml``, ``.npz``).
:func:`save_walk_graph` writes the compact ``.npz`` form.

Online (the only functions here that use the internet, through osmnx/Overpass):
:func:`graph_from_polygon` and :func:`graph_from_place`.

Walk filter for OSM files
-------------------------
``osmnx.graph_from_xml`` has no ``network_type`` filter: it turns *every* way in the file
(buildings, park outlines, streams...) into edges. :func:`graph_from_osm_file` therefore
reads the way tags itself and keeps only the ways accepted by :func:`is_walkable_way`,
which follows osmnx's ``network_type="walk"`` Overpass filter and, in addition, drops
``trunk`` / ``trunk_link`` roads (expressways in Chinese practice) unless they carry an
explicit ``foot=yes|designated|permissive``. Concretely a way is walkable when

- it has a ``highway`` tag and ``area`` is not ``yes``;
- ``highway`` is not one of ``motorway``, ``motorway_link``, ``motorroad``, ``trunk``,
  ``trunk_link``, ``cycleway``, ``bus_guideway``, ``busway``, ``raceway``, ``construction``,
  ``proposed``, ``planned``, ``abandoned``, ``razed``, ``platform``, ``rest_area``,
  ``services``, ``no`` (``trunk``/``trunk_link``/``cycleway`` are kept when ``foot``
  explicitly allows walking);
- ``foot`` is not ``no`` / ``use_sidepath``;
- ``access`` is not ``private`` / ``no`` (unless ``foot`` explicitly allows walking), and
  ``service`` is not ``private``;
- no ``sidewalk*=separate`` tag (the sidewalk is mapped as its own way, which is used
  instead, as in osmnx).

The filter is applied *before* topology simplification (osmnx would otherwise merge a
footway and a motorway segment into one edge), so the graph is built with
``simplify=False``, filtered, then simplified with ``osmnx.simplify_graph``. The online
builders use osmnx's own ``network_type="walk"`` filter, which keeps trunk roads.
"""

from __future__ import annotations

import bz2
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from qjgeo.crs import AUTO_CRS, METRIC_CRS, WGS84_CRS, metric_crs_for, utm_crs

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

__all__ = [
    "NPZ_FORMAT_VERSION",
    "NetworkError",
    "WalkGraph",
    "graph_from_arrays",
    "graph_from_graphml",
    "graph_from_networkx",
    "graph_from_osm_file",
    "graph_from_place",
    "graph_from_polygon",
    "is_walkable_way",
    "load_walk_graph",
    "save_walk_graph",
    "walk_networkx_from_osm_file",
]

NPZ_FORMAT_VERSION = 1
"""Version number written into ``.npz`` walk graphs by :func:`save_walk_graph`."""

_INDEX_DTYPE = np.int32  # scipy.sparse.csgraph works on int32 indices: no copy per call

_EXCLUDED_HIGHWAYS = frozenset(
    {
        "motorway",
        "motorway_link",
        "motorroad",
        "bus_guideway",
        "busway",
        "raceway",
        "construction",
        "proposed",
        "planned",
        "abandoned",
        "razed",
        "platform",
        "rest_area",
        "services",
        "no",
    }
)
_EXCLUDED_UNLESS_FOOT_ALLOWED = frozenset({"trunk", "trunk_link", "cycleway"})
_FOOT_ALLOWED = frozenset({"yes", "designated", "permissive"})
_FOOT_FORBIDDEN = frozenset({"no", "use_sidepath"})
_ACCESS_FORBIDDEN = frozenset({"private", "no"})
_SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")


class NetworkError(ValueError):
    """A walking network could not be read or built (the message names the file)."""


@dataclass(frozen=True, eq=False)
class WalkGraph:
    """An undirected walking network as CSR arrays, in metres.

    Parameters
    ----------
    node_ids
        Node identifiers (OSM ids for OSM graphs), one per node.
    x, y
        Node coordinates in ``crs`` (metres).
    indptr, indices, weights
        CSR adjacency: the neighbours of node ``i`` are
        ``indices[indptr[i]:indptr[i + 1]]`` at walking lengths
        ``weights[indptr[i]:indptr[i + 1]]`` (metres). Must be symmetric (each edge
        stored in both directions); the builders guarantee this.
    crs
        The projected (metric) CRS of ``x`` and ``y``, e.g. ``"EPSG:4547"``.

    Notes
    -----
    The arrays are made read-only on construction. Derived structures (the scipy
    sparse matrix, a KD-tree on the nodes, the connected-component labels and whether
    the node locations are distinct) are built on first use and cached on the instance.
    """

    node_ids: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    indptr: NDArray[np.int32]
    indices: NDArray[np.int32]
    weights: NDArray[np.float64]
    crs: str

    def __post_init__(self) -> None:
        dtypes = {
            "node_ids": np.int64,
            "x": np.float64,
            "y": np.float64,
            "indptr": _INDEX_DTYPE,
            "indices": _INDEX_DTYPE,
            "weights": np.float64,
        }
        for name, dtype in dtypes.items():
            arr = np.asarray(getattr(self, name), dtype=dtype)
            if arr.ndim != 1:
                raise NetworkError(f"WalkGraph.{name} must be one-dimensional")
            if arr.flags.writeable:  # never freeze the caller's array: freeze a copy
                arr = arr.copy()
                arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        n = self.node_ids.shape[0]
        if self.x.shape[0] != n or self.y.shape[0] != n:
            raise NetworkError("WalkGraph: node_ids, x and y must have the same length")
        if self.indptr.shape[0] != n + 1 or (n + 1 > 0 and self.indptr[0] != 0):
            raise NetworkError("WalkGraph.indptr must have n_nodes + 1 entries starting at 0")
        nnz = self.indices.shape[0]
        if self.weights.shape[0] != nnz or self.indptr[-1] != nnz:
            raise NetworkError("WalkGraph: indices/weights length must equal indptr[-1]")
        if n and np.any(np.diff(self.indptr) < 0):
            raise NetworkError("WalkGraph.indptr must be non-decreasing")
        if nnz and (self.indices.min() < 0 or self.indices.max() >= n):
            raise NetworkError("WalkGraph.indices must lie in [0, n_nodes)")
        if nnz and not (np.all(np.isfinite(self.weights)) and self.weights.min() >= 0):
            raise NetworkError("WalkGraph.weights must be finite and non-negative (metres)")
        if not (np.all(np.isfinite(self.x)) and np.all(np.isfinite(self.y))):
            raise NetworkError("WalkGraph node coordinates must be finite")
        _require_projected(self.crs, "WalkGraph.crs")

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_ids.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of undirected edges (each is stored twice in the CSR arrays)."""
        return int(self.indices.shape[0] // 2)

    @property
    def xy(self) -> NDArray[np.float64]:
        """Node coordinates as an ``(n_nodes, 2)`` array."""
        return np.column_stack([self.x, self.y])

    @cached_property
    def csgraph(self) -> csr_array:
        """The adjacency as a ``scipy.sparse.csr_array`` (weights in metres)."""
        n = self.n_nodes
        return csr_array((self.weights, self.indices, self.indptr), shape=(n, n))

    @cached_property
    def kdtree(self) -> cKDTree:
        """A KD-tree on the node coordinates, for snapping points to the network."""
        return cKDTree(self.xy)

    @cached_property
    def distinct_locations(self) -> bool:
        """Whether every node has its own location (no two nodes share x and y).

        When it holds, a point placed exactly on a node snaps to that node.
        """
        order = np.lexsort((self.y, self.x))
        x, y = self.x[order], self.y[order]
        return not bool(np.any((x[1:] == x[:-1]) & (y[1:] == y[:-1])))

    @cached_property
    def component_labels(self) -> NDArray[np.int32]:
        """Connected-component label of every node."""
        _, labels = connected_components(self.csgraph, directed=False)
        return np.asarray(labels, dtype=np.int32)

    def node_positions(self, ids: ArrayLike) -> NDArray[np.intp]:
        """Return the array positions of the given node ids.

        Parameters
        ----------
        ids
            Node ids present in the graph.

        Returns
        -------
        numpy.ndarray
            Positions into ``node_ids`` / ``x`` / ``y``.

        Raises
        ------
        KeyError
            If an id is not a node of the graph.
        """
        wanted = np.asarray(ids, dtype=np.int64)
        order = np.argsort(self.node_ids, kind="stable")
        sorted_ids = self.node_ids[order]
        pos = np.searchsorted(sorted_ids, wanted)
        pos = np.clip(pos, 0, max(len(sorted_ids) - 1, 0))
        if len(sorted_ids) == 0 or np.any(sorted_ids[pos] != wanted):
            missing = wanted[(len(sorted_ids) == 0) | (sorted_ids[pos] != wanted)]
            raise KeyError(f"node ids not in the walk graph: {missing[:5].tolist()}")
        return np.asarray(order[pos], dtype=np.intp)


# --------------------------------------------------------------------------------------
# CRS helpers


def _require_projected(crs: str, what: str) -> pyproj.CRS:
    try:
        parsed = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise NetworkError(f"{what}: not a valid CRS: {crs!r}") from exc
    if not parsed.is_projected:
        raise NetworkError(
            f"{what}: {crs!r} is not a projected CRS; distances need metres, not degrees"
        )
    return parsed


def _project_nodes(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    from_crs: str,
    to_crs: str | None,
    source: str,
) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    """Project node coordinates, refusing a target CRS whose area of use is elsewhere."""
    from_parsed = pyproj.CRS.from_user_input(from_crs)
    to_lonlat = pyproj.Transformer.from_crs(from_parsed, WGS84_CRS, always_xy=True)
    if len(x):
        lon_c, lat_c = to_lonlat.transform(float(np.mean(x)), float(np.mean(y)))
    else:
        lon_c, lat_c = 0.0, 0.0
    if to_crs is None:
        to_crs = utm_crs(lon_c, lat_c)
    elif to_crs == AUTO_CRS:  # chosen by the data's location
        to_crs = metric_crs_for(lon_c, lat_c)
    to_parsed = _require_projected(to_crs, source)
    area = to_parsed.area_of_use
    if len(x) and area is not None:
        west, south, east, north = area.bounds
        inside_lon = west <= lon_c <= east if west <= east else (lon_c >= west or lon_c <= east)
        if not (inside_lon and south <= lat_c <= north):
            raise NetworkError(
                f"{source}: the network (centred at lon {lon_c:.3f}, lat {lat_c:.3f}) lies "
                f"outside the area of use of {to_crs} ({area.name}); pass crs=None to use "
                f"the local UTM zone or give a suitable metric CRS"
            )
    if to_parsed == from_parsed:
        return x, y, to_crs
    transformer = pyproj.Transformer.from_crs(from_parsed, to_parsed, always_xy=True)
    px, py = transformer.transform(x, y)
    return np.asarray(px, dtype=np.float64), np.asarray(py, dtype=np.float64), to_crs


# --------------------------------------------------------------------------------------
# Builders


def graph_from_arrays(
    node_ids: ArrayLike,
    x: ArrayLike,
    y: ArrayLike,
    edge_u: ArrayLike,
    edge_v: ArrayLike,
    length_m: ArrayLike,
    *,
    crs: str = METRIC_CRS,
) -> WalkGraph:
    """Build a walk graph from node and edge arrays.

    Parameters
    ----------
    node_ids
        Integer node ids (unique).
    x, y
        Node coordinates in ``crs`` (metres).
    edge_u, edge_v
        End node ids of each edge; direction is ignored (walking is two-way).
    length_m
        Walking length of each edge in metres (finite, ≥ 0).
    crs
        Projected CRS of ``x`` and ``y``.

    Returns
    -------
    WalkGraph
        The graph; parallel edges keep the shortest length, self-loops are dropped.

    Raises
    ------
    NetworkError
        If ids are duplicated or unknown, lengths are invalid or ``crs`` is not metric.
    """
    ids = np.asarray(node_ids, dtype=np.int64)
    n = ids.shape[0]
    if n >= np.iinfo(_INDEX_DTYPE).max:
        raise NetworkError("graph too large for int32 CSR indices")
    u_ids = np.asarray(edge_u, dtype=np.int64)
    v_ids = np.asarray(edge_v, dtype=np.int64)
    w = np.asarray(length_m, dtype=np.float64)
    if not (u_ids.shape == v_ids.shape == w.shape) or u_ids.ndim != 1:
        raise NetworkError("edge_u, edge_v and length_m must be 1-D arrays of equal length")
    if w.size and not (np.all(np.isfinite(w)) and w.min() >= 0):
        raise NetworkError("edge lengths must be finite and non-negative (metres)")
    if np.array_equal(ids, np.arange(n, dtype=np.int64)):
        u, v = u_ids, v_ids
        if u.size and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n):
            raise NetworkError("edge end ids are not node ids")
    else:
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        if n > 1 and np.any(sorted_ids[1:] == sorted_ids[:-1]):
            raise NetworkError("node ids must be unique")
        u = _lookup(sorted_ids, order, u_ids)
        v = _lookup(sorted_ids, order, v_ids)
    indptr, indices, weights = _symmetric_csr(n, u, v, w)
    return WalkGraph(
        node_ids=ids,
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        indptr=indptr,
        indices=indices,
        weights=weights,
        crs=crs,
    )


def _lookup(
    sorted_ids: NDArray[np.int64], order: NDArray[np.intp], wanted: NDArray[np.int64]
) -> NDArray[np.int64]:
    if wanted.size == 0:
        return wanted
    if sorted_ids.size == 0:
        raise NetworkError("edge end ids are not node ids")
    pos = np.clip(np.searchsorted(sorted_ids, wanted), 0, sorted_ids.size - 1)
    if np.any(sorted_ids[pos] != wanted):
        raise NetworkError("edge end ids are not node ids")
    return np.asarray(order[pos], dtype=np.int64)


def _symmetric_csr(
    n: int, u: NDArray[np.int64], v: NDArray[np.int64], w: NDArray[np.float64]
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64]]:
    """Both directions of every edge, shortest parallel edge kept, self-loops dropped."""
    keep = u != v
    src = np.concatenate([u[keep], v[keep]])
    dst = np.concatenate([v[keep], u[keep]])
    wt = np.concatenate([w[keep], w[keep]])
    order = np.lexsort((wt, dst, src))
    src, dst, wt = src[order], dst[order], wt[order]
    first = np.ones(src.shape[0], dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    src, dst, wt = src[first], dst[first], wt[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    if indptr[-1] >= np.iinfo(_INDEX_DTYPE).max:
        raise NetworkError("graph too large for int32 CSR indices")
    return indptr.astype(_INDEX_DTYPE), dst.astype(_INDEX_DTYPE), wt


def graph_from_networkx(
    G: nx.Graph, *, crs: str | None = METRIC_CRS, source: str = "networkx graph"
) -> WalkGraph:
    """Build a walk graph from a networkx / osmnx graph.

    Parameters
    ----------
    G
        Any networkx graph (osmnx ``MultiDiGraph`` included) with integer node labels,
        node attributes ``x`` and ``y``, an edge attribute ``length`` (metres) and a
        graph attribute ``crs`` (the CRS of ``x``/``y``). Direction is ignored.
    crs
        Target metric CRS for the node coordinates; default
        :data:`qjgeo.crs.METRIC_CRS`. ``None`` picks the local UTM zone (useful for
        test extracts outside China). Edge weights are the ``length`` attribute and
        do not depend on the projection.
    source
        Name of the data source, used in error messages.

    Returns
    -------
    WalkGraph
        The walk graph in ``crs``.

    Raises
    ------
    NetworkError
        If an attribute is missing, node labels are not integers, or the network lies
        outside the area of use of ``crs``.
    """
    from_crs = G.graph.get("crs")
    if from_crs is None:
        raise NetworkError(f"{source}: graph has no 'crs' graph attribute")
    nodes = list(G.nodes)
    if not all(isinstance(node, int | np.integer) for node in nodes):
        raise NetworkError(
            f"{source}: node labels must be integers (use nx.convert_node_labels_to_integers)"
        )
    try:
        x = np.fromiter((G.nodes[node]["x"] for node in nodes), dtype=np.float64, count=len(nodes))
        y = np.fromiter((G.nodes[node]["y"] for node in nodes), dtype=np.float64, count=len(nodes))
    except KeyError as exc:
        raise NetworkError(f"{source}: every node needs 'x' and 'y' attributes") from exc
    edges = list(G.edges(data="length"))
    if any(length is None for _, _, length in edges):
        raise NetworkError(f"{source}: every edge needs a 'length' attribute (metres)")
    u = np.fromiter((e[0] for e in edges), dtype=np.int64, count=len(edges))
    v = np.fromiter((e[1] for e in edges), dtype=np.int64, count=len(edges))
    w = np.fromiter((e[2] for e in edges), dtype=np.float64, count=len(edges))
    px, py, target = _project_nodes(x, y, str(from_crs), crs, source)
    try:
        return graph_from_arrays(np.asarray(nodes, dtype=np.int64), px, py, u, v, w, crs=target)
    except NetworkError as exc:
        raise NetworkError(f"{source}: {exc}") from exc


def is_walkable_way(tags: Mapping[str, str]) -> bool:
    """Tell whether an OSM way with these tags can be walked (see the module notes).

    Parameters
    ----------
    tags
        The way's OSM tags.

    Returns
    -------
    bool
        True when the way is part of the walking network.
    """
    highway = tags.get("highway")
    if highway is None or tags.get("area") == "yes":
        return False
    foot = tags.get("foot")
    foot_allowed = foot in _FOOT_ALLOWED
    if foot in _FOOT_FORBIDDEN or highway in _EXCLUDED_HIGHWAYS:
        return False
    if highway in _EXCLUDED_UNLESS_FOOT_ALLOWED and not foot_allowed:
        return False
    if tags.get("access") in _ACCESS_FORBIDDEN and not foot_allowed:
        return False
    if tags.get("service") == "private":
        return False
    return not any(tags.get(key) == "separate" for key in _SIDEWALK_KEYS)


def _open_osm(path: Path) -> IO[bytes]:
    if path.name.endswith(".bz2"):
        return bz2.open(path, "rb")
    return path.open("rb")


def _walkable_way_ids(path: Path) -> set[int]:
    """Ids of the walkable ways in an OSM XML file (streamed, tags only)."""
    walkable: set[int] = set()
    with _open_osm(path) as handle:
        for _, elem in ET.iterparse(handle, events=("end",)):
            if elem.tag == "way":
                tags = {tag.get("k", ""): tag.get("v", "") for tag in elem.iter("tag")}
                if is_walkable_way(tags):
                    walkable.add(int(elem.get("id", "0")))
                elem.clear()
            elif elem.tag in ("node", "relation"):
                elem.clear()
    return walkable


def trim_dangling_refs(src: Path, dest: Path) -> int:
    """Copy an OSM file, splitting ways at node references absent from it; count ways cut.

    Extracts cut by a bounding box keep whole ways whose far nodes are missing, which
    osmnx refuses ("edges missing nodes"). Each such way is split into its runs of nodes
    present in the file (new ways with negative ids and the same tags), so no run is
    joined across a missing node by a straight shortcut; runs of one node are dropped.
    """
    with _open_osm(src) as handle:
        tree = ET.parse(handle)
    root = tree.getroot()
    nodes = {n.get("id") for n in root.iter("node")}
    cut = 0
    next_id = -1
    for way in list(root.iter("way")):
        refs = way.findall("nd")
        if all(nd.get("ref") in nodes for nd in refs):
            continue
        cut += 1
        runs: list[list[ET.Element]] = [[]]
        for nd in refs:
            if nd.get("ref") in nodes:
                runs[-1].append(nd)
            elif runs[-1]:
                runs.append([])
        runs = [run for run in runs if len(run) >= 2]
        tags = way.findall("tag")
        for nd in refs:
            way.remove(nd)
        if not runs:
            root.remove(way)
            continue
        for nd in reversed(runs[0]):
            way.insert(0, nd)
        for run in runs[1:]:
            piece = ET.SubElement(root, "way", {"id": str(next_id), "version": "1"})
            next_id -= 1
            piece.extend(ET.Element("nd", {"ref": nd.get("ref", "")}) for nd in run)
            piece.extend(ET.Element("tag", dict(t.attrib)) for t in tags)
    tree.write(dest, encoding="utf-8", xml_declaration=True)
    return cut


def _check_file(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise NetworkError(f"walk graph file not found: {p}")
    return p


def walk_networkx_from_osm_file(path: str | Path, *, simplify: bool = True) -> nx.MultiDiGraph:
    """Read the walking network of an OSM XML file as an osmnx graph (WGS84).

    Parameters
    ----------
    path
        ``.osm`` or ``.osm.bz2`` file. osmnx 2 opens ``.bz2`` itself (checked for osmnx
        2.1.1: ``osmnx._osm_xml._open_file`` switches on the suffix), so no temporary
        decompressed copy is made; the tests read the bz2 West Oakland extract.
    simplify
        Remove interstitial nodes with ``osmnx.simplify_graph`` after filtering.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx graph with both directions of every walkable way, ``length`` in metres.

    Raises
    ------
    NetworkError
        If the file is missing, unreadable or holds no walkable way.
    """
    import osmnx as ox

    p = _check_file(path)
    cut = 0
    try:
        walkable = _walkable_way_ids(p)
        try:
            G = ox.graph_from_xml(p, bidirectional=True, simplify=False, retain_all=True)
        except ValueError as exc:
            if "missing nodes" not in str(exc):
                raise
            # an extract cut by a bounding box: split the ways at the nodes it lacks
            with tempfile.TemporaryDirectory(prefix="qjgeo-osm-") as tmp:
                trimmed = Path(tmp) / "trimmed.osm"
                cut = trim_dangling_refs(p, trimmed)
                walkable = _walkable_way_ids(trimmed)  # split pieces carry new ids
                G = ox.graph_from_xml(trimmed, bidirectional=True, simplify=False, retain_all=True)
    except Exception as exc:  # any parse failure is a bad file: name it
        raise NetworkError(f"cannot read OSM file {p}: {exc}") from exc
    G.graph["ways_cut_at_edge"] = cut
    drop = [
        (u, v, k) for u, v, k, osmid in G.edges(keys=True, data="osmid") if osmid not in walkable
    ]
    G.remove_edges_from(drop)
    G.remove_nodes_from([node for node, degree in G.degree() if degree == 0])
    if G.number_of_edges() == 0:
        raise NetworkError(f"no walkable ways in OSM file {p}")
    if simplify:
        G = ox.simplify_graph(G)
        G.graph["ways_cut_at_edge"] = cut
    return G


def graph_from_osm_file(
    path: str | Path, *, crs: str | None = AUTO_CRS, simplify: bool = True
) -> WalkGraph:
    """Build a walk graph from an OSM XML file (``.osm`` or ``.osm.bz2``), offline.

    Parameters
    ----------
    path
        The OSM XML file.
    crs
        Target metric CRS; the default :data:`qjgeo.crs.AUTO_CRS` chooses it from the
        data's location (:func:`qjgeo.crs.metric_crs_for`: EPSG:4547 in Qujiang's zone,
        the local UTM zone elsewhere); ``None`` for the local UTM zone.
    simplify
        Simplify the topology (fewer nodes; distances between kept nodes unchanged).

    Returns
    -------
    WalkGraph
        The walking network (see the module notes for the walk filter).

    Raises
    ------
    NetworkError
        If the file is missing or unreadable, has no walkable way, or lies outside the
        area of use of ``crs``.
    """
    G = walk_networkx_from_osm_file(path, simplify=simplify)
    return graph_from_networkx(G, crs=crs, source=str(path))


def graph_from_graphml(path: str | Path, *, crs: str | None = AUTO_CRS) -> WalkGraph:
    """Build a walk graph from an osmnx GraphML file.

    Parameters
    ----------
    path
        File written by ``osmnx.save_graphml`` (a walk network; no filter is applied).
    crs
        Target metric CRS (by default chosen from the data's location); ``None`` for
        the local UTM zone.

    Returns
    -------
    WalkGraph
        The walking network.

    Raises
    ------
    NetworkError
        If the file is missing or unreadable.
    """
    import osmnx as ox

    p = _check_file(path)
    try:
        G = ox.load_graphml(p)
    except Exception as exc:  # any parse failure is a bad file: name it
        raise NetworkError(f"cannot read GraphML file {p}: {exc}") from exc
    return graph_from_networkx(G, crs=crs, source=str(p))


def graph_from_polygon(
    polygon: BaseGeometry, *, crs: str | None = METRIC_CRS, simplify: bool = True
) -> WalkGraph:
    """Download the walking network inside a polygon from OpenStreetMap (needs internet).

    Parameters
    ----------
    polygon
        Shapely polygon in WGS84 longitude/latitude.
    crs
        Target metric CRS; ``None`` for the local UTM zone.
    simplify
        Simplify the topology.

    Returns
    -------
    WalkGraph
        The network from ``osmnx.graph_from_polygon(..., network_type="walk")``.
    """
    import osmnx as ox

    G = ox.graph_from_polygon(polygon, network_type="walk", simplify=simplify, retain_all=True)
    return graph_from_networkx(G, crs=crs, source="OSM download (polygon)")


def graph_from_place(
    name: str, *, crs: str | None = METRIC_CRS, simplify: bool = True
) -> WalkGraph:
    """Download the walking network of a named place from OpenStreetMap (needs internet).

    Parameters
    ----------
    name
        Place name geocoded by Nominatim, e.g. ``"Qujiang District, Shaoguan, China"``.
    crs
        Target metric CRS; ``None`` for the local UTM zone.
    simplify
        Simplify the topology.

    Returns
    -------
    WalkGraph
        The network from ``osmnx.graph_from_place(..., network_type="walk")``.
    """
    import osmnx as ox

    G = ox.graph_from_place(name, network_type="walk", simplify=simplify, retain_all=True)
    return graph_from_networkx(G, crs=crs, source=f"OSM download ({name})")


# --------------------------------------------------------------------------------------
# Compact storage

_NPZ_ARRAYS = ("node_ids", "x", "y", "indptr", "indices", "weights")


def save_walk_graph(graph: WalkGraph, path: str | Path) -> Path:
    """Write a walk graph to a compressed ``.npz`` file.

    Parameters
    ----------
    graph
        The graph to save.
    path
        Destination; must end in ``.npz``.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    p = Path(path)
    if p.suffix != ".npz":
        raise NetworkError(f"walk graph files are saved as .npz, got {p}")
    arrays: dict[str, Any] = {name: getattr(graph, name) for name in _NPZ_ARRAYS}
    with p.open("wb") as handle:
        np.savez_compressed(
            handle,
            crs=np.array(graph.crs),
            format_version=np.array(NPZ_FORMAT_VERSION),
            **arrays,
        )
    return p


def _load_npz(p: Path) -> WalkGraph:
    try:
        with np.load(p, allow_pickle=False) as data:
            version = int(data["format_version"])
            if version != NPZ_FORMAT_VERSION:
                raise NetworkError(f"{p}: unsupported walk graph format version {version}")
            arrays = {name: np.array(data[name]) for name in _NPZ_ARRAYS}
            crs = str(data["crs"])
    except NetworkError:
        raise
    except Exception as exc:  # a corrupt or foreign .npz: name the file
        raise NetworkError(f"cannot read walk graph file {p}: {exc}") from exc
    try:
        return WalkGraph(crs=crs, **arrays)
    except NetworkError as exc:
        raise NetworkError(f"{p}: {exc}") from exc


def load_walk_graph(path: str | Path, *, crs: str | None = AUTO_CRS) -> WalkGraph:
    """Load a walk graph, choosing the reader from the file suffix.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2``, ``.graphml`` or ``.npz`` (from :func:`save_walk_graph`).
    crs
        Target metric CRS for OSM and GraphML files (by default chosen from the data's
        location, see :func:`qjgeo.crs.metric_crs_for`); ignored for ``.npz``, which
        keeps the CRS it was saved with.

    Returns
    -------
    WalkGraph
        The walking network.

    Raises
    ------
    NetworkError
        If the file is missing, has an unknown suffix or cannot be read.
    """
    p = _check_file(path)
    name = p.name.lower()
    if name.endswith(".npz"):
        return _load_npz(p)
    if name.endswith((".osm", ".osm.bz2")):
        return graph_from_osm_file(p, crs=crs)
    if name.endswith(".graphml"):
        return graph_from_graphml(p, crs=crs)
    raise NetworkError(
        f"unknown walk graph file type: {p} (expected .osm, .osm.bz2, .graphml or .npz)"
    )
