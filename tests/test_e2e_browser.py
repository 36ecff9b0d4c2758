"""The planner's workflow end to end in headless Chromium (issue 14), in Chinese and in English.

One app server (the README's command) on the bundled data; per language a fresh browser
context does the six tasks (``tests/planner_browser.py``): browse layers and click a township;
list the unmet targets; see childcare gaps; add a science venue by clicking inside a township
on the Scenarios map, compare, save; export a gap map PNG and the Excel report; import a
5-row GBK childcare ledger and read its report. Each answer is checked against the library on
the same data; the times measured in the browser are printed, never asserted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qjgeo import Dataset, load_dataset
from qjgeo.places import bundled_path

pytestmark = pytest.mark.browser

pytest.importorskip("playwright")
import planner_browser as pb  # noqa: E402  (tests/ is on sys.path; after the skip)

if not pb.CHROMIUM.exists():  # CI installs it (make system-deps)
    pytest.skip("headless Chromium not installed at /usr/bin/chromium", allow_module_level=True)


@pytest.fixture(scope="module")
def bundled() -> Dataset:
    return load_dataset(bundled_path("layers"))


@pytest.fixture(scope="module")
def expected(bundled: Dataset) -> dict[str, Any]:
    """What the library answers on the bundled data, for the page to show."""
    from qjgeo.gaps import compute_gaps
    from qjgeo.indicators import evaluate

    science = compute_gaps(bundled, "science_venue").villages
    target = science.sort_values("children_uncovered", ascending=False).iloc[0]
    point = bundled.layer("village").set_index("code12").loc[target["code12"], "geometry"]
    tw = bundled.layer("township")
    return {
        "counts": _district_counts(evaluate(bundled)),
        "childcare": compute_gaps(bundled, "childcare").district,
        "village_point": (float(point.x), float(point.y)),
        "townships": {*tw["name"].astype(str), *tw["name_en"].astype(str)},
    }


def _district_counts(table: Any) -> dict[str, int]:
    """How many district targets are met, not met, not computable (as the page counts)."""
    met = table.loc[table["scope"] == "district", "met"]
    return {
        "n": len(met),
        "met": int((met == True).sum()),  # noqa: E712  (object column of True/False/None)
        "not_met": int((met == False).sum()),  # noqa: E712
        "na": int(met.isna().sum()),
    }


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pb.AppServer]:
    home = tmp_path_factory.mktemp("e2e-home")
    with pb.app_server(home) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with pb.chromium() as b:
        yield b


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_planner_six_tasks(
    lang: str,
    app: pb.AppServer,
    browser: Any,
    expected: dict[str, Any],
    tmp_path: Path,
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    planner = pb.Planner(page, app.url, lang)
    try:
        _six_tasks(planner, expected, app, tmp_path)
    finally:
        page.screenshot(path=str(tmp_path / f"last-{lang}.png"), full_page=True)
        context.close()
        times = ", ".join(f"{k} {v:.2f} s" for k, v in planner.times.items())
        print(f"\n[{lang}] answer times in the browser: {times}")


def _newly_covered(scenario_file: Path, facility_type: str) -> float:
    """Children the saved scenario newly covers (the library's comparison, on the same data)."""
    from qjgeo.scenario import apply, compare, load_scenario, snapshot

    base = load_dataset(bundled_path("layers"))
    applied = apply(base, load_scenario(scenario_file), scenarios_dir=scenario_file.parent)
    cov = compare(snapshot(base), applied).coverage.set_index("facility_type")
    return float(round(cov.loc[facility_type, "newly_covered"]))


def _six_tasks(
    planner: pb.Planner, expected: dict[str, Any], app: pb.AppServer, tmp_path: Path
) -> None:
    lang = planner.lang
    # 0 + 1. the map, a layer switched on, a township clicked
    pb.first_map(planner)
    browsed = pb.browse_layers(planner, "childcare")
    assert browsed["markers_after"] > browsed["markers_before"], browsed
    assert browsed["panel"] in expected["townships"], browsed["panel"]
    # 2. the unmet targets
    counts = expected["counts"]
    line = planner.t("ind_count", **counts)
    text = pb.unmet_targets(planner, line)["text"]
    assert line in text
    # 3. childcare gaps: the district's children without a place within reach
    uncovered = f"{expected['childcare']['children_uncovered']:,.0f}"
    text = pb.childcare_gaps(planner, uncovered)["text"]
    assert uncovered in text
    # 4. a science venue added by a click on the map, compared, saved
    lon, lat = expected["village_point"]
    scenario = "科普馆试点" if lang == "zh" else "Science venue pilot"
    venue = "新科普馆" if lang == "zh" else "New science venue"
    done = pb.add_science_venue(planner, lon, lat, venue, scenario)
    got = [float(v) for v in re.findall(r"\d+\.\d+", done["caption"])]
    assert abs(got[0] - lon) < 0.005 and abs(got[1] - lat) < 0.005, done["caption"]
    assert pb.layer_title("science_venue", planner) in done["compare"], done["compare"]
    saved = list(app.home.rglob(f"{scenario}.yaml"))
    assert len(saved) == 1, list(app.home.rglob("*.yaml"))
    text = saved[0].read_text(encoding="utf-8")
    assert "science_venue" in text and venue in text, text
    gained = _newly_covered(saved[0], "science_venue")
    assert gained > 0 and f"{gained:g}" in done["compare"].replace(",", ""), done["compare"]
    # 5. the gap map as PNG and the Excel report
    files = pb.export_files(planner)
    name, data = files["png"]  # one click each
    assert name.endswith(".png") and data.startswith(b"\x89PNG") and len(data) > 20_000
    name, data = files["xlsx"]
    assert name.endswith(".xlsx") and pb.xlsx_sheets(data)
    # 6. a 5-row GBK childcare ledger checked
    ledger = tmp_path / ("托育机构台账.csv" if lang == "zh" else "childcare-ledger.csv")
    ledger.write_bytes(pb.ledger_gbk())
    text = pb.import_ledger(planner, ledger)["text"]
    assert planner.t("imp_rows", read=5, accepted=5, rejected=0) in text, text
