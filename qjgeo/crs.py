"""Coordinate reference systems used by qjgeo.

Display frames are held in WGS84 (EPSG:4326); distances and areas are computed in
CGCS2000 / 3-degree Gauss-Krüger CM 114°E (EPSG:4547), a metric CRS centred on Qujiang.

Besides the EPSG systems, Chinese web maps publish coordinates in two obfuscated
("encrypted") lon/lat systems that have no EPSG code:

* **GCJ-02** ("Mars coordinates"), used by Amap (高德) and Tencent maps: WGS84 plus a
  non-linear offset of a few hundred metres, defined only inside a rough bounding box
  around China (see :func:`in_china`).
* **BD-09**, used by Baidu maps: GCJ-02 plus a further polar-coordinate offset.

This module converts between them with vectorised numpy code. ``"cgcs2000"`` is accepted
as an alias of ``"wgs84"``: the two frames differ by a few centimetres, far below the
accuracy of any data this package handles.

Conventions
-----------
All point functions take ``(lon, lat)`` in degrees, as scalars or array-likes that
broadcast together, and return a tuple ``(lon, lat)`` of ``float64`` numpy arrays of the
broadcast shape. Scalar input therefore gives 0-d arrays; use ``float(x)`` if a Python
float is needed. Inputs are never modified in place.

Points outside the :func:`in_china` box are returned unchanged by every GCJ-02/BD-09
conversion, which is how the offsets are defined. NaN coordinates pass through as NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import shapely

if TYPE_CHECKING:
    import geopandas as gpd

WGS84_CRS = "EPSG:4326"
METRIC_CRS = "EPSG:4547"
#: ``crs=AUTO_CRS`` asks a reader for the metric CRS of the data's location
#: (:func:`metric_crs_for`): :data:`METRIC_CRS` inside its area of use, the local UTM zone elsewhere.
AUTO_CRS: Final = "auto"
#: CGCS2000 geographic lon/lat (EPSG:4490), China's national datum, for handing data over.
CGCS2000_CRS = "EPSG:4490"

KNOWN_SYSTEMS: Final[tuple[str, ...]] = ("wgs84", "cgcs2000", "gcj02", "bd09")
"""Coordinate system names accepted by :func:`convert` (case-insensitive)."""

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Converter = Callable[[npt.ArrayLike, npt.ArrayLike], tuple[FloatArray, FloatArray]]
"""Signature shared by the point conversion functions."""

# Bounding box used by the GCJ-02 algorithm to decide where the offset applies.
_CHINA_LON_MIN: Final = 72.004
_CHINA_LON_MAX: Final = 137.8347
_CHINA_LAT_MIN: Final = 0.8293
_CHINA_LAT_MAX: Final = 55.8271

# Constants of the (leaked) GCJ-02 algorithm: Krasovsky 1940 semi-major axis and the
# eccentricity squared it is used with.
_GCJ_A: Final = 6378245.0
_GCJ_EE: Final = 0.00669342162296594323
# BD-09 uses pi * 3000 / 180 as its angular frequency.
_BD_X_PI: Final = np.pi * 3000.0 / 180.0
_BD_DLON: Final = 0.0065
_BD_DLAT: Final = 0.006

# Iterative GCJ-02 inversion: stop when the forward image is within this many degrees
# of the target (1e-10 deg is about 0.01 mm), or after this many iterations.
_INVERSE_TOL_DEG: Final = 1e-10
_INVERSE_MAX_ITER: Final = 50

EARTH_MEAN_RADIUS_M: Final = 6371008.8
"""IUGG mean Earth radius in metres, used by :func:`haversine_m`."""

_ALIASES: Final[dict[str, str]] = {
    "wgs84": "wgs84",
    "cgcs2000": "wgs84",
    "gcj02": "gcj02",
    "bd09": "bd09",
}


def _as_pair(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Return ``lon`` and ``lat`` as broadcast, freshly allocated float64 arrays."""
    lon_a, lat_a = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return np.array(lon_a, dtype=np.float64), np.array(lat_a, dtype=np.float64)


def in_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> BoolArray:
    """Test whether points fall inside the rough China box used by GCJ-02.

    The box is lon 72.004–137.8347°, lat 0.8293–55.8271° (bounds inclusive). It is the
    definition used by the GCJ-02 algorithm, not a political boundary: it includes
    parts of neighbouring countries.

    Parameters
    ----------
    lon, lat : array_like
        Longitude and latitude in degrees; broadcast together.

    Returns
    -------
    numpy.ndarray of bool
        ``True`` where the offset applies. NaN coordinates give ``False``.
    """
    lon_a, lat_a = _as_pair(lon, lat)
    return (
        (lon_a >= _CHINA_LON_MIN)
        & (lon_a <= _CHINA_LON_MAX)
        & (lat_a >= _CHINA_LAT_MIN)
        & (lat_a <= _CHINA_LAT_MAX)
    )


