"""Clip a large OpenStreetMap file (``.osm.pbf``, or XML) to one area, streaming, with pyosmium.

The extracts planners can get are per-province ``.osm.pbf`` downloads (Guangdong: hundreds of
MB). :func:`clip_osm` cuts one county out of such a file in bounded memory, never loading the
province, and writes a small OSM XML file that the importer (:mod:`qjgeo.osm_import`) reads:

1. **nodes** (one pass, streamed in chunks): the ids of the nodes inside the clip area are kept
   in an :class:`osmium.IdTracker` (a bitset: about 1 bit per id up to the largest id);
2. **ways** touching those nodes (``IdTracker.complete_forward_references``, one pass);
3. **relations**: the multipolygons tagged with one of the importer's keys (``relation_keys``)
   that have a member way or node in the area (one pass over the relations only);
4. **complete references** (``complete_backward_references``): every node of the kept ways
   and every member of the kept relations, so a way crossing the boundary is kept whole;
5. **write** (one pass, filtered by the tracker): nodes outside the area that come in only as
   way members lose their tags, so no point feature outside the area is imported.

Memory is the bitsets plus one chunk of node coordinates (:data:`NODE_CHUNK`), whatever the
size of the input; ``bench/bench_pbf.py`` measures it. The input must be sorted (nodes, ways,
relations, each by id), as every published extract is.

The clip area is a boundary file (:func:`read_boundary`: GeoJSON, GeoPackage, Shapefile — any
polygon layer geopandas reads, reprojected to WGS84) or a ``W,S,E,N`` box (:func:`parse_bbox`).
A PBF given without either is converted whole when it is small (up to
:data:`UNCLIPPED_PBF_LIMIT_BYTES`) and refused otherwise, with a message naming the clip options.

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


def _flush(
    ids: list[int], lon: list[float], lat: list[float], area: Any, trackers: Sequence[Any]
) -> int:
    """Track the nodes of one chunk that lie inside the area (``None``: a box, all of
    them); the number tracked."""
    if not ids:
        return 0
    kept = np.asarray(ids, dtype=np.int64)
    if area is not None:
        kept = kept[shapely.intersects_xy(area, np.asarray(lon), np.asarray(lat))]
    for node_id in kept.tolist():
        for tracker in trackers:
            tracker.add_node(node_id)
    ids.clear()
    lon.clear()
    lat.clear()
    return len(kept)


def _track_inside_nodes(osmium: Any, src: Path, area: BaseGeometry, trackers: Sequence[Any]) -> int:
    """Pass 1: the ids of the nodes inside ``area`` into ``trackers``, in bounded chunks."""
    west, south, east, north = area.bounds
    shape = None if area.equals(shapely.box(west, south, east, north)) else area
    if shape is not None:
        shapely.prepare(shape)
    ids: list[int] = []
    lon: list[float] = []
    lat: list[float] = []
    count = 0
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
                count += _flush(ids, lon, lat, shape, trackers)
    return count + _flush(ids, lon, lat, shape, trackers)


def _track_relations(osmium: Any, src: Path, tracker: Any, keys: frozenset[str]) -> None:
    """Pass 3: multipolygons with one of ``keys`` that have a member already tracked."""
    found = []
    for rel in osmium.FileProcessor(str(src), osmium.osm.RELATION):
        tags = rel.tags
        if tags.get("type") != "multipolygon" or not any(k in tags for k in keys):
            continue
        if tracker.contains_any_references(rel):
            found.append(rel.id)
    for rel_id in found:
        tracker.add_relation(rel_id)


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


def _write(osmium: Any, src: Path, dest: Path, header: Any, tracker: Any, inside: Any) -> dict:
    """Pass 5: the tracked objects into ``dest``; outside nodes lose their tags."""
    counts = {"n": 0, "w": 0, "r": 0}
    inside_ids = inside.node_ids() if inside is not None else None
    processor = osmium.FileProcessor(str(src))
    if tracker is not None:
        processor = processor.with_filter(tracker.id_filter())
    with osmium.SimpleWriter(str(dest), header=header, overwrite=True) as writer:
        for obj in processor:
            kind = obj.type_str()
            counts[kind] += 1
            if kind == "n" and inside_ids is not None and obj.id not in inside_ids and obj.tags:
                writer.add_node(obj.replace(tags={}))
            else:
                writer.add(obj)
    return counts


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
        ``.osm.pbf`` (or ``.osm`` / ``.osm.bz2``), sorted as published extracts are.
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
        tracker = inside = None
        inside_count = 0
        if area is not None:
            tracker, inside = osmium.IdTracker(), osmium.IdTracker()
            inside_count = _track_inside_nodes(osmium, source, area, (tracker, inside))
            if inside_count == 0:
                raise OsmClipError(
                    f"{source}: no OSM node lies inside the clip area {area.bounds} "
                    "（裁剪范围内没有 OSM 节点：请检查边界或范围是否与文件覆盖区域重叠）"
                )
            tracker.complete_forward_references(str(source), relation_depth=-1)
            _track_relations(osmium, source, tracker, frozenset(relation_keys))
            tracker.complete_backward_references(str(source), relation_depth=0)
        counts = _write(osmium, source, out, header, tracker, inside)
    except OsmClipError:
        raise
    except (RuntimeError, OSError, ValueError) as exc:
        raise _read_error(source, exc) from exc
    return ClipSummary(inside_count, counts["n"], counts["w"], counts["r"], stamp)


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
    size = src.stat().st_size
    if is_pbf(src) and size > UNCLIPPED_PBF_LIMIT_BYTES:
        raise OsmClipError(
            f"{src} is {size / 2**20:.0f} MB: a PBF larger than "
            f"{UNCLIPPED_PBF_LIMIT_BYTES // 2**20} MB (a province) is imported clipped to one "
            "area: pass --clip BOUNDARY.geojson or --bbox W,S,E,N"
            "（PBF 文件过大，请用 --clip 边界文件 或 --bbox 西,南,东,北 裁剪到一个县区）"
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
    :data:`UNCLIPPED_PBF_LIMIT_BYTES`). The file is removed when the block ends.

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
