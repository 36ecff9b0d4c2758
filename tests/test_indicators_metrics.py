"""Each metric kind alone, on the tiny hand-made dataset (tests/fixtures/indicators/README.md).

Every expected number is worked out by hand in the comments; the detour factor is set to 1 so
straight lines are the walking distances.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from qjgeo import Dataset, load_dataset
from qjgeo.indicators.metrics import (
    METRICS,
    access_share,
    attribute_share,
    feature_count,
    per_capita,
    proximity_violations,
    supply_demand_share,
    unit_coverage,
    unprotected_hazards,
)
from qjgeo.indicators.targets import (
    AccessShareParams,
    AttributeShareParams,
    FeatureCountParams,
    PerCapitaParams,
    ProximityViolationsParams,
    SupplyDemandParams,
    UnitCoverageParams,
    UnprotectedHazardsParams,
)
from qjgeo.params import merge_params

TINY = Path(__file__).resolve().parent / "fixtures" / "indicators" / "tiny"
T1, T2, T3 = "440205901", "440205902", "440205903"  # 甲镇, 乙镇, 丙镇 (no villages, nobody)


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    """The tiny dataset with detour factor 1."""
    ds = load_dataset(TINY)
    return ds.with_params(merge_params(ds.params, {"detour_factor": 1.0}))


def _without(ds: Dataset, layer_id: str) -> Dataset:
    frames = {k: v for k, v in ds.frames.items() if k != layer_id}
    specs = {k: v for k, v in ds.specs.items() if k != layer_id}
    return dataclasses.replace(ds, frames=frames, specs=specs, _metric_cache={})


def _emptied(ds: Dataset, layer_id: str) -> Dataset:
    return ds.with_layer(layer_id, ds.layer(layer_id).iloc[0:0])


def _cov(**kw: object) -> UnitCoverageParams:
    return UnitCoverageParams.model_validate(kw)


# ---------------------------------------------------------------------- unit_coverage


def test_township_coverage_inside_by_hand(tiny: Dataset) -> None:
    # S1 at (3500, 500) lies in 甲镇 only -> 1 of 3 townships = 33.33 %
    r = unit_coverage(
        tiny,
        params=_cov(units="township", facilities={"layer": "science_venue"}, match="inside"),
    )
    d = r.district()
    assert (d["numerator"], d["denominator"]) == (1.0, 3.0)
    assert d["value"] == pytest.approx(100 / 3)
    assert d["failing_units"] == ["乙镇", "丙镇"]
    assert set(r.layers_used) == {"township", "science_venue"}


def test_township_coverage_by_code_and_filter(tiny: Dataset) -> None:
    # workstations: only M1 (township_code 甲镇); the rescue centre M2 is filtered out
    r = unit_coverage(
        tiny,
        params=_cov(
            units="township",
            facilities={
                "layer": "minors_protection_station",
                "where": [{"column": "kind", "value": "workstation"}],
            },
            match="code",
        ),
    )
    assert r.district()["value"] == pytest.approx(100 / 3)
    # town-level family education station F2 sits in 乙镇
    r = unit_coverage(
        tiny,
        params=_cov(
            units="township",
            facilities={
                "layer": "family_edu_station",
                "where": [{"column": "level", "value": "town"}],
            },
            match="inside",
        ),
    )
    assert r.district()["failing_units"] == ["甲镇", "丙镇"]


def test_village_coverage_by_code_per_township(tiny: Dataset) -> None:
    # rural villages 二村 (甲镇), 三村 (乙镇); no family station names either -> 0 %
    params = _cov(
        units="village",
        unit_where=[{"column": "urban", "value": False}],
        facilities={"layer": "family_edu_station"},
        match="code",
    )
    r = unit_coverage(tiny, params=params, per_township=True)
    assert r.district()["value"] == 0.0
    assert r.township(T1)["failing_units"] == ["二村"]
    assert r.township(T2)["failing_units"] == ["三村"]
    # 丙镇 has no villages at all: NaN with a note, never a fake 100 %
    t3 = r.township(T3)
    assert math.isnan(t3["value"]) and t3["denominator"] == 0
    assert "not applicable" in t3["note"]
    assert list(r.rows["scope"]) == ["district", T1, T2, T3]


def test_village_coverage_code_or_distance(tiny: Dataset) -> None:
    # family_edu_station distances: urban 1000, rural 3000 (planning parameters).
    # 二村 (3000,3000) -> F3 (1000,2000): sqrt(2000²+1000²) = 2236 <= 3000 covered;
    # 三村 (6000,1000) -> F2 (5000,500): 1118 <= 3000 covered.
    params = _cov(
        units="village",
        unit_where=[{"column": "urban", "value": False}],
        facilities={"layer": "family_edu_station"},
        match="code_or_distance",
    )
    r = unit_coverage(tiny, params=params)
    assert r.district()["value"] == 100.0
    assert r.district()["method"] == "straight_line_x_detour"
    # the indicator's own distance overrides the planning parameter: 2000 m -> 二村 misses
    r = unit_coverage(tiny, params=params.model_copy(update={"rural_distance_m": 2000.0}))
    assert r.district()["value"] == 50.0
    assert r.district()["failing_units"] == ["二村"]


def test_coverage_threshold_is_inclusive(tiny: Dataset) -> None:
    # childcare: C1 is exactly 300 m from 一村 (urban 300 m); C2 exactly 2000 m from 三村
    # (rural 2000 m); 二村 -> C1 sqrt(2000²+1700²) = 2624.9 > 2000.
    r = unit_coverage(
        tiny,
        params=_cov(units="village", facilities={"layer": "childcare"}, match="distance"),
    )
    assert r.district()["failing_units"] == ["二村"]
    assert r.district()["value"] == pytest.approx(200 / 3)
    # one metre less of service distance and both threshold villages drop out
    r = unit_coverage(
        tiny,
        params=_cov(
            units="village",
            facilities={"layer": "childcare"},
            match="distance",
            urban_distance_m=299.0,
            rural_distance_m=1999.0,
        ),
    )
    assert r.district()["value"] == 0.0


def test_coverage_empty_facility_layer(tiny: Dataset) -> None:
    ds = _emptied(tiny, "children_home")
    for match in ("code", "distance", "code_or_distance"):
        r = unit_coverage(
            ds, params=_cov(units="village", facilities={"layer": "children_home"}, match=match)
        )
        assert r.available
        assert r.district()["value"] == 0.0
        assert len(r.district()["failing_units"]) == 3


def test_coverage_missing_layer_is_not_available(tiny: Dataset) -> None:
    r = unit_coverage(
        _without(tiny, "science_venue"),
        params=_cov(units="township", facilities={"layer": "science_venue"}, match="inside"),
        per_township=True,
    )
    assert not r.available
    assert "science_venue" in r.reason
    assert r.rows["value"].isna().all()


# ---------------------------------------------------------------------- per_capita


def test_per_capita_places_by_hand(tiny: Dataset) -> None:
    # childcare places 40 (甲镇) + 20 (乙镇) + kindergarten nursery 10 (甲镇) + 0 (乙镇) = 70
    # district residents 15,000 -> 70 / 15 = 4.667 per 1,000
    params = PerCapitaParams.model_validate(
        {
            "sources": [
                {"layer": "childcare", "column": "places"},
                {"layer": "kindergarten", "column": "nursery_places", "optional": True},
            ],
            "population": ["population"],
            "scale": 1000,
        }
    )
    r = per_capita(tiny, params=params, per_township=True)
    d = r.district()
    assert (d["numerator"], d["denominator"]) == (70.0, 15000.0)
    assert d["value"] == pytest.approx(70 / 15)
    assert r.township(T1)["value"] == pytest.approx(50 / 10)  # 40 + 10 per 10,000
    assert r.township(T2)["value"] == pytest.approx(20 / 5)
    # 丙镇: zero population -> NaN, not inf or 0
    assert math.isnan(r.township(T3)["value"])
    assert "no residents" in r.township(T3)["note"]
    # the optional source may be absent from another dataset (an OSM import)
    r = per_capita(_without(tiny, "kindergarten"), params=params)
    assert r.available and r.district()["numerator"] == 60.0
    # ... but a required source may not
    r = per_capita(_without(tiny, "childcare"), params=params)
    assert not r.available and "childcare" in r.reason


def test_per_capita_unknown_values_are_a_stated_lower_bound(tiny: Dataset) -> None:
    # an OSM childcare point without a capacity tag: its places are unknown, not 0
    frame = tiny.layer("childcare").copy()
    frame["places"] = frame["places"].astype(float)
    frame.loc[frame.index[0], "places"] = float("nan")
    ds = tiny.with_layer("childcare", frame)
    params = PerCapitaParams.model_validate(
        {"sources": [{"layer": "childcare", "column": "places"}], "population": ["population"]}
    )
    d = per_capita(ds, params=params).district()
    known = float(frame["places"].sum())  # NaN skipped
    assert d["numerator"] == known
    assert "lower bound: 1 of" in d["note"] and "childcare without places" in d["note"]
    # with every value known there is no such note
    assert "lower bound" not in per_capita(tiny, params=params).district()["note"]


def test_per_capita_children_and_percent(tiny: Dataset) -> None:
    # paediatric doctors 1 + 0 + 2 = 3 per 2,250 children aged 0-14 -> 1.333 per 1,000
    params = PerCapitaParams.model_validate(
        {
            "sources": [{"layer": "health_centre", "column": "paediatric_doctors"}],
            "population": ["pop_0_14"],
        }
    )
    assert per_capita(tiny, params=params).district()["value"] == pytest.approx(3 / 2.25)
    # kindergarten places 150 per 450 children aged 3-5, in %
    params = PerCapitaParams.model_validate(
        {
            "sources": [{"layer": "kindergarten", "column": "places"}],
            "population": ["pop_3_5"],
            "scale": 100,
        }
    )
    assert per_capita(tiny, params=params).district()["value"] == pytest.approx(100 / 3)
    # an empty facility layer: zero places, still a number
    r = per_capita(_emptied(tiny, "kindergarten"), params=params)
    assert r.district()["value"] == 0.0


# ---------------------------------------------------------------------- feature_count


def test_feature_count_by_hand(tiny: Dataset) -> None:
    # child-friendly bases: park PK1 yes, PK2 no, science venue S1 no -> 1
    params = FeatureCountParams.model_validate(
        {
            "sources": [
                {"layer": "park", "where": [{"column": "child_friendly_base", "value": True}]},
                {
                    "layer": "science_venue",
                    "where": [{"column": "child_friendly_base", "value": True}],
                },
            ]
        }
    )
    r = feature_count(tiny, params=params, per_township=True)
    assert r.district()["value"] == 1.0
    assert r.township(T1)["value"] == 1.0
    assert r.township(T2)["value"] == 0.0
    # demonstration townships are township features (code9): 乙镇
    params = FeatureCountParams.model_validate(
        {
            "sources": [
                {"layer": "township", "where": [{"column": "child_friendly_demo", "value": True}]}
            ]
        }
    )
    r = feature_count(tiny, params=params, per_township=True)
    assert r.district()["value"] == 1.0 and r.township(T2)["value"] == 1.0
    # empty layer -> 0; missing column -> not available
    params = FeatureCountParams.model_validate({"sources": [{"layer": "park"}]})
    assert feature_count(_emptied(tiny, "park"), params=params).district()["value"] == 0.0
    params = FeatureCountParams.model_validate(
        {"sources": [{"layer": "park", "where": [{"column": "no_such", "value": 1}]}]}
    )
    r = feature_count(tiny, params=params)
    assert not r.available and "no_such" in r.reason


# ---------------------------------------------------------------------- attribute_share


def test_attribute_share_weighted_by_hand(tiny: Dataset) -> None:
    # 普惠 places: K1 100 (puhui) of K1 100 + K2 50 -> 66.67 %
    params = AttributeShareParams.model_validate(
        {
            "layer": "kindergarten",
            "condition": [{"column": "puhui", "value": True}],
            "weight": "places",
        }
    )
    r = attribute_share(tiny, params=params, per_township=True)
    assert r.district()["value"] == pytest.approx(200 / 3)
    assert r.district()["failing_units"] == ["幼儿园二"]
    assert r.township(T1)["value"] == 100.0
    assert r.township(T2)["value"] == 0.0
    assert math.isnan(r.township(T3)["value"])


def test_attribute_share_base_filter_and_two_conditions(tiny: Dataset) -> None:
    # township health centres HC1 (1 GP, 2 child doctors: meets) and HC2 (0 GP: fails);
    # the hospital HC3 is outside the base -> 1 of 2 = 50 %
    params = AttributeShareParams.model_validate(
        {
            "layer": "health_centre",
            "base_where": [{"column": "kind", "value": "township_health_centre"}],
            "condition": [
                {"column": "gp_or_paediatrician", "op": ">=", "value": 1},
                {"column": "child_health_doctors", "op": ">=", "value": 2},
            ],
        }
    )
    r = attribute_share(tiny, params=params)
    assert (r.district()["numerator"], r.district()["denominator"]) == (1.0, 2.0)
    assert r.district()["failing_units"] == ["乙镇卫生院"]
    # rural villages with tap water: 二村 no, 三村 yes -> 50 %
    params = AttributeShareParams.model_validate(
        {
            "layer": "village",
            "base_where": [{"column": "urban", "value": False}],
            "condition": [{"column": "tap_water", "value": True}],
        }
    )
    r = attribute_share(tiny, params=params, per_township=True)
    assert r.district()["value"] == 50.0
    assert r.township(T1)["value"] == 0.0 and r.township(T2)["value"] == 100.0
    assert math.isnan(r.township(T3)["value"])
    # empty layer -> NaN (no parks to judge), not 0 % or 100 %
    params = AttributeShareParams.model_validate(
        {"layer": "park", "condition": [{"column": "has_play_area", "value": True}]}
    )
    assert math.isnan(attribute_share(_emptied(tiny, "park"), params=params).district()["value"])


# ---------------------------------------------------------------------- proximity_violations


def test_proximity_violations_threshold_inclusive(tiny: Dataset) -> None:
    # I1 is exactly 200 m from school P1 (a violation), I2 500 m (not)
    params = ProximityViolationsParams.model_validate(
        {
            "features": {"layer": "internet_cafe"},
            "near": [{"layer": "primary_school"}],
            "distance_m": 200,
        }
    )
    r = proximity_violations(tiny, params=params, per_township=True)
    assert r.district()["value"] == 1.0
    assert r.district()["failing_units"] == ["网吧一 → 小学一 200 m"]
    assert r.township(T2)["value"] == 1.0 and r.township(T1)["value"] == 0.0
    r = proximity_violations(tiny, params=params.model_copy(update={"distance_m": 199.0}))
    assert r.district()["value"] == 0.0
    # no cafés, or no schools: nothing to violate
    assert (
        proximity_violations(_emptied(tiny, "internet_cafe"), params=params).district()["value"]
        == 0.0
    )
    assert (
        proximity_violations(_emptied(tiny, "primary_school"), params=params).district()["value"]
        == 0.0
    )
    assert not proximity_violations(_without(tiny, "primary_school"), params=params).available


def test_proximity_violations_middle_schools(tiny: Dataset) -> None:
    """Middle schools count in the 200 m rule; a dataset without them says it did not check."""
    params = ProximityViolationsParams.model_validate(
        {
            "features": {"layer": "internet_cafe"},
            "near": [{"layer": "primary_school"}, {"layer": "middle_school", "optional": True}],
            "distance_m": 200,
        }
    )
    # the tiny dataset has no middle schools: I1 alone, and the note names the skipped layer
    r = proximity_violations(tiny, params=params, per_township=True)
    assert r.available and r.district()["value"] == 1.0
    assert "middle_school not checked" in r.district()["note"]
    assert "middle_school" not in r.layers_used
    # middle school M1 at (6200, 1700): I2 (6200, 1500) is exactly 200 m away -> 2 violations
    spec = tiny.spec("primary_school").model_copy(
        update={"id": "middle_school", "file": "middle_school.geojson"}
    )
    ms = gpd.GeoDataFrame(
        {
            "id": ["M1"],
            "name": ["中学一"],
            "provenance": ["sample"],
            "township_code": [T2],
            "places": [900],
        },
        geometry=[shapely.Point(460000 + 6200.0, 2730000 + 1700.0)],
        crs="EPSG:4547",
    )
    r = proximity_violations(tiny.with_layer("middle_school", ms, spec), params=params)
    assert r.district()["value"] == 2.0 and r.district()["note"] == ""
    assert r.district()["failing_units"] == ["网吧一 → 小学一 200 m", "网吧二 → 中学一 200 m"]
    assert "middle_school" in r.layers_used
    # a required (not optional) layer the dataset lacks still makes the indicator unavailable
    strict = params.model_copy(
        update={"near": (params.near[0], params.near[1].model_copy(update={"optional": False}))}
    )
    assert not proximity_violations(tiny, params=strict).available


# ---------------------------------------------------------------------- access_share


def test_access_share_by_hand(tiny: Dataset) -> None:
    # childcare, children 0-2: 一村 200 reached (300 m, inclusive), 二村 100 not (2624.9 m >
    # 2000), 三村 150 reached (2000 m, inclusive) -> 350 / 450 = 77.78 %
    params = AccessShareParams.model_validate({"facilities": {"layer": "childcare"}})
    r = access_share(tiny, params=params, per_township=True)
    d = r.district()
    assert (d["numerator"], d["denominator"]) == (350.0, 450.0)
    assert d["failing_units"] == ["二村"]
    assert d["method"] == "straight_line_x_detour"
    assert r.township(T1)["value"] == pytest.approx(200 / 3)
    assert r.township(T2)["value"] == 100.0
    assert math.isnan(r.township(T3)["value"])  # no children there
    assert r.extra["age_bands"] == ("pop_0_2",)


def test_access_children_beyond_and_detour(tiny: Dataset) -> None:
    # primary school P1 (6200,1000), children 6-11; urban 500 m, rural 3000 m:
    # 一村 5200 m (400 beyond), 二村 sqrt(3200²+2000²)=3773.6 (200 beyond), 三村 200 m
    params = AccessShareParams.model_validate(
        {"facilities": {"layer": "primary_school"}, "value": "children_beyond"}
    )
    r = access_share(tiny, params=params)
    assert r.district()["value"] == 600.0
    assert r.district()["failing_units"] == ["一村社区", "二村"]  # most children first
    # with the default detour factor 1.3, C1 at 300 m straight is 390 m walking: 一村 misses
    raw = load_dataset(TINY)
    r = access_share(
        raw, params=AccessShareParams.model_validate({"facilities": {"layer": "childcare"}})
    )
    assert r.district()["numerator"] == 0.0  # 三村: 2000 × 1.3 = 2600 > 2000 as well


def test_children_beyond_per_township_by_hand(tiny: Dataset) -> None:
    # primary school P1: 一村 400 and 二村 200 children beyond (both 甲镇); 三村 reached (乙镇)
    params = AccessShareParams.model_validate(
        {"facilities": {"layer": "primary_school"}, "value": "children_beyond"}
    )
    r = access_share(tiny, params=params, per_township=True)
    assert r.township(T1)["value"] == 600.0
    assert r.township(T1)["failing_units"] == ["一村社区", "二村"]
    assert r.township(T2)["value"] == 0.0 and r.township(T2)["failing_units"] == []
    # a count: nobody in 丙镇 is nobody beyond reach (0, not NaN)
    assert r.township(T3)["value"] == 0.0 and r.township(T3)["note"] == ""
    assert (r.rows["denominator"] == 1.0).all()


def test_access_zero_population_and_empty_layer(tiny: Dataset) -> None:
    params = AccessShareParams.model_validate(
        {"facilities": {"layer": "childcare"}, "age_bands": ["pop_0_2"]}
    )
    r = access_share(_emptied(tiny, "childcare"), params=params)
    assert r.district()["value"] == 0.0
    empty_villages = _emptied(tiny, "village")
    r = access_share(empty_villages, params=params, per_township=True)
    assert r.rows["value"].isna().all()


def test_access_uses_shared_cache(tiny: Dataset) -> None:
    cache: dict[object, object] = {}
    params = AccessShareParams.model_validate({"facilities": {"layer": "park"}})
    access_share(tiny, params=params, cache=cache)
    assert len(cache) == 1
    unit_coverage(
        tiny,
        params=_cov(units="village", facilities={"layer": "park"}, match="distance"),
        cache=cache,
    )
    assert len(cache) == 1  # the same nearest-park distances were reused


# ---------------------------------------------------------------------- unprotected_hazards


def test_unprotected_hazards_by_hand(tiny: Dataset) -> None:
    # H1 (200 m from 二村, no fence) and H4 (447 m from 三村, 400 m from P1, no rescue gear)
    # count; H2 is far from everything; H3 is exactly 500 m from 一村 but fully protected
    params = UnprotectedHazardsParams()
    r = unprotected_hazards(tiny, params=params, per_township=True)
    assert r.district()["value"] == 2.0
    assert r.district()["failing_units"] == ["塘四", "塘一"]  # 750 children before 500
    assert r.township(T1)["value"] == 1.0 and r.township(T3)["value"] == 0.0
    r = unprotected_hazards(
        tiny, params=UnprotectedHazardsParams(distance_m=100), per_township=True
    )
    assert r.district()["value"] == 0.0
    assert not unprotected_hazards(_without(tiny, "water_hazard"), params=params).available


def test_township_rows_add_up_to_the_district(tiny: Dataset) -> None:
    """Every tiny feature lies in a township, so each bundled indicator's townships sum up."""
    from qjgeo.indicators import load_targets

    for ind in load_targets().indicators:
        r = METRICS[ind.kind](tiny, params=ind.params, per_township=True)
        assert r.available, ind.id
        district, towns = r.district(), r.rows.iloc[1:]
        if towns.empty:  # township units: the district row only
            continue
        assert towns["numerator"].sum() == pytest.approx(district["numerator"]), ind.id
        counts = ind.kind in ("feature_count", "proximity_violations", "unprotected_hazards")
        if counts or getattr(ind.params, "value", "") == "children_beyond":
            assert (r.rows["denominator"] == 1.0).all(), ind.id
            assert (r.rows["value"] == r.rows["numerator"]).all(), ind.id
        else:
            assert towns["denominator"].sum() == pytest.approx(district["denominator"]), ind.id
        if district["failing_units"] is not None:
            by_town = [u for units in towns["failing_units"] for u in units]
            assert sorted(by_town) == sorted(district["failing_units"]), ind.id


