"""validate(): coordinates (GCJ-02/BD-09), village placement, rejections, warnings."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from qjgeo import Dataset
from qjgeo.crs import haversine_m, wgs84_to_bd09, wgs84_to_gcj02
from qjgeo.ingest.columns import suggest_mapping
from qjgeo.ingest.locate import (
    district_area,
    guess_coordinate_system,
    normalise_village_name,
    parse_numbers,
    village_core,
)
from qjgeo.ingest.readers import read_table
from qjgeo.ingest.report import ImportReport, validate
from qjgeo.ingest.safety import IngestError

FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"
TRUTH_XY = np.array([[113.6100, 24.6800], [113.6350, 24.7050], [113.7020, 24.7680]])


def accounted(report: ImportReport) -> bool:
    return report.rows_read == report.accepted + len(report.rejected)


def distances_m(features: object) -> np.ndarray:
    geoms = np.asarray(features.geometry.array)  # type: ignore[attr-defined]
    return haversine_m(shapely.get_x(geoms), shapely.get_y(geoms), TRUTH_XY[:, 0], TRUTH_XY[:, 1])


@pytest.mark.parametrize(
    ("fixture", "crs"),
    [("childcare_gcj02_gbk.csv", "gcj02"), ("childcare_bd09_utf8sig.csv", "bd09"),
     ("childcare_gcj02_gbk.csv", "GCJ-02")],
)  # fmt: skip
def test_gcj02_and_bd09_ledgers_land_on_their_wgs84_truth(
    dataset: Dataset, fixture: str, crs: str
) -> None:
    result = validate(read_table(FIX / fixture), dataset, "childcare", crs=crs, mode="replace")
    assert result.report.accepted == 3 and result.report.rejected == []
    assert distances_m(result.features).max() < 1.0  # within a metre (BD-09 inverse ~0.25 m)
    # read as WGS84 they would be 500-1000 m off: the conversion is what puts them right
    as_wgs = validate(read_table(FIX / fixture), dataset, "childcare", crs="wgs84")
    assert distances_m(as_wgs.features).min() > 300


def test_gbk_csv_with_chinese_headers_imports_cleanly(dataset: Dataset) -> None:
    result = validate(
        read_table(FIX / "childcare_gcj02_gbk.csv"), dataset, "childcare", crs="gcj02"
    )
    features = result.features
    assert features["name"].tolist() == [
        "曲江区示范托育中心",
        "松山街道阳光托育园",
        "大塘镇小太阳托育点",
    ]
    assert features["places"].tolist() == [80, 40, 20]
    assert features["puhui"].tolist() == [True, False, True]
    assert features["township_code"].tolist() == ["440205100", "440205001", "440205101"]
    assert (features["provenance"] == "user").all()
    assert (features["located_by"] == "coordinates").all()
    assert result.report.encoding == "gb18030"
    assert not [w for w in result.report.warnings if w["kind"] != "reader"]


def test_wgs84_ledger_rejections_have_file_line_numbers(dataset: Dataset) -> None:
    result = validate(read_table(FIX / "childcare_wgs84_utf8.csv"), dataset, "childcare")
    report = result.report
    assert report.rows_read == 4 and report.accepted == 3 and report.empty_rows == 1
    assert report.rejected == [
        {
            "row": 7,
            "reason": "longitude 'abc' is not a number",
            "reason_zh": "经度不是数字（'abc'）",
        }
    ]
    assert accounted(report)
    assert distances_m(result.features).max() < 1e-6
    as_dict = report.to_dict()
    assert {"rows_read", "accepted", "rejected", "warnings"} <= set(as_dict)


def test_geographic_formats_validate_to_the_truth(dataset: Dataset) -> None:
    for name, kwargs in [("kindergarten.geojson", {}), ("kindergarten.kml", {}),
                         ("kindergarten.osm", {"layer_id": "kindergarten"})]:  # fmt: skip
        raw = read_table(FIX / name, **kwargs)  # type: ignore[arg-type]
        result = validate(raw, dataset, "kindergarten")
        assert result.report.accepted == 3, name
        assert distances_m(result.features).max() < 1e-3, name


def test_village_placement_by_name_and_code_with_proposal_not_applied(dataset: Dataset) -> None:
    raw = read_table(FIX / "children_home_villages.csv")
    result = validate(raw, dataset, "children_home")
    report = result.report
    villages = dataset.layer("village").set_index("code12")
    features = result.features.set_index("name")
    # 东区社区居民委员会 → 东区社区 (by name), 群星村村委会 → 群星村 (by name), 中心村 by code
    expected = {
        "东区社区儿童之家": ("440205001001", "village_name"),
        "群星村儿童之家": ("440205107209", "village_name"),
        "中心村儿童之家": ("440205104203", "village_code"),
    }
    assert sorted(features.index) == sorted(expected)
    for name, (code, how) in expected.items():
        assert features.loc[name, "village_code"] == code
        assert features.loc[name, "located_by"] == how
        assert features.loc[name, "geometry"].equals(villages.loc[code, "geometry"])
        assert features.loc[name, "township_code"] == code[:9]
    # the near miss is proposed, not applied: the row is rejected and says so
    reasons = {r["row"]: r["reason"] for r in report.rejected}
    assert "did you mean 群星村村民委员会" in reasons[5]
    assert reasons[6] == "no coordinates and no village or community to place it by"
    assert report.proposed_matches[0]["row"] == 5
    assert report.proposed_matches[0]["village_code"] == "440205107209"
    assert report.located_by == {"coordinates": 0, "village_code": 1, "village_name": 2}
    assert accounted(report)


def test_village_name_normalisation() -> None:
    assert normalise_village_name("群星村村民委员会") == "群星村"
    assert normalise_village_name(" 群星村委会") == "群星村"
    assert normalise_village_name("小坑社区居民委员会") == "小坑社区"
    assert normalise_village_name("红旗区居委会") == "红旗区"
    assert village_core("群星村村民委员会") == "群星"


def test_ambiguous_or_misplaced_village_name(dataset: Dataset) -> None:
    # 群星村 is in 樟市镇: given with 马坝镇 it is not placed, and the proposal says where it is
    raw = read_table("名称,所属镇,所属村\n甲,马坝镇,群星村\n".encode(), "a.csv")
    report = validate(raw, dataset, "children_home").report
    assert report.accepted == 0
    assert "in the township given; did you mean 群星村村民委员会" in report.rejected[0]["reason"]


def test_parse_numbers_is_lenient_but_flags_junk() -> None:
    import pandas as pd

    values, junk = parse_numbers(pd.Series(["80", "８０", "1,200", "80个", "", "abc", "nan", "-3"]))
    assert values[:4].tolist() == [80, 80, 1200, 80]
    assert np.isnan(values[4]) and not junk[4]
    assert junk[5] and junk[6] and values[7] == -3


def test_out_of_range_values_reject_and_junk_values_warn_and_default(dataset: Dataset) -> None:
    ledger = (
        "名称,经度,纬度,托位,普惠\n甲,113.61,24.68,-5,是\n乙,113.62,24.69,99999,是\n"
        "丙,113.63,24.70,,否\n丁,113.64,24.70,很多,也许\n"
    )
    result = validate(read_table(ledger.encode(), "a.csv"), dataset, "childcare")
    reasons = {r["row"]: (r["reason"], r["reason_zh"]) for r in result.report.rejected}
    assert reasons[2] == (
        "places -5 is outside its plausible range 0–5,000",
        "托位为 -5，超出合理范围（0–5,000）",
    )
    assert reasons[3][0] == "places 99,999 is outside its plausible range 0–5,000"
    assert result.report.rows_read == 4 and result.report.accepted == 2
    assert result.features["places"].tolist() == [0, 0]
    assert result.features["puhui"].tolist() == [False, False]
    kinds = {(w["row"], w["kind"]) for w in result.report.warnings}
    assert (5, "unreadable_value") in kinds
    assert (None, "missing_value") in kinds


def test_outside_district_and_duplicates_warn(dataset: Dataset) -> None:
    existing = dataset.layer("childcare").iloc[0]
    x, y = existing.geometry.x + 0.0005, existing.geometry.y
    ledger = (
        f"名称,经度,纬度\n{existing['name']},{x},{y}\n广州某托育,113.26,23.13\n"
        f"丁,113.61,24.68\n丁,113.6101,24.6801\n"
    )
    raw = read_table(ledger.encode(), "a.csv")
    report = validate(raw, dataset, "childcare").report
    # Guangzhou is ~190 km away: refused by default, with the distance
    (far,) = [r for r in report.rejected if r["row"] == 3]
    assert re.fullmatch(r"lies 1\d\d\.\d km outside the district .*", far["reason"])
    assert "公里" in far["reason_zh"]
    kinds = {(w["row"], w["kind"]) for w in report.warnings}
    assert (2, "duplicate") in kinds  # same name as an existing facility ~50 m away
    assert (3, "outside_district") not in kinds
    allowed = validate(raw, dataset, "childcare", allow_outside=True).report
    kinds = {(w["row"], w["kind"]) for w in allowed.warnings}
    assert allowed.accepted == 4
    assert (3, "outside_district") in kinds
    assert (5, "duplicate") in kinds  # same name as row 4, ~15 m away
    assert (2, "outside_district") not in kinds
    # replacing the layer: existing facilities are not duplicates
    replaced = validate(raw, dataset, "childcare", mode="replace").report
    assert (2, "duplicate") not in {(w["row"], w["kind"]) for w in replaced.warnings}


def test_swapped_lonlat_is_rejected_with_a_hint_and_warned(dataset: Dataset) -> None:
    rows = "\n".join(f"点{i},{y},{x}" for i, (x, y) in enumerate(TRUTH_XY))
    report = validate(
        read_table(f"名称,经度,纬度\n{rows}\n".encode(), "a.csv"), dataset, "park"
    ).report
    assert report.accepted == 0
    assert all("look swapped" in r["reason"] for r in report.rejected)


def test_guess_coordinate_system(dataset: Dataset) -> None:
    area = district_area(dataset)
    assert area is not None
    lon, lat = TRUTH_XY[:, 0], TRUTH_XY[:, 1]
    assert guess_coordinate_system(area, lon, lat, "wgs84").likely is None
    swapped = guess_coordinate_system(area, lat, lon, "wgs84")
    assert swapped.likely == "swapped" and "swapped" in swapped.message
    # points near the district edge that BD-09 pushes outside: stated WGS84, really BD-09
    grid_x, grid_y = np.meshgrid(np.linspace(113.2, 114.0, 120), np.linspace(24.45, 24.9, 80))
    gx, gy = grid_x.ravel(), grid_y.ravel()
    bx, by = wgs84_to_bd09(gx, gy)
    inside_truth = shapely.contains_xy(area, gx, gy)
    inside_as_given = shapely.contains_xy(area, bx, by)
    pick = inside_truth & ~inside_as_given
    assert pick.sum() >= 5
    guess = guess_coordinate_system(area, bx[pick], by[pick], "wgs84")
    assert guess.likely == "bd09" and "BD-09" in guess.message
    # the same points stated correctly raise no warning
    assert guess_coordinate_system(area, bx[pick], by[pick], "bd09").likely is None
    gcx, gcy = wgs84_to_gcj02(gx, gy)
    pick = inside_truth & ~shapely.contains_xy(area, gcx, gcy)
    assert guess_coordinate_system(area, gcx[pick], gcy[pick], "wgs84").likely in {"gcj02", "bd09"}


def test_column_mapping_override_and_errors(dataset: Dataset) -> None:
    raw = read_table("机构,核定数,经度,纬度\n甲,30,113.61,24.68\n".encode(), "a.csv")
    with pytest.raises(IngestError, match="no column for the facility name"):
        validate(raw, dataset, "childcare")
    mapping = suggest_mapping(raw, "childcare").with_overrides(
        {"name": "机构", "places": "核定数"}, raw
    )
    result = validate(raw, dataset, "childcare", mapping=mapping)
    assert result.features["places"].tolist() == [30]
    with pytest.raises(IngestError, match="not in the file"):
        mapping.with_overrides({"places": "托位"}, raw)
    with pytest.raises(IngestError, match="unknown field"):
        mapping.with_overrides({"capacity_x": "核定数"}, raw)


@pytest.mark.parametrize(
    ("layer", "crs", "match"),
    [("district", "wgs84", "cannot be imported"), ("nope", "wgs84", "cannot be imported"),
     ("childcare", "utm", "unknown coordinate system")],
)  # fmt: skip
def test_unusable_requests_raise_ingest_error(
    dataset: Dataset, layer: str, crs: str, match: str
) -> None:
    raw = read_table("名称,经度,纬度\n甲,113.61,24.68\n".encode(), "a.csv")
    with pytest.raises(IngestError, match=match):
        validate(raw, dataset, layer, crs=crs)


def test_no_position_column_is_unusable(dataset: Dataset) -> None:
    raw = read_table("名称,托位\n甲,3\n".encode(), "a.csv")
    with pytest.raises(IngestError, match="no column giving a position"):
        validate(raw, dataset, "childcare")


def test_required_columns_and_defaults_per_layer(dataset: Dataset) -> None:
    from qjgeo.schema import FACILITY_LAYERS, REQUIRED_COLUMNS

    raw = read_table("名称,经度,纬度\n甲,113.61,24.68\n".encode(), "a.csv")
    for layer in FACILITY_LAYERS:
        features = validate(raw, dataset, layer).features
        assert set(REQUIRED_COLUMNS[layer]) <= set(features.columns), layer
        assert features["id"].iloc[0].startswith(layer[:3].upper() + "-U"), layer


def test_geometry_types_repaired_pointed_or_rejected(dataset: Dataset) -> None:
    import geopandas as gpd

    bow_tie = shapely.Polygon([(113.6, 24.7), (113.62, 24.72), (113.62, 24.7), (113.6, 24.72)])
    collection = shapely.GeometryCollection(
        [shapely.Point(113.6, 24.7), shapely.LineString([(113.6, 24.7), (113.61, 24.71)])]
    )
    frame = gpd.GeoDataFrame(
        {"名称": ["点", "集合", "领结"]},
        geometry=[shapely.Point(113.6, 24.7), collection, bow_tie],
        crs="EPSG:4326",
    )
    raw = read_table(frame.to_json().encode(), "a.geojson")
    hazards = validate(raw, dataset, "water_hazard")
    assert [r["row"] for r in hazards.report.rejected] == [2]
    assert hazards.features.geom_type.tolist() == ["Point", "MultiPolygon"]
    assert shapely.is_valid(np.asarray(hazards.features.geometry.array)).all()
    parks = validate(raw, dataset, "park")  # a point layer: every feature placed on a point
    assert parks.report.rejected == [] and (parks.features.geom_type == "Point").all()


def test_coordinates_parse_decimal_and_dms_strictly() -> None:
    import pandas as pd

    from qjgeo.ingest.locate import parse_coordinates

    cells = ["113.61", "113°36'36\"", "24°40′48″N", "东经113.61", "E113.61", "113度36分36秒",
             "24°40.8'", "", "113.6abc", "1,13.6", "x"]  # fmt: skip
    values, junk = parse_coordinates(pd.Series(cells))
    np.testing.assert_allclose(values[:7], [113.61, 113.61, 24.68, 113.61, 113.61, 113.61, 24.68])
    assert np.isnan(values[7]) and not junk[7]
    assert junk[8:].all()  # a coordinate is never read from the start of a longer text


# --- Chinese texts -----------------------------------------------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")
WARNING_KINDS = {
    "outside_district", "duplicate", "implausible_value", "unreadable_value", "missing_value",
    "coordinate_system", "markup_in_text", "unknown_township", "geometry", "unused_columns",
    "reader",
}  # fmt: skip


def _bd09_points_pushed_outside(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 coordinates of points inside the district that, read as WGS84, fall outside."""
    area = district_area(dataset)
    grid_x, grid_y = np.meshgrid(np.linspace(113.2, 114.0, 120), np.linspace(24.45, 24.9, 80))
    gx, gy = grid_x.ravel(), grid_y.ravel()
    bx, by = wgs84_to_bd09(gx, gy)
    pick = shapely.contains_xy(area, gx, gy) & ~shapely.contains_xy(area, bx, by)
    return bx[pick], by[pick]


