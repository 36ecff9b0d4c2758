"""GIS exports open in pyogrio / pandas and hold exactly the results."""

from __future__ import annotations

import io
import json
import zipfile
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from qjgeo.export.gis import (
    SHAPEFILE_FIELDS,
    ExportError,
    flatten_frame,
    gis_layers,
    gis_package,
    indicators_by_township,
)
from qjgeo.gaps import compute_gaps, gap_surface
from qjgeo.indicators import evaluate

FACILITIES = {f"facility_{t}" for t in (
    "park", "family_edu_station", "science_venue", "childcare", "kindergarten",
    "primary_school", "middle_school", "children_home", "minors_protection_station",
    "health_centre", "internet_cafe",
)}  # fmt: skip


def _data_layers(path) -> list[str]:
    """The GeoPackage's layers without QGIS's ``layer_styles`` table."""
    return [name for name, _ in pyogrio.list_layers(path) if name != "layer_styles"]


@pytest.fixture(scope="module")
def results(dataset):
    return SimpleNamespace(
        gaps=compute_gaps(dataset, "childcare"),
        surface=gap_surface(dataset, "childcare"),
        indicators=evaluate(dataset),
    )


def _package(dataset, results, fmt: str, **kw) -> bytes:
    return gis_package(
        dataset, "childcare", fmt=fmt, gaps=results.gaps, surface=results.surface,  # type: ignore[arg-type]
        indicators=results.indicators, **kw,
    )  # fmt: skip


def test_geopackage_layers_and_row_counts(dataset, results, tmp_path) -> None:
    sites = gpd.GeoDataFrame(
        {"rank": [1, 2], "candidate_id": ["c1", "c2"], "name": ["新址一", "=新址二"]},
        geometry=[shapely.Point(113.6, 24.7), shapely.Point(113.5, 24.6)],
        crs="EPSG:4326",
    )
    rec = SimpleNamespace(sites=sites, facility_type="childcare", data_status="sample")
    path = tmp_path / "gaps.gpkg"
    path.write_bytes(_package(dataset, results, "gpkg", recommendation=rec))
    layers = dict(pyogrio.list_layers(path))
    assert set(layers) == FACILITIES | {
        "layer_styles",
        "district",
        "gaps_hex",
        "villages_access",
        "townships_summary",
        "indicators_by_township",
        "recommendations",
    }
    assert layers["villages_access"] == "Point" and layers["gaps_hex"] == "Polygon"
    villages = pyogrio.read_dataframe(path, layer="villages_access")
    assert len(villages) == len(results.gaps.villages) == 110
    assert len(pyogrio.read_dataframe(path, layer="gaps_hex")) == len(results.surface)
    towns = pyogrio.read_dataframe(path, layer="townships_summary")
    assert len(towns) == len(results.gaps.townships) == 10
    assert len(pyogrio.read_dataframe(path, layer="recommendations")) == 2
    # values come through: Chinese names, children and coverage per village
    expected = results.gaps.villages.set_index("code12")
    got = villages.set_index("code12").loc[expected.index]
    assert (got["name"] == expected["name"]).all()
    assert np.allclose(got["children"], expected["children"])
    assert (got["covered"].astype(bool) == expected["covered"].astype(bool)).all()
    assert set(villages["data_status"]) == {"sample"}
    assert (villages["township_name"].iloc[0]) in set(dataset.layer("township")["name"])
    t = towns.set_index("code9").loc["440205100"]
    row = results.gaps.townships.set_index("code9").loc["440205100"]
    assert t["children_uncovered"] == pytest.approx(row["children_uncovered"])
    assert t["share_covered"] == pytest.approx(row["share_covered"], abs=5e-4)  # 0.1 %


