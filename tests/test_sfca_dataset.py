"""Childcare places per 1,000 children (2SFCA) wired to a dataset (qjgeo.gaps).

The array core (qjgeo.sfca) has its own hand-worked and PySAL checks; here the expected
figures for the tiny fixture (tests/fixtures/gaps/README.md) are worked out by hand:

Catchment d0 = 2000 m, detour factor 1, so the distances are straight lines:
C1 (30 places) reaches V1 (300 m, 100 children) and V2 (1044.03 m, 50 children);
C2 (20 places) reaches V3 (1500 m, 40 children); V4 (10 children) reaches nothing.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from qjgeo import Dataset, load_dataset
from qjgeo.gaps import GapsUnavailable, childcare_accessibility
from qjgeo.params import merge_params

TINY = Path(__file__).resolve().parent / "fixtures" / "gaps" / "tiny"
D_V2_C1 = math.hypot(1000.0, 300.0)


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    ds = load_dataset(TINY)
    return ds.with_params(merge_params(ds.params, {"detour_factor": 1.0}))


def test_2sfca_step_by_hand(tiny: Dataset) -> None:
    r = childcare_accessibility(tiny, method="2sfca", decay="step", threshold_m=2000)
    # R1 = 30 / (100 + 50) = 0.2 ; R2 = 20 / 40 = 0.5 ; A = 0.2, 0.2, 0.5, 0 places per child
    assert r.villages["places_per_1000_children"].tolist() == pytest.approx([200, 200, 500, 0])
    assert r.villages["facilities_in_reach"].tolist() == [1, 1, 1, 0]
    t = r.townships.set_index("code9")
    assert t.loc["440205001", "places_per_1000_children"] == pytest.approx(200)
    # 乙镇: (40 × 0.5 + 10 × 0) / 50 = 0.4
    assert t.loc["440205100", "places_per_1000_children"] == pytest.approx(400)
    assert t.loc["440205100", "places"] == 20
    assert math.isnan(t.loc["440205102", "places_per_1000_children"])
    assert r.district["places_per_1000_children"] == pytest.approx(250)
    assert r.district["villages_without_places_in_reach"] == 1
    assert r.method == "2sfca step 2000 m (straight_line_x_detour)"
    assert r.data_status == "sample"


def test_e2sfca_zones_by_hand(tiny: Dataset) -> None:
    r = childcare_accessibility(tiny, method="e2sfca", decay="step", threshold_m=2000)
    # zones: ≤666.7 m weight 1, ≤1333.3 m 0.68, ≤2000 m 0.22
    r1 = 30 / (100 * 1.0 + 50 * 0.68)
    r2 = 20 / (40 * 0.22)
    expected = [1000 * r1, 1000 * 0.68 * r1, 1000 * 0.22 * r2, 0.0]
    assert r.villages["places_per_1000_children"].tolist() == pytest.approx(expected)
    assert r.params_used["decay"] == "zones"
    # the supply is shared out, not created: Σ children × A = Σ places
    assert (r.villages["children"] * r.villages["places_per_1000_children"]).sum() / 1000 == (
        pytest.approx(50)
    )


def test_gaussian_by_hand(tiny: Dataset) -> None:
    r = childcare_accessibility(tiny, method="2sfca", decay="gaussian", threshold_m=2000)

    def w(d: float) -> float:
        return (math.exp(-0.5 * (d / 2000) ** 2) - math.exp(-0.5)) / (1 - math.exp(-0.5))

    r1 = 30 / (100 * w(300) + 50 * w(D_V2_C1))
    r2 = 20 / (40 * w(1500))
    expected = [1000 * w(300) * r1, 1000 * w(D_V2_C1) * r1, 1000 * w(1500) * r2, 0.0]
    assert r.villages["places_per_1000_children"].tolist() == pytest.approx(expected)


def test_small_catchment_and_unserved_supply(tiny: Dataset) -> None:
    # d0 = 1000 m: C1 reaches only V1, C2 reaches nobody -> its 20 places are unreached
    r = childcare_accessibility(tiny, threshold_m=1000)
    assert r.villages["places_per_1000_children"].tolist() == pytest.approx([300, 0, 0, 0])
    assert r.district["places_unreached"] == 20
    assert r.district["places_per_1000_plain"] == pytest.approx(250)


def test_default_threshold_is_rural_distance(tiny: Dataset) -> None:
    r = childcare_accessibility(tiny)
    assert r.params_used["threshold_m"] == tiny.params.facility("childcare").rural_threshold_m


def test_network_matrix_is_used(tiny: Dataset) -> None:
    from qjgeo.network import graph_from_arrays

    x0, y0 = 460000.0, 2730000.0
    # V1–C1 by a 300 m street, V2 joined through V1 with 1800 m: V2 beyond 2000 m
    graph = graph_from_arrays(
        [1, 2, 3],
        [x0, x0, x0 + 1000],
        [y0, y0 + 300, y0],
        [1, 1],
        [2, 3],
        [300.0, 1800.0],
    )
    r = childcare_accessibility(tiny, graph=graph, threshold_m=2000)
    # only V1 reaches C1 (V3/V4/C2 are off the network): A1 = 30 / 100
    assert r.villages["places_per_1000_children"].tolist() == pytest.approx([300, 0, 0, 0])
    assert r.params_used["distance_method"] == "network"


def test_kindergarten_nursery_places_count(tiny: Dataset) -> None:
    spec = tiny.spec("childcare").model_copy(
        update={"id": "kindergarten", "file": "kindergarten.geojson"}
    )
    kg = gpd.GeoDataFrame(
        {
            "id": ["K1"],
            "name": ["幼儿园"],
            "township_code": ["440205001"],
            "provenance": ["sample"],
            "source": ["test"],
            "places": [90],
            "puhui": [True],
            "nursery_places": [15],
        },
        geometry=[shapely.Point(460000.0, 2730000.0)],
        crs="EPSG:4547",
    )
    ds = tiny.with_layer("kindergarten", kg, spec)
    r = childcare_accessibility(ds, threshold_m=2000)
    # C1 + K1 both reach exactly V1, V2: (30 + 15) / 150 = 0.3
    assert r.villages["places_per_1000_children"].tolist()[:2] == pytest.approx([300, 300])
    assert "kindergarten.nursery_places" in r.params_used["supply"]
    r2 = childcare_accessibility(ds, threshold_m=2000, include_kindergarten_nursery=False)
    assert r2.villages["places_per_1000_children"].tolist()[:2] == pytest.approx([200, 200])


def test_not_available_and_bad_arguments(tiny: Dataset) -> None:
    no_supply = Dataset(
        info=tiny.info,
        specs={k: v for k, v in tiny.specs.items() if k != "childcare"},
        frames={k: v for k, v in tiny.frames.items() if k != "childcare"},
    )
    with pytest.raises(GapsUnavailable, match="no childcare layer"):
        childcare_accessibility(no_supply)
    with pytest.raises(GapsUnavailable, match="method"):
        childcare_accessibility(tiny, method="3sfca")  # type: ignore[arg-type]
    with pytest.raises(GapsUnavailable, match="threshold_m"):
        childcare_accessibility(tiny, threshold_m=0)


def test_bundled_sanity(dataset: Dataset) -> None:
    r = childcare_accessibility(dataset)
    places = (
        dataset.layer("childcare")["places"].sum()
        + dataset.layer("kindergarten")["nursery_places"].sum()
    )
    assert r.district["places"] == pytest.approx(places)
    # 2SFCA shares supply out: Σ children × A + unreached places = all places
    shared = (r.villages["children"] * r.villages["places_per_1000_children"]).sum() / 1000
    assert shared + r.district["places_unreached"] == pytest.approx(places)
    assert np.isfinite(r.villages["places_per_1000_children"]).all()
    assert isinstance(r.townships, pd.DataFrame) and len(r.townships) == 10
    assert r.data_status == "sample"
