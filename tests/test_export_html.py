"""The HTML gap map is self-contained and escapes every name."""

from __future__ import annotations

import json

import pytest

from qjgeo.export.html import gap_map_html
from qjgeo.gaps import compute_gaps
from qjgeo.mapview.offline import external_urls

EVIL = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def page(dataset) -> str:
    village = dataset.layer("village").copy()
    village.loc[village.index[0], "name"] = EVIL
    ds = dataset.with_layer("village", village)
    return gap_map_html(ds, "childcare", gaps=compute_gaps(ds, "childcare"), surface=False)


def test_no_external_urls(page: str) -> None:
    assert page.lstrip().lower().startswith("<!doctype html")
    assert external_urls(page) == []


def test_names_are_escaped(page: str) -> None:
    assert EVIL not in page
    # HTML-escaped, then JSON-escaped inside the map's script (& → \u0026)
    assert "\\u0026lt;script\\u0026gt;alert(" in page
    assert "<script>alert(" not in page


def test_title_legend_and_data_status(page: str) -> None:
    assert "曲江区 托育机构 步行可达缺口" in page
    assert "数据状态" in page and "Data status" in page
    assert "≤300 m" in page  # a distance band in the legend
    assert "马坝镇" in page or json.dumps("马坝镇")[1:-1] in page  # township layer (JSON)