def _junk_reports(dataset: Dataset) -> list[ImportReport]:
    """Reports of ledgers that between them raise every rejection reason and warning kind."""
    import geopandas as gpd

    existing = dataset.layer("childcare").iloc[0]
    near_x, near_y = existing.geometry.x + 0.0005, existing.geometry.y
    ledger = (
        "曲江区托育机构台账\n"  # a title above the header
        "编号,名称,经度,纬度,所属镇,所属村,村代码,托位,普惠,备注\n"
        "A1,甲,113.61,24.68,不存在镇,,,很多,也许,x\n"  # unknown township, junk, not yes/no
        "A2,乙,113.62,24.69,,,,99999,是,\n"  # out of range
        "A1,丙,113.63,24.70,,,,,否,\n"  # id repeats row 3
        ",,113.6,24.7,,,,,,\n"  # no name
        ",丁,abc,24.7,,,,,,\n"
        ",戊,113.6,xyz,,,,,,\n"
        ",己,113.6,,,,,,,\n"
        ",庚,,24.7,,,,,,\n"
        ",辛,24.7,113.6,,,,,,\n"  # swapped
        ",壬,500,24.7,,,,,,\n"  # not degrees
        ",癸,,,,,,,,\n"  # nothing to place it by
        ",子,,,樟市镇,群心村,,,,\n"  # near miss: proposal
        ",丑,,,,不存在的地方,,,,\n"  # not found
        ",寅,,,,,440205999999,,,\n"  # code not found
        ",卯,,,马坝镇,群星村,,,,\n"  # not in the township given
        ",<b>辰</b>,113.64,24.71,,,,,,\n"  # markup; places and puhui missing
        ",广州某托育,113.26,23.13,,,,1,是,\n"  # outside the district
        ",巳,113.61,24.68,,,,1,是,\n"
        ",巳,113.6101,24.6801,,,,1,是,\n"  # same name as the row above
        f",{existing['name']},{near_x},{near_y},,,,1,是,,extra cell\n"  # duplicate; ragged
    )
    reports = [validate(read_table(ledger.encode(), "a.csv"), dataset, "childcare").report]
    # a village name found in two townships, and a dataset without villages
    villages = dataset.layer("village")
    twin = villages[villages["name"].str.startswith("群星村")].assign(township_code="440205100")
    doubled = dataset.with_layer("village", gpd.GeoDataFrame(pd.concat([villages, twin])))
    by_village = read_table("名称,所属村\n甲,群星村\n".encode(), "b.csv")
    reports.append(validate(by_village, doubled, "children_home").report)
    no_villages = dataset.with_layer("village", villages.iloc[:0])
    reports.append(validate(by_village, no_villages, "children_home").report)
    # BD-09 points stated as WGS84: a coordinate-system warning
    bx, by = _bd09_points_pushed_outside(dataset)
    rows = "\n".join(f"点{i},{x:.6f},{y:.6f}" for i, (x, y) in enumerate(zip(bx, by, strict=True)))
    as_wgs84 = read_table(f"名称,经度,纬度\n{rows}\n".encode(), "c.csv")
    reports.append(validate(as_wgs84, dataset, "park").report)
    # geometries: a collection (refused for hazards, pointed for parks) and a bow tie (repaired)
    bow_tie = shapely.Polygon([(113.6, 24.7), (113.62, 24.72), (113.62, 24.7), (113.6, 24.72)])
    collection = shapely.GeometryCollection(
        [shapely.Point(113.6, 24.7), shapely.LineString([(113.6, 24.7), (113.61, 24.71)])]
    )
    frame = gpd.GeoDataFrame(
        {"名称": ["集合", "领结"]}, geometry=[collection, bow_tie], crs="EPSG:4326"
    )
    geo = read_table(frame.to_json().encode(), "d.geojson")
    reports += [validate(geo, dataset, layer).report for layer in ("water_hazard", "park")]
    return reports