def test_unreachable_distance_is_null_not_infinite(dataset, tmp_path) -> None:
    empty = dataset.layer("childcare").iloc[0:0]
    ds = dataset.with_layer("childcare", gpd.GeoDataFrame(empty, crs=empty.crs))
    g = compute_gaps(ds, "childcare")
    data = gis_package(ds, "childcare", fmt="gpkg", gaps=g, surface=False, indicators=False)
    path = tmp_path / "u.gpkg"
    path.write_bytes(data)
    assert _data_layers(path)[:3] == ["district", "villages_access", "townships_summary"]
    assert set(_data_layers(path)[3:]) == FACILITIES
    villages = pyogrio.read_dataframe(path, layer="villages_access")
    assert villages["distance_m"].isna().all()
    assert set(villages["distance_band"]) == {"unreachable"}
    assert not villages["covered"].astype(bool).any()


def test_shapefile_zip_is_utf8_with_short_fields(dataset, results, tmp_path) -> None:
    data = _package(dataset, results, "shp.zip")
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = set(zf.namelist())
    for layer in ("gaps_hex", "villages_access", "townships_summary", "indicators_by_township"):
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            assert f"{layer}{ext}" in names
        assert zf.read(f"{layer}.cpg").decode().strip().upper() in {"UTF-8", "UTF8"}
    mapping = pd.read_csv(io.BytesIO(zf.read("fields.csv")), encoding="utf-8-sig")
    assert (mapping["field"].str.len() <= 10).all()
    for layer, fields in mapping.groupby("layer"):
        assert fields["field"].str.lower().is_unique, layer
    vmap = mapping[mapping["layer"] == "villages_access"].set_index("column")["field"]
    assert vmap["children_uncovered"] == SHAPEFILE_FIELDS["children_uncovered"] == "child_unc"
    path = tmp_path / "gaps.shp.zip"
    path.write_bytes(data)
    shp = pyogrio.read_dataframe(f"/vsizip/{path}/villages_access.shp")
    assert len(shp) == 110
    assert all(len(c) <= 10 for c in shp.columns if c != "geometry")
    by_code = shp.set_index("code12")
    expected = results.gaps.villages.set_index("code12")
    assert (by_code.loc[expected.index, "name"] == expected["name"]).all()  # Chinese readable
    assert np.allclose(by_code.loc[expected.index, "child_unc"], expected["children_uncovered"])


def test_csv_has_bom_lonlat_and_neutralised_text(dataset, results) -> None:
    village = dataset.layer("village").copy()
    village.loc[village.index[0], "name"] = '=HYPERLINK("http://x")'
    village.loc[village.index[1], "name"] = "@SUM(1)"
    ds = dataset.with_layer("village", village)
    g = compute_gaps(ds, "childcare")
    data = gis_package(ds, "childcare", fmt="csv", gaps=g, surface=False, indicators=False)
    assert data.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype={"code12": str})
    assert len(table) == 110
    assert table["name"].iloc[0] == '\'=HYPERLINK("http://x")'
    assert table["name"].iloc[1] == "'@SUM(1)"
    assert table["name"].iloc[2] == village["name"].iloc[2]
    assert {"lon", "lat"} <= set(table.columns)
    assert table["lon"].iloc[2] == pytest.approx(village.geometry.iloc[2].x, abs=1e-6)


def test_geojson_single_layer(dataset, results) -> None:
    data = _package(dataset, results, "geojson", layer="townships_summary")
    doc = json.loads(data)
    assert doc["type"] == "FeatureCollection"
    assert len(doc["features"]) == 10
    assert {f["properties"]["name"] for f in doc["features"]} == set(
        dataset.layer("township")["name"]
    )


def test_unknown_format_or_layer(dataset, results) -> None:
    with pytest.raises(ExportError, match=r"gpkg, geojson, shp\.zip, csv"):
        _package(dataset, results, "kml")
    with pytest.raises(ExportError, match="layer must be one of"):
        _package(dataset, results, "csv", layer="nope")
    with pytest.raises(ExportError, match="not available"):
        _package(dataset, results, "csv", layer="recommendations")


def test_indicators_by_township_matches_evaluate(dataset, results) -> None:
    wide = indicators_by_township(dataset, results.indicators).set_index("code9")
    rows = results.indicators[results.indicators["scope"] != "district"]
    assert len(wide) == 10
    for _, r in rows.sample(12, random_state=1).iterrows():
        got = wide.at[r["scope"], r["id"]]
        if pd.isna(r["value"]):
            assert pd.isna(got)
        else:
            assert got == pytest.approx(r["value"])
        met = wide.at[r["scope"], f"{r['id']}_met"]
        assert (None if pd.isna(met) else met) == (
            None if r["met"] is None else str(bool(r["met"]))
        )


