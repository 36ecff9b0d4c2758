"""The HTML gap map is self-contained and escapes every name."""

from __future__ import annotations

import json
import re

import pytest

from qjgeo.export.html import gap_map_html
from qjgeo.export.staticmap import map_layers
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
    assert "已覆盖" in page and "未覆盖" in page  # villages covered / not, in the legend
    assert "马坝镇" in page or json.dumps("马坝镇")[1:-1] in page  # township layer (JSON)


def _status_note(page: str) -> str:
    match = re.search(r'<div id="qjgeo-data-status".*?</div></div>', page, flags=re.S)
    assert match is not None, "no data-status note on the map"
    return match.group(0)


def test_data_status_note_names_weak_layers_in_the_maps_language(dataset) -> None:
    gaps = compute_gaps(dataset, "childcare")
    zh = _status_note(gap_map_html(dataset, "childcare", gaps=gaps, surface=False))
    assert 'data-status="sample"' in zh
    assert "示例/估算数据 — 非正式成果" in zh
    assert "托育机构为示例数据" in zh and "Data status" not in zh
    en = _status_note(gap_map_html(dataset, "childcare", gaps=gaps, surface=False, lang="en"))
    assert "Sample/estimated data — not an official result" in en
    assert "childcare = sample" in en and "数据状态" not in en


def test_data_status_note_is_escaped(dataset) -> None:
    spec = dataset.spec("childcare").model_copy(update={"title_zh": "<b>托育机构</b>"})
    ds = dataset.with_layer("childcare", dataset.layer("childcare"), spec)
    note = _status_note(gap_map_html(ds, "childcare", surface=False))
    assert "&lt;b&gt;托育机构&lt;/b&gt;为示例数据" in note
    assert "<b>" not in note


def test_data_status_note_on_official_data(dataset) -> None:
    ds = dataset
    for layer_id in map_layers("childcare"):
        frame = ds.layer(layer_id).copy()
        frame["provenance"] = "official"
        ds = ds.with_layer(layer_id, frame)
    note = _status_note(gap_map_html(ds, "childcare", surface=False))
    assert 'data-status="official"' in note
    assert "所用图层均为官方或用户提供数据" in note and "非正式成果" not in note


def test_coverage_in_percent_red_means_gap_and_km(dataset) -> None:
    gaps = compute_gaps(dataset, "childcare")
    page = gap_map_html(dataset, "childcare", gaps=gaps, surface=False)
    assert "儿童覆盖率 % covered（红 = 缺口 red = gap）" in page or "red = gap" in page
    # the colour scale runs 0 → 100 % from the gap red to the covered green
    assert "#d73027" in page and "#1a9850" in page
    assert '"vmin": 0.0' in page or "0.0," in page
    # popups: the distance in km with one decimal, no metres with decimals
    far = gaps.villages["distance_m"].max()
    assert f"{far / 1000:,.1f}" in page
    label = "到最近设施距离（公里）"
    assert "distance_m" not in page
    assert label in page or json.dumps(label)[1:-1] in page
