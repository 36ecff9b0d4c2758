"""Download a county's roads and facility POIs from OpenStreetMap (needs internet).

``fetch_osm(out_dir, place="曲江区, 韶关市, 广东省")`` (or ``boundary=FILE``) asks osmnx's
Overpass client for

- every ``highway`` way touching the area, with its nodes (one query per sub-polygon, as
  ``osmnx.graph_from_polygon`` sends; the importer then applies its own per-mode filters), and
- every element with one of the importer's tags (:data:`qjgeo.osm_import.READ_TAGS`: the layers' and demand's), with
  its nodes and members (``osmnx.features_from_polygon``'s query),

writes the answers as one OSM XML file (:func:`overpass_to_osm`: elements merged and sorted,
nodes outside the area stripped of their tags, as the PBF clip does) and imports it with
:func:`qjgeo.osm_import.import_extract`. So the dataset is the one ``qjgeo osm-import`` writes
from an extract of the same area, and the place's outline is the district layer.

osmnx's settings are honoured: its response cache (``ox.settings.use_cache``,
``cache_folder``: a repeated fetch sends nothing), its Overpass rate limit (the ``/status``
slot check, ``overpass_rate_limit``) and Nominatim's one request per second, and the endpoints
``ox.settings.overpass_url`` / ``nominatim_url`` (the tests point them at a local stand-in).
osmnx 2.1's download functions used here (``osmnx._overpass._download_overpass_network`` and
``_download_overpass_features``) are private: they are the ones its public ``graph_from_*`` and
``features_from_*`` call, and give the raw elements the importer needs.

Before sending anything the endpoint is tried with a short TCP connection
(:data:`REACH_TIMEOUT_S`); offline, :class:`OfflineError` says so in one line and names the
PBF route (``qjgeo osm-import FILE.osm.pbf --clip …``) instead of waiting for osmnx's retries.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from qjgeo.osm_import import OsmImportError, import_extract
from qjgeo.osm_pbf import OsmClipError, read_boundary
from qjgeo.osm_tags import READ_TAGS

__all__ = [
    "HIGHWAY_FILTER",
    "REACH_TIMEOUT_S",
    "OfflineError",
    "fetch_osm",
    "geocode_area",
    "overpass_to_osm",
]

#: Overpass way filter of the road download: every highway (the importer filters per mode).
HIGHWAY_FILTER: Final = '["highway"]'
#: Seconds to wait for a TCP connection to an endpoint before calling the machine offline.
REACH_TIMEOUT_S: Final = 5.0


class OfflineError(OsmImportError):
    """The download service cannot be reached; the message names the offline route."""


def _offline(url: str, reason: object) -> OfflineError:
    host = urlsplit(url).hostname or url
    return OfflineError(
        f"offline: cannot reach {host} ({reason}); use a downloaded extract instead: "
        "qjgeo osm-import FILE.osm.pbf --clip BOUNDARY.geojson --out DIR"
        "（离线：无法连接 OpenStreetMap 下载服务，请改用已下载的 PBF："
        "qjgeo osm-import 文件.osm.pbf --clip 边界.geojson --out 目录）"
    )


def _check_reachable(url: str) -> None:
    """Raise :class:`OfflineError` unless a TCP connection to ``url``'s host opens."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=REACH_TIMEOUT_S):
            pass
    except OSError as exc:
        raise _offline(url, exc.strerror or exc) from exc


def _download_error(url: str, exc: Exception) -> OsmImportError:
    import requests

    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return _offline(url, type(exc).__name__)
    return OsmImportError(f"download from {url} failed（下载失败）: {exc}")


def geocode_area(place: str) -> BaseGeometry:
    """The outline of a named place from Nominatim (osmnx's geocoder), WGS84.

    Raises
    ------
    OfflineError
        If Nominatim cannot be reached.
    OsmImportError
        If the place is not found as a polygon.
    """
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    url = ox.settings.nominatim_url
    _check_reachable(url)
    try:
        found = ox.geocode_to_gdf(place)
    except (TypeError, InsufficientResponseError) as exc:
        raise OsmImportError(
            f"place {place!r} not found as an area（未找到该地名的范围）: {exc}"
        ) from exc
    except Exception as exc:  # requests' errors and osmnx's response errors
        raise _download_error(url, exc) from exc
    return shapely.make_valid(shapely.union_all(found.geometry.to_numpy()))


def _download(area: BaseGeometry) -> list[dict[str, Any]]:
    """The Overpass answers for the area's roads and tagged features (osmnx's client)."""
    import osmnx as ox
    from osmnx import _overpass

    url = ox.settings.overpass_url
    _check_reachable(url)
    try:
        answers = list(_overpass._download_overpass_network(area, "all", HIGHWAY_FILTER))
        answers += list(_overpass._download_overpass_features(area, dict(READ_TAGS)))
    except Exception as exc:  # requests' errors and osmnx's response errors
        raise _download_error(url, exc) from exc
    return answers


