"""Tests of the pure folium map builder (qjgeo.mapview.build)."""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from qjgeo import Dataset
from qjgeo.crs import wgs84_to_gcj02
from qjgeo.mapview.build import (
    LAYER_STYLES,
    Overlay,
    basemap_system,
    build_map,
    display_frame,
    popup_fields,
)


def _geojson_layers(m: folium.Map) -> list[folium.GeoJson]:
    out = []
    stack = [m]
    while stack:
        el = stack.pop()
        if isinstance(el, folium.GeoJson):
            out.append(el)
        stack.extend(el._children.values())
    return out


def _layer_data(m: folium.Map, layer_id: str) -> dict:
    for gj in _geojson_layers(m):
        feats = gj.data["features"]
        if feats and feats[0]["properties"].get("layer") == layer_id:
            return gj.data
    raise AssertionError(f"no GeoJson for {layer_id}")


def test_every_requested_layer_is_a_toggleable_group_with_a_legend_entry(dataset: Dataset) -> None:
    layers = ["township", "village", "park", "kindergarten"]
    m = build_map(dataset, layers=layers, lang="en")
    html = m.get_root().render()
    groups = [c for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    assert [g.layer_name for g in groups] == [dataset.spec(lid).title_en for lid in layers]
    assert any(isinstance(c, folium.LayerControl) for c in m._children.values())
    legend = m._children["qjgeo_legend"].body
    for lid in layers:
        assert dataset.spec(lid).title_en in legend
        assert LAYER_STYLES[lid].color in legend
    assert "fa-tree" in legend  # park icon shown in the legend
    assert '"icon": "tree"' in html or "fa-tree" in html


def test_missing_layer_is_skipped_not_a_crash(dataset: Dataset) -> None:
    m = build_map(dataset, layers=["township", "no_such_layer"])
    groups = [c for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    assert len(groups) == 1


@pytest.mark.parametrize("empty", ["kindergarten", "park", "village", "township"])
def test_empty_layer_is_said_in_the_legend_not_a_crash(dataset: Dataset, empty: str) -> None:
    """A layer with no features (an OSM extract without kindergartens, a scenario removing
    every one) renders: folium's tooltip would refuse an empty FeatureCollection."""
    layers = ["township", "village", "park", "kindergarten"]
    ds = dataset.with_layer(empty, dataset.layer(empty).iloc[0:0])
    for lang, word in (("en", "(no features)"), ("zh", "（无要素）")):
        m = build_map(ds, layers=layers, lang=lang)
        m.get_root().render()
        groups = [c.layer_name for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
        title = ds.spec(empty).title_en if lang == "en" else ds.spec(empty).title_zh
        assert title not in groups and len(groups) == len(layers) - 1
        assert f"{title} {word}" in m._children["qjgeo_legend"].body


def test_popups_escape_html_and_carry_provenance(dataset: Dataset) -> None:
    villages = dataset.layer("village").copy()
    villages.loc[villages.index[0], "name"] = "<script>alert(1)</script>"
    ds = dataset.with_layer("village", villages)
    m = build_map(ds, layers=["village"], lang="zh")
    html = m.get_root().render()
    assert "<script>alert(1)</script>" not in html
    data = _layer_data(m, "village")
    props = data["features"][0]["properties"]
    assert props["name"] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in props.values()
    # the feature's provenance and the layer's source are popup rows
    fields, aliases, values = popup_fields(villages.iloc[:1], note={"source": "NBS <2023>"})
    assert "数据来源类型" in aliases and "来源" in aliases
    assert values[fields[aliases.index("数据来源类型")]] == ["估算"]  # coded values in words
    assert values[fields[aliases.index("来源")]] == ["NBS &lt;2023&gt;"]


def test_choropleth_fills_townships_by_value_and_adds_scale(dataset: Dataset) -> None:
    tw = dataset.layer("township")
    values = pd.Series(np.arange(len(tw), dtype=float), index=tw["code9"].astype(str))
    values.iloc[0] = np.nan
    m = build_map(dataset, layers=["township"], choropleth=values, choropleth_title="share")
    data = _layer_data(m, "township")
    fills = [f["properties"]["fill"] for f in data["features"]]
    assert fills[0] == "#cccccc"  # missing value drawn grey
    assert fills[1] != fills[-1]
    html = m.get_root().render()
    assert "share" in html  # colour scale caption


def test_amap_shifts_vectors_to_gcj02_osm_does_not(dataset: Dataset) -> None:
    village = dataset.layer("village").iloc[0]
    lon, lat = village.geometry.x, village.geometry.y
    glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    drawn = _layer_data(build_map(dataset, layers=["village"], basemap="amap"), "village")
    x, y = drawn["features"][0]["geometry"]["coordinates"]
    assert x == pytest.approx(glon[0], abs=1e-6) and y == pytest.approx(glat[0], abs=1e-6)
    assert abs(x - lon) > 1e-4  # the shift is hundreds of metres, not nothing
    plain = _layer_data(build_map(dataset, layers=["village"], basemap="osm"), "village")
    assert plain["features"][0]["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)
    assert basemap_system("tianditu") == "wgs84" and basemap_system("amap") == "gcj02"


def test_overlays_shift_too_and_are_coloured_by_category() -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["a", "b"], "band": ["near", "far"]},
        geometry=[Point(113.6, 24.7), Point(113.7, 24.8)],
        crs="EPSG:4326",
    )
    shifted = display_frame(frame, "amap")
    assert shifted.geometry.x.iloc[0] != pytest.approx(113.6, abs=1e-5)
    assert display_frame(frame, "none") is frame


def test_overlay_legend_lists_every_category(dataset: Dataset) -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["a", "b"], "band": ["near", "far"]},
        geometry=[box(113.6, 24.7, 113.61, 24.71), box(113.7, 24.8, 113.71, 24.81)],
        crs="EPSG:4326",
    )
    ov = Overlay(
        "gap", "Gap", frame, "band", {"near": "#00ff00", "far": "#ff0000"}, labels={"far": "Far!"}
    )
    m = build_map(dataset, layers=["township"], overlays=[ov])
    data = _layer_data(m, "gap")
    assert [f["properties"]["c"] for f in data["features"]] == ["#00ff00", "#ff0000"]
    legend = m._children["qjgeo_legend"].body
    assert "Far!" in legend and "near" in legend and "#ff0000" in legend