def test_every_rejection_and_warning_has_chinese_text(dataset: Dataset) -> None:
    reports = _junk_reports(dataset)
    rejected = [r for report in reports for r in report.rejected]
    warned = [w for report in reports for w in report.warnings]
    for item, zh_key in [
        *((r, "reason_zh") for r in rejected),
        *((w, "message_zh") for w in warned),
    ]:
        assert CJK.search(item[zh_key]), item
    reasons = " | ".join(r["reason"] for r in rejected)
    for reason in [
        "name is empty", "longitude 'abc' is not a number", "latitude 'xyz' is not a number",
        "latitude is missing", "longitude is missing", "look swapped",
        "not longitude/latitude in degrees", "no coordinates and no village",
        "did you mean 群星村村民委员会", "village name '不存在的地方' not found",
        "village code '440205999999' not found", "not found in the township given",
        "is ambiguous (in 2 townships)", "no village layer", "id 'A1' repeats row 3",
        "geometry type not allowed",
    ]:  # fmt: skip
        assert reason in reasons, reason
    # a facility ledger refuses out-of-range numbers: only village updates warn implausible
    assert {w["kind"] for w in warned} == WARNING_KINDS - {"implausible_value"}
    assert {w["message"].split()[-1] for w in warned if w["kind"] == "geometry"} >= {
        "repaired", "them",
    }  # fmt: skip
    # the planner's wording, as on the Import page
    by_row = {r["row"]: r["reason_zh"] for r in reports[0].rejected}
    assert by_row[7] == "经度不是数字（'abc'）"
    assert by_row[14] == (
        "村名“群心村”未找到；是否为“群星村村民委员会”（镇街代码 440205107）？（未自动采用）"
    )
    assert by_row[5] == "编号“A1”与第 3 行重复"
    notes = [w["message_zh"] for w in reports[0].warnings if w["kind"] == "reader"]
    assert notes[0] == "表头取自第 2 行，其上各行已跳过"


def test_coordinate_system_guesses_say_it_in_chinese(dataset: Dataset) -> None:
    area = district_area(dataset)
    lon, lat = TRUTH_XY[:, 0], TRUTH_XY[:, 1]
    assert guess_coordinate_system(area, lon, lat, "wgs84").message_zh == ""
    swapped = guess_coordinate_system(area, lat, lon, "wgs84")
    assert swapped.message_zh.startswith("经度和纬度似乎填反了")
    metres = guess_coordinate_system(area, lon * 1e4, lat * 1e4, "wgs84")
    assert "not degrees" in metres.message and "投影坐标" in metres.message_zh
    bx, by = _bd09_points_pushed_outside(dataset)
    as_bd = guess_coordinate_system(area, bx, by, "wgs84")
    assert as_bd.likely == "bd09"
    assert as_bd.message_zh.startswith("这些点看起来是BD-09（百度）坐标，而不是WGS84")