def _gcj_delta(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return the raw GCJ-02 offset ``(dlon, dlat)`` in degrees at WGS84 points.

    The offset is computed everywhere, without the :func:`in_china` mask.
    """
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0

    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat += common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0

    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon += common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0

    rad_lat = np.radians(lat)
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _shift_in_china(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    shift: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
) -> tuple[FloatArray, FloatArray]:
    """Apply a coordinate shift inside the :func:`in_china` box; points outside stay as given.

    ``shift`` maps float64 ``(lon, lat)`` arrays to the shifted ``(lon, lat)``; it is
    evaluated everywhere and its result kept only inside the box.
    """
    lon_a, lat_a = _as_pair(lon, lat)
    inside = in_china(lon_a, lat_a)
    new_lon, new_lat = shift(lon_a, lat_a)
    return np.where(inside, new_lon, lon_a), np.where(inside, new_lat, lat_a)


def _gcj_shift(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _bd_shift(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 → BD-09 without the China mask."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def _bd_unshift(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """BD-09 → GCJ-02 (closed form) without the China mask."""
    x = lon - _BD_DLON
    y = lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 lon/lat to GCJ-02 (Amap/Tencent "Mars" coordinates).

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitude and latitude in degrees; broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lon, lat)`` as float64 arrays. Points outside :func:`in_china` are
        returned unchanged.
    """
    return _shift_in_china(lon, lat, _gcj_shift)


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 lon/lat to WGS84 by iterative inversion.

    Solves ``wgs84_to_gcj02(w) == g`` with the fixed-point iteration
    ``w <- w - (gcj(w) - g)``, starting from ``w = g``. The offset changes by only a
    few metres per kilometre, so the iteration contracts quickly: a handful of
    iterations reaches the 1e-10° (~0.01 mm) stopping tolerance, far below the
    0.01 m accuracy target. Only points that have not converged keep iterating.
    The commonly published one-step inverse (``2 g - gcj(g)``) is off by up to a few
    metres and is not used.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitude and latitude in degrees; broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 ``(lon, lat)`` as float64 arrays. Points whose GCJ-02 position is outside
        :func:`in_china` are returned unchanged.

    Notes
    -----
    Within a few hundred metres of the edge of the :func:`in_china` box the forward
    mapping is discontinuous and the inverse is not unique; there the offset is applied
    as if the box did not exist.
    """
    g_lon, g_lat = _as_pair(lon, lat)
    inside = in_china(g_lon, g_lat)
    w_lon = g_lon.copy()
    w_lat = g_lat.copy()

    idx = np.flatnonzero(inside.ravel())
    flat_w_lon = w_lon.reshape(-1)
    flat_w_lat = w_lat.reshape(-1)
    target_lon = g_lon.reshape(-1)[idx]
    target_lat = g_lat.reshape(-1)[idx]
    cur_lon = target_lon.copy()
    cur_lat = target_lat.copy()
    active = np.arange(idx.size)
    for _ in range(_INVERSE_MAX_ITER):
        if active.size == 0:
            break
        dlon, dlat = _gcj_delta(cur_lon[active], cur_lat[active])
        err_lon = cur_lon[active] + dlon - target_lon[active]
        err_lat = cur_lat[active] + dlat - target_lat[active]
        cur_lon[active] -= err_lon
        cur_lat[active] -= err_lat
        converged = (np.abs(err_lon) < _INVERSE_TOL_DEG) & (np.abs(err_lat) < _INVERSE_TOL_DEG)
        active = active[~converged]
    flat_w_lon[idx] = cur_lon
    flat_w_lat[idx] = cur_lat
    return w_lon, w_lat


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 lon/lat to BD-09 (Baidu).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitude and latitude in degrees; broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lon, lat)`` as float64 arrays. Points outside :func:`in_china` are
        returned unchanged.
    """
    return _shift_in_china(lon, lat, _bd_shift)


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 lon/lat to GCJ-02 with the standard closed-form inverse.

    This is the formula used by the common open-source converters; it is not an exact
    inverse of :func:`gcj02_to_bd09`: the round-trip error is up to about 0.25 m inside
    China, well below the accuracy of BD-09 data.

    Parameters
    ----------
    lon, lat : array_like
        BD-09 longitude and latitude in degrees; broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lon, lat)`` as float64 arrays. Points outside :func:`in_china` are
        returned unchanged.
    """
    return _shift_in_china(lon, lat, _bd_unshift)


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 lon/lat to BD-09 (via GCJ-02).

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitude and latitude in degrees; broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lon, lat)`` as float64 arrays; points outside China unchanged.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 lon/lat to WGS84 (via GCJ-02, with the iterative GCJ-02 inverse).

    The BD-09 to GCJ-02 step is the closed-form :func:`bd09_to_gcj02`, so a round trip
    through :func:`wgs84_to_bd09` is accurate to about 0.25 m.

    Parameters
    ----------
    lon, lat : array_like
        BD-09 longitude and latitude in degrees; broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 ``(lon, lat)`` as float64 arrays; points outside China unchanged.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _normalise_system(name: str, role: str) -> str:
    """Map a system name to its canonical form, raising ``ValueError`` if unknown."""
    key = name.strip().lower() if isinstance(name, str) else None
    if key is None or key not in _ALIASES:
        raise ValueError(
            f"unknown {role} coordinate system {name!r}; "
            f"expected one of {', '.join(KNOWN_SYSTEMS)} (case-insensitive)"
        )
    return _ALIASES[key]


def _identity(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    return _as_pair(lon, lat)


_CONVERTERS: Final[dict[tuple[str, str], Converter]] = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


@dataclass(frozen=True)
class ConversionResult:
    """Result of :func:`convert_with_report`.

    Attributes
    ----------
    lon, lat : numpy.ndarray
        Converted coordinates (float64).
    outside_china : numpy.ndarray of bool
        ``True`` for input points outside the :func:`in_china` box. When the conversion
        involves GCJ-02 or BD-09 these points were returned unchanged; for conversions
        without an offset (e.g. ``wgs84`` to ``cgcs2000``) the mask is informational.
    """

    lon: FloatArray
    lat: FloatArray
    outside_china: BoolArray

    @property
    def n_outside(self) -> int:
        """Number of points outside the China box."""
        return int(np.count_nonzero(self.outside_china))


def convert_with_report(
    lon: npt.ArrayLike, lat: npt.ArrayLike, src: str, dst: str
) -> ConversionResult:
    """Convert points between coordinate systems and report points outside China.

    Parameters
    ----------
    lon, lat : array_like
        Coordinates in degrees in the ``src`` system; broadcast together.
    src, dst : str
        One of :data:`KNOWN_SYSTEMS` (case-insensitive). ``"cgcs2000"`` is treated as
        identical to ``"wgs84"`` (they differ by centimetres).

    Returns
    -------
    ConversionResult
        Converted ``lon``/``lat`` and the ``outside_china`` mask of the input points.

    Raises
    ------
    ValueError
        If ``src`` or ``dst`` is not a known system name.
    """
    src_n = _normalise_system(src, "source")
    dst_n = _normalise_system(dst, "destination")
    lon_a, lat_a = _as_pair(lon, lat)
    func = _CONVERTERS.get((src_n, dst_n), _identity)
    out_lon, out_lat = func(lon_a, lat_a)
    return ConversionResult(lon=out_lon, lat=out_lat, outside_china=~in_china(lon_a, lat_a))


def convert(
    lon: npt.ArrayLike, lat: npt.ArrayLike, src: str, dst: str
) -> tuple[FloatArray, FloatArray]:
    """Convert points between WGS84/CGCS2000, GCJ-02 and BD-09.

    Parameters
    ----------
    lon, lat : array_like
        Coordinates in degrees in the ``src`` system; broadcast together.
    src, dst : str
        One of :data:`KNOWN_SYSTEMS` (case-insensitive). ``"cgcs2000"`` is treated as
        identical to ``"wgs84"``.

    Returns
    -------
    tuple of numpy.ndarray
        Converted ``(lon, lat)`` as float64 arrays.

    Raises
    ------
    ValueError
        If ``src`` or ``dst`` is not a known system name.

    See Also
    --------
    convert_with_report : same conversion, also reporting points outside China.
    """
    result = convert_with_report(lon, lat, src, dst)
    return result.lon, result.lat


def convert_geometries(geoms: Any, src: str, dst: str) -> Any:
    """Convert the coordinates of shapely geometries between coordinate systems.

    Parameters
    ----------
    geoms : shapely.Geometry or array_like of shapely.Geometry
        Geometries with lon/lat coordinates in ``src``. ``None`` entries are kept.
    src, dst : str
        One of :data:`KNOWN_SYSTEMS` (case-insensitive).

    Returns
    -------
    shapely.Geometry or numpy.ndarray of shapely.Geometry
        New geometries of the same shape as ``geoms``; Z values are preserved.

    Raises
    ------
    ValueError
        If ``src`` or ``dst`` is not a known system name.
    """
    src_n = _normalise_system(src, "source")
    dst_n = _normalise_system(dst, "destination")
    func = _CONVERTERS.get((src_n, dst_n))

    def _transform(coords: FloatArray) -> FloatArray:
        out = np.array(coords, dtype=np.float64)
        if func is not None and out.shape[0]:
            out[:, 0], out[:, 1] = func(out[:, 0], out[:, 1])
        return out

    return shapely.transform(geoms, _transform, include_z=None)


def convert_gdf(gdf: gpd.GeoDataFrame, src: str, dst: str) -> gpd.GeoDataFrame:
    """Convert a lon/lat GeoDataFrame between coordinate systems.

    GCJ-02 and BD-09 have no EPSG code, so frames holding them are usually tagged
    EPSG:4326 or carry no CRS; both are accepted, as is any geographic CRS.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Frame whose active geometry column holds lon/lat coordinates in ``src``.
    src, dst : str
        One of :data:`KNOWN_SYSTEMS` (case-insensitive).

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame (the input is not modified) with converted geometries and CRS
        EPSG:4326.

    Raises
    ------
    ValueError
        If the frame's CRS is projected (not lon/lat), or a system name is unknown.
    """
    import geopandas as gpd

    crs = gdf.crs
    if crs is not None and not crs.is_geographic:
        raise ValueError(
            f"convert_gdf needs lon/lat coordinates, but the frame's CRS is projected: "
            f"{crs.to_string()}; reproject with to_wgs84() first"
        )
    geom_name = gdf.geometry.name
    converted = convert_geometries(np.asarray(gdf.geometry.array), src, dst)
    out = gdf.copy()
    out[geom_name] = gpd.GeoSeries(converted, index=gdf.index, crs=WGS84_CRS)
    return out.set_crs(WGS84_CRS, allow_override=True)


def _require_crs(gdf: gpd.GeoDataFrame, func: str) -> None:
    if gdf.crs is None:
        raise ValueError(
            f"{func}: the GeoDataFrame has no CRS; set one first, e.g. gdf.set_crs({WGS84_CRS!r})"
        )


def to_metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject a GeoDataFrame to the metric CRS (:data:`METRIC_CRS`, EPSG:4547).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Frame with a CRS set. GCJ-02/BD-09 data must be converted to WGS84 first.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame in EPSG:4547 (units: metres).

    Raises
    ------
    ValueError
        If the frame has no CRS.
    """
    _require_crs(gdf, "to_metric")
    return gdf.to_crs(METRIC_CRS)


