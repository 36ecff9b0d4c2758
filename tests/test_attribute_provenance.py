"""Attribute-level provenance: an indicator reading an invented attribute says sample (#16)."""

from __future__ import annotations

from qjgeo import Dataset
from qjgeo.indicators import evaluate
from qjgeo.indicators.targets import attributes_read, load_targets


def test_attributes_read_names_the_flag_each_indicator_reads() -> None:
    targets = load_targets()
    assert attributes_read(targets.get("rural_tap_water")) == {"village": ("tap_water", "urban")}
    assert attributes_read(targets.get("child_friendly_demo_town")) == {
        "township": ("child_friendly_demo",)
    }
    assert set(attributes_read(targets.get("water_hazard_control"))["water_hazard"]) == {
        "fenced", "warning_signs", "rescue_equipment",
    }  # fmt: skip


def test_bundled_manifest_declares_the_invented_attributes(dataset: Dataset) -> None:
    assert dataset.spec("village").attribute_provenance == {"tap_water": "sample"}
    assert dataset.spec("township").attribute_provenance == {"child_friendly_demo": "sample"}
    # the villages themselves are estimated; reading their tap-water flag is sample
    assert dataset.data_status(["village"]) == "estimated"
    assert dataset.data_status(["village"], {"village": ["tap_water"]}) == "sample"
    assert dataset.data_status(["village"], {"village": ["urban"]}) == "estimated"


def test_rural_tap_water_and_demo_town_say_sample(dataset: Dataset) -> None:
    frame = evaluate(dataset, indicators=["rural_tap_water", "child_friendly_demo_town"])
    assert set(frame["data_status"]) == {"sample"}
    tap = frame.loc[frame["id"] == "rural_tap_water"].iloc[0]
    assert tap["weak_layers"] == ["village"]