def test_basemaps_add_the_right_tiles(dataset: Dataset) -> None:
    assert "tile.openstreetmap.org" in build_map(dataset, basemap="osm").get_root().render()
    assert "autonavi" in build_map(dataset, basemap="amap").get_root().render()
    none_html = build_map(dataset, basemap="none").get_root().render()
    assert "tile.openstreetmap.org" not in none_html and "autonavi" not in none_html
    with pytest.raises(ValueError, match="QJGEO_TIANDITU_KEY"):
        build_map(dataset, basemap="tianditu")
    assert (
        "tk=KEY123"
        in build_map(dataset, basemap="tianditu", tianditu_key="KEY123").get_root().render()
    )
    with pytest.raises(ValueError, match="unknown basemap"):
        build_map(dataset, basemap="google")


def test_highlighted_township_is_flagged(dataset: Dataset) -> None:
    code = str(dataset.layer("township")["code9"].iloc[2])
    data = _layer_data(build_map(dataset, highlight_township=code), "township")
    bold = [f["properties"]["code9"] for f in data["features"] if f["properties"]["bold"]]
    assert bold == [code]


def test_payload_small_and_polygons_simplified(dataset: Dataset) -> None:
    full = build_map(dataset, layers=list(dataset.layer_ids)).get_root().render()
    assert len(full.encode()) < 1_500_000
    default = build_map(dataset).get_root().render()
    assert len(default.encode()) < 400_000
    raw = json.loads(dataset.layer("township").to_json())
    n_raw = sum(len(json.dumps(f["geometry"])) for f in raw["features"])
    drawn = _layer_data(build_map(dataset, layers=["township"]), "township")
    n_drawn = sum(len(json.dumps(f["geometry"])) for f in drawn["features"])
    assert n_drawn <= n_raw


