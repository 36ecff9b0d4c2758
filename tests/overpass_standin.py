"""A local stand-in for the Overpass API and Nominatim, answering from OSM extracts.

``with OverpassStandIn([extract, ...], places={"name": polygon}) as server:`` serves on
``127.0.0.1`` (a free port) what osmnx 2.1 asks:

- ``GET  {server.overpass_url}/status``: one free slot (osmnx's rate-limit check);
- ``POST {server.overpass_url}/interpreter``: the queries of
  ``osmnx._overpass._download_overpass_network`` (``way[...](poly:'…');>;``: ways with the
  filter's key touching the polygon, and their nodes) and ``_download_overpass_features``
  (``(node|way|relation)['key'='value'](poly:'…');(._;>;);``: elements with the tag touching the
  polygon, with their nodes and members), as ``out:json``;
- ``GET  {server.nominatim_url}search?q=…``: the polygon registered for the place name.

"Touching" is "one of its nodes inside", the rule of the PBF clip. The server counts the
requests it answers per path (``server.hits``), so a test can see osmnx's cache at work.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import osmium
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

_POLY = re.compile(r"poly:'([^']*)'")
_FEATURE = re.compile(r"\((node|way|relation)\[('[^']*')(?:=('[^']*'))?\]\(poly:")
_NETWORK = re.compile(r"\(way\[\"([^\"]+)\"")
STAMP = "2020-08-10T00:00:00Z"


class _Store:
    """The elements of some OSM files, as Overpass JSON elements."""

    def __init__(self, paths: list[Path]) -> None:
        self.nodes: dict[int, dict[str, Any]] = {}
        self.ways: dict[int, dict[str, Any]] = {}
        self.relations: dict[int, dict[str, Any]] = {}
        for path in paths:
            for obj in osmium.FileProcessor(str(path)):
                tags = dict(obj.tags)
                if obj.is_node():
                    loc = obj.location
                    self.nodes[obj.id] = {
                        "type": "node", "id": obj.id, "lat": loc.lat, "lon": loc.lon, "tags": tags
                    }  # fmt: skip
                elif obj.is_way():
                    refs = [n.ref for n in obj.nodes]
                    self.ways[obj.id] = {"type": "way", "id": obj.id, "nodes": refs, "tags": tags}
                else:
                    members = [
                        {"type": {"n": "node", "w": "way", "r": "relation"}[m.type],
                         "ref": m.ref, "role": m.role}
                        for m in obj.members
                    ]  # fmt: skip
                    self.relations[obj.id] = {
                        "type": "relation", "id": obj.id, "members": members, "tags": tags
                    }  # fmt: skip

    def inside(self, area: BaseGeometry) -> set[int]:
        ids = list(self.nodes)
        lon = [self.nodes[i]["lon"] for i in ids]
        lat = [self.nodes[i]["lat"] for i in ids]
        mask = shapely.intersects_xy(area, lon, lat)
        return {i for i, m in zip(ids, mask, strict=True) if m}

    def way_touches(self, way_id: int, inside: set[int]) -> bool:
        way = self.ways.get(way_id)
        return way is not None and not inside.isdisjoint(way["nodes"])

    def answer(self, query: str) -> dict[str, Any]:
        found = _POLY.search(query)
        assert found, query
        numbers = [float(v) for v in found.group(1).split()]
        area = shapely.Polygon(list(zip(numbers[1::2], numbers[0::2], strict=True)))
        inside = self.inside(area)
        nodes: set[int] = set()
        ways: set[int] = set()
        relations: set[int] = set()
        network = _NETWORK.search(query)
        if network:
            key = network.group(1)
            ways = {
                i for i, w in self.ways.items() if key in w["tags"] and self.way_touches(i, inside)
            }
        for kind, key, value in _FEATURE.findall(query):
            k, v = key.strip("'"), value.strip("'") if value else None

            def match(tags: dict[str, str], k: str = k, v: str | None = v) -> bool:
                return k in tags and (v is None or tags[k] == v)

            if kind == "node":
                nodes |= {i for i in inside if match(self.nodes[i]["tags"])}
            elif kind == "way":
                ways |= {
                    i
                    for i, w in self.ways.items()
                    if match(w["tags"]) and self.way_touches(i, inside)
                }
            else:
                for i, rel in self.relations.items():
                    touches = any(
                        (m["type"] == "node" and m["ref"] in inside)
                        or (m["type"] == "way" and self.way_touches(m["ref"], inside))
                        for m in rel["members"]
                    )
                    if match(rel["tags"]) and touches:
                        relations.add(i)
        for i in relations:  # recurse down (`>`): members, then the ways' nodes
            for m in self.relations[i]["members"]:
                if m["type"] == "way" and m["ref"] in self.ways:
                    ways.add(m["ref"])
                elif m["type"] == "node" and m["ref"] in self.nodes:
                    nodes.add(m["ref"])
        for i in ways:
            nodes |= {n for n in self.ways[i]["nodes"] if n in self.nodes}
        elements = (
            [self.nodes[i] for i in sorted(nodes)]
            + [self.ways[i] for i in sorted(ways)]
            + [self.relations[i] for i in sorted(relations)]
        )
        return {
            "version": 0.6,
            "generator": "qjgeo test stand-in",
            "osm3s": {"timestamp_osm_base": STAMP, "copyright": "© OpenStreetMap contributors"},
            "elements": elements,
        }


class OverpassStandIn:
    """The HTTP server (a context manager); see the module notes."""

    def __init__(self, extracts: list[Path], places: dict[str, BaseGeometry]) -> None:
        self.store = _Store(extracts)
        self.places = places
        self.hits: Counter[str] = Counter()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _send(self, body: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                standin.hits[url.path] += 1
                if url.path.endswith("/status"):
                    text = (
                        "Connected as: 1\nCurrent time: 2026-01-01T00:00:00Z\n"
                        "Announced endpoint: none\nRate limit: 2\n2 slots available now.\n"
                    )
                    self._send(text.encode(), "text/plain")
                    return
                query = parse_qs(url.query).get("q", [""])[0]
                self._send(json.dumps(standin.geocode(query)).encode(), "application/json")

            def do_POST(self) -> None:
                standin.hits[urlsplit(self.path).path] += 1
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                answer = standin.store.answer(form["data"][0])
                self._send(json.dumps(answer).encode(), "application/json")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        port = self.server.server_address[1]
        self.overpass_url = f"http://127.0.0.1:{port}/api"
        self.nominatim_url = f"http://127.0.0.1:{port}/nominatim/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def geocode(self, query: str) -> list[dict[str, Any]]:
        area = self.places.get(query)
        if area is None:
            return []
        west, south, east, north = area.bounds
        centre = area.representative_point()
        return [
            {
                "place_id": 1,
                "osm_type": "relation",
                "osm_id": 1,
                "boundingbox": [str(south), str(north), str(west), str(east)],
                "lat": str(centre.y),
                "lon": str(centre.x),
                "display_name": query,
                "class": "boundary",
                "type": "administrative",
                "importance": 0.5,
                "geojson": mapping(area),
            }
        ]

    def __enter__(self) -> OverpassStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()
