"""The Import page names each ledger field as a planner knows it, in Chinese and in English."""

from __future__ import annotations

import pytest

from qjgeo import Dataset
from qjgeo.ingest.columns import layer_fields
from qjgeo.ui.pages.import_page import field_label


@pytest.mark.parametrize(
    "layer", ["childcare", "kindergarten", "village", "water_hazard", "township"]
)
def test_english_labels_are_words_not_keys(dataset: Dataset, layer: str) -> None:
    if not dataset.has(layer):
        pytest.skip(f"no {layer} layer in the bundled data")
    for field in layer_fields(layer):
        label = field_label(field, "en")
        assert label != field, field  # "Places", not "places"; "Longitude", not "lon"


def test_english_label_of_places() -> None:
    assert field_label("places", "en") == "Places"
    assert field_label("places", "zh") == "托位（places）"