def test_no_stray_script_tags_from_data(dataset: Dataset) -> None:
    """Every <script in the page comes from folium, none from attribute values."""
    tw = dataset.layer("township").copy()
    tw.loc[tw.index[0], "name"] = '"><img src=x onerror=alert(1)>'
    html = build_map(dataset.with_layer("township", tw)).get_root().render()
    assert "<img src=x" not in html
    assert not re.search(r"onerror=alert\(1\)>", html.replace("&gt;", ""))


def test_hazard_shapes_are_drawn_as_shapes_with_an_icon_each(dataset: Dataset) -> None:
    m = build_map(dataset, layers=["water_hazard"])
    drawn = [gj.data for gj in _geojson_layers(m)]
    assert {f["properties"]["layer"] for d in drawn for f in d["features"]} == {"water_hazard"}
    types = [{f["geometry"]["type"] for f in d["features"]} for d in drawn]
    n = len(dataset.layer("water_hazard"))
    assert {"Polygon", "LineString"} <= set().union(*types)  # the ponds' own outlines
    assert {"Point"} in types  # plus one icon per hazard
    assert all(len(d["features"]) == n for d in drawn)


def test_scale_bar_is_metric_only(dataset):
    from qjgeo.mapview.build import build_map

    html_text = build_map(dataset).get_root().render()
    assert "L.control.scale({metric: true, imperial: false})" in html_text
    assert "L.control.scale()" not in html_text


def test_attribution_prefix_is_plain_leaflet_without_a_flag(dataset) -> None:
    html_text = build_map(dataset, layers=["township"]).get_root().render()
    assert 'attributionControl.setPrefix("Leaflet")' in html_text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_popups_show_labels_and_units_not_internal_keys(dataset, lang: str) -> None:
    """Issue 14: popups showed code9, pop_0_2, seat_source, band_order as they are."""
    from qjgeo.gaps import compute_gaps

    towns = dataset.layer("township").iloc[:1]
    _, aliases, _ = popup_fields(towns, lang=lang)
    villages = compute_gaps(dataset, "childcare").villages.iloc[:1]
    _, v_aliases, v_values = popup_fields(villages, lang=lang)
    shown = aliases + v_aliases
    for key in ("code9", "pop_0_2", "seat_source", "seat_lat", "band_order", "distance_m"):
        assert key not in shown, key
    if lang == "zh":
        assert "0–2 岁儿童（人）" in aliases and "到最近设施距离（米）" in v_aliases
        assert any("直线距离 × 绕行系数" in v for vals in v_values.values() for v in vals)
    else:
        assert "Children 0–2" in aliases and "Distance to nearest (m)" in v_aliases


def test_map_to_click_on_has_no_popups_and_no_area_tooltips(dataset: Dataset) -> None:
    layers = ["township", "village", "kindergarten"]
    m = build_map(dataset, layers=layers, popups=False)
    for gj in _geojson_layers(m):
        kids = list(gj._children.values())
        assert not any(isinstance(c, folium.GeoJsonPopup) for c in kids)
        is_area = gj.data["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert not (is_area and any(isinstance(c, folium.GeoJsonTooltip) for c in kids))
    assert "bindPopup" not in m.get_root().render()
    assert "bindPopup" in build_map(dataset, layers=layers).get_root().render()  # the default


def test_map_fits_the_district_again_when_first_shown(dataset: Dataset) -> None:
    # a map in a tab not yet opened has no size: Leaflet's fitBounds then shows the world
    html = build_map(dataset, layers=["township"]).get_root().render()
    minx, miny, maxx, maxy = (round(float(v), 6) for v in dataset.layer("township").total_bounds)
    assert html.count(f"[[{miny}, {minx}], [{maxy}, {maxx}]]") == 2  # fitted now and when shown
    assert 'map.on("resize"' in html and "e.newSize.x > 0" in html
