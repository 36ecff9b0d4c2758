"""Demand estimated from OSM buildings and population grids (qjgeo.demand, ``qjgeo demand``).

Expectations are worked out by hand on generated data (a few buildings, places and land-use
areas in metres), then checked on the real extracts in ``../shared/data/osm``.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from qjgeo import load_dataset
from qjgeo.catalog import Dataset, DatasetInfo
from qjgeo.cli import app
from qjgeo.crs import WGS84_CRS
from qjgeo.demand.ages import CHILD_BANDS, AgeShares, band_totals, read_age_shares
from qjgeo.demand.allocate import apportion_bands, largest_remainder
from qjgeo.demand.estimate import DemandError, UnitOptions, estimate_from_osm
from qjgeo.demand.weights import MIN_FOOTPRINT_M2
from qjgeo.schema import AGE_BANDS

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent
QUJIANG = REPO.parent / "shared" / "data" / "qujiang"
UTM = "EPSG:32650"  # metres near Qujiang (114°E)
X0, Y0 = 500_000.0, 2_730_000.0


# ---------------------------------------------------------------- rounding and age shares
@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(0, 10**6),
    weights=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=40),
)
def test_largest_remainder_keeps_the_total_to_the_person(total: int, weights: list[float]) -> None:
    if total and not sum(weights):
        with pytest.raises(ValueError):
            largest_remainder(total, weights)
        return
    counts = largest_remainder(total, weights)
    assert counts.sum() == total and (counts >= 0).all()
    if not total:
        return
    w = np.asarray(weights)
    exact = w / w.sum() * total
    assert (np.abs(counts - exact) < 1 + 1e-9).all()  # each unit within one person


def test_bands_never_give_a_unit_more_children_than_residents() -> None:
    residents = np.array([1, 1, 1, 1, 96])
    bands = apportion_bands(residents, {"a": 2, "b": 2, "c": 2, "d": 2})
    children = sum(bands.values())
    assert all(v.sum() == 2 for v in bands.values())
    assert (children <= residents).all()


def test_census_age_shares_become_the_schema_bands() -> None:
    shares = read_age_shares(QUJIANG / "shaoguan_census2020_county_ages.csv", "440205")
    # 0 = 0.0098, 1-4 = 0.0534, 5-9 = 0.0702, 10-14 = 0.0678, spread evenly by year (by hand)
    expected = {"pop_0_2": 0.0365, "pop_3_5": 0.04074, "pop_6_11": 0.08328, "pop_12_14": 0.04068}
    assert shares.shares == pytest.approx(expected)
    assert shares.children == pytest.approx(0.2012)
    totals = band_totals(290_455, shares)
    assert totals == {"pop_0_2": 10602, "pop_3_5": 11833, "pop_6_11": 24189, "pop_12_14": 11816}


def test_age_shares_from_yaml_and_bad_groups(tmp_path: Path) -> None:
    good = tmp_path / "ages.yaml"
    good.write_text("'0-4': 5\n'5-9': 6\n'10-14': 7\n", encoding="utf-8")  # percent
    shares = read_age_shares(good)
    assert shares.children == pytest.approx(0.18)
    assert shares.shares["pop_0_2"] == pytest.approx(0.03)
    bad = tmp_path / "gap.yaml"
    bad.write_text("'0-4': 0.05\n'10-14': 0.07\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not at all"):
        read_age_shares(bad)


# ---------------------------------------------------------------- generated OSM sources
def _square(x: float, y: float, side: float) -> shapely.Polygon:
    return shapely.box(x, y, x + side, y + side)


def _frame(rows: list[dict], geoms: list, crs: str = UTM) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=crs).to_crs(WGS84_CRS)


def _dataset(buildings, landuse, places) -> Dataset:  # type: ignore[no-untyped-def]
    b_rows = [
        {"id": f"way/{i}", "building": k, "levels": lv, "provenance": "osm"}
        for i, (_, k, lv) in enumerate(buildings)
    ]
    l_rows = [
        {"id": f"way/l{i}", "landuse": k, "provenance": "osm"} for i, (_, k) in enumerate(landuse)
    ]
    p_rows = [
        {"id": f"node/{i}", "name": n, "place": k, "population": pop, "provenance": "osm"}
        for i, (_, n, k, pop) in enumerate(places)
    ]
    cols = {
        "osm_building": ["id", "building", "levels", "provenance"],
        "osm_landuse": ["id", "landuse", "provenance"],
        "osm_place": ["id", "name", "place", "population", "provenance"],
    }
    frames = {
        "district": _frame(
            [{"code": "t", "name": "t", "provenance": "osm"}],
            [shapely.box(X0 - 5000, Y0 - 5000, X0 + 5000, Y0 + 5000)],
        ),
        "osm_building": _frame(b_rows, [b[0] for b in buildings]) if buildings else None,
        "osm_landuse": _frame(l_rows, [g[0] for g in landuse]) if landuse else None,
        "osm_place": _frame(p_rows, [p[0] for p in places]) if places else None,
    }
    for key, col in cols.items():
        if frames[key] is None:
            frames[key] = gpd.GeoDataFrame({c: [] for c in col}, geometry=[], crs=WGS84_CRS)
    return Dataset(
        info=DatasetInfo(id="gen", title_zh="gen", title_en="gen"), specs={}, frames=frames
    )


SHARES = AgeShares({"pop_0_2": 0.03, "pop_3_5": 0.03, "pop_6_11": 0.06, "pop_12_14": 0.03}, "test")


def test_totals_to_the_person_and_bands_summing_to_the_shares() -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform(-3000, 3000, size=(400, 2))
    buildings = [(_square(X0 + x, Y0 + y, 12), "yes", float(rng.integers(1, 4))) for x, y in xy]
    places = [
        (shapely.Point(X0 - 1500, Y0), "West", "village", np.nan),
        (shapely.Point(X0 + 1500, Y0), "East", "town", np.nan),
    ]
    for unit in ("settlement", "hex"):
        est = estimate_from_osm(
            _dataset(buildings, [], places),
            population=123_457,
            shares=SHARES,
            options=UnitOptions(unit=unit, cell_size_m=1000),
        )
        units = est.units
        assert int(units["population"].sum()) == 123_457
        expected = band_totals(123_457, SHARES)  # 3 704, 3 704, 7 407, 3 704 (by hand)
        assert expected == {"pop_0_2": 3704, "pop_3_5": 3704, "pop_6_11": 7407, "pop_12_14": 3704}
        for band in CHILD_BANDS:
            assert int(units[band].sum()) == expected[band]
        assert (units["pop_0_14"] == units[list(CHILD_BANDS)].sum(axis=1)).all()
        assert (units["pop_0_14"] <= units["population"]).all()
        assert set(units["provenance"]) == {"estimated"}
        assert set(AGE_BANDS) <= set(units.columns)
    west_east = est = estimate_from_osm(
        _dataset(buildings, [], places), population=1000, shares=SHARES
    ).units.set_index("name")
    assert list(west_east.index) == ["West", "East"]
    assert bool(west_east.loc["East", "urban"]) and not bool(west_east.loc["West", "urban"])
    assert est.loc["West", "geometry"].x < est.loc["East", "geometry"].x


def test_a_building_inside_a_residential_area_is_never_left_out() -> None:
    area = _square(X0, Y0, 200)
    tiny_shed = (_square(X0 + 50, Y0 + 50, 3), "shed", np.nan)  # a non-dwelling, 9 m²
    assert 9 < MIN_FOOTPRINT_M2
    office_outside = (_square(X0 + 1000, Y0, 30), "office", np.nan)  # not a home
    big_generic = (_square(X0 + 2000, Y0, 10), "yes", 2.0)  # 100 m² × 2 levels
    empty_area = _square(X0 - 2000, Y0, 100)  # residential land with no building
    ds = _dataset(
        [tiny_shed, office_outside, big_generic],
        [(area, "residential"), (empty_area, "residential")],
        [],
    )
    est = estimate_from_osm(
        ds, population=10_000, shares=SHARES, options=UnitOptions(unit="hex", cell_size_m=300)
    )
    units = est.units
    assert int(units["homes"].sum()) == 2  # the shed in the residential area and the generic house
    weights = units.set_index("weight_from")
    assert "residential land 100%" in weights.index  # the empty area, and only it
    # floor areas by hand: shed 9 m², house 200 m², empty area 10 000 m² × 0.3 = 3 000 m²
    assert sorted(units["floor_area_m2"]) == [9.0, 200.0, 3000.0]
    assert int(units["population"].sum()) == 10_000
    # 10 000 × (9, 200, 3 000) / 3 209 = 28.05, 623.25, 9 348.71 → the last person to 9 348.71
    assert sorted(units["population"]) == [28, 623, 9349]


def test_places_without_buildings_get_their_people_and_no_places_falls_back_to_hex() -> None:
    house = (_square(X0, Y0, 20), "house", 1.0)  # 400 m² floor → 10 residents' weight
    remote = (shapely.Point(X0 + 4000, Y0), "Hill", "hamlet", 30.0)  # population tag 30
    near = (shapely.Point(X0 + 50, Y0), "Valley", "village", np.nan)  # covered by the house
    est = estimate_from_osm(_dataset([house], [], [remote, near]), population=400, shares=SHARES)
    by_name = est.units.set_index("name")["population"].to_dict()
    assert by_name == {"Hill": 300, "Valley": 100}  # weights 30 : 10
    no_places = estimate_from_osm(_dataset([house], [], []), population=5, shares=SHARES)
    assert no_places.notices and "hexagons" in no_places.notices[0]
    with pytest.raises(DemandError, match="nowhere"):
        estimate_from_osm(_dataset([], [], []), population=5, shares=SHARES)


# ---------------------------------------------------------------- the real extracts, end to end
@pytest.fixture(scope="module")
def oakland_with_demand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    osm = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "osm"
    if not osm.is_dir():
        pytest.skip("shared OSM extracts not found")
    out = tmp_path_factory.mktemp("oak") / "oakland"
    assert (
        runner.invoke(
            app, ["osm-import", str(osm / "West-Oakland.osm.bz2"), "--out", str(out)]
        ).exit_code
        == 0
    )
    ds = load_dataset(out)
    assert {"osm_building", "osm_landuse", "osm_place"} <= set(ds.layer_ids)
    assert ds.spec("osm_building").kind == "other" and len(ds.layer("osm_building")) == 23
    res = runner.invoke(
        app,
        [
            "demand",
            "--data",
            str(out),
            "--population",
            "2500",
            "--unit",
            "hex",
            "--cell-size-m",
            "150",
            "--age-shares",
            str(QUJIANG / "shaoguan_census2020_county_ages.csv"),
            "--age-row",
            "440205",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "demand source:" in res.output
    return out


def test_the_osm_dataset_gets_a_village_layer_that_loads(oakland_with_demand: Path) -> None:
    ds = load_dataset(oakland_with_demand)
    village = ds.layer("village")
    assert int(village["population"].sum()) == 2500
    assert ds.spec("village").provenance == "estimated" and "dasymetric" in ds.spec("village").notes
    assert int(ds.layer("district")["population"].iloc[0]) == 2500
    assert ds.has("demand_area") and len(ds.layer("demand_area")) == len(village)
    assert "qjgeo demand" in ds.demand_source()


def test_indicators_and_gaps_count_children_on_the_osm_dataset(oakland_with_demand: Path) -> None:
    from qjgeo.indicators import evaluate

    ds = load_dataset(oakland_with_demand)
    frame = evaluate(ds)
    child_counting = [
        "safe_route_to_school",
        "outdoor_activity_access",
        "childcare_access",
        "science_venue_access",
        "childcare_supply_demand",
    ]
    rows = frame[frame["id"].isin(child_counting) & (frame["scope"] == "district")]
    assert len(rows) == len(child_counting)
    assert "not available" not in set(rows["data_status"]), rows[["id", "data_status"]]
    assert frame.attrs["demand_source"] == ds.demand_source()
    for ftype in ("park", "primary_school"):
        res = runner.invoke(app, ["gaps", "--data", str(oakland_with_demand), "--type", ftype])
        assert res.exit_code == 0, res.output
        assert "not available" not in res.output
        assert "uncovered" in res.output and "children" in res.output
        assert "demand source: Demand units" in res.output
    res = runner.invoke(app, ["indicators", "--data", str(oakland_with_demand)])
    assert res.exit_code == 0 and "demand source:" in res.output


def test_demand_needs_the_source_layers_and_refuses_bad_options(tmp_path: Path) -> None:
    res = runner.invoke(app, ["demand", "--population", "5", "--children-share", "0.2"])
    assert res.exit_code == 2 and "osm_building" in res.output  # the bundled data have none
    res = runner.invoke(app, ["demand", "--population", "5"])
    assert res.exit_code == 2 and "--age-shares" in res.output
    res = runner.invoke(
        app, ["demand", "--population", "5", "--children-share", "0.2", "--unit", "x"]
    )
    assert res.exit_code == 2 and "--unit" in res.output


def test_a_map_of_one_facility_zooms_to_an_area_not_a_point(oakland_with_demand: Path) -> None:
    # Leaflet cannot fit a zero-size box (infinite zoom, NaN coordinates): the Gaps map of
    # an OSM dataset with one school stayed blank until the box was padded
    from qjgeo.mapview.build import build_map

    ds = load_dataset(oakland_with_demand)
    assert len(ds.layer("primary_school")) == 1
    html = build_map(ds, layers=["township", "primary_school"]).get_root().render()
    fit = html[html.index("fitBounds(") :][:200]
    numbers = [float(v) for v in re.findall(r"-?\d+\.\d+", fit)[:4]]
    assert numbers[2] - numbers[0] >= 0.0019 and numbers[3] - numbers[1] >= 0.0019


# ---------------------------------------------------------------- Qujiang: villages refined
def test_qujiang_villages_move_to_their_buildings_and_share_the_township(
    dataset: Dataset, tmp_path: Path
) -> None:
    from qjgeo.crs import METRIC_CRS
    from qjgeo.demand.refine import refine_villages

    villages = dataset.layer("village").to_crs(METRIC_CRS)
    town = villages[villages["township_code"] == "440205100"]  # 马坝镇
    a, b = town.iloc[0], town.iloc[5]
    # 30 houses 80 m east of A (20 × 20 m, 3 levels), 10 houses 80 m north of B (same): 3 : 1
    blocks = [
        *(
            _square(a.geometry.x + 70 + 25 * (i % 6), a.geometry.y + 25 * (i // 6), 20)
            for i in range(30)
        ),
        *(
            _square(b.geometry.x + 25 * (i % 5), b.geometry.y + 70 + 25 * (i // 5), 20)
            for i in range(10)
        ),
    ]
    houses = gpd.GeoDataFrame(
        {"building": ["house"] * 40, "levels": [3.0] * 40}, geometry=blocks, crs=METRIC_CRS
    )
    est = refine_villages(dataset, houses)
    new = est.units.to_crs(METRIC_CRS).set_index("code12")
    old = villages.set_index("code12")
    pair = [a["code12"], b["code12"]]
    assert int(new.loc[pair, "population"].sum()) == int(old.loc[pair, "population"].sum())
    share_a = new.loc[a["code12"], "population"] / new.loc[pair, "population"].sum()
    assert share_a == pytest.approx(0.75, abs=1e-3)
    # A sits at the centre of its 30 houses: x + 70 + (0…125) + 10, y + (0…100) + 10 (by hand)
    assert new.loc[a["code12"]].geometry.x == pytest.approx(a.geometry.x + 70 + 62.5 + 10)
    assert new.loc[a["code12"]].geometry.y == pytest.approx(a.geometry.y + 50 + 10)
    assert "30 OSM buildings" in new.loc[a["code12"], "location_source"]
    others = old.index.difference(pair)
    assert (new.loc[others, "population"] == old.loc[others, "population"]).all()
    assert (new.loc[others].geometry.distance(old.loc[others].geometry) < 1e-6).all()
    for band in [*CHILD_BANDS, "population"]:  # township and district totals kept exactly
        assert int(new[band].sum()) == int(old[band].sum())
        in_town = new["township_code"] == "440205100"
        assert int(new.loc[in_town, band].sum()) == int(
            old.loc[old["township_code"] == "440205100", band].sum()
        )
    assert est.refines and "Refined by qjgeo demand --refine-villages" in est.method
    # written into a copy of the bundled data: same titles, the method added to the notes
    import shutil

    from qjgeo.demand.write import write_demand

    assert dataset.root is not None
    copy = shutil.copytree(dataset.root, tmp_path / "layers")
    write_demand(copy, est)
    again = load_dataset(copy)
    assert again.spec("village").title_en == dataset.spec("village").title_en
    assert "Refined" in again.spec("village").notes and again.spec("village").file == "village.gpkg"
    assert not (copy / "village.geojson").exists()
    assert int(again.layer("district")["population"].iloc[0]) == int(
        dataset.layer("district")["population"].iloc[0]
    )


def test_refine_villages_command_refuses_buildings_outside_the_district(
    tmp_path: Path, oakland_with_demand: Path
) -> None:
    res = runner.invoke(app, ["demand", "--refine-villages", str(oakland_with_demand)])
    assert res.exit_code == 2 and "no residential building inside the outline" in res.output


def test_the_build_script_refines_villages_from_an_osm_dataset(
    dataset: Dataset, tmp_path: Path
) -> None:
    import importlib.util
    import shutil

    from qjgeo.catalog import Manifest
    from qjgeo.crs import METRIC_CRS
    from qjgeo.demand.osm_layers import demand_source_specs

    spec = importlib.util.spec_from_file_location(
        "build_qujiang", REPO / "tools" / "build_qujiang.py"
    )
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    # an osm-import-like folder: 12 houses beside one village of 马坝镇
    village = dataset.layer("village").to_crs(METRIC_CRS).iloc[40]
    houses = [_square(village.geometry.x + 30 * i, village.geometry.y + 40, 15) for i in range(12)]
    osm = tmp_path / "osm"
    osm.mkdir()
    frames = {
        "osm_building": _frame(
            [
                {"id": f"way/{i}", "building": "yes", "levels": 2.0, "provenance": "osm"}
                for i in range(12)
            ],
            houses,
            METRIC_CRS,
        ),
    }
    frames["osm_building"].to_file(osm / "osm_building.gpkg", layer="osm_building", driver="GPKG")
    specs = [
        s for s in demand_source_specs("test", "ODbL 1.0", "2026", frames) if s.id == "osm_building"
    ]
    manifest = Manifest.model_validate(
        {"dataset": {"id": "t", "title_zh": "t", "title_en": "t"}, "layers": []}
    )
    text = yaml.safe_dump(
        manifest.model_copy(update={"layers": tuple(specs)}).model_dump(mode="json"),
        allow_unicode=True,
    )
    (osm / "manifest.yaml").write_text(text, encoding="utf-8")
    assert dataset.root is not None
    out = Path(shutil.copytree(dataset.root, tmp_path / "layers"))
    build.refine_with_osm(out, osm)
    refined = load_dataset(out)
    row = refined.layer("village").set_index("code12").loc[village["code12"]]
    assert row["location_source"] == "weighted centroid of 12 OSM buildings"
    assert "refined from OSM buildings" in refined.spec("village").source
    assert int(refined.layer("village")["population"].sum()) == int(
        dataset.layer("village")["population"].sum()
    )


def test_the_gaps_page_counts_children_on_the_osm_dataset(
    oakland_with_demand: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("QJGEO_DATA", str(oakland_with_demand))
    (tmp_path / "scenarios").mkdir()
    monkeypatch.setenv("QJGEO_SCENARIOS", str(tmp_path / "scenarios"))
    monkeypatch.setenv("QJGEO_MONITORING", str(tmp_path / "monitoring"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.query_params.update({"page": "gaps", "lang": "en", "layer": "primary_school"})
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Children (6–11)"] != "0" and "Uncovered children" in metrics
    captions = " ".join(c.value for c in at.caption)
    assert "Children counted from: Demand units" in captions
    assert not [e.value for e in at.error]
    # the units have no township: no "(none selected)" township, the page says why
    assert "no township layer" in captions
    assert "(none selected)" not in str([t.value for t in [*at.table, *at.dataframe]])


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_buildings=st.integers(1, 60),
    population=st.integers(0, 500_000),
    unit=st.sampled_from(["settlement", "hex"]),
)
def test_any_layout_keeps_every_total(
    seed: int, n_buildings: int, population: int, unit: str
) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-4000, 4000, size=(n_buildings, 2))
    kinds = rng.choice(["yes", "house", "apartments", "shed"], n_buildings)
    buildings = [
        (_square(X0 + x, Y0 + y, float(rng.uniform(5, 40))), str(k), float(rng.integers(1, 9)))
        for (x, y), k in zip(xy, kinds, strict=True)
    ]
    places = [
        (shapely.Point(X0 + x, Y0 + y), f"p{i}", "village", np.nan)
        for i, (x, y) in enumerate(xy[:3])
    ]
    landuse = [(_square(X0 - 4500, Y0 - 4500, 300), "residential")]  # always somewhere to live
    est = estimate_from_osm(
        _dataset(buildings, landuse, places),
        population=population,
        shares=SHARES,
        options=UnitOptions(unit=unit, cell_size_m=float(rng.uniform(200, 3000))),
    )
    units = est.units
    assert int(units["population"].sum()) == population
    assert {b: int(units[b].sum()) for b in CHILD_BANDS} == band_totals(population, SHARES)
    assert (units["pop_0_14"] <= units["population"]).all()
