"""A village ledger updates the estimated village points and populations (qjgeo.ingest.villages)."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from typer.testing import CliRunner

from qjgeo import load_dataset
from qjgeo.catalog import DEFAULT_DATA_DIR
from qjgeo.cli import app
from qjgeo.crs import METRIC_CRS, convert
from qjgeo.ingest.columns import suggest_mapping
from qjgeo.ingest.commit import commit, undo_last
from qjgeo.ingest.readers import read_table
from qjgeo.ingest.report import validate
from qjgeo.ingest.safety import IngestError

HEADER = "村代码,村（社区）,经度,纬度,常住人口,0-2岁,3-5岁,6-11岁,12-14岁"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "layers"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


def _truth(n: int, seed: int = 0) -> tuple[object, np.ndarray, np.ndarray]:
    """The first n villages and WGS84 'true' points 100-300 m from the estimated ones."""
    villages = load_dataset().layer("village").iloc[:n]
    rng = np.random.default_rng(seed)
    lon = villages.geometry.x.to_numpy() + rng.uniform(0.001, 0.003, n)
    lat = villages.geometry.y.to_numpy() + rng.uniform(0.001, 0.002, n)
    return villages, lon, lat


def _ledger(villages, lon, lat, crs: str, extra: list[str] = ()) -> bytes:  # type: ignore[no-untyped-def]
    glon, glat = convert(lon, lat, "wgs84", crs) if crs != "wgs84" else (lon, lat)
    lines = [HEADER]
    for k, (code, name) in enumerate(zip(villages["code12"], villages["short_name"], strict=True)):
        lines.append(f"{code},{name},{glon[k]:.7f},{glat[k]:.7f},{2000 + k},60,70,140,65")
    return ("\n".join([*lines, *extra]) + "\n").encode("utf-8")


def test_gcj02_ledger_moves_villages_to_within_a_metre_and_sets_populations(
    data_dir: Path,
) -> None:
    villages, lon, lat = _truth(5)
    dataset = load_dataset(data_dir)
    raw = read_table(_ledger(villages, lon, lat, "gcj02"), "村台账.csv")
    assert set(suggest_mapping(raw, "village").columns) >= {
        "village_code", "village", "lon", "lat", "population", "pop_0_2", "pop_12_14",
    }  # fmt: skip
    result = validate(raw, dataset, "village", crs="gcj02")
    rep = result.report
    assert (rep.rows_read, rep.accepted, rep.rejected) == (5, 5, [])
    out = result.features.set_index("code12")
    got = out.loc[villages["code12"]].to_crs(METRIC_CRS)
    truth = villages.set_geometry(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(METRIC_CRS)
    assert np.max(got.geometry.distance(truth.geometry.set_axis(got.index))) < 1.0
    assert list(got["population"]) == [2000, 2001, 2002, 2003, 2004]
    assert (got["pop_0_14"] == 60 + 70 + 140 + 65).all()
    assert (got["provenance"] == "user").all()
    # the villages the ledger does not mention are untouched, and none added or dropped
    rest = out.drop(index=villages["code12"])
    before = dataset.layer("village").set_index("code12").loc[rest.index]
    assert len(out) == len(dataset.layer("village"))
    assert rest.geometry.geom_equals(before.geometry.to_crs(rest.crs)).all()
    assert (rest["provenance"] == "estimated").all()


def test_rejections_and_warnings_name_the_row(data_dir: Path) -> None:
    villages, lon, lat = _truth(2)
    first = villages["short_name"].iloc[0]
    other = load_dataset().layer("village").iloc[10]
    extra = [
        ",不存在村,113.6,24.7,100,1,1,1,1",  # row 4: unknown village
        f",{first},,,5000,,,,",  # row 5: same village again
        f"{other['code12']},,,,4000,,,,",  # row 6: population only
        f"{other['code12'][:-1]}9,,abc,24.7,,,,,",  # row 7: bad longitude (or unknown code)
        f",{villages['short_name'].iloc[1]}x,,,,,,,",  # row 8: near-miss name, nothing else
    ]
    raw = read_table(_ledger(villages, lon, lat, "wgs84", extra), "v.csv")
    rep = validate(raw, load_dataset(data_dir), "village").report
    assert rep.rows_read == rep.accepted + len(rep.rejected) == 7
    reasons = {r["row"]: r["reason"] for r in rep.rejected}
    assert "不存在村" in reasons[4] and "already updated by row 2" in reasons[5]
    assert 6 not in reasons and set(reasons) >= {4, 5, 7, 8}
    assert all(r["reason_zh"] for r in rep.rejected)
    kinds = {(w["row"], w["kind"]) for w in rep.warnings}
    assert {(6, "scaled_age_bands"), (6, "still_estimated")} <= kinds
    assert any(p["row"] == 8 for p in rep.proposed_matches)
    # the app names every warning kind in both languages; every message has its Chinese
    from qjgeo.ui.i18n import t

    for w in rep.warnings:
        assert t(f"imp_kind_{w['kind']}", "zh") and t(f"imp_kind_{w['kind']}", "en")
        assert w["message_zh"]


def test_every_village_from_the_ledger_clears_the_estimated_notice(data_dir: Path) -> None:
    n = len(load_dataset().layer("village"))
    villages, lon, lat = _truth(n)
    raw = read_table(_ledger(villages, lon, lat, "bd09"), "all.csv")
    result = validate(raw, load_dataset(data_dir), "village", crs="bd09")
    assert result.report.accepted == n
    info = commit(data_dir, "village", result)
    assert info.mode == "replace" and info.features_before == info.features_after == n
    ds = load_dataset(data_dir)
    assert "village" not in ds.weak_layers(["village"])
    assert ds.spec("village").provenance == "user"
    undo_last(data_dir, "village")
    assert load_dataset(data_dir).weak_layers(["village"])["village"] == {"estimated"}


def test_gaps_use_the_ledger_points(data_dir: Path) -> None:
    from qjgeo.gaps import compute_gaps

    villages, _, _ = _truth(1)
    school = load_dataset().layer("primary_school").iloc[0].geometry
    raw = read_table(
        f"{HEADER}\n{villages['code12'].iloc[0]},,{school.x},{school.y},,,,,\n".encode(),
        "one.csv",
    )
    commit(data_dir, "village", validate(raw, load_dataset(data_dir), "village"))
    gaps = compute_gaps(load_dataset(data_dir), "primary_school")
    row = gaps.villages.set_index("code12").loc[villages["code12"].iloc[0]]
    assert row["distance_m"] == pytest.approx(0.0, abs=1.0)


def test_unusable_ledgers_are_refused_with_the_file_named(data_dir: Path) -> None:
    dataset = load_dataset(data_dir)
    no_name = read_table("经度,纬度\n113.6,24.7\n".encode(), "a.csv")
    with pytest.raises(IngestError, match=r"a\.csv: no column naming the village"):
        validate(no_name, dataset, "village")
    nothing = read_table("村（社区）,备注\n东区社区,x\n".encode(), "b.csv")
    with pytest.raises(IngestError, match=r"b\.csv: nothing to update"):
        validate(nothing, dataset, "village")
    empty = dataset.with_layer("village", dataset.layer("village").iloc[0:0])
    ok = read_table(f"{HEADER}\n".encode(), "c.csv")
    with pytest.raises(IngestError, match="no village layer"):
        validate(ok, empty, "village")


def test_cli_imports_a_village_ledger(data_dir: Path, tmp_path: Path) -> None:
    villages, lon, lat = _truth(3)
    path = tmp_path / "villages.csv"
    path.write_bytes(_ledger(villages, lon, lat, "gcj02"))
    runner = CliRunner()
    args = ["import", str(path), "--layer", "village", "--data", str(data_dir), "--crs", "gcj02"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "replace: 110 → 110 features" in res.output
    got = load_dataset(data_dir).layer("village").set_index("code12")
    assert (got.loc[villages["code12"], "provenance"] == "user").all()
    res = runner.invoke(app, ["import-undo", "--layer", "village", "--data", str(data_dir)])
    assert res.exit_code == 0
    assert (load_dataset(data_dir).layer("village")["provenance"] == "estimated").all()


def test_children_not_given_by_age_are_scaled_and_stay_estimated(data_dir: Path) -> None:
    villages, lon, lat = _truth(2)
    before = villages.set_index("code12")
    a, b = villages["code12"]
    text = (
        "村代码,经度,纬度,常住人口,0-14岁\n"
        f"{a},{lon[0]},{lat[0]},4000,\n"  # total only: bands scaled by 4000 / old population
        f"{b},{lon[1]},{lat[1]},,900\n"  # children 0-14 only: bands scaled to sum to 900
    )
    result = validate(read_table(text.encode(), "t.csv"), load_dataset(data_dir), "village")
    assert result.report.accepted == 2
    out = result.features.set_index("code12")
    bands = ["pop_0_2", "pop_3_5", "pop_6_11", "pop_12_14"]
    ratio = 4000 / before.loc[a, "population"]
    np.testing.assert_allclose(
        out.loc[a, bands].astype(float), before.loc[a, bands] * ratio, atol=0.5
    )
    assert out.loc[b, bands].sum() == pytest.approx(900, abs=2)
    assert out.loc[b, "pop_0_14"] == out.loc[b, bands].sum()
    # point from the ledger but children by age estimated: still 'estimated', and said so
    assert (out.loc[[a, b], "provenance"] == "estimated").all()
    still = [w for w in result.report.warnings if w["kind"] == "still_estimated"]
    assert len(still) == 2 and all("children by age" in w["message"] for w in still)
    assert sum(w["kind"] == "scaled_age_bands" for w in result.report.warnings) == 2


def test_swapped_longitude_and_latitude_are_refused_and_explained(data_dir: Path) -> None:
    villages, lon, lat = _truth(4)
    swapped = _ledger(villages, lat, lon, "wgs84")  # the ledger's lon column holds latitudes
    rep = validate(read_table(swapped, "s.csv"), load_dataset(data_dir), "village").report
    assert rep.accepted == 0 and len(rep.rejected) == 4
    warned = [w for w in rep.warnings if w["kind"] == "coordinate_system"]
    assert warned and "swapped" in warned[0]["message"] and "填反" in warned[0]["message_zh"]


def test_children_by_sex_are_imported_and_checked(data_dir: Path) -> None:
    """girls_0_14 / boys_0_14 (女童 / 男童) import; out of range or more than the children refused."""
    villages, lon, lat = _truth(4)
    c = list(villages["code12"])
    text = (
        "村代码,经度,纬度,0-14岁,女童（0-14岁）,男童（0-14岁）\n"
        f"{c[0]},{lon[0]},{lat[0]},900,430,470\n"  # fine: 430 + 470 = 900
        f"{c[1]},{lon[1]},{lat[1]},900,500,450\n"  # refused: 950 > 900
        f"{c[2]},{lon[2]},{lat[2]},,-5,100\n"  # refused: girls out of range
        f"{c[3]},{lon[3]},{lat[3]},,200,\n"  # girls only, no children given: accepted
    )
    raw = read_table(text.encode(), "分性别.csv")
    assert {"girls_0_14", "boys_0_14"} <= set(suggest_mapping(raw, "village").columns)
    result = validate(raw, load_dataset(data_dir), "village")
    reasons = {r["row"]: r for r in result.report.rejected}
    assert set(reasons) == {3, 4}
    assert (
        "girls + boys aged 0–14 (950) exceed the children aged 0–14 (900)" in (reasons[3]["reason"])
    )
    assert "女童与男童之和（950）超过0–14岁儿童数（900）" in reasons[3]["reason_zh"]
    assert "girls_0_14 -5 is outside its plausible range" in reasons[4]["reason"]
    assert "女童（0-14岁）为 -5" in reasons[4]["reason_zh"]
    out = result.features.set_index("code12")
    assert (out.loc[c[0], "girls_0_14"], out.loc[c[0], "boys_0_14"]) == (430, 470)
    assert out.loc[c[3], "girls_0_14"] == 200 and np.isnan(out.loc[c[3], "boys_0_14"])
    assert out.drop(index=[c[0], c[3]])["girls_0_14"].isna().all()
    # the figures survive the commit and the next import of another field keeps them
    commit(data_dir, "village", result)
    got = load_dataset(data_dir).layer("village").set_index("code12")
    assert got.loc[c[0], "girls_0_14"] == 430
    again = validate(
        read_table(f"村代码,常住人口\n{c[0]},5000\n".encode(), "p.csv"),
        load_dataset(data_dir),
        "village",
    )
    assert again.features.set_index("code12").loc[c[0], "boys_0_14"] == 470