def test_shortfall_wording_singular_and_plural(tiny: Dataset) -> None:
    """'1 more community needs …' but '2 more townships need …'; Chinese says what is missing."""
    from qjgeo.indicators import evaluate

    out = evaluate(tiny).set_index(["id", "scope"])
    one = out.loc[("science_venue_community_coverage", "district")]
    assert one["shortfall_n"] == 1
    assert (
        one["shortfall_en"] == "1 more community needs a science venue in or within reach: 一村社区"
    )
    two = out.loc[("science_venue_town_coverage", "district")]
    assert two["shortfall_en"] == "2 more townships need a children's science venue: 乙镇, 丙镇"
    assert two["shortfall_zh"] == "还需2个镇（街道）建设少儿科普活动场所：乙镇、丙镇"
    hazard = out.loc[("water_hazard_control", T1)]
    assert hazard["shortfall_en"].startswith("1 water hazard near children needs fencing")
    # 800 more children must be reached for 80 %, not "800 children have no park"
    park = out.loc[("outdoor_activity_access", "district")]
    assert park["shortfall_zh"] == "步行范围内有公园的儿童还需增加800名：三村、二村"
    unmet = out.loc[out["met"] == False]  # noqa: E712
    for n, text in zip(unmet["shortfall_n"], unmet["shortfall_en"], strict=True):
        assert (" need " not in text) if n == 1 else (" needs " not in text), text


