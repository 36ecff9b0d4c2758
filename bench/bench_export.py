"""Time the exports of a full district gap map, the GeoPackage and the Excel report.

Run: ``python bench/bench_export.py [--repeat N]``. Prints the best and median wall time of each
export on the bundled Qujiang dataset (110 villages, 945 gap hexagons, 10 townships), with the
gap computation timed apart from the drawing/writing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from qjgeo import load_dataset
from qjgeo.export.excel import excel_report
from qjgeo.export.gis import gis_package
from qjgeo.export.html import gap_map_html
from qjgeo.export.staticmap import gap_map_pdf, gap_map_png
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
    ]  # fmt: skip
    print(f"dataset: {ds.info.id}; facility type: {ft}; repeat: {args.repeat}")
    results = [(name, *_time(fn, args.repeat)) for name, fn in cases]
    ref = next(best for name, best, _, _ in results if name.startswith("map PNG"))
    print(f"{'export':48s} {'best s':>8s} {'median s':>9s} {'size KB':>9s} {'× PNG':>7s}")
    for name, best, median, size in results:
        print(f"{name:48s} {best:8.2f} {median:9.2f} {size / 1024:9.0f} {best / ref:7.2f}")
    print("(× PNG: best time relative to the 300-dpi PNG map with gaps given, same run)")


if __name__ == "__main__":
    main()
