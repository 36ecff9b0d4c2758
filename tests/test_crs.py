"""Tests for qjgeo.crs: WGS84 / GCJ-02 / BD-09 conversions and CRS helpers."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from qjgeo import crs
from qjgeo.crs import (
    KNOWN_SYSTEMS,
    METRIC_CRS,
    WGS84_CRS,
    ConversionResult,
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert,
    convert_gdf,
    convert_geometries,
    convert_with_report,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    haversine_m,
    in_china,
    to_metric,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# ---------------------------------------------------------------------------
# Published reference pairs, all as (lon, lat).
# ---------------------------------------------------------------------------

# WGS84 -> GCJ-02. Source: googollee/eviltransform, python/test.py and
# go/transform_test.go, list TESTS (published there as wgsLat, wgsLng, gcjLat, gcjLng and
# checked to 6 decimal places).
EVILTRANSFORM_WGS_GCJ = [
    # shanghai
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    # shenzhen (Guangdong)
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    # beijing
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]

# Source: wandergis/coordtransform, test/app.js (the JS sibling of
# wandergis/coordTransform_py), all four functions applied to (116.404, 39.915):
#   bd09togcj02:  [ 116.39762729119315, 39.90865673957631 ]
#   gcj02tobd09:  [ 116.41036949371029, 39.92133699351021 ]
#   wgs84togcj02: [ 116.41024449916938, 39.91640428150164 ]
# (its gcj02towgs84 is the one-step approximation, so it is not used as a reference).
COORDTRANSFORM_INPUT = (116.404, 39.915)
COORDTRANSFORM_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)
COORDTRANSFORM_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
COORDTRANSFORM_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)

# WGS84 -> GCJ-02 -> BD-09 triple. Source: Glatzel/pyxis, crates/pyxis/src/crypto.rs,
# constants WGS84_LON/LAT, GCJ02_LON/LAT, BD09_LON/LAT (doc-tests assert the forward
# conversions to 1e-17).
PYXIS_WGS84 = (121.091707700000001, 30.610777899999999)
PYXIS_GCJ02 = (121.096269278509766, 30.608604368560773)
PYXIS_BD09 = (121.102717246225637, 30.614845759768389)

REF_TOL_DEG = 1e-9

# Qujiang District, Shaoguan (WGS84). Not a published pair: a regression value produced
# by this implementation (which reproduces every published pair above), pinned so that
# changes to the algorithm near the project area are noticed. The offset magnitude
# (about +0.005 deg lon, -0.003 deg lat, i.e. roughly 530 m east and 340 m south) is the
# well-known size of the GCJ-02 shift in northern Guangdong.
QUJIANG_WGS84 = (113.6, 24.7)
QUJIANG_GCJ02 = (113.6051809966125, 24.696931428085517)


def _assert_close(got: tuple[np.ndarray, np.ndarray], want: tuple[float, float], tol: float):
    assert abs(float(got[0]) - want[0]) < tol, (float(got[0]), want[0])
    assert abs(float(got[1]) - want[1]) < tol, (float(got[1]), want[1])


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_eviltransform_pairs(wgs, gcj):
    _assert_close(wgs84_to_gcj02(*wgs), gcj, REF_TOL_DEG)


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_inverts_eviltransform_pairs(wgs, gcj):
    # eviltransform's own exact inverse is only required to be within 0.5 m; ours is
    # iterative and must land within 1 cm (and 1e-7 deg) of the published WGS84 point.
    back = gcj02_to_wgs84(*gcj)
    _assert_close(back, wgs, 1e-7)
    assert float(haversine_m(*back, *wgs)) < 0.01


def test_coordtransform_reference_values():
    _assert_close(wgs84_to_gcj02(*COORDTRANSFORM_INPUT), COORDTRANSFORM_WGS84_TO_GCJ02, 1e-12)
    _assert_close(gcj02_to_bd09(*COORDTRANSFORM_INPUT), COORDTRANSFORM_GCJ02_TO_BD09, 1e-12)
    _assert_close(bd09_to_gcj02(*COORDTRANSFORM_INPUT), COORDTRANSFORM_BD09_TO_GCJ02, 1e-12)


def test_pyxis_reference_triple():
    _assert_close(wgs84_to_gcj02(*PYXIS_WGS84), PYXIS_GCJ02, 1e-12)
    _assert_close(gcj02_to_bd09(*PYXIS_GCJ02), PYXIS_BD09, 1e-12)
    _assert_close(wgs84_to_bd09(*PYXIS_WGS84), PYXIS_BD09, 1e-12)
    # Inverses: GCJ-02 -> WGS84 is iterative (exact); BD-09 -> GCJ-02 is the standard
    # closed form, whose round-trip error is at most about 0.25 m.
    _assert_close(gcj02_to_wgs84(*PYXIS_GCJ02), PYXIS_WGS84, 1e-9)
    assert float(haversine_m(*bd09_to_gcj02(*PYXIS_BD09), *PYXIS_GCJ02)) < 0.2
    assert float(haversine_m(*bd09_to_wgs84(*PYXIS_BD09), *PYXIS_WGS84)) < 0.2


def test_qujiang_offset_magnitude():
    lon, lat = wgs84_to_gcj02(*QUJIANG_WGS84)
    dlon = float(lon) - QUJIANG_WGS84[0]
    dlat = float(lat) - QUJIANG_WGS84[1]
    # Expected roughly +0.0053 deg lon and -0.0029 deg lat.
    assert dlon == pytest.approx(0.0053, abs=5e-4)
    assert dlat == pytest.approx(-0.0029, abs=5e-4)
    assert 450 < float(haversine_m(*QUJIANG_WGS84, lon, lat)) < 750
    _assert_close((lon, lat), QUJIANG_GCJ02, 1e-9)
    _assert_close(gcj02_to_wgs84(*QUJIANG_GCJ02), QUJIANG_WGS84, 1e-9)


# ---------------------------------------------------------------------------
# Round trips (hypothesis). Points keep a 1 degree margin inside the China box so the
# offset image stays inside it too.
# ---------------------------------------------------------------------------

lons = st.floats(min_value=73.0, max_value=136.8, allow_nan=False)
lats = st.floats(min_value=1.9, max_value=54.8, allow_nan=False)
point_lists = st.lists(st.tuples(lons, lats), min_size=1, max_size=40)


def _split(points: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(points, dtype=np.float64)
    return arr[:, 0], arr[:, 1]


@settings(deadline=None, max_examples=200)
@given(point_lists)
def test_round_trip_gcj02(points):
    lon, lat = _split(points)
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    assert in_china(g_lon, g_lat).all()
    b_lon, b_lat = gcj02_to_wgs84(g_lon, g_lat)
    dist = haversine_m(lon, lat, b_lon, b_lat)
    assert dist.max() < 0.01  # iterative inverse: well under a centimetre
    # The offset really is applied (hundreds of metres, never zero inside China).
    assert (haversine_m(lon, lat, g_lon, g_lat) > 1.0).all()


@settings(deadline=None, max_examples=200)
@given(point_lists)
def test_round_trip_bd09(points):
    lon, lat = _split(points)
    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    w_lon, w_lat = bd09_to_wgs84(b_lon, b_lat)
    assert haversine_m(lon, lat, w_lon, w_lat).max() < 1.0


@settings(deadline=None, max_examples=200)
@given(point_lists)
def test_round_trip_bd09_cheap_inverse(points):
    lon, lat = _split(points)
    b_lon, b_lat = gcj02_to_bd09(lon, lat)
    g_lon, g_lat = bd09_to_gcj02(b_lon, b_lat)
    assert haversine_m(lon, lat, g_lon, g_lat).max() < 1.0


@settings(deadline=None, max_examples=100)
@given(point_lists, st.sampled_from(KNOWN_SYSTEMS), st.sampled_from(KNOWN_SYSTEMS))
def test_convert_round_trip_any_pair(points, src, dst):
    lon, lat = _split(points)
    f_lon, f_lat = convert(lon, lat, src, dst)
    r_lon, r_lat = convert(f_lon, f_lat, dst, src)
    assert haversine_m(lon, lat, r_lon, r_lat).max() < 1.0


# ---------------------------------------------------------------------------
# Shapes, dtypes and outside-China behaviour.
# ---------------------------------------------------------------------------

OUTSIDE = [(0.0, 0.0), (2.3522, 48.8566), (-74.006, 40.7128), (151.2093, -33.8688)]


def test_scalar_and_array_shapes():
    lon, lat = wgs84_to_gcj02(113.6, 24.7)
    assert lon.shape == () and lat.shape == ()
    assert lon.dtype == np.float64
    grid_lon, grid_lat = np.meshgrid(np.linspace(113, 114, 3), np.linspace(24, 25, 4))
    for func in (wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02):
        out_lon, out_lat = func(grid_lon, grid_lat)
        assert out_lon.shape == (4, 3) and out_lat.shape == (4, 3)
    # Broadcasting a scalar latitude against a list of longitudes.
    out_lon, out_lat = gcj02_to_wgs84([113.0, 113.5, 114.0], 24.7)
    assert out_lon.shape == (3,) and out_lat.shape == (3,)


def test_inputs_not_modified():
    lon = np.array([113.6, 113.7])
    lat = np.array([24.7, 24.8])
    before = (lon.copy(), lat.copy())
    for func in (wgs84_to_gcj02, gcj02_to_wgs84, wgs84_to_bd09, bd09_to_wgs84):
        func(lon, lat)
    np.testing.assert_array_equal(lon, before[0])
    np.testing.assert_array_equal(lat, before[1])


def test_in_china():
    mask = in_china([113.6, 0.0, 72.004, 137.8348, 100.0], [24.7, 0.0, 0.8293, 30.0, 55.9])
    assert mask.tolist() == [True, False, True, False, False]
    assert not in_china(np.nan, 24.7)


@pytest.mark.parametrize(
    "func",
    [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84],
)
def test_outside_china_unchanged(func):
    lon, lat = _split(OUTSIDE)
    out_lon, out_lat = func(lon, lat)
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)


def test_convert_with_report_mixed_points():
    lon = np.array([113.6, 0.0, 2.3522, 121.5])
    lat = np.array([24.7, 0.0, 48.8566, 31.2])
    result = convert_with_report(lon, lat, "WGS84", "bd09")
    assert isinstance(result, ConversionResult)
    assert result.outside_china.tolist() == [False, True, True, False]
    assert result.n_outside == 2
    np.testing.assert_array_equal(result.lon[1:3], lon[1:3])
    np.testing.assert_array_equal(result.lat[1:3], lat[1:3])
    assert (
        haversine_m(lon[[0, 3]], lat[[0, 3]], result.lon[[0, 3]], result.lat[[0, 3]]) > 100
    ).all()
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.lon = lon  # type: ignore[misc]


def test_nan_passes_through():
    lon, lat = gcj02_to_wgs84([113.6, np.nan], [24.7, 24.7])
    assert np.isfinite(lon[0]) and np.isnan(lon[1])
    assert lat[1] == 24.7


# ---------------------------------------------------------------------------
# convert(): system names.
# ---------------------------------------------------------------------------


def test_known_systems():
    assert set(KNOWN_SYSTEMS) == {"wgs84", "cgcs2000", "gcj02", "bd09"}
    assert isinstance(KNOWN_SYSTEMS, tuple)


def test_convert_case_insensitive_and_matches_direct_functions():
    lon, lat = convert(113.6, 24.7, "WGS84", "GCJ02")
    _assert_close((lon, lat), QUJIANG_GCJ02, 1e-12)
    lon2, lat2 = convert(*PYXIS_BD09, "Bd09", "cgcs2000")
    _assert_close((lon2, lat2), tuple(map(float, bd09_to_wgs84(*PYXIS_BD09))), 1e-15)


def test_cgcs2000_is_wgs84():
    lon, lat = convert([113.6, 0.0], [24.7, 0.0], "cgcs2000", "wgs84")
    np.testing.assert_array_equal(lon, [113.6, 0.0])
    np.testing.assert_array_equal(lat, [24.7, 0.0])
    a = convert(113.6, 24.7, "cgcs2000", "gcj02")
    b = convert(113.6, 24.7, "wgs84", "gcj02")
    assert float(a[0]) == float(b[0]) and float(a[1]) == float(b[1])


@pytest.mark.parametrize(
    ("src", "dst", "bad"),
    [("gcj-02", "wgs84", "gcj-02"), ("wgs84", "mars", "mars"), ("EPSG:4326", "bd09", "EPSG:4326")],
)
def test_convert_rejects_unknown_system(src, dst, bad):
    with pytest.raises(ValueError, match=f"'{bad}'") as excinfo:
        convert(113.6, 24.7, src, dst)
    message = str(excinfo.value)
    for name in KNOWN_SYSTEMS:
        assert name in message
    with pytest.raises(ValueError, match=f"'{bad}'"):
        convert_with_report(113.6, 24.7, src, dst)


# ---------------------------------------------------------------------------
# Geometries and GeoDataFrames.
# ---------------------------------------------------------------------------


def _sample_gdf(crs_: str | None = WGS84_CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["school", "park", "road"]},
        geometry=[
            Point(113.6, 24.7),
            Point(113.58, 24.68),
            LineString([(113.55, 24.66), (113.60, 24.70), (113.62, 24.75)]),
        ],
        index=[10, 20, 30],
        crs=crs_,
    )


def test_convert_geometries_matches_points_and_keeps_z():
    geoms = np.array(
        [Point(113.6, 24.7, 55.0), LineString([(113.5, 24.6), (113.7, 24.8)]), None],
        dtype=object,
    )
    out = convert_geometries(geoms, "wgs84", "gcj02")
    assert out.shape == (3,)
    assert out[2] is None
    assert shapely.has_z(out[0])
    assert shapely.get_coordinates(out[0], include_z=True)[0, 2] == 55.0
    coords = shapely.get_coordinates(out[1])
    exp_lon, exp_lat = wgs84_to_gcj02([113.5, 113.7], [24.6, 24.8])
    np.testing.assert_allclose(coords[:, 0], exp_lon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(coords[:, 1], exp_lat, rtol=0, atol=1e-12)
    # A single geometry in, a single geometry out.
    single = convert_geometries(Point(113.6, 24.7), "wgs84", "gcj02")
    assert isinstance(single, Point)
    _assert_close((single.x, single.y), QUJIANG_GCJ02, 1e-12)


def test_convert_gdf_points_and_linestring():
    gdf = _sample_gdf()
    original = gdf.copy()
    out = convert_gdf(gdf, "gcj02", "wgs84")
    assert out.crs is not None and out.crs.to_epsg() == 4326
    assert out.index.tolist() == [10, 20, 30]
    assert out["name"].tolist() == ["school", "park", "road"]
    assert out.geometry.name == "geometry"
    assert out.geom_type.tolist() == ["Point", "Point", "LineString"]
    # Input untouched.
    assert gdf.geom_equals(original).all()
    # Every vertex converted exactly like the point function does it.
    got = shapely.get_coordinates(out.geometry.values)
    src = shapely.get_coordinates(gdf.geometry.values)
    exp_lon, exp_lat = gcj02_to_wgs84(src[:, 0], src[:, 1])
    np.testing.assert_allclose(got[:, 0], exp_lon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got[:, 1], exp_lat, rtol=0, atol=1e-12)
    # And back again, within a centimetre.
    back = shapely.get_coordinates(convert_gdf(out, "wgs84", "gcj02").geometry.values)
    assert haversine_m(back[:, 0], back[:, 1], src[:, 0], src[:, 1]).max() < 0.01


def test_convert_gdf_without_crs_is_assumed_lonlat():
    out = convert_gdf(_sample_gdf(None), "bd09", "wgs84")
    assert out.crs is not None and out.crs.to_epsg() == 4326


def test_convert_gdf_rejects_projected_frame():
    projected = _sample_gdf().to_crs(METRIC_CRS)
    with pytest.raises(ValueError, match="EPSG:4547"):
        convert_gdf(projected, "wgs84", "gcj02")


def test_to_metric_and_back():
    gdf = _sample_gdf()
    metric = to_metric(gdf)
    assert metric.crs is not None and metric.crs.to_epsg() == 4547
    # Metric distance between the two points agrees with the great-circle distance.
    d_metric = metric.geometry.iloc[0].distance(metric.geometry.iloc[1])
    d_sphere = float(haversine_m(113.6, 24.7, 113.58, 24.68))
    assert d_metric == pytest.approx(d_sphere, rel=5e-3)
    back = to_wgs84(metric)
    assert back.crs is not None and back.crs.to_epsg() == 4326
    np.testing.assert_allclose(
        shapely.get_coordinates(back.geometry.values),
        shapely.get_coordinates(gdf.geometry.values),
        atol=1e-9,
    )


@pytest.mark.parametrize("func", [to_metric, to_wgs84])
def test_reprojection_requires_crs(func):
    with pytest.raises(ValueError, match="no CRS"):
        func(_sample_gdf(None))


def test_haversine_known_distance():
    # One degree of latitude on the mean-radius sphere.
    assert float(haversine_m(113.6, 24.0, 113.6, 25.0)) == pytest.approx(
        np.pi * crs.EARTH_MEAN_RADIUS_M / 180.0, rel=1e-12
    )
    assert haversine_m([0.0, 1.0], [0.0, 0.0], [0.0, 1.0], [0.0, 0.0]).tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (113.6, 24.7, "EPSG:4547"),  # Qujiang: CGCS2000 Gauss–Krüger CM 114°E
        (115.0, 30.0, "EPSG:4547"),  # still inside the zone's area of use
        (116.5, 23.4, "EPSG:32650"),  # Shantou: east of the zone, UTM 50N
        (-122.28, 37.81, "EPSG:32610"),  # Oakland
        (11.57, 48.14, "EPSG:32632"),  # Munich
        (151.2, -33.9, "EPSG:32756"),  # Sydney, southern hemisphere
    ],
)
def test_metric_crs_is_chosen_by_location(lon: float, lat: float, expected: str) -> None:
    assert crs.metric_crs_for(lon, lat) == expected
    assert crs.utm_crs(113.6, 24.7) == "EPSG:32649"