def test_every_kind_has_a_function() -> None:
    from qjgeo.indicators.targets import METRIC_KINDS

    assert set(METRICS) == set(METRIC_KINDS)


@pytest.mark.filterwarnings("ignore:1 of 2 facilities are farther than 500 m:UserWarning")
def test_access_over_a_walking_network(tiny: Dataset) -> None:
    """With a graph the distance is measured on it and the method says ``network``."""
    from qjgeo.network import graph_from_arrays

    x0, y0 = 460000.0, 2730000.0
    # 一村 (1000,1000) and C1 (1000,1300) joined by a 500 m path (a detour round a wall):
    # 500 m > the 300 m urban distance, although the straight line is exactly 300 m
    graph = graph_from_arrays(
        [1, 2], [x0 + 1000, x0 + 1000], [y0 + 1000, y0 + 1300], [1], [2], [500.0]
    )
    params = AccessShareParams.model_validate({"facilities": {"layer": "childcare"}})
    r = access_share(tiny, params=params, graph=graph)
    assert r.district()["method"] == "network"
    assert r.district()["numerator"] == 0.0  # 二村 and 三村 are beyond the snap limit
    assert "一村社区" in r.district()["failing_units"]


def test_shortfall_says_when_fewer_units_than_listed_must_change(tiny: Dataset) -> None:
    """At 50 % of 3 townships one more is enough: the two without one are a choice."""
    from qjgeo.indicators import evaluate, load_targets, parse_targets

    raw = load_targets().get("science_venue_town_coverage").model_dump(mode="json")
    raw["target"]["value"] = 50.0
    out = evaluate(tiny, targets=parse_targets({"indicators": [raw]}))
    row = out.loc[out["scope"] == "district"].iloc[0]
    assert row["shortfall_n"] == 1
    assert row["shortfall_en"] == (
        "1 more township needs a children's science venue (any 1 of these 2: 乙镇, 丙镇)"
    )
    assert row["shortfall_zh"] == (
        "还需1个镇（街道）建设少儿科普活动场所（可从以下2个中任选1个：乙镇、丙镇）"
    )


