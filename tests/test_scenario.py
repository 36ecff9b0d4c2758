"""Scenarios: files, validation messages, atomic saving, apply() and compare().

A tiny hand-built dataset (a 0.1° square district split into two townships, three villages,
two childcare points) gives hand-computed expectations; the bundled data checks the example
scenarios and compare().
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from qjgeo import Dataset
from qjgeo.catalog import DatasetInfo, LayerSpec
from qjgeo.cli import app
from qjgeo.crs import convert
from qjgeo.locking import LOCK_NAME
from qjgeo.scenario import (
    FacilityAdd,
    PointOutsideError,
    Scenario,
    ScenarioError,
    apply,
    compare,
    delete_scenario,
    file_stem,
    inside_district,
    list_scenarios,
    load_scenario,
    rename_scenario,
    resolve_chain,
    save_scenario,
    scenario_from_yaml,
    scenario_to_yaml,
    snapshot,
    write_schema,
)
from qjgeo.scenario.model import REQUIRED_NEW_ATTRIBUTES

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "scenarios"
POP = ("population", "pop_0_2", "pop_3_5", "pop_6_11", "pop_12_14", "pop_0_14")


def _spec(layer_id: str, kind: str, geom: str) -> LayerSpec:
    return LayerSpec(
        id=layer_id,
        title_zh=layer_id,
        title_en=layer_id,
        kind=kind,  # type: ignore[arg-type]
        geometry_type=geom,
        file=f"{layer_id}.geojson",
        provenance="sample",
        source="test",
        licence="test",
        as_of="2024",
    )


def _pops(population: int, pop_0_2: int) -> dict[str, int]:
    return {
        "population": population,
        "pop_0_2": pop_0_2,
        "pop_3_5": pop_0_2,
        "pop_6_11": 2 * pop_0_2,
        "pop_12_14": pop_0_2,
        "pop_0_14": 5 * pop_0_2,
    }


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    """District 113.0–113.1 E × 24.0–24.1 N; townships west (…901) and east (…902)."""
    box = shapely.box
    district = gpd.GeoDataFrame(
        [{"code": "440205", "name": "测试区", "provenance": "sample", **_pops(3000, 20)}],
        geometry=[box(113.0, 24.0, 113.1, 24.1)],
        crs="EPSG:4326",
    )
    towns = gpd.GeoDataFrame(
        [
            {
                "code9": "440205901",
                "code12": "440205901000",
                "name": "西镇",
                "type": "镇",
                "provenance": "sample",
                "child_friendly_demo": False,
                **_pops(1000, 5),
            },
            {
                "code9": "440205902",
                "code12": "440205902000",
                "name": "东镇",
                "type": "镇",
                "provenance": "sample",
                "child_friendly_demo": False,
                **_pops(2000, 15),
            },
        ],
        geometry=[box(113.0, 24.0, 113.05, 24.1), box(113.05, 24.0, 113.1, 24.1)],
        crs="EPSG:4326",
    )
    villages = gpd.GeoDataFrame(
        [
            {
                "code12": "440205901001",
                "name": "甲社区",
                "township_code": "440205901",
                "ur_code": 111,
                "urban": True,
                "tap_water": True,
                "provenance": "sample",
                **_pops(1000, 5),
            },
            {
                "code12": "440205902201",
                "name": "乙村",
                "township_code": "440205902",
                "ur_code": 220,
                "urban": False,
                "tap_water": True,
                "provenance": "sample",
                **_pops(1200, 9),
            },
            {
                "code12": "440205902202",
                "name": "丙村",
                "township_code": "440205902",
                "ur_code": 220,
                "urban": False,
                "tap_water": False,
                "provenance": "sample",
                **_pops(800, 6),
            },
        ],
        geometry=[
            shapely.Point(113.02, 24.05),
            shapely.Point(113.07, 24.05),
            shapely.Point(113.08, 24.08),
        ],
        crs="EPSG:4326",
    )
    childcare = gpd.GeoDataFrame(
        {
            "id": ["C1", "C2"],
            "name": ["甲托育", "乙托育"],
            "township_code": ["440205901", "440205902"],
            "provenance": ["sample", "sample"],
            "source": ["test", "test"],
            "places": [20, 30],
            "puhui": [True, False],
        },
        geometry=[shapely.Point(113.021, 24.05), shapely.Point(113.07, 24.06)],
        crs="EPSG:4326",
    )
    frames = {
        "district": district,
        "township": towns,
        "village": villages,
        "childcare": childcare,
    }
    specs = {
        "district": _spec("district", "admin", "Polygon"),
        "township": _spec("township", "admin", "Polygon"),
        "village": _spec("village", "admin", "Point"),
        "childcare": _spec("childcare", "facility", "Point"),
    }
    return Dataset(info=DatasetInfo(id="tiny", title_zh="小", title_en="tiny"), specs=specs,
                   frames=frames)  # fmt: skip


def _scn(text: str, source: str = "test.yaml") -> Scenario:
    return scenario_from_yaml(text, source=source)


# --------------------------------------------------------------------------------------
# apply on the tiny dataset


def test_add_generates_id_provenance_and_township(tiny: Dataset) -> None:
    s = _scn(
        "name: more\nadd:\n"
        "  - {type: childcare, lon: 113.08, lat: 24.079, attributes: {places: 40}}\n"
        "  - {type: childcare, lon: 113.01, lat: 24.01, id: MINE, name: 小点, "
        "attributes: {places: 10, puhui: true}}\n"
    )
    out = apply(tiny, s)
    cc = out.layer("childcare").set_index("id")
    assert list(cc.index) == ["C1", "C2", "S-childcare-1", "MINE"]
    new = cc.loc["S-childcare-1"]
    assert new["provenance"] == "user" and new["scenario"] == "more"
    assert new["township_code"] == "440205902" and new["places"] == 40
    assert not new["puhui"]  # the documented default
    assert cc.loc["MINE", "name"] == "小点" and cc.loc["MINE", "township_code"] == "440205901"
    assert pd.isna(cc.loc["C1", "scenario"])
    assert out.scenario_name == "more"
    assert len(tiny.layer("childcare")) == 2 and "scenario" not in tiny.layer("childcare")


def test_add_converts_gcj02(tiny: Dataset) -> None:
    gx, gy = convert(113.03, 24.03, "wgs84", "gcj02")
    s = Scenario(
        name="g",
        add=[FacilityAdd(type="childcare", lon=float(gx), lat=float(gy), crs="gcj02",
                         attributes={"places": 5})],
    )  # fmt: skip
    geom = apply(tiny, s).layer("childcare").geometry.iloc[-1]
    assert geom.x == pytest.approx(113.03, abs=1e-7) and geom.y == pytest.approx(24.03, abs=1e-7)


def test_remove_modify_move(tiny: Dataset) -> None:
    s = _scn(
        "name: edit\n"
        "remove: [{type: childcare, id: C2}]\n"
        "modify: [{type: childcare, id: C1, attributes: {places: 25, puhui: false}}]\n"
        "move: [{type: childcare, id: C1, lon: 113.09, lat: 24.09}]\n"
    )
    cc = apply(tiny, s).layer("childcare")
    assert cc["id"].tolist() == ["C1"]
    row = cc.iloc[0]
    assert row["places"] == 25 and not row["puhui"] and row["scenario"] == "edit"
    assert (row.geometry.x, row.geometry.y) == pytest.approx((113.09, 24.09))
    assert row["township_code"] == "440205902"  # moved across the township line


def test_parameters_merge(tiny: Dataset) -> None:
    s = _scn(
        "name: p\nparameters: {detour_factor: 1.5, access: {childcare: {rural_threshold_m: 900}}}"
    )
    params = apply(tiny, s).params
    assert params.detour_factor == 1.5
    assert params.facility("childcare").rural_threshold_m == 900
    assert params.facility("childcare").urban_threshold_m == 300  # untouched


def test_target_overrides_reach_params_and_validate_checks_them(tmp_path: Path) -> None:
    s = _scn(
        "name: t\nparameters: {target_overrides: {childcare_places_per_1000: {target: {value: 4.5}}}}"
    )
    assert s.parameters["target_overrides"]["childcare_places_per_1000"]["target"]["value"] == 4.5
    bad = tmp_path / "bad_target.yaml"
    bad.write_text("name: x\nparameters: {target_overrides: {no_such_indicator: {}}}\n", "utf-8")
    res = runner.invoke(app, ["scenario", "validate", str(bad)])
    assert (
        res.exit_code == 2 and "no_such_indicator" in res.output and "bad_target.yaml" in res.output
    )


def test_district_outline_missing_falls_back_to_townships(tiny: Dataset) -> None:
    no_district = Dataset(
        info=tiny.info,
        specs={k: v for k, v in tiny.specs.items() if k != "district"},
        frames={k: v for k, v in tiny.frames.items() if k != "district"},
    )
    text = "name: x\nadd: [{type: childcare, lon: 113.2, lat: 24.05, attributes: {places: 1}}]"
    with pytest.raises(PointOutsideError, match="outside the district") as err:
        apply(no_district, _scn(text))
    assert (err.value.lon, err.value.lat) == pytest.approx((113.2, 24.05))  # for the app's text
    assert not inside_district(no_district, 113.2, 24.05)
    grown = apply(no_district, _scn("name: g\npopulation: {district: 2}"))
    assert grown.layer("township")["population"].tolist() == [2000, 4000]


def test_population_growth_hand_computed(tiny: Dataset) -> None:
    s = _scn("name: grow\npopulation: {district: 1.1, townships: {'440205902': 1.5}}")
    out = apply(tiny, s)
    towns = out.layer("township").set_index("code9")
    # west ×1.1: 1000 → 1100, 5 → 5.5 → 6 (round half to even);
    # east ×1.65: 2000 → 3300, 15 → 24.75 → 25
    assert towns.loc["440205901", ["population", "pop_0_2"]].tolist() == [1100, 6]
    assert towns.loc["440205902", ["population", "pop_0_2"]].tolist() == [3300, 25]
    vil = out.layer("village").set_index("code12")
    # 9 × 1.65 = 14.85 → 15; 6 × 1.65 = 9.9 → 10; 800 × 1.65 = 1320
    assert vil["pop_0_2"].tolist() == [6, 15, 10]
    assert vil.loc["440205902202", "population"] == 1320
    # district: 3000 + 100 + 1300; 20 + 1 + 10
    dist = out.layer("district").iloc[0]
    assert (dist["population"], dist["pop_0_2"]) == (4400, 31)


# --------------------------------------------------------------------------------------
# refused scenarios: the message names the file, the key and the value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nremove: [{type: childcare, id: NOPE}]", ["test.yaml", "remove[0].id", "'NOPE'"]),
        ("name: x\nmodify: [{type: childcare, id: C1, attributes: {place: 3}}]",
         ["modify[0].attributes.place", "3"]),
        ("name: x\nadd: [{type: childcare, lon: 113.5, lat: 24.5, attributes: {places: 1}}]",
         ["add[0]", "113.5, 24.5", "outside the district"]),
        ("name: x\nmove: [{type: childcare, id: C1, lon: 112, lat: 24}]",
         ["move[0]", "(112.0, 24.0)", "outside"]),
        ("name: x\nadd: [{type: childcare, lon: 113.02, lat: 24.02}]",
         ["add[0].attributes.places", "required"]),
        ("name: x\nadd: [{type: park, lon: 113.02, lat: 24.02}]", ["add[0].type", "no layer 'park'"]),
        ("name: x\nadd: [{type: childcare, lon: 113.02, lat: 24.02, id: C1, attributes: {places: 1}}]",
         ["add[0].id", "'C1'"]),
        ("name: x\npopulation: {townships: {'440205999': 1.2}}",
         ["population.townships.440205999"]),
    ],
)  # fmt: skip
def test_apply_errors_name_key_and_value(tiny: Dataset, text: str, expected: list[str]) -> None:
    with pytest.raises(ScenarioError) as err:
        apply(tiny, _scn(text))
    for part in expected:
        assert part in str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nadd: [{type: zoo, lon: 113, lat: 24}]", ["add[0].type", "unknown facility type", "'zoo'"]),
        ("name: x\nadd: [{type: childcare, lon: abc, lat: 24}]", ["add[0].lon", "'abc'"]),
        ("name: x\nadd: [{type: childcare, lon: 113, lat: 24, crs: utm}]", ["add[0].crs", "'utm'"]),
        ("name: x\ncolour: red", ["colour", "unknown key", "'red'"]),
        ("name: x\nadd: [{type: childcare, lon: 113, lat: 24, colour: red}]", ["add[0].colour", "unknown key"]),
        ("name: x\nparameters: {detour_factor: 9}", ["parameters", "detour_factor", "9"]),
        ("name: x\nparameters: {speed: 9}", ["parameters", "speed"]),
        ("name: x\npopulation: {district: -1}", ["population.district", "-1"]),
        ("name: [unclosed\n", ["not valid YAML", "line"]),
        ("- just a list", ["YAML mapping"]),
        ("description: no name", ["name", "Field required"]),
    ],
)  # fmt: skip
def test_file_errors_name_file_key_and_value(text: str, expected: list[str]) -> None:
    with pytest.raises(ScenarioError) as err:
        scenario_from_yaml(text, source="bad.yaml")
    message = str(err.value)
    assert message.startswith("bad.yaml: ")
    for part in expected:
        assert part in message


def test_load_scenario_missing_and_binary(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "nope.yaml")
    bad = tmp_path / "bin.yaml"
    bad.write_bytes(b"name: \xff\xfe")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(bad)


# --------------------------------------------------------------------------------------
# files: round trip, atomic save, base chains, rename/delete


def test_yaml_round_trip_holds_only_non_defaults() -> None:
    s = (
        Scenario(name="rt", description="d")
        .with_add(FacilityAdd(type="childcare", lon=113.02, lat=24.02, attributes={"places": 9}))
        .with_remove("childcare", "C2")
        .with_modify("childcare", "C1", {"places": 1})
        .with_move("childcare", "C1", 113.03, 24.03, "bd09")
        .with_parameters({"detour_factor": 1.2})
        .with_population(district=1.05)
    )
    text = scenario_to_yaml(s)
    assert "base" not in text and "townships" not in text and "id: null" not in text
    assert scenario_from_yaml(text) == s
    assert scenario_to_yaml(Scenario(name="empty")) == "name: empty\n"
    assert s.without("add", 0).add == []


def test_save_refuses_overwrite_and_is_atomic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.yaml"
    save_scenario(Scenario(name="a", description="old"), path)
    with pytest.raises(ScenarioError, match="already exists"):
        save_scenario(Scenario(name="a", description="new"), path)
    assert load_scenario(path).description == "old"

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)  # fail mid-write, after part of the text is out
    with pytest.raises(OSError, match="disk full"):
        save_scenario(Scenario(name="a", description="new"), path, overwrite=True)
    monkeypatch.undo()
    assert load_scenario(path).description == "old"
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != LOCK_NAME)  # the folder's lock
    assert left == ["a.yaml"]  # no temp file left
    save_scenario(Scenario(name="a", description="new"), path, overwrite=True)
    assert load_scenario(path).description == "new"


def _copy_fixtures(tmp_path: Path) -> Path:
    folder = tmp_path / "scn"
    shutil.copytree(FIXTURES, folder)
    return folder


def test_base_chain_applies_in_order(tmp_path: Path, tiny: Dataset) -> None:
    folder = _copy_fixtures(tmp_path)
    child = load_scenario(folder / "child.yaml")
    assert [s.name for s in resolve_chain(child)] == ["parent", "child"]
    out = apply(tiny, child)
    cc = out.layer("childcare").set_index("id")
    assert "C2" not in cc.index  # removed by the parent
    assert cc.loc["C1", "places"] == 99  # parent set 50, child 99
    assert out.params.detour_factor == 1.5 and out.scenario_name == "child"


def test_base_cycle_and_missing_base(tmp_path: Path, tiny: Dataset) -> None:
    folder = _copy_fixtures(tmp_path)
    with pytest.raises(ScenarioError, match="cycle: loop_a → loop_b → loop_a"):
        apply(tiny, load_scenario(folder / "loop_a.yaml"))
    with pytest.raises(ScenarioError, match="base: no scenario 'ghost'"):
        apply(tiny, scenario_from_yaml("name: orphan\nbase: ghost"), scenarios_dir=folder)
    with pytest.raises(ScenarioError, match="no scenarios directory"):
        apply(tiny, scenario_from_yaml("name: orphan\nbase: parent"))


def test_list_rename_delete(tmp_path: Path) -> None:
    folder = _copy_fixtures(tmp_path)
    listed = {i.stem: i for i in list_scenarios(folder)}
    assert {"parent", "child", "loop_a", "loop_b", "broken"} <= set(listed)
    assert listed["broken"].error is not None and "broken.yaml" in listed["broken"].error
    with pytest.raises(ScenarioError, match=r"used as base by child\.yaml"):
        delete_scenario(folder, "parent")
    with pytest.raises(ScenarioError, match="already exists"):
        rename_scenario(folder, "parent", "child")
    new = rename_scenario(folder, "parent", "parent2")
    assert new.name == "parent2.yaml" and not (folder / "parent.yaml").exists()
    assert load_scenario(new).name == "parent2"
    assert load_scenario(folder / "child.yaml").base == "parent2"
    delete_scenario(folder, "child")
    delete_scenario(folder, "parent2")
    assert not (folder / "parent2.yaml").exists()


def test_schema_has_not_drifted(tmp_path: Path) -> None:
    fresh = write_schema(tmp_path / "schema.json")
    committed = SCENARIOS / "scenario.schema.json"
    assert json.loads(committed.read_text(encoding="utf-8")) == json.loads(
        fresh.read_text(encoding="utf-8")
    ), "regenerate with qjgeo.scenario.write_schema('scenarios/scenario.schema.json')"


# --------------------------------------------------------------------------------------
# bundled data


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_example_scenarios_apply(dataset: Dataset, path: Path) -> None:
    out = apply(dataset, load_scenario(path))
    assert out.scenario_name == load_scenario(path).name
    added = sum(len(s.add) for s in resolve_chain(load_scenario(path)))
    if added:
        users = sum(
            int((out.layer(t)["provenance"] == "user").sum())
            for t in out.layer_ids
            if "provenance" in out.layer(t).columns
        )
        assert users == added


def test_compare_childcare_in_luokeng(dataset: Dataset) -> None:
    after = apply(dataset, load_scenario(SCENARIOS / "childcare_in_luokeng.yaml"))
    cmp = compare(dataset, after)
    village = dataset.layer("village").set_index("code12").loc["440205109001"]
    cov = cmp.coverage.set_index("facility_type")
    assert cov.loc["childcare", "newly_covered"] == village["pop_0_2"]
    assert cov.loc["childcare", "newly_uncovered"] == 0
    assert cov.drop(index="childcare")["newly_covered"].eq(0).all()
    flipped = cmp.villages_flipped
    assert flipped["code12"].tolist() == ["440205109001"] and flipped["covered_b"].all()
    assert "440205109" in set(cmp.townships_flipped["scope"])
    places = cmp.indicators.set_index(["id", "scope"]).loc[
        ("childcare_places_per_1000", "district")
    ]
    assert places["delta"] == pytest.approx(
        40 / dataset.layer("district")["population"].iloc[0] * 1000
    )
    assert cmp.data_status == "sample" and (cmp.name_a, cmp.name_b) == (
        "baseline",
        "childcare_in_luokeng",
    )
    cached = compare(snapshot(dataset), after)  # the app caches the baseline snapshot
    pd.testing.assert_frame_equal(cached.coverage, cmp.coverage)
    pd.testing.assert_frame_equal(cached.indicators, cmp.indicators)


def test_compare_identical_is_empty(dataset: Dataset) -> None:
    cmp = compare(dataset, dataset, facility_types=["childcare", "science_venue"])
    assert not cmp.indicators["flipped"].any()
    assert cmp.indicators["delta"].fillna(0).eq(0).all()
    assert cmp.coverage["newly_covered"].eq(0).all() and len(cmp.villages_flipped) == 0
    assert np.allclose(cmp.coverage["covered_a"], cmp.coverage["covered_b"])


# --------------------------------------------------------------------------------------
# command line

runner = CliRunner()


def test_cli_validate_and_errors(tmp_path: Path) -> None:
    ok = runner.invoke(
        app, ["scenario", "validate", str(SCENARIOS / "growth_2030_more_childcare.yaml")]
    )
    assert ok.exit_code == 0 and "growth_2030" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nremove: [{type: childcare, id: NOPE}]\n", encoding="utf-8")
    res = runner.invoke(app, ["scenario", "validate", str(bad)])
    assert res.exit_code == 2 and "remove[0].id" in res.output and "NOPE" in res.output
    assert "Traceback" not in res.output


def test_cli_run_compare_json() -> None:
    res = runner.invoke(
        app,
        ["scenario", "run", str(SCENARIOS / "childcare_in_luokeng.yaml"), "--compare", "baseline",
         "--format", "json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["b"] == "childcare_in_luokeng" and payload["data_status"] == "sample"
    assert any(r["code12"] == "440205109001" for r in payload["villages_flipped"])


def test_cli_site_writes_scenario(tmp_path: Path) -> None:
    out = tmp_path / "rec.yaml"
    args = ["site", "--type", "science_venue", "--k", "2", "--format", "json", "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert len(payload["sites"]) == 2 and payload["summary"]["data_status"] == "sample"
    scenario = load_scenario(out)
    assert scenario.name == "rec" and len(scenario.add) == 2
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already exists" in again.output
    bad = runner.invoke(app, ["site", "--type", "zoo", "--k", "1"])
    assert bad.exit_code == 2 and "zoo" in bad.output


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("托育推荐3处", "托育推荐3处"),
        (" ../a/b:c. ", "a_b_c"),
        ('x\\y*?"<>|z', "x_y______z"),
        ("..", "scenario"),
        ("CON", "CON_"),
        ("com1.txt", "com1.txt_"),
        ("新 情景", "新 情景"),
    ],
)
def test_file_stem_keeps_chinese_and_stays_in_the_folder(name: str, stem: str) -> None:
    assert file_stem(name) == stem


def test_file_stem_is_cut_at_a_character_boundary() -> None:
    stem = file_stem("情" * 120)
    assert len(stem.encode("utf-8")) <= 200 and set(stem) == {"情"}


def _full_and_incremental(dataset: Dataset, after: Dataset) -> tuple[object, object]:
    """compare() against a cached baseline (incremental) and with everything recomputed."""
    base = snapshot(dataset)
    incremental = compare(base, after)
    full = compare(base, snapshot(after))  # no base given: every indicator recomputed
    return incremental, full


def _one_edit_per_type(dataset: Dataset) -> list[Scenario]:
    """For every facility layer: remove its first feature, and add one at a village."""
    village = dataset.layer("village").geometry.iloc[40]
    edits = []
    for ftype in dataset.params.access:
        if not dataset.has(ftype) or dataset.layer(ftype).empty:
            continue
        first = str(dataset.layer(ftype)["id"].iloc[0])
        edits.append(Scenario(name=f"rm-{ftype}", remove=[{"type": ftype, "id": first}]))
        edits.append(
            Scenario(
                name=f"add-{ftype}",
                add=[
                    FacilityAdd(
                        type=ftype,
                        lon=village.x,
                        lat=village.y,
                        name="新",
                        attributes={k: 30 for k in REQUIRED_NEW_ATTRIBUTES.get(ftype, ())},
                    )
                ],
            )
        )
    return edits


def test_compare_recomputes_only_what_the_edit_touched_and_agrees(dataset: Dataset) -> None:
    """The baseline's snapshot is reused for untouched layers; results equal a full recompute."""
    scenarios = [load_scenario(p) for p in sorted(SCENARIOS.glob("*.yaml"))]
    for scenario in scenarios + _one_edit_per_type(dataset):
        after = apply(dataset, scenario)
        incremental, full = _full_and_incremental(dataset, after)
        for name in ("indicators", "coverage", "villages_flipped", "townships_flipped"):
            pd.testing.assert_frame_equal(
                getattr(incremental, name), getattr(full, name), obj=f"{scenario.name}: {name}"
            )
    base = snapshot(dataset)
    after = apply(dataset, _one_edit_per_type(dataset)[1])  # add one facility of a type
    reused = snapshot(after, base=base)
    kept = [t for t in base.coverage if after.frames[t] is dataset.frames[t]]
    assert kept and all(reused.coverage[t] is base.coverage[t] for t in kept)
