"""A boundary file updates the estimated township polygons (qjgeo.ingest.townships)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from qjgeo import load_dataset
from qjgeo.catalog import DEFAULT_DATA_DIR
from qjgeo.cli import app
from qjgeo.crs import METRIC_CRS, convert_gdf
from qjgeo.ingest.commit import commit, undo_last
from qjgeo.ingest.readers import read_table
from qjgeo.ingest.report import validate
from qjgeo.ingest.safety import IngestError


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "layers"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


def _boundaries(*, children: bool = True, crs: str = "wgs84") -> gpd.GeoDataFrame:
    """'Official' boundaries: the estimated polygons, simplified by 50 m (so they differ)."""
    towns = load_dataset().layer("township")
    metric = towns.to_crs(METRIC_CRS)
    frame = gpd.GeoDataFrame(
        {"乡镇代码": towns["code12"].astype(str), "名称": towns["name"]},
        geometry=metric.geometry.simplify(50.0).to_crs("EPSG:4326").to_numpy(),
        crs="EPSG:4326",
    )
    if children:
        frame["常住人口"] = 30000
        for col, value in (("0-2岁", 900), ("3-5岁", 1000), ("6-11岁", 2000), ("12-14岁", 950)):
            frame[col] = value
    if crs != "wgs84":
        frame = convert_gdf(frame, "wgs84", crs)
    return frame


def _as_geojson(frame: gpd.GeoDataFrame, name: str = "镇界.geojson") -> tuple[bytes, str]:
    return frame.to_json(ensure_ascii=False).encode("utf-8"), name


def test_official_boundaries_with_children_make_townships_user_data(data_dir: Path) -> None:
    frame = _boundaries()
    raw = read_table(*_as_geojson(frame))
    result = validate(raw, load_dataset(data_dir), "township")
    rep = result.report
    assert (rep.rows_read, rep.accepted, rep.rejected) == (10, 10, [])
    out = result.features.set_index("code9")
    assert (out["provenance"] == "user").all()
    assert (out["pop_0_14"] == 900 + 1000 + 2000 + 950).all()
    expected = frame.set_index(frame["乡镇代码"].str[:9]).geometry
    assert out.geometry.geom_equals_exact(expected.loc[out.index], tolerance=1e-9).all()
    info = commit(data_dir, "township", result)
    assert info.mode == "replace" and info.features_after == 10
    ds = load_dataset(data_dir)
    assert "township" not in ds.weak_layers(["township"])
    assert ds.spec("township").provenance == "user"
    undo_last(data_dir, "township")
    assert load_dataset(data_dir).weak_layers(["township"])["township"] == {"estimated"}


def test_gcj02_boundaries_are_converted_vertex_by_vertex(data_dir: Path) -> None:
    truth = _boundaries(children=False)
    raw = read_table(*_as_geojson(_boundaries(children=False, crs="gcj02")))
    result = validate(raw, load_dataset(data_dir), "township", crs="gcj02")
    out = result.features.set_index("code9").to_crs(METRIC_CRS)
    truth_m = truth.set_index(truth["乡镇代码"].str[:9]).to_crs(METRIC_CRS).loc[out.index]
    gap = [
        shapely.hausdorff_distance(a, b)
        for a, b in zip(out.geometry, truth_m.geometry, strict=True)
    ]
    assert max(gap) < 1.0
    # the boundary is from the file, the children by age are not: still estimated, and said
    assert (out["provenance"] == "estimated").all()
    still = [w for w in result.report.warnings if w["kind"] == "still_estimated"]
    assert len(still) == 10 and "children by age" in still[0]["message"]


def test_bad_features_are_refused_by_row(data_dir: Path) -> None:
    frame = _boundaries(children=False).iloc[:3].copy()
    extra = frame.iloc[[0]].copy()  # row 4: the first township again
    point = frame.iloc[[1]].copy()
    point["乡镇代码"] = ""
    point["名称"] = "不存在镇"  # row 5: unknown township
    far = frame.iloc[[2]].copy()
    far["乡镇代码"] = ""
    far["名称"] = "罗坑镇"
    far["geometry"] = [shapely.box(100.0, 30.0, 100.1, 30.1)]  # row 6: far away
    pt = frame.iloc[[2]].copy()
    pt["乡镇代码"] = ""
    pt["名称"] = "小坑"
    pt["geometry"] = [shapely.Point(113.6, 24.7)]  # row 7: a point, not a polygon
    rows = gpd.GeoDataFrame(pd.concat([frame, extra, point, far, pt]), crs="EPSG:4326")
    rep = validate(read_table(*_as_geojson(rows)), load_dataset(data_dir), "township").report
    assert rep.rows_read == rep.accepted + len(rep.rejected) == 7 and rep.accepted == 3
    reasons = {r["row"]: r["reason"] for r in rep.rejected}
    assert "already updated by row" in reasons[min(reasons)]
    assert any("no such township" in v for v in reasons.values())
    assert any("outside the district" in v for v in reasons.values())
    assert any("not a polygon" in v for v in reasons.values())
    assert all(r["reason_zh"] for r in rep.rejected)


def test_villages_outside_a_shrunk_boundary_are_reported(data_dir: Path) -> None:
    frame = _boundaries(children=False).iloc[[1]].copy()  # 马坝镇
    frame["geometry"] = frame.to_crs(METRIC_CRS).buffer(-3000).to_crs("EPSG:4326")
    rep = validate(read_table(*_as_geojson(frame)), load_dataset(data_dir), "township").report
    outside = [w for w in rep.warnings if w["kind"] == "villages_outside"]
    assert len(outside) == 1 and "马坝镇" in outside[0]["message"]
    assert outside[0]["message_zh"]
    from qjgeo.ui.i18n import t

    for w in rep.warnings:
        assert t(f"imp_kind_{w['kind']}", "zh") and t(f"imp_kind_{w['kind']}", "en")


def test_population_table_without_geometry_and_unusable_files(data_dir: Path) -> None:
    dataset = load_dataset(data_dir)
    table = "镇街,常住人口,0-2岁,3-5岁,6-11岁,12-14岁\n马坝镇,120000,3000,3300,6600,3100\n"
    result = validate(read_table(table.encode(), "pop.csv"), dataset, "township")
    row = result.features.set_index("name").loc["马坝镇"]
    assert row["population"] == 120000 and row["pop_0_14"] == 16000
    assert row["provenance"] == "estimated"  # the boundary is still the estimate
    with pytest.raises(IngestError, match=r"x\.csv: nothing to update"):
        validate(read_table("镇街,备注\n马坝镇,a\n".encode(), "x.csv"), dataset, "township")
    with pytest.raises(IngestError, match=r"y\.csv: no column naming the township"):
        validate(read_table("人口\n3\n".encode(), "y.csv"), dataset, "township")


def test_cli_imports_a_boundary_file(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "towns.geojson"
    path.write_text(_boundaries().to_json(ensure_ascii=False), encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(
        app,
        ["import", str(path), "--layer", "township", "--data", str(data_dir), "--format", "json"],
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout[res.stdout.index("{") :])
    assert payload["accepted"] == 10 and payload["commit"]["provenance"] == "user"
    got = load_dataset(data_dir)
    assert (got.layer("township")["provenance"] == "user").all()
    # the indicators still compute on the new boundaries
    from qjgeo.indicators import evaluate

    out = evaluate(got)
    assert np.isfinite(out.loc[out["scope"] == "district", "value"]).any()