# ---------------------------------------------------------------------- supply_demand_share


def test_supply_demand_share_by_hand(tiny: Dataset) -> None:
    """Children aged 0–2 in villages below the plan's childcare ratio (2SFCA, 2,000 m step).

    Threshold: 6 places per 1,000 residents × 15,000 residents ÷ 450 children aged 0–2
    = 200 places per 1,000 children aged 0–2.
    Catchments (≤ 2,000 m, inclusive): C1 (40) reaches 一村 only (300 m): 40/200 = 0.2;
    K1 nursery (10) reaches 一村 (200 m): 10/200 = 0.05; C2 (20) reaches 三村 exactly at
    2,000 m: 20/150; K2 nursery (0) reaches 三村: 0. 二村 reaches nothing.
    一村 = 250, 二村 = 0, 三村 = 133.3 per 1,000 → 二村 (100) and 三村 (150) below:
    250 of 450 children = 55.6 %; 甲镇 100 of 300 = 33.3 %, 乙镇 150 of 150 = 100 %,
    丙镇 has no children (NaN).
    """
    params = SupplyDemandParams()
    r = supply_demand_share(tiny, params=params, per_township=True)
    assert r.extra["threshold_per_1000_children"] == pytest.approx(200.0)
    d = r.district()
    assert (d["numerator"], d["denominator"]) == (250.0, 450.0)
    assert d["value"] == pytest.approx(100 * 250 / 450)
    assert d["failing_units"] == ["三村 133", "二村 0"]
    assert r.township(T1)["value"] == pytest.approx(100 / 3)
    assert r.township(T2)["value"] == pytest.approx(100.0)
    assert math.isnan(r.township(T3)["value"])
    assert "200 places per 1,000 children" in d["note"]
    assert set(r.layers_used) >= {"village", "childcare", "kindergarten", "district"}
    # without nursery places 一村 has 200 exactly: not below (the ratio is met at equality)
    r = supply_demand_share(
        tiny, params=params.model_copy(update={"include_kindergarten_nursery": False})
    )
    assert r.district()["numerator"] == 250.0
    # a plan ratio of 8 per 1,000 residents (266.7 per 1,000 children): 一村 falls below too
    r = supply_demand_share(
        tiny, params=params.model_copy(update={"plan_places_per_1000_residents": 8.0})
    )
    assert r.district()["value"] == pytest.approx(100.0)
    # a 1,000 m catchment: C2 no longer reaches 三村 -> same villages below, 三村 at 0
    r = supply_demand_share(tiny, params=params.model_copy(update={"catchment_m": 1000.0}))
    assert r.district()["failing_units"] == ["三村 0", "二村 0"]
    # no childcare layer: not available, never zero
    assert not supply_demand_share(_without(tiny, "childcare"), params=params).available
