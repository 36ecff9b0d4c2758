"""A township's view names every indicator that names it failing (#16)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from qjgeo import Dataset
from qjgeo.cli import app
from qjgeo.indicators import evaluate, township_view

LUOKENG = "440205109"  # 罗坑镇
DISTRICT_IDS_NAMING_LUOKENG = {
    "family_edu_centres_town",  # the only town without a town-level centre
    "health_centre_child_doctors",  # 罗坑镇卫生院 lacks the child doctors
    "minors_protection_station_town_coverage",  # one of six towns without a station
}


def test_district_rows_carry_the_township_of_each_failing_unit(dataset: Dataset) -> None:
    frame = evaluate(dataset, indicators=["health_centre_child_doctors"])
    row = frame.iloc[0]
    assert len(row["failing_townships"]) == len(row["failing_units"]) == row["n_failing"]
    pairs = dict(zip(row["failing_units"], row["failing_townships"], strict=True))
    assert pairs["罗坑镇卫生院"] == LUOKENG


def test_luokeng_view_lists_the_three_district_indicators_that_name_it(
    dataset: Dataset,
) -> None:
    view = township_view(evaluate(dataset), LUOKENG)
    district = view.loc[view["scope"] == "district"]
    assert set(district["id"]) == DISTRICT_IDS_NAMING_LUOKENG
    doctors = district.loc[district["id"] == "health_centre_child_doctors"].iloc[0]
    assert doctors["failing_units"] == ["罗坑镇卫生院"]  # narrowed to the township's own
    assert "本镇（街道）：罗坑镇卫生院" in doctors["shortfall_zh"]
    # the township's own rows are all there, first
    own = view.loc[view["scope"] == LUOKENG]
    assert len(own) == int((evaluate(dataset)["scope"] == LUOKENG).sum())
    assert list(view["scope"]).index("district") == len(own)


def test_cli_township_view_names_them(dataset: Dataset) -> None:
    res = CliRunner().invoke(app, ["indicators", "--township", LUOKENG, "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    ids = {r["id"] for r in rows if r["scope"] == "district"}
    assert ids == DISTRICT_IDS_NAMING_LUOKENG
