"""Benchmark: a province-size OSM PBF clipped to one county, in bounded memory.

Usage::

    python bench/bench_pbf.py [--nodes N] [--small-nodes M] [--spacing-deg D] [--work DIR]
                              [--import]

1. **Synthetic province** (made once, kept in ``--work``): the two bundled OSM extracts
   (``../shared/data/osm/``: Munich, West Oakland; 281 + 446 nodes, streets, buildings,
   parks, a school, multipolygons) replicated on a grid ``D`` degrees apart (default 0.02°,
   ≈ 2 km) centred on Qujiang, ids offset per copy, until the file holds ≈ ``N`` nodes
   (default 5,000,000: ≈ 2.4° × 2.4°, a third of Guangdong), written sorted with
   pyosmium's writer (``osmium.SimpleWriter``) as ``.osm.pbf``.
2. **Clip** to Qujiang's real boundary (the bundled ``layers/district.geojson``, 1,623 km²)
   with :func:`qjgeo.osm_pbf.clip_pbf`, in a fresh subprocess: wall time, peak resident set
   (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) and, for the small province in a second
   run, the tracemalloc peak (Python and NumPy allocations; pyosmium's C++ buffers are only in
   the resident set; tracemalloc slows the per-node loop about eightfold).
   A subprocess that only imports the modules gives the resident-set baseline.
3. The same clip of a smaller province (``M`` nodes, default 1,000,000) with the same county
   inside: if memory is bounded, the peak does not grow with the input.
4. ``--import``: the whole ``qjgeo osm-import FILE.osm.pbf --clip district.geojson`` path
   (clip, then osmnx features and network, GeoPackage layers, ``network.npz``).

Times are single runs on a shared machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

OSM_DIR = REPO.parent / "shared" / "data" / "osm"
EXTRACTS = ("munich_small.osm", "West-Oakland.osm.bz2")
BOUNDARY = REPO / "layers" / "district.geojson"
CENTRE = (113.59, 24.67)  # Qujiang
ID_STRIDE = 10**10  # ids of copy k: original id + k * ID_STRIDE (bundled ids are < 10**10)


def _read_extract(path: Path) -> dict[str, Any]:
    """One extract as plain Python data, coordinates relative to its south-west corner."""
    import osmium

    nodes, ways, relations = [], [], []
    for obj in osmium.FileProcessor(str(path)):
        tags = dict(obj.tags)
        if obj.is_node():
            nodes.append((obj.id, obj.location.lon, obj.location.lat, tags))
        elif obj.is_way():
            ways.append((obj.id, [n.ref for n in obj.nodes], tags))
        else:
            members = [(m.type, m.ref, m.role) for m in obj.members]
            relations.append((obj.id, members, tags))
    west = min(n[1] for n in nodes)
    south = min(n[2] for n in nodes)
    nodes = [(i, x - west, y - south, t) for i, x, y, t in nodes]
    return {"nodes": nodes, "ways": ways, "relations": relations}


def make_province(dest: Path, target_nodes: int, spacing_deg: float) -> dict[str, Any]:
    """Write the synthetic province PBF (see the module notes); its size figures."""
    import osmium
    from osmium.osm.mutable import Node, Relation, Way

    extracts = [_read_extract(OSM_DIR / name) for name in EXTRACTS]
    per_pair = sum(len(e["nodes"]) for e in extracts)
    copies = max(2, math.ceil(target_nodes / per_pair) * 2)
    side = math.ceil(math.sqrt(copies))
    lon0 = CENTRE[0] - side * spacing_deg / 2
    lat0 = CENTRE[1] - side * spacing_deg / 2

    def origin(k: int) -> tuple[float, float]:
        return lon0 + (k % side) * spacing_deg, lat0 + (k // side) * spacing_deg

    header = osmium.io.Header()
    header.set("generator", "qjgeo bench/bench_pbf.py")
    header.set("osmosis_replication_timestamp", "2026-01-01T00:00:00Z")
    header.add_box(osmium.osm.Box(lon0, lat0, lon0 + side * spacing_deg, lat0 + side * spacing_deg))
    n_nodes = 0
    dest.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(dest), header=header) as writer:
        for k in range(copies):
            ox, oy = origin(k)
            off = k * ID_STRIDE
            for i, x, y, tags in extracts[k % 2]["nodes"]:
                writer.add_node(Node(id=i + off, location=(ox + x, oy + y), tags=tags))
                n_nodes += 1
        for k in range(copies):
            off = k * ID_STRIDE
            for i, refs, tags in extracts[k % 2]["ways"]:
                writer.add_way(Way(id=i + off, nodes=[r + off for r in refs], tags=tags))
        for k in range(copies):
            off = k * ID_STRIDE
            for i, members, tags in extracts[k % 2]["relations"]:
                shifted = [(t, r + off, role) for t, r, role in members]
                writer.add_relation(Relation(id=i + off, members=shifted, tags=tags))
    return {
        "nodes": n_nodes,
        "copies": copies,
        "extent_deg": side * spacing_deg,
        "megabytes": dest.stat().st_size / 2**20,
    }


def _child(args: argparse.Namespace) -> None:
    """Run one measured step in this (fresh) process and print its figures as JSON."""
    import resource
    import tracemalloc

    import osmium  # noqa: F401  (in the baseline too)

    from qjgeo.osm_import import OSM_TAGS, import_osm
    from qjgeo.osm_pbf import clip_area, clip_osm

    if args.tracemalloc:
        tracemalloc.start()
    start = time.perf_counter()
    result: dict[str, Any] = {}
    if args.child == "clip":
        summary = clip_osm(args.src, args.dest, clip_area(BOUNDARY), relation_keys=sorted(OSM_TAGS))
        result.update(summary.__dict__)
    elif args.child == "import":
        out = import_osm(args.src, args.dest, clip=BOUNDARY, overwrite=True)
        result["dataset"] = str(out)
    result["seconds"] = time.perf_counter() - start
    if args.tracemalloc:
        result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _run_child(step: str, src: Path, dest: Path, *, traced: bool = False) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", step, "--src", str(src), "--dest", str(dest)]
    if traced:
        cmd.append("--tracemalloc")
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _province(work: Path, nodes: int, spacing: float) -> tuple[Path, dict[str, Any]]:
    path = work / f"province-{nodes}-{spacing:g}.osm.pbf"
    meta = path.with_suffix(".json")
    if path.is_file() and meta.is_file():
        return path, dict(json.loads(meta.read_text()))
    start = time.perf_counter()
    figures = make_province(path, nodes, spacing)
    figures["build_seconds"] = time.perf_counter() - start
    meta.write_text(json.dumps(figures))
    return path, figures


def _measure(work: Path, nodes: int, spacing: float, *, traced: bool) -> None:
    src, figures = _province(work, nodes, spacing)
    print(
        f"province: {figures['nodes']:,} nodes, {figures['copies']:,} copies over "
        f"{figures['extent_deg']:.2f}° × {figures['extent_deg']:.2f}°, "
        f"{figures['megabytes']:.1f} MB PBF (built in {figures['build_seconds']:.0f} s, once)"
    )
    clip = _run_child("clip", src, work / "qujiang.osm")
    print(
        f"  clip to Qujiang: {clip['seconds']:.1f} s "
        f"({figures['nodes'] / clip['seconds'] / 1e6:.2f} M input nodes/s); kept "
        f"{clip['nodes_inside']:,} nodes inside, {clip['nodes']:,} written with the outside "
        f"nodes of crossing ways, {clip['ways']:,} ways, {clip['relations']:,} relations"
    )
    print(f"  peak resident set {clip['maxrss_mb']:.0f} MB")
    if traced:  # tracemalloc slows the per-node Python loop ~8×: the small province only
        run = _run_child("clip", src, work / "qujiang-traced.osm", traced=True)
        print(
            f"  tracemalloc peak {run['tracemalloc_peak_mb']:.1f} MB (Python objects: the "
            f"kept id sets and one node chunk; run with tracemalloc {run['seconds']:.0f} s)"
        )


def main() -> None:
    """Parse the options and run the benchmark (or one measured child step)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5_000_000)
    parser.add_argument("--small-nodes", type=int, default=1_000_000)
    parser.add_argument("--spacing-deg", type=float, default=0.02)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qjgeo-bench-pbf"))
    parser.add_argument("--import", dest="full_import", action="store_true")
    parser.add_argument("--child", choices=("clip", "import", "baseline"))
    parser.add_argument("--src", type=Path)
    parser.add_argument("--dest", type=Path)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    base = _run_child("baseline", args.work, args.work / "unused")
    print(f"baseline (python + qjgeo.osm_import + osmium imported): {base['maxrss_mb']:.0f} MB")
    for nodes in sorted({args.small_nodes, args.nodes}):
        _measure(args.work, nodes, args.spacing_deg, traced=nodes == args.small_nodes)
    if args.full_import:
        src, _ = _province(args.work, args.nodes, args.spacing_deg)
        full = _run_child("import", src, args.work / "qujiang-dataset")
        print(
            f"osm-import {src.name} --clip district.geojson: {full['seconds']:.1f} s, "
            f"peak resident set {full['maxrss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
