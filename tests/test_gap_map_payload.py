"""The Gaps page's map draws the gap surface merged by distance band (a small payload)."""

from __future__ import annotations

import pytest

from qjgeo import Dataset
from qjgeo.gaps import gap_surface
from qjgeo.ui.pages.gaps import surface_by_band


def test_surface_by_band_keeps_bands_children_and_area(dataset: Dataset) -> None:
    cells = gap_surface(dataset, "childcare")
    merged = surface_by_band(cells)
    assert sorted(merged["distance_band"]) == sorted(cells["distance_band"].unique())
    assert merged["children"].sum() == pytest.approx(cells["children"].sum())
    metric = "EPSG:32649"
    assert merged.to_crs(metric).area.sum() == pytest.approx(
        cells.to_crs(metric).area.sum(), rel=1e-6
    )
    assert len(merged) < len(cells) / 50
