"""Clip a large OpenStreetMap file (``.osm.pbf``, or XML) to one area, streaming, with pyosmium.

The extracts planners can get are per-province ``.osm.pbf`` downloads (Guangdong: hundreds of
MB). :func:`clip_osm` cuts one county out of such a file in memory bounded by the county, never
loading the province, and writes a small OSM XML file that the importer
(:mod:`qjgeo.osm_import`) reads. pyosmium streams the file; each pass reads one kind of object:

1. **nodes**, in chunks of :data:`NODE_CHUNK`: the ids of the nodes inside the clip area (a
   box test, then ``shapely.intersects_xy`` against the boundary for the chunk);
2. **ways** with a node inside, and all their nodes (complete ways: a road crossing the
   boundary is kept whole, so the network does not stop short at the edge);
3. **relations**: the multipolygons tagged with one of the importer's keys (``relation_keys``)
   with a member in the area, and (one more way pass, only if needed) their member ways'
   nodes;
4. **write** the kept objects; nodes outside the area that come in only as way members lose
   their tags, so no point feature outside the area is imported.

The kept ids are Python sets: their memory follows the county, not the province. (pyosmium's
``IdTracker`` / ``IdFilter`` were tried first: their dense bitsets allocate 512 KB per 4 M-id
block touched, and a county's node ids are scattered over the whole OSM id range, so 200,000
ids took 1.5 GB.) ``bench/bench_pbf.py`` measures time and peak memory. Each pass reads the
whole file for its kind of object, so the order of the input does not matter.

The clip area is a boundary file (:func:`read_boundary`: GeoJSON, GeoPackage, Shapefile — any
polygon layer geopandas reads, reprojected to WGS84) or a ``W,S,E,N`` box (:func:`parse_bbox`).
A PBF given without either is converted whole when it is small (up to
:data:`UNCLIPPED_PBF_LIMIT_BYTES`, header box up to :data:`UNCLIPPED_MAX_BOX_DEG2`) and refused
otherwise, with a message naming the clip options.

Errors are :class:`OsmClipError` with a Chinese and English message that names the file.
This module imports nothing of qjgeo's importer: the importer calls it (no import circle).
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from qjgeo.crs import WGS84_CRS

__all__ = [
    "NODE_CHUNK",
    "PBF_SUFFIXES",
    "UNCLIPPED_MAX_BOX_DEG2",
    "UNCLIPPED_PBF_LIMIT_BYTES",
    "ClipSummary",
    "ClippedExtract",
    "OsmClipError",
    "clip_area",
    "clip_osm",
    "clip_pbf",
    "clipped_extract",
    "is_pbf",
    "parse_bbox",
    "read_boundary",
]

#: File name endings read as OSM PBF.
PBF_SUFFIXES: Final[tuple[str, ...]] = (".osm.pbf", ".pbf")
#: A PBF larger than this (16 MB, about 2 million nodes) is not imported without a clip area.
UNCLIPPED_PBF_LIMIT_BYTES: Final[int] = 16 * 1024 * 1024
#: ... or whose header box spans more than this (4 square degrees ≈ 40,000 km²: a prefecture
#: city at most; Qujiang's box is 0.3).
UNCLIPPED_MAX_BOX_DEG2: Final[float] = 4.0
#: Node coordinates tested against the clip area at once (bounds the memory of pass 1).
NODE_CHUNK: Final[int] = 1 << 18


class OsmClipError(ValueError):
    """An OSM file or a clip area cannot be read or used; the message names the file."""


@dataclass(frozen=True)
class ClipSummary:
    """What a clip kept.

    Attributes
    ----------
    nodes_inside
        Nodes inside the clip area.
    nodes, ways, relations
        Objects written (nodes include the outside nodes of ways crossing the boundary).
    timestamp
        The input's data timestamp (``osmosis_replication_timestamp`` or ``timestamp``
        header), empty when it has none.
    """

    nodes_inside: int
    nodes: int
    ways: int
    relations: int
    timestamp: str


@dataclass(frozen=True)
class ClippedExtract:
    """An OSM XML file ready for the importer, and where it came from.

    Attributes
    ----------
    path
        The OSM XML file (temporary: valid inside :func:`clipped_extract` only).
    outline
        The clip area (WGS84), or ``None`` when the whole input was taken.
    timestamp
        The input's data timestamp, empty when unknown.
    """

    path: Path
    outline: BaseGeometry | None
    timestamp: str


def is_pbf(path: str | Path) -> bool:
    """Tell whether a file name is an OSM PBF file (``.osm.pbf`` / ``.pbf``)."""
    return Path(path).name.lower().endswith(PBF_SUFFIXES)


def parse_bbox(text: str | Sequence[float]) -> tuple[float, float, float, float]:
    """A ``W,S,E,N`` box in degrees (WGS84), checked.

    Parameters
    ----------
    text
        ``"113.3,24.5,113.9,25.0"`` or four numbers.

    Returns
    -------
    tuple
        ``(west, south, east, north)``.

    Raises
    ------
    OsmClipError
        If it is not four finite numbers with west < east, south < north, inside ±180/±90.
    """
    parts = text.split(",") if isinstance(text, str) else list(text)
    try:
        values = [float(p) for p in parts]
    except (TypeError, ValueError):
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise OsmClipError(
            f"--bbox {text!r}: expected four numbers W,S,E,N in degrees "
            "（--bbox 应为四个数：西,南,东,北，单位为度）"
        )
    west, south, east, north = values
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise OsmClipError(
            f"--bbox {text!r}: need west < east and south < north, within ±180° / ±90° "
            "（--bbox 需西 < 东、南 < 北，且在经度 ±180°、纬度 ±90° 之内）"
        )
    return west, south, east, north


def read_boundary(path: str | Path) -> BaseGeometry:
    """The clip area of a boundary file: the union of its polygons, in WGS84.

    Parameters
    ----------
    path
        Any polygon layer geopandas reads (GeoJSON, GeoPackage, Shapefile…); its CRS is
        honoured (GeoJSON without one is WGS84).

    Returns
    -------
    shapely.geometry.base.BaseGeometry
        A Polygon or MultiPolygon in longitude/latitude.

    Raises
    ------
    OsmClipError
        If the file is missing or unreadable, or holds no polygon.
    """
    import geopandas as gpd

    p = Path(path)
    if not p.is_file():
        raise OsmClipError(f"boundary file {p} does not exist（边界文件不存在）")
    try:
        frame = gpd.read_file(p)
    except Exception as exc:  # any reader failure is a bad file: name it
        raise OsmClipError(
            f"{p}: not a readable boundary file（无法读取边界文件）: {exc}".strip()
        ) from exc
    if frame.crs is not None:
        frame = frame.to_crs(WGS84_CRS)
    geoms = frame.geometry.to_numpy() if len(frame) else np.array([], dtype=object)
    polygons = [g for g in geoms if g is not None and g.geom_type in ("Polygon", "MultiPolygon")]
    area = shapely.make_valid(shapely.union_all(polygons)) if polygons else None
    if area is None or area.is_empty or area.area == 0:
        raise OsmClipError(
            f"{p}: holds no polygon to clip to（边界文件中没有面要素）; "
            "give the county's boundary as a polygon, or use --bbox W,S,E,N"
        )
    minx, miny, maxx, maxy = area.bounds
    if not (-180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90):
        raise OsmClipError(
            f"{p}: coordinates are not longitude/latitude and the file has no CRS "
            "（坐标不是经纬度且文件未声明坐标系）"
        )
    return area


def clip_area(
    boundary: str | Path | BaseGeometry | None = None,
    bbox: str | Sequence[float] | None = None,
) -> BaseGeometry | None:
    """The clip area from a boundary (file or geometry) or a box; ``None`` without either.

    Raises
    ------
    OsmClipError
        If both are given, or either is invalid.
    """
    if boundary is not None and bbox is not None:
        raise OsmClipError("give --clip or --bbox, not both（--clip 与 --bbox 只能选一个）")
    if bbox is not None:
        return shapely.box(*parse_bbox(bbox))
    if isinstance(boundary, BaseGeometry):
        return boundary
    if boundary is not None:
        return read_boundary(boundary)
    return None


def _osmium() -> Any:
    import osmium

    return osmium


def _read_error(src: Path, exc: BaseException) -> OsmClipError:
    kind = "OSM PBF" if is_pbf(src) else "OSM"
    return OsmClipError(f"{src}: not a readable {kind} file（无法读取 {kind} 文件）: {exc}")


def _inside(ids: list[int], lon: list[float], lat: list[float], shape: Any) -> list[int]:
    """The ids of one chunk of nodes that lie inside ``shape`` (``None``: a box, all)."""
    if shape is None or not ids:
        return list(ids)
    kept = np.asarray(ids, dtype=np.int64)[
        shapely.intersects_xy(shape, np.asarray(lon), np.asarray(lat))
    ]
    return [int(i) for i in kept.tolist()]


def _inside_nodes(osmium: Any, src: Path, area: BaseGeometry) -> set[int]:
    """Pass 1: the ids of the nodes inside ``area``, tested in chunks of :data:`NODE_CHUNK`."""
    west, south, east, north = area.bounds
    shape = None if area.equals(shapely.box(west, south, east, north)) else area
    if shape is not None:
        shapely.prepare(shape)
    found: set[int] = set()
    ids: list[int] = []
    lon: list[float] = []
    lat: list[float] = []
    for node in osmium.FileProcessor(str(src), osmium.osm.NODE):
        loc = node.location
        if not loc.valid():
            continue
        x, y = loc.lon, loc.lat
        if west <= x <= east and south <= y <= north:
            ids.append(node.id)
            lon.append(x)
            lat.append(y)
            if len(ids) >= NODE_CHUNK:
                found.update(_inside(ids, lon, lat, shape))
                ids, lon, lat = [], [], []
    found.update(_inside(ids, lon, lat, shape))
    return found


def _touching_ways(osmium: Any, src: Path, inside: set[int]) -> tuple[set[int], set[int]]:
    """Pass 2: the ways with a node inside, and every node they need (complete ways)."""
    ways: set[int] = set()
    nodes: set[int] = set()
    for way in osmium.FileProcessor(str(src), osmium.osm.WAY):
        refs = [n.ref for n in way.nodes]
        if not inside.isdisjoint(refs):
            ways.add(way.id)
            nodes.update(refs)
    return ways, nodes


def _multipolygons(
    osmium: Any, src: Path, ways: set[int], inside: set[int], keys: frozenset[str]
) -> tuple[set[int], set[int], set[int]]:
    """Pass 3: multipolygons with one of ``keys`` and a member in the area; their ids,
    member ways not yet kept, member nodes."""
    relations: set[int] = set()
    extra_ways: set[int] = set()
    member_nodes: set[int] = set()
    for rel in osmium.FileProcessor(str(src), osmium.osm.RELATION):
        tags = rel.tags
        if tags.get("type") != "multipolygon" or not any(k in tags for k in keys):
            continue
        members = [(m.type, m.ref) for m in rel.members]
        if any((t == "w" and r in ways) or (t == "n" and r in inside) for t, r in members):
            relations.add(rel.id)
            extra_ways.update(r for t, r in members if t == "w" and r not in ways)
            member_nodes.update(r for t, r in members if t == "n")
    return relations, extra_ways, member_nodes


def _way_nodes(osmium: Any, src: Path, wanted: set[int]) -> set[int]:
    """Pass 3b (only for multipolygon members outside the area): the nodes of ``wanted``."""
    nodes: set[int] = set()
    for way in osmium.FileProcessor(str(src), osmium.osm.WAY):
        if way.id in wanted:
            nodes.update(n.ref for n in way.nodes)
    return nodes


def _header(osmium: Any, src: Path, area: BaseGeometry | None) -> tuple[Any, str]:
    """The output header (box of the area, else the input's) and the input's timestamp."""
    source = osmium.FileProcessor(str(src)).header
    stamp = source.get("osmosis_replication_timestamp", "") or source.get("timestamp", "")
    header = osmium.io.Header()
    header.set("generator", "qjgeo (pyosmium)")
    box = source.box() if area is None else osmium.osm.Box(*area.bounds)
    if box.valid():
        header.add_box(box)
    return header, stamp


@dataclass(frozen=True)
class _Keep:
    """The ids a clip keeps (``None`` everywhere: the whole file)."""

    inside: set[int] | None = None
    nodes: set[int] | None = None
    ways: set[int] | None = None
    relations: set[int] | None = None


def _write(osmium: Any, src: Path, dest: Path, header: Any, keep: _Keep) -> dict[str, int]:
    """Pass 4: the kept objects into ``dest``; nodes outside the area lose their tags."""
    counts = {"n": 0, "w": 0, "r": 0}
    chosen = {"n": keep.nodes, "w": keep.ways, "r": keep.relations}
    inside = keep.inside
    with osmium.SimpleWriter(str(dest), header=header, overwrite=True) as writer:
        for obj in osmium.FileProcessor(str(src)):
            kind = obj.type_str()
            ids = chosen.get(kind)
            if ids is not None and obj.id not in ids:
                continue
            counts[kind] = counts.get(kind, 0) + 1
            if kind == "n" and inside is not None and obj.id not in inside and obj.tags:
                writer.add_node(obj.replace(tags={}))
            else:
                writer.add(obj)
    return counts


def _select(osmium: Any, src: Path, area: BaseGeometry, keys: frozenset[str]) -> _Keep:
    """Passes 1–3: the ids to keep for ``area``."""
    inside = _inside_nodes(osmium, src, area)
    if not inside:
        raise OsmClipError(
            f"{src}: no OSM node lies inside the clip area {area.bounds} "
            "（裁剪范围内没有 OSM 节点：请检查边界或范围是否与文件覆盖区域重叠）"
        )
    ways, nodes = _touching_ways(osmium, src, inside)
    relations, extra_ways, member_nodes = _multipolygons(osmium, src, ways, inside, keys)
    nodes |= inside | member_nodes
    if extra_ways:
        nodes |= _way_nodes(osmium, src, extra_ways)
        ways |= extra_ways
    return _Keep(inside, nodes, ways, relations)


def clip_osm(
    src: str | Path,
    dest: str | Path,
    area: BaseGeometry | None,
    *,
    relation_keys: Sequence[str] = (),
) -> ClipSummary:
    """Write the part of an OSM file inside an area, with complete ways, streaming.

    Parameters
    ----------
    src
        ``.osm.pbf`` (or ``.osm`` / ``.osm.bz2``).
    dest
        Output file; its ending chooses the format (``.osm`` for XML, ``.osm.pbf``).
    area
        The clip area in WGS84 (:func:`clip_area`); ``None`` copies the whole file.
    relation_keys
        Tag keys of the multipolygon relations worth keeping (the importer's layer keys).

    Returns
    -------
    ClipSummary
        What was kept.

    Raises
    ------
    OsmClipError
        If ``src`` cannot be read, or no node of it lies inside ``area``.
    """
    osmium = _osmium()
    source, out = Path(src), Path(dest)
    try:
        header, stamp = _header(osmium, source, area)
        keep = _Keep() if area is None else _select(osmium, source, area, frozenset(relation_keys))
        counts = _write(osmium, source, out, header, keep)
    except OsmClipError:
        raise
    except (RuntimeError, OSError, ValueError) as exc:
        raise _read_error(source, exc) from exc
    inside = len(keep.inside) if keep.inside is not None else 0
    return ClipSummary(inside, counts["n"], counts["w"], counts["r"], stamp)


def clip_pbf(
    src: str | Path,
    dest: str | Path,
    *,
    boundary: str | Path | BaseGeometry | None = None,
    bbox: str | Sequence[float] | None = None,
    relation_keys: Sequence[str] = (),
) -> Path:
    """Clip an OSM PBF file to a boundary or a box and write ``dest`` (see :func:`clip_osm`).

    Returns
    -------
    pathlib.Path
        ``dest``.
    """
    clip_osm(src, dest, clip_area(boundary, bbox), relation_keys=relation_keys)
    return Path(dest)


def _check_unclipped(src: Path) -> None:
    """Refuse a PBF too large to import whole: by its size, or by its header's box."""
    if not is_pbf(src):
        return
    size = src.stat().st_size
    what = f"{size / 2**20:.0f} MB" if size > UNCLIPPED_PBF_LIMIT_BYTES else ""
    try:
        box = _osmium().FileProcessor(str(src)).header.box()
    except (RuntimeError, OSError, ValueError) as exc:
        raise _read_error(src, exc) from exc
    if box.valid():
        extent = (box.top_right.lon - box.bottom_left.lon) * (
            box.top_right.lat - box.bottom_left.lat
        )
        if extent > UNCLIPPED_MAX_BOX_DEG2:
            what = what or f"{extent:.1f} square degrees"
    if what:
        raise OsmClipError(
            f"{src} covers a province ({what}; whole files up to "
            f"{UNCLIPPED_PBF_LIMIT_BYTES // 2**20} MB and {UNCLIPPED_MAX_BOX_DEG2:g} square "
            "degrees): clip it to one area with --clip BOUNDARY.geojson or --bbox W,S,E,N"
            "（PBF 文件范围过大，请用 --clip 边界文件 或 --bbox 西,南,东,北 裁剪到一个县区）"
        )


@contextmanager
def clipped_extract(
    src: str | Path,
    *,
    boundary: str | Path | BaseGeometry | None = None,
    bbox: str | Sequence[float] | None = None,
    relation_keys: Sequence[str] = (),
) -> Iterator[ClippedExtract]:
    """A temporary OSM XML file of ``src`` clipped to an area, for the importer.

    Without ``boundary`` and ``bbox`` the whole file is converted (a PBF only up to
    :data:`UNCLIPPED_PBF_LIMIT_BYTES` and :data:`UNCLIPPED_MAX_BOX_DEG2`). The file is removed
    when the block ends.

    Raises
    ------
    OsmClipError
        If the input or the area is invalid, or a large PBF comes without an area.
    """
    source = Path(src)
    if not source.is_file():
        raise OsmClipError(f"OSM file {source} does not exist（OSM 文件不存在）")
    area = clip_area(boundary, bbox)
    if area is None:
        _check_unclipped(source)
    stem = source.name.split(".")[0] or "extract"
    tmp = Path(tempfile.mkdtemp(prefix="qjgeo-clip-"))
    try:
        xml = tmp / f"{stem}.osm"
        summary = clip_osm(source, xml, area, relation_keys=relation_keys)
        yield ClippedExtract(xml, area, summary.timestamp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