def test_flatten_frame_lists_and_infinity() -> None:
    frame = pd.DataFrame({"a": [[1, 2], []], "d": [np.inf, 3.0], "s": ["x", None]})
    flat = flatten_frame(frame)
    assert flat["a"].tolist() == ["1、2", ""]
    assert np.isnan(flat["d"].iloc[0]) and flat["d"].iloc[1] == 3.0


def test_layers_can_be_left_out(dataset, results) -> None:
    layers = gis_layers(
        dataset, "childcare", gaps=results.gaps, surface=False, indicators=False, context=False
    )
    assert list(layers) == ["villages_access", "townships_summary"]


def test_every_layer_and_csv_carry_data_status(dataset, results, tmp_path) -> None:
    sites = gpd.GeoDataFrame(
        {"rank": [1], "candidate_id": ["c1"]},
        geometry=[shapely.Point(113.6, 24.7)],
        crs="EPSG:4326",
    )
    rec = SimpleNamespace(sites=sites, facility_type="childcare", data_status="estimated")
    path = tmp_path / "status.gpkg"
    path.write_bytes(_package(dataset, results, "gpkg", recommendation=rec))
    for name in _data_layers(path):
        frame = pyogrio.read_dataframe(path, layer=name)
        assert "data_status" in frame.columns, name
        assert frame["data_status"].notna().all(), name
    assert set(pyogrio.read_dataframe(path, layer="recommendations")["data_status"]) == {
        "estimated"
    }
    for layer in ("district", "gaps_hex", "villages_access", "townships_summary", "facilities"):
        table = pd.read_csv(
            io.BytesIO(_package(dataset, results, "csv", layer=layer)), encoding="utf-8-sig"
        )
        assert set(table["data_status"]) <= {"sample", "estimated", "official"}, layer
        assert table["data_status"].notna().all(), layer


def test_township_status_is_the_weakest_of_its_indicators(dataset, results) -> None:
    rows = results.indicators[results.indicators["scope"] != "district"].copy()
    rows["data_status"] = "official"
    code = str(rows["scope"].iloc[0])
    last_of_town = rows.index[rows["scope"].astype(str) == code][-1]
    rows.loc[last_of_town, "data_status"] = "osm"  # osm is weaker than official, wherever it is
    wide = indicators_by_township(dataset, rows).set_index("code9")
    assert wide.at[code, "data_status"] == "osm"
    others = wide.drop(index=code)["data_status"]
    assert set(others) == {"official"}


def _styles(path) -> dict[str, tuple[str, str, int, str]]:
    import sqlite3

    with sqlite3.connect(path) as con:
        rows = con.execute(
            "SELECT f_table_name, f_geometry_column, styleQML, useAsDefault, description "
            "FROM layer_styles"
        ).fetchall()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


@pytest.mark.parametrize(("crs", "epsg"), [(None, 4490), ("cgcs2000-gk", 4547)])
def test_geopackage_opens_in_qgis_styled(dataset, results, tmp_path, crs, epsg) -> None:
    """Every layer a colleague needs, each described, styled by default, in the chosen CRS."""
    import sqlite3

    kw = {} if crs is None else {"crs": crs}
    path = tmp_path / "qgis.gpkg"
    path.write_bytes(_package(dataset, results, "gpkg", **kw))
    layers = dict(pyogrio.list_layers(path))
    needed = {"district", "townships_summary", "villages_access", "gaps_hex"} | FACILITIES
    assert needed <= set(layers)
    styles = _styles(path)
    with sqlite3.connect(path) as con:
        described = dict(con.execute("SELECT table_name, description FROM gpkg_contents"))
    for name in _data_layers(path):
        info = pyogrio.read_info(path, layer=name)
        assert info["crs"] == f"EPSG:{epsg}", name
        geom_col, qml, default, _ = styles[name]
        assert geom_col == "geom" and default == 1, name
        assert qml.lstrip().startswith("<!DOCTYPE qgis") and "<renderer-v2" in qml, name
        assert described[name] and "data status" in described[name], name
    assert 'type="graduatedSymbol"' in styles["gaps_hex"][1]
    assert "&quot;covered&quot;" in styles["villages_access"][1]
    assert "outline_color" in styles["district"][1] and "<aliases>" in styles["district"][1]
    if epsg == 4547:  # metres: Qujiang lies near the central meridian 114°E
        bounds = pyogrio.read_info(path, layer="district", force_total_bounds=True)["total_bounds"]
        assert 3e5 < bounds[0] < 5e5 and 2.6e6 < bounds[1] < 2.8e6


