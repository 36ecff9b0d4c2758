"""The bundled Qujiang dataset agrees with the official lists and is internally consistent."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
from conftest import REPO, SHARED

from qjgeo.catalog import DEFAULT_DATA_DIR
from qjgeo.schema import FACILITY_LAYERS, HAZARD_LAYERS

QUJIANG = SHARED / "data" / "qujiang"


@pytest.fixture(scope="module")
def official():
    if not QUJIANG.is_dir():
        pytest.skip(f"shared Qujiang sources not found at {QUJIANG}")
    townships = pd.read_csv(QUJIANG / "qujiang_townships_2023.csv", dtype=str)
    villages = pd.read_csv(QUJIANG / "qujiang_villages_2023.csv", dtype=str)
    return townships, villages


def test_township_codes_and_names_equal_official_list(dataset, official):
    townships, _ = official
    ours = dataset.layer("township")
    assert sorted(ours["code9"]) == sorted(townships["code9"])
    assert sorted(ours["code12"]) == sorted(townships["code12"])
    merged = ours.merge(townships, on="code9", suffixes=("", "_off"))
    assert (merged["name"] == merged["name_off"]).all()
    assert (merged["type"] == merged["type_off"]).all()


def test_village_codes_names_and_urban_class_equal_official_list(dataset, official):
    _, villages = official
    ours = dataset.layer("village")
    assert len(ours) == 110
    assert sorted(ours["code12"]) == sorted(villages["code12"])
    merged = ours.merge(villages, on="code12", suffixes=("", "_off"))
    assert (merged["name"] == merged["name_off"]).all()
    assert (merged["township_code"] == merged["township_code9"]).all()
    has_code = merged["ur_code_2016_vonng"].notna()
    assert (
        merged.loc[has_code, "ur_code"].astype(int)
        == merged.loc[has_code, "ur_code_2016_vonng"].astype(int)
    ).all()
    # the three 2023 communities without a 2016 code: inferred, flagged, urban
    inferred = merged.loc[~has_code]
    assert sorted(inferred["code12"]) == ["440205001005", "440205001006", "440205104002"]
    assert (inferred["ur_code_source"] == "inferred").all()
    assert inferred["urban"].all()
    assert (ours["urban"] == (ours["ur_code"] < 200)).all()


def test_every_village_lies_in_its_township_polygon(dataset):
    villages = dataset.metric("village")
    townships = dataset.metric("township")[["code9", "geometry"]]
    joined = gpd.sjoin(villages, townships, predicate="within", how="left")
    assert joined["code9"].notna().all()
    assert (joined["code9"] == joined["township_code"]).all()


def test_townships_tile_the_district(dataset):
    district = dataset.metric("district").geometry.iloc[0]
    townships = dataset.metric("township")
    union = townships.union_all()
    assert abs(union.area - district.area) / district.area < 0.01
    overlaps = sum(
        a.intersection(b).area
        for i, a in enumerate(townships.geometry)
        for b in townships.geometry[i + 1 :]
    )
    assert overlaps < 1e3  # square metres: boundaries only


def test_every_feature_lies_in_the_district(dataset):
    district = dataset.metric("district").geometry.iloc[0].buffer(1.0)
    for layer_id in ("village", *FACILITY_LAYERS, *HAZARD_LAYERS):
        frame = dataset.metric(layer_id)
        outside = frame[~frame.within(district)]
        assert outside.empty, (
            f"{layer_id}: {list(outside.get('name', outside.index))} outside the district"
        )


def test_facility_township_codes_match_location(dataset):
    townships = dataset.metric("township")[["code9", "geometry"]]
    for layer_id in FACILITY_LAYERS:
        frame = dataset.metric(layer_id)
        joined = gpd.sjoin(frame, townships, predicate="within", how="left")
        assert (joined["code9"] == joined["township_code"]).all(), layer_id


def test_population_sums_to_census_total(dataset):
    district = dataset.layer("district").iloc[0]
    assert district["population"] == 290_455
    townships = dataset.layer("township")
    villages = dataset.layer("village")
    assert townships["population"].sum() == 290_455
    assert villages["population"].sum() == 290_455
    by_town = villages.groupby("township_code")["population"].sum()
    assert (by_town == townships.set_index("code9")["population"]).all()
    # the two townships with a reported 2020 figure keep it
    pops = townships.set_index("name")["population"]
    assert pops["樟市镇"] == 16_868
    assert pops["小坑镇"] == 3_578
    # child bands follow the census shares (0-14 = 20.12 %)
    assert abs(district["pop_0_14"] / district["population"] - 0.2012) < 1e-4
    for frame in (townships, villages):
        total = frame[["pop_0_2", "pop_3_5", "pop_6_11", "pop_12_14"]].sum(axis=1)
        assert (total == frame["pop_0_14"]).all()


def test_real_names_are_estimated_and_invented_ones_sample(dataset):
    science = dataset.layer("science_venue").set_index("name")
    assert science.loc["马坝人博物馆（曲江区博物馆）", "provenance"] == "estimated"
    assert (dataset.layer("childcare")["provenance"] == "sample").all()
    water = dataset.layer("water_hazard").set_index("name")
    for real in ("北江", "浈江", "曹溪", "小坑水库"):
        assert water.loc[real, "provenance"] == "estimated"


def test_build_script_is_deterministic(tmp_path):
    if not QUJIANG.is_dir():
        pytest.skip("shared sources absent")
    subprocess.run(
        [sys.executable, str(REPO / "tools" / "build_qujiang.py"), str(QUJIANG), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for path in sorted(DEFAULT_DATA_DIR.glob("*")):
        if path.is_file() and path.suffix in {".geojson", ".yaml", ".json"}:
            assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name
