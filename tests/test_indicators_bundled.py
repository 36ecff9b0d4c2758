"""evaluate() on the bundled Qujiang data, checked against independent recounts; CLI output."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from openpyxl import load_workbook
from typer.testing import CliRunner

from qjgeo import Dataset
from qjgeo.cli import app
from qjgeo.commands.indicators import HEADERS_ZH, safe_cell, write_xlsx
from qjgeo.hazards import rank_hazards
from qjgeo.indicators import (
    RESULT_COLUMNS,
    TargetsError,
    evaluate,
    load_targets,
    parse_targets,
)
from qjgeo.params import merge_params

PLAN_TARGETS = Path(__file__).resolve().parent.parent.parent / "shared" / "docs" / "plan-targets.md"

#: Suggested ids of plan-targets.md sections A and B.
PLAN_IDS_A = (
    "science_venue_town_coverage",
    "science_venue_community_coverage",
    "youth_science_bases",
    "parent_school_urban",
    "parent_school_rural",
    "family_edu_centres",
    "childcare_places_per_1000",
    "minors_protection_station_town_coverage",
    "minors_rescue_centre",
    "child_friendly_demo_town",
    "child_friendly_bases",
    "preschool_puhui_share",
    "preschool_capacity",
    "health_centre_child_doctors",
    "paediatric_capacity",
    "rural_tap_water",
)
PLAN_IDS_B = (
    "park_play_area_share",
    "children_home_coverage",
    "water_hazard_control",
    "school_perimeter",
    "safe_route_to_school",
    "outdoor_activity_access",
    "child_friendly_community",
    "science_venue_access",
    "childcare_access",
    "family_edu_access",
)


@pytest.fixture(scope="module")
def result(dataset: Dataset) -> pd.DataFrame:
    return evaluate(dataset)


def _district(result: pd.DataFrame, ind_id: str) -> pd.Series:
    return result.loc[(result["id"] == ind_id) & (result["scope"] == "district")].iloc[0]


def _row(result: pd.DataFrame, ind_id: str, scope: str) -> pd.Series:
    return result.loc[(result["id"] == ind_id) & (result["scope"] == scope)].iloc[0]


def test_every_plan_id_is_an_indicator(result: pd.DataFrame) -> None:
    ids = set(result["id"])
    assert set(PLAN_IDS_A) <= ids
    assert set(PLAN_IDS_B) <= ids
    # two-number targets are two indicators sharing the plan id
    assert set(result.loc[result["plan_id"] == "paediatric_capacity", "id"]) == {
        "paediatric_capacity",
        "paediatric_beds_per_1000",
    }
    assert set(result.loc[result["plan_id"] == "family_edu_centres", "id"]) == {
        "family_edu_centres",
        "family_edu_centres_town",
    }
    assert list(result.columns) == list(RESULT_COLUMNS)


def test_ids_match_the_plan_document() -> None:
    if not PLAN_TARGETS.is_file():
        pytest.skip("shared docs not present")
    text = PLAN_TARGETS.read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.M)
    doc_ids = {
        m
        for sec in sections
        if sec.startswith(("A.", "B."))
        for m in re.findall(r"^\| ([a-z_0-9]+) \|", sec, flags=re.M)
    }
    assert doc_ids == set(PLAN_IDS_A) | set(PLAN_IDS_B)
    assert doc_ids <= set(load_targets().ids)


def test_targets_match_the_plan_document() -> None:
    """Each A / B row of plan-targets.md: its section reference, and for A the operator and value."""
    if not PLAN_TARGETS.is_file():
        pytest.skip("shared docs not present")
    text = PLAN_TARGETS.read_text(encoding="utf-8")
    targets = load_targets()
    for part, plan_ids in (("A", PLAN_IDS_A), ("B", PLAN_IDS_B)):
        section = re.search(rf"^## {part}\.(.*?)(?=^## )", text, flags=re.M | re.S)
        assert section is not None
        rows = re.findall(r"^\| ([a-z_0-9]+) \|(.*)$", section.group(1), flags=re.M)
        assert tuple(plan_id for plan_id, _ in rows) == plan_ids
        for plan_id, cells in rows:
            where = cells.split("|")[1].strip()
            measured = [i for i in targets.indicators if (i.plan_id or i.id) == plan_id]
            assert measured, plan_id
            for ind in measured:
                assert (ind.part, ind.section) == (part, where), ind.id
    # section A's numbers as the plan states them; section B's "target 0" counts
    expected = {
        "science_venue_town_coverage": (">=", 70),
        "science_venue_community_coverage": (">=", 70),
        "youth_science_bases": (">=", 2),
        "parent_school_urban": (">=", 100),
        "parent_school_rural": (">=", 85),
        "family_edu_centres": (">=", 1),
        "family_edu_centres_town": (">=", 100),
        "childcare_places_per_1000": (">=", 6.0),
        "minors_protection_station_town_coverage": (">=", 50),
        "minors_rescue_centre": (">=", 1),
        "child_friendly_demo_town": (">=", 1),
        "child_friendly_bases": (">=", 2),
        "preschool_puhui_share": (">=", 85),
        "preschool_capacity": (">=", 100),
        "health_centre_child_doctors": (">=", 100),
        "paediatric_capacity": (">=", 1.12),
        "paediatric_beds_per_1000": (">=", 3.17),
        "rural_tap_water": (">=", 99),
        "water_hazard_control": ("<=", 0),
        "school_perimeter": ("<=", 0),
    }
    for ind_id, (op, value) in expected.items():
        target = targets.get(ind_id).target
        assert (target.op, target.value) == (op, value), ind_id


def test_generic_shortfall_counts_the_numerator(dataset: Dataset) -> None:
    """Without a template the text says how many more, not a misleading '(托位/千人)'."""
    raw = load_targets().get("childcare_places_per_1000").model_dump(mode="json")
    del raw["shortfall"]
    out = evaluate(dataset, targets=parse_targets({"indicators": [raw]}))
    row = _district(out, "childcare_places_per_1000")
    n = f"{int(row['shortfall_n']):,}"
    assert row["shortfall_en"] == f"{n} more needed to meet the target"
    assert row["shortfall_zh"] == f"距达标还差{n}"


def test_district_rows_are_all_computable(result: pd.DataFrame) -> None:
    district = result.loc[result["scope"] == "district"]
    assert len(district) == len(load_targets().ids)
    assert district["value"].notna().all()
    assert district["met"].isin([True, False]).all()
    assert (district["scope_name"] == "曲江区").all()


def test_township_scopes(result: pd.DataFrame, dataset: Dataset) -> None:
    codes = list(dataset.layer("township")["code9"].astype(str))
    for ind in load_targets().indicators:
        scopes = list(result.loc[result["id"] == ind.id, "scope"])
        assert scopes == (["district", *codes] if ind.per_township else ["district"])
    assert all(re.fullmatch(r"\d{9}", s) for s in result["scope"] if s != "district")
    # 松山街道 has no rural villages: not applicable, never a fake 100 %
    row = _row(result, "parent_school_rural", "440205001")
    assert math.isnan(row["value"]) and row["met"] is None
    assert row["shortfall"].startswith("not applicable")


def test_met_and_shortfall_agree(result: pd.DataFrame) -> None:
    for _, row in result.iterrows():
        if row["met"] is True:
            assert row["shortfall"] == "" and row["shortfall_n"] == 0
        elif row["met"] is False:
            assert row["shortfall_n"] >= 1, row["id"]
            assert f"{int(row['shortfall_n']):,}" in row["shortfall_en"]
            assert f"{int(row['shortfall_n']):,}" in row["shortfall_zh"]
        else:
            assert math.isnan(row["value"])
    assert (result["shortfall"] == result["shortfall_en"]).all()


def test_science_venue_town_share_by_point_in_polygon(
    result: pd.DataFrame, dataset: Dataset
) -> None:
    towns = dataset.layer("township")
    venues = dataset.layer("science_venue")
    with_venue = [
        name
        for name, poly in zip(towns["name"], towns.geometry, strict=True)
        if any(poly.contains(p) for p in venues.geometry)
    ]
    row = _district(result, "science_venue_town_coverage")
    assert row["value"] == pytest.approx(100 * len(with_venue) / len(towns))
    assert set(row["failing_units"]) == set(towns["name"]) - set(with_venue)
    needed = max(0, math.ceil(0.7 * len(towns) - len(with_venue)))
    assert row["shortfall_n"] == needed
    assert row["met"] is (needed == 0)


def test_childcare_places_recount(result: pd.DataFrame, dataset: Dataset) -> None:
    cc = dataset.layer("childcare")
    kg = dataset.layer("kindergarten")
    places = cc["places"].sum() + kg["nursery_places"].sum()
    pop = dataset.layer("district")["population"].iloc[0]
    row = _district(result, "childcare_places_per_1000")
    assert row["value"] == pytest.approx(1000 * places / pop)
    assert row["shortfall_n"] == max(0, math.ceil(6 * pop / 1000 - places))
    for _, town in dataset.layer("township").iterrows():
        code = str(town["code9"])
        p = (
            cc.loc[cc["township_code"] == code, "places"].sum()
            + kg.loc[kg["township_code"] == code, "nursery_places"].sum()
        )
        got = _row(result, "childcare_places_per_1000", code)
        assert got["value"] == pytest.approx(1000 * p / town["population"])
    failing_towns = result.loc[
        (result["id"] == "childcare_places_per_1000") & (result["met"] == False),  # noqa: E712
        "scope_name",
    ]
    assert set(row["failing_units"]) == set(failing_towns) - {"曲江区"}


def test_preschool_and_health_recounts(result: pd.DataFrame, dataset: Dataset) -> None:
    kg = dataset.layer("kindergarten")
    district = dataset.layer("district").iloc[0]
    assert _district(result, "preschool_capacity")["value"] == pytest.approx(
        100 * kg["places"].sum() / district["pop_3_5"]
    )
    assert _district(result, "preschool_puhui_share")["value"] == pytest.approx(
        100 * kg.loc[kg["puhui"].astype(bool), "places"].sum() / kg["places"].sum()
    )
    hc = dataset.layer("health_centre")
    centres = hc[hc["kind"] == "township_health_centre"]
    ok = (centres["gp_or_paediatrician"] >= 1) & (centres["child_health_doctors"] >= 2)
    row = _district(result, "health_centre_child_doctors")
    assert row["value"] == pytest.approx(100 * ok.mean())
    assert set(row["failing_units"]) == set(centres.loc[~ok, "name"])
    assert _district(result, "paediatric_capacity")["value"] == pytest.approx(
        1000 * hc["paediatric_doctors"].sum() / district["pop_0_14"]
    )
    assert _district(result, "paediatric_beds_per_1000")["value"] == pytest.approx(
        1000 * hc["paediatric_beds"].sum() / district["pop_0_14"]
    )


def test_village_shares_recount(result: pd.DataFrame, dataset: Dataset) -> None:
    v = dataset.layer("village")
    rural = v[~v["urban"].astype(bool)]
    assert _district(result, "rural_tap_water")["value"] == pytest.approx(
        100 * rural["tap_water"].astype(bool).mean()
    )
    stations = set(dataset.layer("family_edu_station")["village_code"].dropna().astype(str))
    for ind_id, units in (("parent_school_rural", rural), ("parent_school_urban", v[v["urban"]])):
        share = 100 * units["code12"].astype(str).isin(stations).mean()
        assert _district(result, ind_id)["value"] == pytest.approx(share)
    homes = set(dataset.layer("children_home")["village_code"].dropna().astype(str))
    assert _district(result, "children_home_coverage")["value"] == pytest.approx(
        100 * v["code12"].astype(str).isin(homes).mean()
    )
    parks = dataset.layer("park")
    assert _district(result, "park_play_area_share")["value"] == pytest.approx(
        100 * parks["has_play_area"].astype(bool).mean()
    )


def test_counts_recount(result: pd.DataFrame, dataset: Dataset) -> None:
    sv = dataset.layer("science_venue")
    assert _district(result, "youth_science_bases")["value"] == sv["youth_science_base"].sum()
    bases = sv["child_friendly_base"].sum() + dataset.layer("park")["child_friendly_base"].sum()
    assert _district(result, "child_friendly_bases")["value"] == bases
    mps = dataset.layer("minors_protection_station")
    assert (
        _district(result, "minors_rescue_centre")["value"] == (mps["kind"] == "rescue_centre").sum()
    )
    assert (
        _district(result, "family_edu_centres")["value"]
        == (dataset.layer("family_edu_station")["level"] == "district").sum()
    )


def test_school_perimeter_by_brute_force(result: pd.DataFrame, dataset: Dataset) -> None:
    cafes = dataset.metric("internet_cafe")
    # the plan's 200 m rule covers schools and kindergartens (#16)
    schools = pd.concat([dataset.metric("primary_school"), dataset.metric("kindergarten")])
    d = np.array([[a.distance(b) for b in schools.geometry] for a in cafes.geometry])
    expected = int((d.min(axis=1) <= 200).sum())
    assert _district(result, "school_perimeter")["value"] == expected


def test_access_share_by_brute_force(result: pd.DataFrame, dataset: Dataset) -> None:
    """Children within the park distance, by a plain distance matrix × the detour factor."""
    villages = dataset.metric("village")
    parks = dataset.metric("park")
    vx = np.column_stack([villages.geometry.x, villages.geometry.y])
    px = np.column_stack([parks.geometry.x, parks.geometry.y])
    dist = np.sqrt(((vx[:, None, :] - px[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    walk = dist * dataset.params.detour_factor
    access = dataset.params.facility("park")
    limit = np.where(villages["urban"], access.urban_threshold_m, access.rural_threshold_m)
    kids = villages["pop_0_14"].to_numpy(float)
    row = _district(result, "outdoor_activity_access")
    assert row["value"] == pytest.approx(100 * kids[walk <= limit].sum() / kids.sum())
    assert row["method"] == "straight_line_x_detour"


def test_hazard_indicator_matches_ranking(result: pd.DataFrame, dataset: Dataset) -> None:
    ranked = rank_hazards(dataset, distance_m=500)
    row = _district(result, "water_hazard_control")
    assert row["value"] == len(ranked)
    assert row["failing_units"] == list(ranked["name"])


def test_data_status_is_carried(result: pd.DataFrame) -> None:
    # the bundled facilities are sample data: every facility indicator says so
    row = _district(result, "childcare_places_per_1000")
    assert row["data_status"] == "sample"
    assert "childcare" in row["weak_layers"]
    assert set(result["data_status"]) <= {"official", "estimated", "sample"}


def test_target_overrides_from_params(dataset: Dataset) -> None:
    ds = dataset.with_params(
        merge_params(
            dataset.params,
            {"target_overrides": {"childcare_places_per_1000": {"target": {"value": 0.5}}}},
        )
    )
    out = evaluate(ds, indicators=["childcare_places_per_1000"])
    assert (out["target"] == 0.5).all()
    assert _district(out, "childcare_places_per_1000")["met"] is True
    bad = dataset.with_params(
        merge_params(dataset.params, {"target_overrides": {"nope": {"target": {"value": 1}}}})
    )
    with pytest.raises(TargetsError, match="unknown indicator 'nope'"):
        evaluate(bad)


def test_missing_layer_gives_not_available_rows(dataset: Dataset) -> None:
    frames = {k: v for k, v in dataset.frames.items() if k not in ("science_venue", "park")}
    specs = {k: v for k, v in dataset.specs.items() if k in frames}
    ds = dataclasses.replace(dataset, frames=frames, specs=specs, _metric_cache={})
    out = evaluate(ds)
    row = _district(out, "science_venue_town_coverage")
    assert row["data_status"] == "not available" and row["met"] is None
    assert "science_venue" in row["shortfall"]
    assert _district(out, "child_friendly_bases")["data_status"] == "not available"
    assert _district(out, "childcare_places_per_1000")["met"] in (True, False)


def test_scenario_object_and_file(dataset: Dataset, tmp_path: Path) -> None:
    from qjgeo.scenario import FacilityAdd, Scenario, evaluate

    luokeng = dataset.layer("township").set_index("code9").loc["440205109"]
    spot = shapely.point_on_surface(luokeng.geometry)
    scn = Scenario(
        name="luokeng_childcare",
        add=[
            FacilityAdd(
                type="childcare",
                lon=spot.x,
                lat=spot.y,
                name="罗坑镇社区托育点",
                attributes={"places": 500, "puhui": True},
            )
        ],
    )
    before = _row(
        evaluate(dataset, indicators=["childcare_places_per_1000"]),
        "childcare_places_per_1000",
        "440205109",
    )
    after_all = evaluate(dataset, scenario=scn, indicators=["childcare_places_per_1000"])
    after = _row(after_all, "childcare_places_per_1000", "440205109")
    assert after["numerator"] == before["numerator"] + 500
    assert (after_all["scenario"] == "luokeng_childcare").all()
    path = tmp_path / "luokeng.yaml"
    path.write_text(
        "name: luokeng_childcare\nadd:\n"
        f"  - {{type: childcare, lon: {spot.x}, lat: {spot.y}, "
        "attributes: {places: 500, puhui: true}}\n",
        encoding="utf-8",
    )
    from_file = evaluate(dataset, scenario=path, indicators=["childcare_places_per_1000"])
    assert (
        _row(from_file, "childcare_places_per_1000", "440205109")["numerator"]
        == (after["numerator"])
    )
    runner = CliRunner()
    res = runner.invoke(app, ["indicators", "--scenario", str(path), "--format", "json"])
    assert res.exit_code == 0, res.output
    records = json.loads(res.stdout)
    got = next(
        r for r in records if r["id"] == "childcare_places_per_1000" and r["scope"] == "440205109"
    )
    assert got["numerator"] == after["numerator"]


def test_cli_bad_scenario_and_targets(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nadd:\n  - {type: childcare, lon: 500, lat: 24}\n", encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(app, ["indicators", "--scenario", str(bad)])
    assert res.exit_code == 2
    assert "bad.yaml" in res.stderr and "Traceback" not in res.output
    targets = tmp_path / "t.yaml"
    targets.write_text("indicators:\n  - id: x\n    kind: feature_count\n", encoding="utf-8")
    res = runner.invoke(app, ["indicators", "--targets", str(targets)])
    assert res.exit_code == 2
    assert "t.yaml" in res.stderr and "indicator 'x'" in res.stderr


def test_cli_json_keys_and_township(result: pd.DataFrame) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["indicators", "--format", "json"])
    assert res.exit_code == 0, res.output
    records = json.loads(res.stdout)
    assert len(records) == len(result)
    required = {"id", "scope", "value", "target", "op", "met", "shortfall", "failing_units"}
    assert all(required | {"data_status"} <= set(r) for r in records)
    res = runner.invoke(app, ["indicators", "--township", "440205109", "--format", "json"])
    records = json.loads(res.stdout)
    # the township's rows, and the district rows that name it failing (#16: every view
    # names every failing unit)
    assert records and {r["scope"] for r in records} == {"440205109", "district"}
    assert all("440205109" in r["failing_townships"] for r in records if r["scope"] == "district")
    assert {r["scope_name"] for r in records if r["scope"] != "district"} == {"罗坑镇"}
    res = runner.invoke(app, ["indicators", "--township", "440205999"])
    assert res.exit_code == 2 and "440205999" in res.stderr
    res = runner.invoke(app, ["indicators", "--format", "csv"])
    assert res.exit_code == 0 and res.stdout.startswith("id,plan_id")
    res = runner.invoke(app, ["indicators"])
    assert res.exit_code == 0 and "childcare_places_per_1000" in res.stdout


def test_cli_says_when_rows_rest_on_sample_or_estimated_data(
    dataset: Dataset, tmp_path: Path
) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["indicators"])
    assert res.exit_code == 0
    header = res.stdout.splitlines()[0]
    assert "data_status" in header and " sample " in res.stdout
    assert "非官方统计" in res.stderr and "not official statistics" in res.stderr
    assert "childcare" in res.stderr and "village" in res.stderr
    # every layer official: no notice (the note is about the data, not always printed)
    official = dataset
    for lid in dataset.frames:
        frame = dataset.layer(lid).assign(provenance="official")
        spec = dataset.specs[lid].model_copy(
            update={"provenance": "official", "attribute_provenance": {}}
        )
        official = dataclasses.replace(
            official,
            frames={**official.frames, lid: frame},
            specs={**official.specs, lid: spec},
            _metric_cache={},
        )
    from qjgeo.commands.indicators import weak_data_note
    from qjgeo.indicators import evaluate as evaluate_all

    assert weak_data_note(evaluate_all(official)) == ""
    assert "非官方统计" in weak_data_note(evaluate_all(dataset))


def test_xlsx_export_is_safe(result: pd.DataFrame, tmp_path: Path) -> None:
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_cell("-3") == "'-3" and safe_cell("@x") == "'@x" and safe_cell("+1") == "'+1"
    assert safe_cell(-3.0) == -3.0 and safe_cell("罗坑镇") == "罗坑镇"
    frame = result.head(3).copy()
    frame.loc[frame.index[0], "scope_name"] = "=cmd|' /C calc'!A0"
    path = tmp_path / "ind.xlsx"
    write_xlsx(frame, path)
    ws = load_workbook(path).active
    assert ws is not None
    headers = [c.value for c in ws[1]]
    assert headers == [HEADERS_ZH[c] for c in RESULT_COLUMNS]
    col = headers.index(HEADERS_ZH["scope_name"]) + 1
    assert ws.cell(row=2, column=col).value == "'=cmd|' /C calc'!A0"
    assert ws.cell(row=2, column=col).data_type == "s"
    runner = CliRunner()
    out = tmp_path / "cli.xlsx"
    res = runner.invoke(app, ["indicators", "--format", "xlsx", "--out", str(out)])
    assert res.exit_code == 0 and out.is_file()
    assert load_workbook(out).active.max_row == len(result) + 1  # type: ignore[union-attr]
    res = runner.invoke(app, ["indicators", "--format", "xlsx"])
    assert res.exit_code == 2 and "--out" in res.stderr


def test_osm_import_dataset_evaluates(osm_dir: Path, tmp_path: Path) -> None:
    """Another dataset (an OSM import, most layers absent): rows say why, nothing crashes."""
    from qjgeo import load_dataset
    from qjgeo.osm_import import import_osm

    ds = load_dataset(import_osm(osm_dir / "munich_small.osm", tmp_path / "osm"))
    out = evaluate(ds)
    assert set(out["id"]) == set(load_targets().ids)
    missing = out.loc[out["data_status"] == "not available"]
    assert len(missing) > 0
    assert missing["met"].isna().all() and missing["value"].isna().all()
    assert missing["shortfall"].str.startswith("not available").all()
    # no village layer: the hazard indicator cannot count children, so it does not claim 0
    assert _district(out, "water_hazard_control")["data_status"] == "not available"
    assert not ds.has("township")
    assert (out["scope"] == "district").all()