def test_facility_layers_mark_scenario_additions_and_invented_attributes(
    dataset, results, tmp_path
) -> None:
    park = dataset.layer("park").copy()
    park["scenario"] = None
    park.loc[park.index[0], "scenario"] = "s1"  # a modified park
    added = park.iloc[[1]].copy()
    added["id"], added["provenance"] = "S-park-1", "user"
    added["source"], added["scenario"] = "scenario s1 (planner-entered)", "s1"
    park = gpd.GeoDataFrame(pd.concat([park, added], ignore_index=True), crs=park.crs)
    ds = dataset.with_layer("park", park)
    path = tmp_path / "s.gpkg"
    path.write_bytes(_package(ds, results, "gpkg"))
    got = pyogrio.read_dataframe(path, layer="facility_park").set_index("id")
    assert got.loc["S-park-1", "scenario_change"] == "added"
    assert got.loc[park["id"].iloc[0], "scenario_change"] == "changed"
    assert (
        got.drop(index=["S-park-1", park["id"].iloc[0]])["scenario_change"] == "unchanged"
    ).all()
    assert set(got["attribute_status"]) == {"has_play_area: sample; child_friendly_base: sample"}
    assert set(got["data_status"]) == {"sample"} and "provenance" in got.columns
    assert "'added'" in _styles(path)["facility_park"][1]


def test_shapefile_types_rounding_and_aliases(dataset, results, tmp_path) -> None:
    data = _package(dataset, results, "shp.zip")
    path = tmp_path / "t.zip"
    path.write_bytes(data)
    info = pyogrio.read_info(f"/vsizip/{path}/villages_access.shp")
    types = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert types["covered"] == "int64" and types["urban"] == "int64"  # booleans as 0/1
    assert types["dist_m"] == "float64" and types["child_unc"] == "float64"
    shp = pyogrio.read_dataframe(f"/vsizip/{path}/villages_access.shp")
    assert set(shp["covered"]) <= {0, 1}
    assert np.allclose(shp["dist_m"], shp["dist_m"].round(1), equal_nan=True)
    towns = pyogrio.read_dataframe(f"/vsizip/{path}/townships_summary.shp")
    assert np.allclose(towns["share_cov"], towns["share_cov"].round(3))  # 0.1 %
    ind = pyogrio.read_info(f"/vsizip/{path}/indicators_by_township.shp")["fields"]
    assert "sci_com" in ind and "sci_com_ok" in ind
    assert not [f for f in ind if f[:-1].endswith("_v") or f.endswith(("_sc3", "_v1"))]
    zf = zipfile.ZipFile(io.BytesIO(data))
    qml = zf.read("indicators_by_township.qml").decode("utf-8")
    assert 'field="sci_com" name="science_venue_community_coverage"' in qml
    assert zf.read("villages_access.cpg").decode().strip().upper() in {"UTF-8", "UTF8"}


def test_csv_of_the_facility_layer_in_metres(dataset, results) -> None:
    data = _package(dataset, results, "csv", layer="facilities", crs="cgcs2000-gk")
    table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert len(table) == len(dataset.layer("childcare"))
    assert {"x", "y", "scenario_change", "data_status", "provenance"} <= set(table.columns)
    assert table["x"].between(3e5, 5e5).all()
    with pytest.raises(ExportError, match="crs must be one of"):
        _package(dataset, results, "csv", crs="gcj02")
