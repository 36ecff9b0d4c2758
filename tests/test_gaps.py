"""Coverage gaps per village / township and the hexagonal gap surface (qjgeo.gaps).

Expected figures on the tiny fixture (tests/fixtures/gaps/README.md) are worked out by hand.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from qjgeo import Dataset, load_dataset
from qjgeo.gaps import (
    UNREACHABLE_BAND,
    GapsUnavailable,
    band_edges,
    band_labels,
    classify_distance,
    compute_all_gaps,
    compute_gaps,
    gap_surface,
    hex_grid,
)
from qjgeo.network import graph_from_arrays
from qjgeo.params import merge_params

TINY = Path(__file__).resolve().parent / "fixtures" / "gaps" / "tiny"
X0, Y0 = 460000.0, 2730000.0


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    """The tiny dataset, with detour factor 1 so straight lines are the distances."""
    ds = load_dataset(TINY)
    return ds.with_params(merge_params(ds.params, {"detour_factor": 1.0}))


def _by_code(result_villages: pd.DataFrame) -> pd.DataFrame:
    return result_villages.set_index("code12")


def test_per_village_childcare_by_hand(tiny: Dataset) -> None:
    r = compute_gaps(tiny, "childcare")
    v = _by_code(r.villages)
    # V1 is exactly 300 m from C1: the urban distance, inclusive -> covered
    assert v.loc["440205001001", "distance_m"] == pytest.approx(300.0, abs=1e-6)
    assert bool(v.loc["440205001001", "covered"]) is True
    assert v.loc["440205001001", "facility_id"] == "C1"
    # V2: sqrt(1000² + 300²) = 1044.03 > 300 (urban) -> uncovered, its 50 children count
    assert v.loc["440205001002", "distance_m"] == pytest.approx(math.hypot(1000, 300), abs=1e-6)
    assert not v.loc["440205001002", "covered"]
    assert v.loc["440205001002", "children_uncovered"] == 50
    # V3 rural: 1500 m to C2 ≤ 2000 m -> covered
    assert v.loc["440205100201", "distance_m"] == pytest.approx(1500.0, abs=1e-6)
    assert v.loc["440205100201", "threshold_m"] == 2000
    assert v.loc["440205100201", "covered"]
    assert v.loc["440205100201", "facility_id"] == "C2"
    # V4 rural: sqrt(10000² + 3500²) = 10594.8 -> uncovered
    assert v.loc["440205100202", "distance_m"] == pytest.approx(math.hypot(10000, 3500), abs=1e-6)
    assert v.loc["440205100202", "children_uncovered"] == 10
    assert list(v["children"]) == [100, 50, 40, 10]  # pop_0_2
    assert list(v["distance_band"]) == ["≤300 m", "1–2 km", "1–2 km", ">3 km"]
    assert set(v["method"]) == {"straight_line_x_detour"}
    assert r.method == "straight_line_x_detour"
    assert r.age_label == "0–2"


def test_per_township_and_district_by_hand(tiny: Dataset) -> None:
    r = compute_gaps(tiny, "childcare")
    t = r.townships.set_index("code9")
    assert t.loc["440205001", "children"] == 150
    assert t.loc["440205001", "children_covered"] == 100
    assert t.loc["440205001", "children_uncovered"] == 50
    assert t.loc["440205001", "share_covered"] == pytest.approx(2 / 3)
    assert t.loc["440205100", "share_covered"] == pytest.approx(40 / 50)
    assert t.loc["440205001", "name"] == "甲街道"
    # a township without villages: no children, share undefined (NaN), not 0 or 1
    assert t.loc["440205102", "children"] == 0
    assert math.isnan(t.loc["440205102", "share_covered"])
    assert r.district["children"] == 200
    assert r.district["children_uncovered"] == 60
    assert r.district["share_covered"] == pytest.approx(0.7)
    assert r.district["villages_covered"] == 2


def test_detour_factor_applies_without_network(tiny: Dataset) -> None:
    ds = tiny.with_params(merge_params(tiny.params, {"detour_factor": 1.3}))
    v = _by_code(compute_gaps(ds, "childcare").villages)
    # 300 m straight line × 1.3 = 390 m > 300 m: no longer covered
    assert v.loc["440205001001", "distance_m"] == pytest.approx(390.0, abs=1e-6)
    assert not v.loc["440205001001", "covered"]
    assert compute_gaps(ds, "childcare").params_used["detour_factor"] == 1.3


def test_threshold_override_and_age_bands(tiny: Dataset) -> None:
    r = compute_gaps(tiny, "childcare", threshold_m=1000)
    v = _by_code(r.villages)
    assert list(v["covered"]) == [True, False, False, False]  # V3 at 1500 m now too far
    assert set(v["threshold_m"]) == {1000.0}
    assert r.params_used["urban_threshold_m"] == r.params_used["rural_threshold_m"] == 1000
    assert r.params_used["threshold_override"] is True
    r2 = compute_gaps(tiny, "childcare", age_bands=("pop_3_5",))
    assert list(r2.villages["children"]) == [40, 20, 30, 10]
    with pytest.raises(GapsUnavailable, match="threshold_m"):
        compute_gaps(tiny, "childcare", threshold_m=-5)


def test_threshold_exactly_met_on_other_distance(tiny: Dataset) -> None:
    # threshold exactly V3's distance: covered (≤), one metre less: not
    assert _by_code(compute_gaps(tiny, "childcare", threshold_m=1500).villages).loc[
        "440205100201", "covered"
    ]
    assert not _by_code(compute_gaps(tiny, "childcare", threshold_m=1499).villages).loc[
        "440205100201", "covered"
    ]


def _empty_parks(ds: Dataset) -> Dataset:
    cols = ["id", "name", "township_code", "provenance", "source"]
    frame = gpd.GeoDataFrame(
        {c: pd.Series([], dtype=object) for c in cols}
        | {
            "has_play_area": pd.Series([], dtype=bool),
            "child_friendly_base": pd.Series([], dtype=bool),
        },
        geometry=gpd.GeoSeries([], crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    spec = ds.spec("childcare").model_copy(
        update={"id": "park", "title_en": "Parks", "file": "park.geojson"}
    )
    return ds.with_layer("park", frame, spec)


def test_empty_facility_layer_all_uncovered(tiny: Dataset) -> None:
    r = compute_gaps(_empty_parks(tiny), "park")
    assert r.method == "no facilities"
    assert np.isinf(r.villages["distance_m"]).all()
    assert (~r.villages["covered"]).all()
    assert (r.villages["children_uncovered"] == r.villages["children"]).all()
    assert set(r.villages["method"]) == {"unreachable: no facilities"}
    assert set(r.villages["distance_band"]) == {UNREACHABLE_BAND}
    assert r.district["share_covered"] == 0.0
    assert r.district["villages_unreachable"] == 4


def test_missing_layers_are_not_available(tiny: Dataset) -> None:
    with pytest.raises(GapsUnavailable, match="no 'park' layer"):
        compute_gaps(tiny, "park")
    with pytest.raises(GapsUnavailable, match="no access parameters"):
        compute_gaps(tiny, "water_hazard")
    no_villages = Dataset(
        info=tiny.info,
        specs={k: v for k, v in tiny.specs.items() if k != "village"},
        frames={k: v for k, v in tiny.frames.items() if k != "village"},
    )
    with pytest.raises(GapsUnavailable, match="no village layer"):
        compute_gaps(no_villages, "childcare")
    assert compute_all_gaps(no_villages) == {}
    assert list(compute_all_gaps(tiny)) == ["childcare"]


def _tiny_graph():  # type: ignore[no-untyped-def]
    """Nodes on V1, C1, V2 (one component), V3–C2 (another) and a stub near V4 (a third)."""
    nodes = {
        1: (0, 0),
        2: (0, 300),
        3: (1000, 0),
        4: (0, 5000),
        6: (0, 6500),
        5: (10000, 10000),
        7: (10000, 10100),
    }
    ids = np.array(list(nodes))
    xy = np.array(list(nodes.values()), dtype=float) + np.array([X0, Y0])
    u, v, length = [1, 1, 4, 5], [2, 3, 6, 7], [300.0, 1000.0, 1600.0, 100.0]
    return graph_from_arrays(ids, xy[:, 0], xy[:, 1], u, v, length)


def test_gaps_on_network_with_disconnected_component(tiny: Dataset) -> None:
    r = compute_gaps(tiny, "childcare", graph=_tiny_graph())
    v = _by_code(r.villages)
    assert r.method == "network"
    assert v.loc["440205001001", "distance_m"] == pytest.approx(300.0)
    assert v.loc["440205001002", "distance_m"] == pytest.approx(1300.0)  # 1000 + 300 by road
    assert v.loc["440205100201", "distance_m"] == pytest.approx(1600.0)
    assert v.loc["440205100201", "covered"]
    # V4's piece of network holds no childcare: infinite distance, stated, never zero
    assert np.isinf(v.loc["440205100202", "distance_m"])
    assert v.loc["440205100202", "method"] == "unreachable: network"
    assert v.loc["440205100202", "distance_band"] == UNREACHABLE_BAND
    assert not v.loc["440205100202", "covered"]
    assert r.district["villages_unreachable"] == 1
    assert r.params_used["network_crs"] == "EPSG:4547"


def test_village_off_network_is_unreachable(tiny: Dataset) -> None:
    graph = _tiny_graph()
    moved = tiny.layer("village").to_crs("EPSG:4547").copy()
    moved.loc[moved["code12"] == "440205001002", "geometry"] = shapely.Point(X0 + 3000, Y0)
    r = compute_gaps(tiny.with_layer("village", moved), "childcare", graph=graph)
    row = _by_code(r.villages).loc["440205001002"]
    assert np.isinf(row["distance_m"])
    assert row["method"] == "unreachable: snap"
    assert row["children_uncovered"] == 50


@pytest.mark.parametrize("where", [None, shapely.Point()], ids=["missing", "empty"])
@pytest.mark.parametrize("on_network", [False, True], ids=["straight", "network"])
def test_village_without_location_is_unreachable_not_a_crash(
    tiny: Dataset, where: shapely.Point | None, on_network: bool
) -> None:
    villages = tiny.layer("village").copy()
    villages.loc[villages["code12"] == "440205001002", "geometry"] = where
    graph = _tiny_graph() if on_network else None
    r = compute_gaps(tiny.with_layer("village", villages), "childcare", graph=graph)
    v = _by_code(r.villages)
    row = v.loc["440205001002"]
    assert np.isinf(row["distance_m"]) and pd.isna(row["facility_id"])
    assert row["method"] == "unreachable: missing geometry"
    assert row["distance_band"] == UNREACHABLE_BAND
    assert not row["covered"] and row["children_uncovered"] == 50
    assert v.loc["440205001001", "distance_m"] == pytest.approx(300.0)  # the others as before
    assert r.district["villages_unreachable"] == (2 if on_network else 1)


def test_empty_facility_layer_on_a_network(tiny: Dataset) -> None:
    r = compute_gaps(_empty_parks(tiny), "park", graph=_tiny_graph())
    assert r.method == "no facilities"
    assert np.isinf(r.villages["distance_m"]).all() and (~r.villages["covered"]).all()
    assert set(r.villages["method"]) == {"unreachable: no facilities"}
    assert r.villages["facility_id"].isna().all()
    assert r.district["children_uncovered"] == r.district["children"] == 700
    surface = gap_surface(_empty_parks(tiny), "park", graph=_tiny_graph(), cell_size_m=1000)
    assert len(surface) and np.isinf(surface["distance_m"]).all()
    assert set(surface["method"]) == {"unreachable: no facilities"}
    assert set(surface["distance_band"]) == {UNREACHABLE_BAND}


def test_bands_and_labels() -> None:
    ds = load_dataset(TINY)
    edges = band_edges(ds.params.facility("childcare"))
    assert edges == (300.0, 1000.0, 2000.0, 3000.0)
    assert band_labels(edges) == ("≤300 m", "300–1000 m", "1–2 km", "2–3 km", ">3 km")
    assert band_labels((500.0, 1500.0)) == ("≤500 m", "500–1500 m", ">1.5 km")
    labels, order = classify_distance([0, 300, 300.5, 1000, 3000, 3001, math.inf], edges)
    assert list(labels) == [
        "≤300 m",
        "≤300 m",
        "300–1000 m",
        "300–1000 m",
        "2–3 km",
        ">3 km",
        UNREACHABLE_BAND,
    ]
    assert list(order) == [0, 0, 1, 1, 3, 4, 5]
    assert band_edges(ds.params.facility("childcare"), threshold_m=1500) == (
        1000.0,
        1500.0,
        2000.0,
        3000.0,
    )


@pytest.mark.parametrize("orientation", ["pointy", "flat"])
def test_hex_grid_tiles_the_plane(orientation: str) -> None:
    centres, polys = hex_grid((0, 0, 5000, 4000), 400, orientation=orientation)  # type: ignore[arg-type]
    area = 3 * math.sqrt(3) / 2 * 400**2
    assert np.allclose(shapely.area(polys), area)
    # neighbours do not overlap: total area of the union equals the sum of areas
    union = shapely.union_all(polys)
    assert union.area == pytest.approx(area * len(polys), rel=1e-9)
    assert shapely.contains_xy(union, 2500.0, 2000.0)
    assert np.allclose(shapely.get_coordinates(shapely.centroid(polys)), centres)


def test_gap_surface_covers_villages_and_classifies(tiny: Dataset) -> None:
    surface = gap_surface(tiny, "childcare", cell_size_m=250, settled_radius_m=800)
    assert surface.crs.to_epsg() == 4326
    metric = surface.to_crs("EPSG:4547")
    villages = tiny.metric("village")
    # every village point lies in a cell, and the cells hold all the children once
    cover = shapely.union_all(metric.geometry.to_numpy())
    assert shapely.contains(cover, villages.geometry.to_numpy()).all()
    assert surface["children"].sum() == pytest.approx(200)
    # classification: recompute each centre's nearest straight-line distance (detour 1)
    centres = shapely.get_coordinates(metric.geometry.centroid)
    fac = shapely.get_coordinates(tiny.metric("childcare").geometry)
    d = np.hypot(*(centres[:, None, :] - fac[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    assert np.allclose(surface["distance_m"], d, atol=1e-3)
    expected, _ = classify_distance(d, (300.0, 1000.0, 2000.0, 3000.0))
    assert (surface["distance_band"].to_numpy() == expected).all()
    # cells lie only around villages: none in the empty middle of the district
    assert not shapely.contains_xy(cover, X0 + 6000, Y0 + 3000)
    # the cell holding V1 takes its urban class and 300 m threshold
    at_v1 = metric[metric.contains(shapely.Point(X0, Y0))]
    assert len(at_v1) == 1 and bool(at_v1["urban"].iloc[0]) and at_v1["threshold_m"].iloc[0] == 300


def test_gap_surface_with_empty_layer(tiny: Dataset) -> None:
    surface = gap_surface(_empty_parks(tiny), "park", cell_size_m=500)
    assert len(surface) > 0
    assert set(surface["distance_band"]) == {UNREACHABLE_BAND}
    assert not surface["covered"].any()


def test_bundled_childcare_gaps_are_worse_in_mountain_towns(dataset: Dataset) -> None:
    r = compute_gaps(dataset, "childcare")
    share = r.townships.set_index("name")["share_covered"]
    for town in ("罗坑镇", "小坑镇", "枫湾镇"):
        assert share[town] < share["松山街道"]
    assert r.data_status == "sample"
    assert "childcare" in r.weak_layers
    assert len(r.villages) == len(dataset.layer("village"))
    assert r.district["children"] == pytest.approx(dataset.layer("village")["pop_0_2"].sum())


def test_bundled_all_types(dataset: Dataset) -> None:
    results = compute_all_gaps(dataset)
    assert set(results) == set(dataset.params.access) & set(dataset.layer_ids)
    for result in results.values():
        d = result.district
        assert d["children_covered"] + d["children_uncovered"] == pytest.approx(d["children"])
        assert 0 <= d["share_covered"] <= 1
        assert (result.townships["children"].sum()) == pytest.approx(d["children"])


# --------------------------------------------------------------------------------------
# qjgeo gaps (command line)


def _cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from qjgeo.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_table_sorted_and_says_method() -> None:
    result = _cli("gaps", "--type", "childcare", "--data", str(TINY))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "straight line × detour factor 1.3" in out
    assert "urban 300 m (5 min), rural 2,000 m (33 min)" in out  # walking minutes too
    assert "mode: walk" in out
    assert "SAMPLE" in out  # the fixture is sample data and says so, in Chinese too
    assert "样例" in out and "非官方统计" in out
    # detour 1.3: V1 390 m (100 uncovered), V2 1357 m (50), V4 (10), V3 1950 m ≤ 2000 (0)
    body = out[out.index("villages (most") :]
    assert body.index("一社区") < body.index("二社区") < body.index("四村") < body.index("三村")


def test_cli_json_and_threshold(tmp_path: Path) -> None:
    result = _cli(
        "gaps", "--type", "childcare", "--data", str(TINY), "--threshold-m", "5000",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["params_used"]["urban_threshold_m"] == 5000
    assert payload["data_status"] == "sample"
    assert {v["code12"] for v in payload["villages"] if v["covered"]} == {
        "440205001001",
        "440205001002",
        "440205100201",
    }
    assert payload["district"]["children_uncovered"] == 10


def test_cli_errors_are_one_clear_line(tmp_path: Path) -> None:
    bad_type = _cli("gaps", "--type", "zoo", "--data", str(TINY))
    assert bad_type.exit_code == 2
    assert "valid types: childcare" in bad_type.output and "not in this dataset" in bad_type.output
    assert "Traceback" not in bad_type.output
    bad_threshold = _cli("gaps", "--type", "childcare", "--data", str(TINY), "--threshold-m", "-1")
    assert bad_threshold.exit_code == 2 and "--threshold-m" in bad_threshold.output
    bad_net = _cli("gaps", "--type", "childcare", "--data", str(TINY), "--network", "nope.npz")
    assert bad_net.exit_code == 2 and "nope.npz" in bad_net.output
    bad_out = _cli("gaps", "--type", "childcare", "--data", str(TINY), "--out", "x.shp")
    assert bad_out.exit_code == 2 and "x.shp" in bad_out.output
    bad_town = _cli("gaps", "--type", "childcare", "--data", str(TINY), "--township", "丁镇")
    assert bad_town.exit_code == 2 and "甲街道" in bad_town.output
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: x\nadd: [{type: childcare, lon: 1}]\n", encoding="utf-8")
    bad_scenario = _cli(
        "gaps", "--type", "childcare", "--data", str(TINY), "--scenario", str(scenario)
    )
    assert bad_scenario.exit_code == 2 and "s.yaml" in bad_scenario.output


def test_cli_township_filter_and_exports(tmp_path: Path) -> None:
    csv_path, gpkg_path, hex_path = tmp_path / "v.csv", tmp_path / "v.gpkg", tmp_path / "h.geojson"
    result = _cli(
        "gaps", "--type", "childcare", "--data", str(TINY), "--township", "乙镇",
        "--out", str(csv_path), "--surface", str(hex_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "一社区" not in result.output and "三村" in result.output
    table = pd.read_csv(csv_path, encoding="utf-8-sig", dtype={"code12": str})
    assert list(table["code12"]) == ["440205100202", "440205100201"]
    assert set(table["data_status"]) == {"sample"}
    assert {"lon", "lat", "method"} <= set(table.columns)
    cells = gpd.read_file(hex_path)
    assert len(cells) > 0 and "distance_band" in cells.columns
    empty = _cli_empty_parks_export(tmp_path, gpkg_path)
    assert empty.exit_code == 0, empty.output


def _tiny_with_empty_parks(tmp_path: Path) -> Path:
    """A copy of the tiny dataset with an empty park layer (GeoPackage keeps the columns)."""
    import shutil

    import yaml

    data = tmp_path / "with_parks"
    shutil.copytree(TINY, data)
    ds = load_dataset(TINY)
    _empty_parks(ds).layer("park").to_file(data / "park.gpkg", driver="GPKG", layer="park")
    manifest = yaml.safe_load((data / "manifest.yaml").read_text(encoding="utf-8"))
    entry = dict(
        manifest["layers"][-1], id="park", title_en="Parks", file="park.gpkg", crs="EPSG:4326"
    )
    manifest["layers"].append(entry)
    (data / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), "utf-8")
    return data


def _cli_empty_parks_export(tmp_path: Path, gpkg_path: Path) -> Any:
    """``qjgeo gaps --type park --out FILE.gpkg`` on the tiny dataset with no parks."""
    data = _tiny_with_empty_parks(tmp_path)
    result = _cli("gaps", "--type", "park", "--data", str(data), "--out", str(gpkg_path))
    assert "no facilities" in result.output and "inf (unreachable)" in result.output
    villages = gpd.read_file(gpkg_path, layer="gap_villages")
    assert villages["distance_m"].isna().all()  # GIS files: empty, never 0
    assert set(villages["method"]) == {"unreachable: no facilities"}
    towns = gpd.read_file(gpkg_path, layer="gap_townships")
    assert len(towns) == 3 and (towns.geom_type == "Polygon").all()
    return result


def test_cli_empty_layer_states_inf_in_json_and_csv(tmp_path: Path) -> None:
    data = _tiny_with_empty_parks(tmp_path)
    result = _cli("gaps", "--type", "park", "--data", str(data), "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["method"] == "no facilities"
    assert len(payload["villages"]) == 4
    for village in payload["villages"]:
        assert village["distance_m"] == "inf" and village["facility_id"] is None
        assert village["method"] == "unreachable: no facilities"
        assert village["covered"] is False and village["distance_band"] == UNREACHABLE_BAND
        assert village["children_uncovered"] == village["children"]
    district = payload["district"]
    assert district["villages_unreachable"] == 4 and district["share_covered"] == 0.0
    assert district["children_uncovered"] == district["children"] == 700
    csv = _cli("gaps", "--type", "park", "--data", str(data), "--format", "csv")
    assert csv.exit_code == 0, csv.output
    table = pd.read_csv(io.StringIO(csv.output), dtype={"code12": str})
    assert np.isinf(table["distance_m"]).all()  # written "inf", never 0 or empty
    assert set(table["method"]) == {"unreachable: no facilities"}
    hexes = tmp_path / "hexes.geojson"
    surface = _cli("gaps", "--type", "park", "--data", str(data), "--surface", str(hexes))
    assert surface.exit_code == 0, surface.output
    assert "no facilities: every cell unreachable" in surface.output
    cells = gpd.read_file(hexes)
    assert len(cells) and cells["distance_m"].isna().all()  # GIS files: empty, never 0
    assert set(cells["method"]) == {"unreachable: no facilities"}


def test_cli_village_off_the_network_is_stated(tmp_path: Path) -> None:
    from qjgeo.network import save_walk_graph

    # the tiny graph without node 3 under V2: V2 is 1 km from the nearest node (limit 500 m)
    nodes = {1: (0, 0), 2: (0, 300), 4: (0, 5000), 6: (0, 6500), 5: (10000, 10000)}
    xy = np.array(list(nodes.values()), dtype=float) + np.array([X0, Y0])
    graph = graph_from_arrays(list(nodes), xy[:, 0], xy[:, 1], [1, 4], [2, 6], [300.0, 1600.0])
    net = save_walk_graph(graph, tmp_path / "net.npz")
    args = ("gaps", "--type", "childcare", "--data", str(TINY), "--network", str(net))
    table = _cli(*args)
    assert table.exit_code == 0, table.output
    line = next(row for row in table.output.splitlines() if "440205001002" in row)
    assert "inf (unreachable)" in line and "unreachable: snap" in line
    assert "2 unreachable" in table.output  # V2 off the network, V4 on a node with no facility
    by_code = {
        v["code12"]: v for v in json.loads(_cli(*args, "--format", "json").output)["villages"]
    }
    assert by_code["440205001002"]["distance_m"] == "inf"
    assert by_code["440205001002"]["method"] == "unreachable: snap"
    assert by_code["440205001002"]["children_uncovered"] == 50
    assert by_code["440205100202"]["method"] == "unreachable: network"


def test_cli_uses_dataset_network_by_default(tmp_path: Path) -> None:
    import shutil

    from qjgeo.network import save_walk_graph

    data = tmp_path / "tiny_net"
    shutil.copytree(TINY, data)
    save_walk_graph(_tiny_graph(), data / "network.npz")
    result = _cli("gaps", "--type", "childcare", "--data", str(data), "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["method"] == "network" and "dataset default" in payload["network"]
    by_code = {v["code12"]: v for v in payload["villages"]}
    assert by_code["440205100202"]["distance_m"] == "inf"
    assert by_code["440205100202"]["method"] == "unreachable: network"
    assert by_code["440205001002"]["distance_m"] == pytest.approx(1300.0)


def test_cli_supply_demand_and_scenario(tmp_path: Path) -> None:
    result = _cli(
        "gaps", "--type", "childcare", "--data", str(TINY), "--threshold-m", "2000",
        "--supply-demand", "2sfca", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sd = json.loads(result.output)["supply_demand"]
    # detour 1.3: V1 390 m, V2 1357 m reach C1 (30 places); V3 1950 m reaches C2 (20 places)
    by_code = {v["code12"]: v for v in sd["villages"]}
    assert by_code["440205001001"]["places_per_1000_children"] == pytest.approx(200)
    assert by_code["440205100201"]["places_per_1000_children"] == pytest.approx(500)
    assert sd["method"] == "2sfca step 2000 m (straight_line_x_detour)"
    wrong = _cli("gaps", "--type", "park", "--supply-demand", "2sfca")
    assert wrong.exit_code == 2 and "childcare only" in wrong.output
    scenario = tmp_path / "more.yaml"
    scenario.write_text(
        "name: more\nadd:\n- {type: childcare, lon: 113.5943, lat: 24.6745, name: 新托育,"
        " attributes: {places: 10, puhui: true}}\n",
        encoding="utf-8",
    )
    base = json.loads(_cli("gaps", "--type", "childcare", "--format", "json").output)
    after = _cli("gaps", "--type", "childcare", "--scenario", str(scenario), "--format", "json")
    assert after.exit_code == 0, after.output
    payload = json.loads(after.output)
    assert payload["scenario"] == "more"
    assert payload["district"]["facilities"] == base["district"]["facilities"] + 1
    assert payload["district"]["children_uncovered"] <= base["district"]["children_uncovered"]


def test_work_crs_is_epsg4547_for_qujiang(dataset: Dataset, tiny: Dataset) -> None:
    from qjgeo.gaps import work_crs

    assert work_crs(dataset) == "EPSG:4547"
    assert work_crs(tiny) == "EPSG:4547"
    assert work_crs(tiny, _tiny_graph()) == "EPSG:4547"
    assert compute_gaps(tiny, "childcare").params_used["crs"] == "EPSG:4547"


def test_gap_surface_threshold_override(tiny: Dataset) -> None:
    surface = gap_surface(tiny, "childcare", cell_size_m=250, threshold_m=1000)
    assert set(surface["threshold_m"]) == {1000.0}
    assert (surface["covered"] == (surface["distance_m"] <= 1000)).all()
    with pytest.raises(GapsUnavailable, match="no 'park' layer"):
        gap_surface(tiny, "park")


def test_gap_surface_keeps_every_village_cell(tiny: Dataset) -> None:
    # settled discs far smaller than a cell: the cells holding the villages are still there
    surface = gap_surface(tiny, "childcare", cell_size_m=1000, settled_radius_m=10)
    assert surface["children"].sum() == pytest.approx(200)
    cover = shapely.union_all(surface.to_crs("EPSG:4547").geometry.to_numpy())
    assert shapely.contains(cover, tiny.metric("village").geometry.to_numpy()).all()


@pytest.mark.parametrize(("side_km", "expected_m"), [(1.0, 50.0), (10.0, 196.2), (100.0, 500.0)])
def test_outline_cell_size_aims_at_a_thousand_cells(side_km: float, expected_m: float) -> None:
    from qjgeo.crs import METRIC_CRS
    from qjgeo.gaps import outline_cell_size

    ds = load_dataset(TINY)
    x0, y0 = 460_000.0, 2_730_000.0
    square = shapely.box(x0, y0, x0 + side_km * 1000, y0 + side_km * 1000)
    district = gpd.GeoDataFrame(
        {"name": ["d"], "provenance": ["sample"]}, geometry=[square], crs=METRIC_CRS
    ).to_crs(ds.layer("district").crs if ds.has("district") else "EPSG:4326")
    ds = ds.with_layer("district", district) if ds.has("district") else ds
    assert ds.has("district")
    assert outline_cell_size(ds) == pytest.approx(expected_m, rel=2e-3)
    # about 1,000 hexagons of that size cover the square (when not clamped)
    if 50.0 < expected_m < 500.0:
        assert (side_km * 1000) ** 2 / (2.598 * expected_m**2) == pytest.approx(1000, rel=0.01)


def test_cli_surface_without_villages_sizes_cells_to_the_outline(tmp_path: Path) -> None:
    from conftest import OSM_DIR

    from qjgeo.osm_import import import_osm

    data = import_osm(OSM_DIR / "West-Oakland.osm.bz2", tmp_path / "ds")
    out = tmp_path / "surface.gpkg"
    result = _cli("gaps", "--type", "park", "--data", str(data), "--surface", str(out))
    assert result.exit_code == 0, result.output
    cells = gpd.read_file(out)
    assert len(cells) >= 10  # 500 m hexagons would give 3 over this small extract
    assert set(cells["method"]) <= {"network", "unreachable: network", "unreachable: snap"}
    too_coarse = _cli(
        "gaps", "--type", "park", "--data", str(data), "--surface", str(out), "--cell-size-m", "500"
    )
    assert too_coarse.exit_code == 0 and len(gpd.read_file(out)) < len(cells)
