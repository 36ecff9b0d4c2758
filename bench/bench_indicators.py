"""Benchmark: evaluate every plan indicator on the bundled Qujiang dataset.

Usage::

    python bench/bench_indicators.py [--repeat N] [--scale K]

Prints, in one run:

- the cold time of the first ``evaluate`` (lazy imports of scipy / the access engine and the
  first metric-CRS projection of each layer included);
- the warm time (best of ``--repeat`` runs) of ``evaluate`` on the same dataset, and its
  split by indicator (one ``evaluate(..., indicators=[id])`` each, so the shared
  nearest-facility memo is not reused across indicators there);
- the warm time on a dataset with every village and facility repeated ``--scale`` times
  (default 20: ≈ 2,200 villages), with the ratio to the bundled time, to show how it grows.

Wall times are the best of several runs and also shown as CPU time (``time.process_time``),
which a busy shared machine inflates less.

Nothing is asserted: these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qjgeo import Dataset, load_dataset
from qjgeo.indicators import evaluate, load_targets
from qjgeo.schema import FACILITY_LAYERS


def _best(func: object, repeat: int, clock: object = time.perf_counter) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()  # type: ignore[operator]
        func()  # type: ignore[operator]
        best = min(best, clock() - t0)  # type: ignore[operator]
    return best


def _scaled(dataset: Dataset, k: int) -> Dataset:
    """Each village and facility repeated k times (jittered a few metres; ids made unique)."""
    out = dataset
    for layer_id in ("village", *FACILITY_LAYERS):
        if not dataset.has(layer_id):
            continue
        frame = dataset.metric(layer_id)
        copies = []
        for i in range(k):
            c = frame.copy()
            c["geometry"] = c.geometry.translate(xoff=3.0 * i, yoff=2.0 * i)
            if "id" in c.columns:
                c["id"] = c["id"].astype(str) + f"-{i}"
            copies.append(c)
        out = out.with_layer(layer_id, pd.concat(copies, ignore_index=True))
    return out


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", type=int, default=20)
    args = parser.parse_args()

    dataset = load_dataset()
    t0 = time.perf_counter()
    result = evaluate(dataset)
    cold = time.perf_counter() - t0
    warm = _best(lambda: evaluate(dataset), args.repeat)
    print(f"bundled dataset: {len(dataset.layer('village'))} villages, {len(result)} rows")
    print(f"evaluate, cold (first call, imports + projections): {cold:.3f} s")
    cpu = _best(lambda: evaluate(dataset), args.repeat, time.process_time)
    print(f"evaluate, warm (best of {args.repeat}):                {warm:.3f} s wall")
    print(f"evaluate, warm CPU time (best of {args.repeat}):       {cpu:.3f} s")
    print(f"load average now: {os.getloadavg()[0]:.1f} (wall times grow with it)")

    per = []
    for ind_id in load_targets().ids:
        per.append((_best(lambda i=ind_id: evaluate(dataset, indicators=[i]), 3), ind_id))
    per.sort(reverse=True)
    print("slowest indicators alone (s):")
    for seconds, ind_id in per[:6]:
        print(f"  {seconds:.4f}  {ind_id}")
    print(f"  sum of all alone: {sum(s for s, _ in per):.3f} s (vs {warm:.3f} s together)")

    big = _scaled(dataset, args.scale)
    evaluate(big)  # projections
    big_warm = _best(lambda: evaluate(big), max(1, args.repeat // 2))
    n_big = len(big.layer("village"))
    print(
        f"×{args.scale} dataset ({n_big} villages): {big_warm:.3f} s "
        f"= {big_warm / warm:.1f}× the bundled time for {args.scale}× the features"
    )


if __name__ == "__main__":
    main()
