"""Isochrones in the exports (issue 18 item 3): the HTML map's catchment layer and legend, the
GeoPackage's ``isochrones`` layer (style, CRS, the polygons of :func:`qjgeo.isochrones`),
``qjgeo export --catchments`` / ``--catchments-at`` and their errors."""

from __future__ import annotations

import json
import sqlite3

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

from qjgeo.cli import app
from qjgeo.crs import METRIC_CRS
from qjgeo.export import ExportError, export_bytes
from qjgeo.export.html import gap_map_html
from qjgeo.gaps import compute_gaps
from qjgeo.isochrones import (
    ISO_COLOURS,
    IsochroneError,
    catchment_colours,
    facility_point,
    isochrones,
)
from qjgeo.mapview.offline import external_urls
from qjgeo.modes import graph_from_arrays

runner = CliRunner()
FACILITY = "CHI007"


def _grid_network(centre: tuple[float, float]):
    """A walking grid of 21 × 21 nodes 100 m apart around ``centre`` (lon, lat)."""
    xy = gpd.GeoSeries([shapely.Point(centre)], crs="EPSG:4326").to_crs(METRIC_CRS).iloc[0]
    n = 21
    ix, iy = np.meshgrid(np.arange(n), np.arange(n))
    ids = (iy * n + ix).ravel()
    x = xy.x + (ix.ravel() - n // 2) * 100.0
    y = xy.y + (iy.ravel() - n // 2) * 100.0
    right = ids[(ids % n) < n - 1]
    up = ids[ids < n * (n - 1)]
    u = np.concatenate([right, up])
    v = np.concatenate([right + 1, up + n])
    return graph_from_arrays(ids, x, y, u, v, np.full(len(u), 100.0), mode="walk")


@pytest.fixture(scope="module")
def point(dataset) -> tuple[float, float]:
    return facility_point(dataset, "childcare", FACILITY)[0]


@pytest.fixture(scope="module")
def catchments(dataset, point) -> gpd.GeoDataFrame:
    frame = isochrones(_grid_network(point), point, mode="walk")
    frame.insert(0, "place", f"childcare {FACILITY}")
    return frame


@pytest.fixture(scope="module")
def gaps(dataset):
    return compute_gaps(dataset, "childcare")


def _geojson_layer(page: str, layer: str) -> list[dict]:
    """The features of one overlay, read from the GeoJSON embedded in the page."""
    features = []
    for match in page.split("geo_json_")[1:]:
        start = match.find('{"bbox"')
        if start < 0 or f'"layer": "{layer}"' not in match[:200000]:
            continue
        data, _ = json.JSONDecoder().raw_decode(match[start:])
        features += [f for f in data["features"] if f["properties"].get("layer") == layer]
    return features


def test_colours_are_the_apps_nearest_first() -> None:
    assert catchment_colours(3) == list(ISO_COLOURS)
    assert catchment_colours(2) == list(ISO_COLOURS[:2])
    five = catchment_colours(5)
    assert five[0] == ISO_COLOURS[0] and five[2] == ISO_COLOURS[1] and five[-1] == ISO_COLOURS[2]


@pytest.mark.parametrize(("lang", "unit", "title"), [("zh", "分钟", "等时圈"),
                                                     ("en", "min", "Catchments")])  # fmt: skip
def test_html_draws_the_catchments_in_layer_and_legend(
    dataset, gaps, catchments, lang, unit, title
) -> None:
    page = gap_map_html(dataset, "childcare", gaps=gaps, surface=False, lang=lang,
                        catchments=catchments)  # fmt: skip
    assert external_urls(page) == []
    assert f"{title} childcare {FACILITY}" in page  # the layer's name (layer control, legend)
    for minutes, colour in zip((5, 10, 15), ISO_COLOURS, strict=True):
        assert f"background:{colour}" in page and f"</span>{minutes} {unit}</div>" in page
    legend = page[page.index(f"</span>5 {unit}<") - 400 :]
    assert legend.index(f">5 {unit}<") < legend.index(f">10 {unit}<") < legend.index(f">15 {unit}<")
    features = _geojson_layer(page, "isochrones")
    colours = [f["properties"]["c"] for f in features]
    assert colours == list(ISO_COLOURS[::-1])  # largest drawn first: the nearest on top
    values = " ".join(str(v) for f in features for v in f["properties"].values())
    assert ("步行" if lang == "zh" else "walk") in values
    assert ("路网" if lang == "zh" else "road network") in values
    assert "等时圈" in page and "catchments" in page  # the info box line, both languages
    assert gap_map_html(dataset, "childcare", gaps=gaps, surface=False).count(
        "isochrones"
    ) < page.count("isochrones")


def test_geopackage_holds_the_catchments_styled_in_the_chosen_crs(
    dataset, catchments, tmp_path
) -> None:
    path = tmp_path / "iso.gpkg"
    data = export_bytes("data", dataset, ".gpkg", crs="cgcs2000-gk", catchments=catchments)
    path.write_bytes(data)
    assert "isochrones" in dict(pyogrio.list_layers(path))
    assert pyogrio.read_info(path, layer="isochrones")["crs"] == "EPSG:4547"
    written = pyogrio.read_dataframe(path, layer="isochrones")
    assert list(written["minutes"]) == [15.0, 10.0, 5.0]  # largest first: nearest on top
    assert {"minutes", "mode", "method", "area_km2", "data_status"} <= set(written.columns)
    assert set(written["method"]) == {"network"} and set(written["mode"]) == {"walk"}
    expected = catchments.to_crs("EPSG:4547").set_index("minutes")
    for _, row in written.iterrows():
        want = expected.geometry.loc[row["minutes"]]
        assert shapely.equals_exact(row.geometry.normalize(), want.normalize(), tolerance=1e-6)
        assert row["area_km2"] == pytest.approx(expected.at[row["minutes"], "area_km2"], abs=1e-3)
    with sqlite3.connect(path) as con:
        qml, default = con.execute(
            "SELECT styleQML, useAsDefault FROM layer_styles WHERE f_table_name = 'isochrones'"
        ).fetchone()
        described = con.execute(
            "SELECT description FROM gpkg_contents WHERE table_name = 'isochrones'"
        ).fetchone()[0]
    assert default == 1 and 'type="RuleRenderer"' in qml and "26,152,80" in qml  # #1a9850
    assert "5 分钟 min" in qml and "面积（平方公里）" in qml
    assert "等时圈" in described and "5/10/15 min" in described and "mode walk" in described


def test_catchments_only_in_html_and_data(dataset, catchments) -> None:
    with pytest.raises(ExportError, match="html and data"):
        export_bytes("report", dataset, ".xlsx", catchments=catchments)


def test_cli_data_export_equals_the_isochrones_of_the_same_inputs(dataset, tmp_path) -> None:
    out = tmp_path / "cc.gpkg"
    result = runner.invoke(app, [
        "export", "--what", "data", "--type", "childcare", "--catchments", FACILITY,
        "--mode", "bike", "--catchment-minutes", "5,15", "--crs", "cgcs2000-gk", "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pyogrio.read_info(out, layer="isochrones")["crs"] == "EPSG:4547"
    written = pyogrio.read_dataframe(out, layer="isochrones").sort_values("minutes")
    point, _ = facility_point(dataset, "childcare", FACILITY)
    expected = isochrones(None, point, mode="bike", minutes=[5, 15]).to_crs("EPSG:4547")
    assert list(written["minutes"]) == [5.0, 15.0] and set(written["mode"]) == {"bike"}
    assert set(written["method"]) == {"straight_line_x_detour"}
    for got, want in zip(written.geometry, expected.geometry, strict=True):
        assert shapely.equals_exact(got.normalize(), want.normalize(), tolerance=1e-6)
    with sqlite3.connect(out) as con:
        assert con.execute(
            "SELECT COUNT(*) FROM layer_styles WHERE f_table_name = 'isochrones'"
        ).fetchone() == (1,)


def test_cli_html_with_catchments_at_a_point(tmp_path) -> None:
    out = tmp_path / "map.html"
    result = runner.invoke(app, ["export", "--what", "html", "--catchments-at", "113.6,24.68",
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "等时圈 113.60000, 24.68000" in page and "</span>15 分钟</div>" in page


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--catchments", "CHI999"], "CHI999"),
        (["--catchments-at", "113.6"], "113.6"),
        (["--catchments-at", "200,24"], "200,24"),
        (["--catchments", FACILITY, "--catchment-minutes", "5,x"], "5,x"),
        (["--catchments", FACILITY, "--catchments-at", "113.6,24.6"], "--catchments-at"),
    ],
)
def test_cli_bad_catchment_values_exit_2_naming_them(tmp_path, args, named) -> None:
    out = tmp_path / "bad.html"
    result = runner.invoke(app, ["export", "--what", "html", *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert named in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_cli_catchments_refused_on_a_static_map(tmp_path) -> None:
    result = runner.invoke(app, ["export", "--what", "map", "--catchments", FACILITY,
                                 "--out", str(tmp_path / "m.png")])  # fmt: skip
    assert result.exit_code == 2 and "html or data" in result.output


def test_facility_point_errors(dataset) -> None:
    with pytest.raises(IsochroneError, match="'zoo'"):
        facility_point(dataset, "zoo", FACILITY)
    with pytest.raises(IsochroneError, match="'nope'"):
        facility_point(dataset, "childcare", "nope")


def test_app_gis_download_carries_the_catchments_drawn(tmp_path, monkeypatch) -> None:
    """The Gaps page's GIS download holds the catchments the planner drew on its map."""
    from pathlib import Path

    import streamlit
    from streamlit.testing.v1 import AppTest

    from qjgeo.catalog import DEFAULT_DATA_DIR

    (tmp_path / "scenarios").mkdir()
    monkeypatch.setenv("QJGEO_DATA", str(DEFAULT_DATA_DIR))
    monkeypatch.setenv("QJGEO_SCENARIOS", str(tmp_path / "scenarios"))
    monkeypatch.setenv("QJGEO_MONITORING", str(tmp_path / "monitoring"))
    monkeypatch.delenv("QJGEO_TIANDITU_KEY", raising=False)
    seen: dict[str, object] = {}
    original = streamlit.download_button

    def record(label, data, file_name=None, mime=None, key=None, **kw):
        seen[str(key)] = data
        return original(label, data, file_name=file_name, mime=mime, key=key, **kw)

    monkeypatch.setattr(streamlit, "download_button", record)
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"),
                           default_timeout=120)  # fmt: skip
    at.query_params.update({"page": "gaps", "lang": "en", "layer": "childcare", "mode": "bike"})
    at.run()
    pick = next(s for s in at.selectbox if s.key == "gap_iso")
    pick.select(FACILITY).run()
    assert not at.exception, at.exception
    data = seen["exp_dl_gap_gpkg"]
    path = tmp_path / "app.gpkg"
    path.write_bytes(data() if callable(data) else data)  # type: ignore[operator]
    written = pyogrio.read_dataframe(path, layer="isochrones")
    assert sorted(written["minutes"]) == [5.0, 10.0, 15.0] and set(written["mode"]) == {"bike"}
    assert set(written["place"]) == {f"childcare {FACILITY}"}
