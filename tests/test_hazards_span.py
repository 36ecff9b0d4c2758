"""A hazard counts in every township whose villages it is near (#16)."""

from __future__ import annotations

from qjgeo import Dataset
from qjgeo.hazards import rank_hazards
from qjgeo.indicators import evaluate

BAITU, ZHANGSHI = "440205108", "440205107"  # 白土镇, 樟市镇


def test_beijiang_reaches_baitu_villages(dataset: Dataset) -> None:
    ranked = rank_hazards(dataset).set_index("name")
    beijiang = ranked.loc["北江"]
    assert beijiang["township_code"] == ZHANGSHI  # where the layer puts it
    assert {"由坪村", "界滩村"} <= set(beijiang["villages_nearby"])
    assert beijiang["townships_nearby"][0] == ZHANGSHI and BAITU in beijiang["townships_nearby"]


def test_baitu_hazard_reading_includes_beijiang(dataset: Dataset) -> None:
    frame = evaluate(dataset, indicators=["water_hazard_control"]).set_index("scope")
    assert "北江" in frame.at[BAITU, "failing_units"]
    assert "北江" in frame.at[ZHANGSHI, "failing_units"]
    # the district counts each hazard once, its townships each count it
    district = frame.loc["district"]
    assert district["value"] == len(rank_hazards(dataset)) == len(district["failing_units"])
    towns = frame.drop(index="district")
    assert towns["value"].sum() > district["value"]
    assert frame.at[BAITU, "value"] == len(frame.at[BAITU, "failing_units"])
