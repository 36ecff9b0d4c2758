"""The travel mode switch of the Gaps and Scenarios pages (issue 18): a rural village's gap is
given with its mode, minutes and metres, never as a walk when the mode is not walking."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from qjgeo.catalog import DEFAULT_DATA_DIR

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "scenarios").mkdir()
    monkeypatch.setenv("QJGEO_DATA", str(DEFAULT_DATA_DIR))
    monkeypatch.setenv("QJGEO_SCENARIOS", str(tmp_path / "scenarios"))
    monkeypatch.setenv("QJGEO_MONITORING", str(tmp_path / "monitoring"))
    monkeypatch.delenv("QJGEO_TIANDITU_KEY", raising=False)


def _open(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"page": page, "lang": "en", **params})
    at.run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, column: str):
    """The page's table with this column (short tables are st.table, long ones st.dataframe)."""
    return next(f.value for f in [*at.table, *at.dataframe] if column in f.value.columns)


def _numbers(column) -> list[float]:
    """A formatted column ("5,553", "22.2", "—") as numbers (NaN for "—")."""
    return [float("nan") if v == "—" else float(str(v).replace(",", "")) for v in column]


def test_gaps_page_by_e_bike_says_mode_minutes_and_metres(env: None) -> None:
    at = _open("gaps", layer="childcare", mode="bike")
    captions = " ".join(c.value for c in at.caption)
    assert "Mode: e-bike, 15 km/h; thresholds: urban 5 min (1,250 m), rural 15 min (3,750 m)" in (
        captions
    )
    worst = _table(at, "Mode")
    assert set(worst["Mode"]) == {"e-bike"}
    rural = worst[worst["Urban"].astype(str) == "no"]
    assert len(rural)
    assert all(v > 0 for v in _numbers(rural["Time (min)"]))
    assert all(v > 0 for v in _numbers(rural["Distance (m)"]))
    # switched to driving: the next run computes in the driving mode, and the URL keeps it
    next(s for s in at.selectbox if s.key == "w_mode").select("drive").run()
    captions = " ".join(c.value for c in at.caption)
    assert "Mode: car, 30 km/h" in captions and "straight line × detour factor 1.4" in captions
    assert set(_table(at, "Mode")["Mode"]) == {"driving"}
    assert at.query_params["mode"] in ("drive", ["drive"])


def test_gaps_page_default_is_walking_in_metres_with_minutes(env: None) -> None:
    at = _open("gaps", layer="childcare")
    captions = " ".join(c.value for c in at.caption)
    assert "Mode: walk (children), 3.6 km/h; thresholds: urban 5 min (300 m)" in captions
    assert set(_table(at, "Mode")["Mode"]) == {"walking"}


def test_scenarios_page_has_the_mode_switch(env: None) -> None:
    at = _open("scenarios", mode="drive")
    switch = next(s for s in at.selectbox if s.key == "w_mode")
    assert switch.value == "drive"


def test_gaps_page_draws_a_facility_s_catchments(env: None) -> None:
    at = _open("gaps", layer="childcare", mode="drive")
    pick = next(s for s in at.selectbox if s.key == "gap_iso")
    assert pick.value == ""  # none until asked
    pick.select(pick.options[1]).run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "Catchments: drive, straight_line_x_detour" in captions
    component = next(
        c for c in at.get("component_instance") if "st_folium" in c.proto.component_name
    )
    assert "Catchments" in component.proto.json_args and "15 min" in component.proto.json_args
