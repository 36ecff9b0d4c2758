"""The app in headless Chromium: time to the first map (cold and warm) and each task's answer.

    python bench/bench_app.py [--repeat R] [--lang zh|en] [--port P]

Starts the app as ``make run`` does (a fresh user data folder), then measures in the browser:

- **server ready**: from starting ``streamlit run`` to its health check answering;
- **baseline**: the same server's static page (Streamlit's HTML + JS bundle, ``load`` event), the
  floor any page of the app stands on;
- **first map, cold**: opening the Map page on the fresh server until Leaflet has drawn the
  townships (also counted from the server's start);
- **first map, warm**: the same in a new browser context once the server has served it;
- **map payload**: the bytes the server sent over the websocket for the first Map page;
- **the planner's tasks** (``tests/planner_browser.py``), each from the action (a click, a page
  opened) to the answer in the page: the first round on cold caches, then ``R`` warm rounds
  (the median is printed), each in a new browser context;
- **library**: ``apply`` + ``compare`` of one added site against a reused baseline, warm.

Times are printed with their ratio to the baseline; nothing is asserted (shared machine).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

import planner_browser as pb  # noqa: E402

GOALS_S = {
    "first map": 3.0,
    "layer toggle": 1.0,
    "township click": 1.0,
    "add facility": 1.0,
    "compare (from the add click)": 1.0,
}


def _baseline(browser: Any, url: str) -> float:
    """Seconds to load the server's static page (HTML and JS bundle, before the app runs)."""
    page = browser.new_page()
    start = time.monotonic()
    page.goto(f"{url}/?page=guide", wait_until="load")
    took = time.monotonic() - start
    page.close()
    return took


def _first_map(browser: Any, url: str, lang: str) -> tuple[float, int]:
    """Seconds to the first map in a new context, and the websocket bytes received."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    received = [0]

    def on_ws(ws: Any) -> None:
        ws.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload)))

    page.on("websocket", on_ws)
    planner = pb.Planner(page, url, lang)
    pb.first_map(planner)
    context.close()
    return planner.times["first map"], received[0]


def _tasks(browser: Any, url: str, lang: str, round_: int, work: Path) -> dict[str, float]:
    """One round of the planner's tasks in a new context; the answer times."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    planner = pb.Planner(context.new_page(), url, lang)
    pb.first_map(planner)
    pb.browse_layers(planner, "childcare")
    pb.unmet_targets(planner)
    pb.childcare_gaps(planner)
    pb.add_science_venue(planner, 113.627546, 24.677234, "新科普馆", f"基准情景{round_}")
    pb.export_files(planner)
    ledger = work / "ledger.csv"
    ledger.write_bytes(pb.ledger_gbk())
    pb.import_ledger(planner, ledger)
    context.close()
    return dict(planner.times)


def _library() -> float:
    """Seconds of ``apply`` + ``compare`` of one added site, warm (baseline snapshot reused)."""
    from qjgeo import load_dataset
    from qjgeo.scenario import FacilityAdd, Scenario, apply, compare, snapshot

    ds = load_dataset()
    base = snapshot(ds)
    runs = []
    for i in range(4):  # a new site each time (as each click in the app); the first warms up
        site = FacilityAdd(type="science_venue", lon=113.6275 + 0.002 * i, lat=24.6772, name="x")
        start = time.monotonic()
        compare(base, apply(ds, Scenario(name="bench").with_add(site)))
        runs.append(time.monotonic() - start)
    return statistics.median(runs[1:])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2, help="warm rounds of the tasks")
    ap.add_argument("--lang", default="zh", choices=["zh", "en"])
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    if not pb.CHROMIUM.exists() or importlib.util.find_spec("playwright") is None:
        print(f"skipped: needs Chromium at {pb.CHROMIUM} and Playwright (requirements-dev.txt)")
        return
    work = Path(tempfile.mkdtemp(prefix="qjgeo-bench-app-"))
    with pb.chromium() as browser, pb.app_server(work / "home", args.port or None) as server:
        ready = server.ready_at - server.started_at
        cold_map, payload = _first_map(browser, server.url, args.lang)
        since_start = time.monotonic() - server.started_at
        base = statistics.median(_baseline(browser, server.url) for _ in range(3))
        warm_map = statistics.median(
            _first_map(browser, server.url, args.lang)[0] for _ in range(3)
        )
        rounds = [_tasks(browser, server.url, args.lang, i, work) for i in range(1 + args.repeat)]
    lib = _library()
    print(f"server ready {ready:.2f} s after start; baseline (static page load) {base:.2f} s")
    print(
        f"first map, cold server: {cold_map:.2f} s after opening ({since_start:.2f} s after start)"
    )
    print(f"first map, warm server: {warm_map:.2f} s ({warm_map / base:.1f}x baseline)")
    print(f"map payload (websocket bytes to the first map): {payload / 1e6:.2f} MB")
    print(f"\n{'task':28} {'cold caches s':>14} {'warm s':>8} {'vs baseline':>12} {'goal s':>7}")
    for name in rounds[0]:
        warm = statistics.median(r[name] for r in rounds[1:]) if args.repeat else rounds[0][name]
        goal = GOALS_S.get(name)
        goal_txt = f"{goal:7.1f}" if goal else "      –"
        print(f"{name:28} {rounds[0][name]:14.2f} {warm:8.2f} {warm / base:11.1f}x {goal_txt}")
    print(f"\nlibrary: apply + compare of one added site, warm: {lib:.3f} s (goal 0.2 s)")


if __name__ == "__main__":
    main()