def to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject a GeoDataFrame to WGS84 lon/lat (:data:`WGS84_CRS`, EPSG:4326).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Frame with a CRS set.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame in EPSG:4326.

    Raises
    ------
    ValueError
        If the frame has no CRS.
    """
    _require_crs(gdf, "to_wgs84")
    return gdf.to_crs(WGS84_CRS)


def haversine_m(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in metres on a sphere of radius :data:`EARTH_MEAN_RADIUS_M`.

    Parameters
    ----------
    lon1, lat1, lon2, lat2 : array_like
        Coordinates in degrees; broadcast together.

    Returns
    -------
    numpy.ndarray
        Distances in metres (float64). Spherical model: error up to about 0.5 %.
    """
    lo1 = np.radians(np.asarray(lon1, dtype=np.float64))
    la1 = np.radians(np.asarray(lat1, dtype=np.float64))
    lo2 = np.radians(np.asarray(lon2, dtype=np.float64))
    la2 = np.radians(np.asarray(lat2, dtype=np.float64))
    h = np.sin((la2 - la1) / 2.0) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2.0) ** 2
    dist: FloatArray = 2.0 * EARTH_MEAN_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return dist


@cache
def _metric_area() -> tuple[float, float, float, float]:
    import pyproj

    area = pyproj.CRS.from_user_input(METRIC_CRS).area_of_use
    if area is None:  # pragma: no cover - EPSG:4547 has one
        return (-180.0, -90.0, 180.0, 90.0)
    return (area.west, area.south, area.east, area.north)


def utm_crs(lon: float, lat: float) -> str:
    """The WGS84 UTM zone (``EPSG:326xx`` north, ``EPSG:327xx`` south) holding a point.

    Parameters
    ----------
    lon, lat
        The point in degrees.

    Returns
    -------
    str
        The zone's EPSG code, e.g. ``"EPSG:32649"`` for Qujiang (113.6°E).
    """
    zone = math.floor((lon + 180.0) / 6.0) % 60 + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def metric_crs_for(lon: float, lat: float) -> str:
    """The metric CRS for data centred at a point: EPSG:4547 in its area, else local UTM.

    :data:`METRIC_CRS` (CGCS2000 Gauss–Krüger CM 114°E, Qujiang's zone) is used inside its
    area of use (112.5–115.5°E in China); elsewhere the point's UTM zone (:func:`utm_crs`),
    so distances stay in metres without the distortion of a projection centred far away.

    Parameters
    ----------
    lon, lat
        The data's centre in degrees (WGS84).

    Returns
    -------
    str
        An EPSG code.
    """
    west, south, east, north = _metric_area()
    if west <= lon <= east and south <= lat <= north:
        return METRIC_CRS
    return utm_crs(lon, lat)