def _elements(answers: Iterable[Mapping[str, Any]]) -> dict[str, dict[int, Mapping[str, Any]]]:
    """The answers' elements merged by type and id (an element in two answers once)."""
    merged: dict[str, dict[int, Mapping[str, Any]]] = {"node": {}, "way": {}, "relation": {}}
    for answer in answers:
        for element in answer.get("elements", []):
            kind = element.get("type")
            if kind in merged:
                merged[kind][int(element["id"])] = element
    return merged


def overpass_to_osm(
    answers: Iterable[Mapping[str, Any]], dest: Path, area: BaseGeometry | None = None
) -> str:
    """Write Overpass JSON answers as one sorted OSM XML file; their data timestamp.

    Parameters
    ----------
    answers
        Overpass ``out:json`` answers (``elements`` with nodes, ways and relations).
    dest
        The ``.osm`` file to write.
    area
        The download area (WGS84): nodes outside it keep their position but lose their
        tags, as in :func:`qjgeo.osm_pbf.clip_osm`.

    Returns
    -------
    str
        The answers' ``osm3s.timestamp_osm_base`` (empty when absent).
    """
    import osmium
    from osmium.osm.mutable import Node, Relation, Way

    answers = list(answers)
    stamp = next((a.get("osm3s", {}).get("timestamp_osm_base", "") for a in answers), "")
    merged = _elements(answers)
    node_ids = sorted(merged["node"])
    lon = np.array([float(merged["node"][i]["lon"]) for i in node_ids])
    lat = np.array([float(merged["node"][i]["lat"]) for i in node_ids])
    inside = np.ones(len(node_ids), dtype=bool)
    if area is not None and node_ids:
        inside = shapely.intersects_xy(area, lon, lat)
    header = osmium.io.Header()
    header.set("generator", "qjgeo osm-fetch (Overpass via osmnx)")
    if area is not None:
        header.add_box(osmium.osm.Box(*area.bounds))
    with osmium.SimpleWriter(str(dest), header=header, overwrite=True) as writer:
        for k, i in enumerate(node_ids):
            tags = merged["node"][i].get("tags", {}) if inside[k] else {}
            writer.add_node(Node(id=i, location=(lon[k], lat[k]), tags=tags))
        for i in sorted(merged["way"]):
            way = merged["way"][i]
            writer.add_way(Way(id=i, nodes=list(way.get("nodes", [])), tags=way.get("tags", {})))
        for i in sorted(merged["relation"]):
            rel = merged["relation"][i]
            members = [(m["type"][0], int(m["ref"]), m.get("role", "")) for m in rel["members"]]
            writer.add_relation(Relation(id=i, members=members, tags=rel.get("tags", {})))
    return str(stamp)


def fetch_osm(
    out_dir: str | Path,
    *,
    place: str | None = None,
    boundary: str | Path | BaseGeometry | None = None,
    overwrite: bool = False,
) -> Path:
    """Download an area's roads and facilities from OpenStreetMap and write a dataset.

    Parameters
    ----------
    out_dir
        The dataset directory to create (its parent must exist).
    place
        A place name for Nominatim, e.g. ``"曲江区, 韶关市, 广东省"``.
    boundary
        Instead of ``place``: a boundary file (or a WGS84 polygon).
    overwrite
        Replace ``out_dir`` if it exists and is not empty.

    Returns
    -------
    pathlib.Path
        ``out_dir``, the same dataset ``qjgeo osm-import`` writes for this area.

    Raises
    ------
    OfflineError
        If the download service cannot be reached (one line, naming the PBF route).
    OsmImportError
        If the arguments or the answers are unusable. Nothing is left half-written.
    """
    out = Path(out_dir)
    if (place is None) == (boundary is None):
        raise OsmImportError(
            "give --place or --boundary, one of them（--place 与 --boundary 选一个）"
        )
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise OsmImportError(f"{out} exists and is not empty; pass overwrite=True (--overwrite)")
    try:
        if isinstance(boundary, BaseGeometry):
            area = boundary
        elif boundary is not None:
            area = read_boundary(boundary)
        else:
            area = geocode_area(str(place))
    except OsmClipError as exc:
        raise OsmImportError(str(exc)) from exc
    answers = _download(area)
    name = _file_name(place, boundary)
    tmp = Path(tempfile.mkdtemp(prefix="qjgeo-fetch-"))
    try:
        xml = tmp / f"{name}.osm"
        stamp = overpass_to_osm(answers, xml, area)
        return import_extract(
            xml,
            out,
            overwrite=overwrite,
            source_name=f"{name}.osm (Overpass download)",
            outline=area,
            timestamp=stamp,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _file_name(place: str | None, boundary: object) -> str:
    """A file-name stem for the download: the place's first part, or the boundary's stem."""
    if place is not None:
        first = place.split(",")[0].strip()
        return "".join(c if c.isalnum() else "_" for c in first) or "place"
    if isinstance(boundary, str | Path):
        return Path(boundary).name.split(".")[0] or "boundary"
    return "boundary"
