"""Time the exports: gap maps, township briefs, HTML, GeoPackage, Excel, and the CLI itself.

Run: ``python bench/bench_export.py [--repeat N] [--no-cli]``. Prints the best and median wall
time of each export on the bundled Qujiang dataset (110 villages, 945 gap hexagons, 10
townships), with the gap computation timed apart from the drawing/writing, then the command
line as a user runs it (fresh processes: ``qjgeo --help``, one map, all 10 briefs), with the
CPU time of the child process beside the wall time (wall ≫ CPU means a busy machine).
Targets (issue 15): one map ≤ 3 s, all 10 briefs ≤ 15 s, ``qjgeo --help`` < 1 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from qjgeo import load_dataset
from qjgeo.export import export_bytes
from qjgeo.export.brief import township_brief_pdf
from qjgeo.export.excel import excel_report
from qjgeo.export.gis import gis_package
from qjgeo.export.html import gap_map_html
from qjgeo.export.staticmap import (
    default_facility_types,
    gap_map_pdf,
    gap_map_png,
    gaps_by_facility_type,
)
from qjgeo.gaps import compute_gaps, gap_surface
from qjgeo.indicators import evaluate


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, float, int]:
    times = []
    size = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        size = len(out) if isinstance(out, bytes | str) else 0
    return min(times), statistics.median(times), size


def main() -> None:
    """Run the benchmark and print one line per export."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--type", default="childcare")
    parser.add_argument("--no-cli", action="store_true", help="skip the command-line timings")
    args = parser.parse_args()
    ds = load_dataset()
    ft = args.type
    gap_map_png(ds, ft, dpi=30)  # warm-up: font registration, imports

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("compute_gaps + gap_surface", lambda: (compute_gaps(ds, ft), gap_surface(ds, ft))),
    ]
    gaps = compute_gaps(ds, ft)
    surface = gap_surface(ds, ft)
    indicators = evaluate(ds)
    all_gaps = gaps_by_facility_type(ds, default_facility_types(ds))
    codes = [str(c) for c in ds.layer("township")["code9"]]

    def briefs() -> list[bytes]:
        return [township_brief_pdf(ds, c, indicators=indicators, gaps=all_gaps) for c in codes]

    cases += [
        ("map PNG A4 300 dpi (gaps given)",
         lambda: gap_map_png(ds, ft, dpi=300, gaps=gaps, surface=surface)),
        ("map PNG A4 300 dpi (end to end)", lambda: gap_map_png(ds, ft, dpi=300)),
        ("map PDF A4 (gaps given)", lambda: gap_map_pdf(ds, ft, gaps=gaps, surface=surface)),
        ("map PDF A3 (end to end)", lambda: gap_map_pdf(ds, ft, paper="A3")),
        ("HTML self-contained (gaps given)",
         lambda: gap_map_html(ds, ft, gaps=gaps, surface=surface)),
        ("GeoPackage 4 layers (gaps given)",
         lambda: gis_package(ds, ft, fmt="gpkg", gaps=gaps, surface=surface,
                             indicators=indicators)),
        ("GeoPackage 4 layers (end to end)", lambda: gis_package(ds, ft, fmt="gpkg")),
        ("Shapefile zip (gaps given)",
         lambda: gis_package(ds, ft, fmt="shp.zip", gaps=gaps, surface=surface,
                             indicators=indicators)),
        ("Excel report, 7 facility types (end to end)", lambda: excel_report(ds)),
        ("1 township brief (gaps, indicators given)",
         lambda: township_brief_pdf(ds, codes[0], indicators=indicators, gaps=all_gaps)),
        ("10 township briefs (gaps, indicators given)", briefs),
        ("10 township briefs zip (end to end)",
         lambda: export_bytes("brief", ds, ".zip", facility_type=ft)),
    ]  # fmt: skip
    print(f"dataset: {ds.info.id}; facility type: {ft}; repeat: {args.repeat}")
    results = [(name, *_time(fn, args.repeat)) for name, fn in cases]
    ref = next(best for name, best, _, _ in results if name.startswith("map PNG"))
    print(f"{'export':48s} {'best s':>8s} {'median s':>9s} {'size KB':>9s} {'× PNG':>7s}")
    for name, best, median, size in results:
        print(f"{name:48s} {best:8.2f} {median:9.2f} {size / 1024:9.0f} {best / ref:7.2f}")
    print("(× PNG: best time relative to the 300-dpi PNG map with gaps given, same run)")
    if not args.no_cli:
        _cli_timings(args.repeat)


def _cli_timings(repeat: int) -> None:
    """The command line in fresh processes: wall and child CPU seconds, best of ``repeat``."""
    exe = shutil.which("qjgeo") or ""
    cmd = [exe] if exe else [sys.executable, "-m", "qjgeo"]
    with tempfile.TemporaryDirectory() as tmp:
        runs = [
            ("qjgeo --help", [*cmd, "--help"]),
            ("qjgeo export --what map (PNG A4 300 dpi)",
             [*cmd, "export", "--what", "map", "--out", f"{tmp}/m.png"]),
            ("qjgeo export --what map (PDF A4)",
             [*cmd, "export", "--what", "map", "--out", f"{tmp}/m.pdf"]),
            ("qjgeo export --what brief (10 briefs, zip)",
             [*cmd, "export", "--what", "brief", "--out", f"{tmp}/b.zip"]),
        ]  # fmt: skip
        print(f"\n{'command (fresh process)':48s} {'wall s':>8s} {'CPU s':>8s}")
        for name, argv in runs:
            best_wall, best_cpu = float("inf"), float("inf")
            for _ in range(repeat):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                subprocess.run(argv, check=True, capture_output=True, env=os.environ.copy())
                wall = time.perf_counter() - t0
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
            print(f"{name:48s} {best_wall:8.2f} {best_cpu:8.2f}")
        print(f"(load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
