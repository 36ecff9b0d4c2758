"""Facilities a scenario adds, removes, moves or modifies (the difference map's points)."""

from __future__ import annotations

import pytest

from qjgeo import Dataset
from qjgeo.scenario import FacilityAdd, Scenario, apply
from qjgeo.scenario.changes import facility_changes


def test_each_kind_of_change_is_found_once(dataset: Dataset) -> None:
    ids = [str(i) for i in dataset.layer("kindergarten")["id"].iloc[:3]]
    scenario = (
        Scenario(name="t")
        .with_add(
            FacilityAdd(
                type="kindergarten", lon=113.6, lat=24.68, name="新园", attributes={"places": 40}
            )
        )
        .with_remove("kindergarten", ids[0])
        .with_move("kindergarten", ids[1], 113.61, 24.69)
        .with_modify("kindergarten", ids[2], {"places": 999})
    )
    changes = facility_changes(dataset, apply(dataset, scenario))
    assert list(changes["change"]) == ["added", "removed", "moved", "modified"]
    assert set(changes["facility_type"]) == {"kindergarten"}
    assert list(changes["id"])[1:] == ids
    assert changes.loc[0, "name"] == "新园"
    moved = changes.geometry.iloc[2]
    assert (moved.x, moved.y) == pytest.approx((113.61, 24.69))
    removed = changes.geometry.iloc[1]  # at its old place
    old = dataset.layer("kindergarten").to_crs("EPSG:4326").geometry.iloc[0]
    assert removed.equals_exact(old, 1e-9)
    assert changes.crs.to_epsg() == 4326


def test_no_changes_is_an_empty_frame(dataset: Dataset) -> None:
    changes = facility_changes(dataset, dataset)
    assert changes.empty and list(changes.columns) == [
        "facility_type", "id", "name", "change", "geometry",
    ]  # fmt: skip
