"""Population grids (GeoTIFF, rasterio) as demand: nodata, another CRS, not covering, age grids.

The grids are written here with rasterio; expected counts are the cells whose centres lie
inside the outline, counted independently with shapely.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin
from typer.testing import CliRunner

from qjgeo.catalog import Dataset, DatasetInfo
from qjgeo.cli import app
from qjgeo.crs import WGS84_CRS
from qjgeo.demand.ages import CHILD_BANDS, AgeShares
from qjgeo.demand.estimate import UnitOptions, estimate_from_grid
from qjgeo.demand.raster import RasterError, age_group_of

OUTLINE = shapely.box(113.60, 24.68, 113.62, 24.70)  # lon/lat, near 马坝
SHARES = AgeShares({"pop_0_2": 0.03, "pop_3_5": 0.03, "pop_6_11": 0.06, "pop_12_14": 0.03}, "t")
runner = CliRunner()


def _dataset() -> Dataset:
    district = gpd.GeoDataFrame(
        {"code": ["t"], "name": ["t"], "provenance": ["osm"]}, geometry=[OUTLINE], crs=WGS84_CRS
    )
    info = DatasetInfo(id="grid", title_zh="grid", title_en="grid")
    return Dataset(info=info, specs={}, frames={"district": district})


def _write(path: Path, values: np.ndarray, transform, crs: str, nodata: float | None) -> Path:  # type: ignore[no-untyped-def]
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(values.astype("float32"), 1)
    return path


def _lonlat_grid(tmp_path: Path, name: str, value: float, nodata_cells: int = 0) -> Path:
    # 0.001° cells from 113.59 / 24.71: centres 113.5905 + 0.001 k; inside the outline k = 10…29
    values = np.full((40, 40), value)
    values[15, 12 : 12 + nodata_cells] = -99999.0  # inside the outline
    values[0, 0] = -99999.0  # outside: never counted either way
    return _write(
        tmp_path / name, values, from_origin(113.59, 24.71, 0.001, 0.001), "EPSG:4326", -99999.0
    )


def test_a_grid_with_nodata_counts_the_valid_cells_inside_the_outline(tmp_path: Path) -> None:
    grid = _lonlat_grid(tmp_path, "pop.tif", 1.0, nodata_cells=5)
    est = estimate_from_grid(
        _dataset(), str(grid), shares=SHARES, options=UnitOptions(unit="hex", cell_size_m=500)
    )
    assert est.population == 20 * 20 - 5  # 400 cells inside, 5 of them nodata
    assert int(est.units["population"].sum()) == 395
    assert any("nodata" in n for n in est.notices)
    assert {b: int(est.units[b].sum()) for b in CHILD_BANDS} == {
        "pop_0_2": 12,
        "pop_3_5": 12,
        "pop_6_11": 23,
        "pop_12_14": 12,
    }
    # 395 × (0.03, 0.03, 0.06, 0.03, rest 0.85) = 11.85, 11.85, 23.7, 11.85, 335.75: four
    # persons left after the floors go to the largest remainders (.85 ×3, then .75 of the rest)


def test_a_grid_in_another_crs_is_read_in_its_own_crs(tmp_path: Path) -> None:
    utm = "EPSG:32649"
    to_utm = pyproj.Transformer.from_crs(WGS84_CRS, utm, always_xy=True)
    minx, miny, maxx, maxy = shapely.transform(
        OUTLINE, lambda c: np.column_stack(to_utm.transform(c[:, 0], c[:, 1]))
    ).bounds
    x0, y0 = np.floor(minx / 100) * 100 - 300, np.ceil(maxy / 100) * 100 + 300
    w, h = int((maxx - x0) / 100) + 4, int((y0 - miny) / 100) + 4
    grid = _write(
        tmp_path / "utm.tif", np.full((h, w), 2.0), from_origin(x0, y0, 100, 100), utm, None
    )
    # independent count: cell centres inside the outline (projected to the grid's CRS)
    cx, cy = np.meshgrid(x0 + 50 + 100 * np.arange(w), y0 - 50 - 100 * np.arange(h))
    outline_utm = shapely.transform(
        OUTLINE, lambda c: np.column_stack(to_utm.transform(c[:, 0], c[:, 1]))
    )
    inside = int(shapely.contains_xy(outline_utm, cx.ravel(), cy.ravel()).sum())
    est = estimate_from_grid(_dataset(), str(grid), shares=SHARES)
    assert est.population == 2 * inside
    assert "32649" in est.method
    lon, lat = est.units.geometry.x, est.units.geometry.y  # units come back in lon/lat
    assert ((113.60 <= lon) & (lon <= 113.62) & (24.68 <= lat) & (lat <= 24.70)).all()


def test_a_grid_not_covering_the_outline_is_refused_with_its_extent(tmp_path: Path) -> None:
    small = _write(
        tmp_path / "small.tif",
        np.ones((5, 5)),
        from_origin(113.61, 24.69, 0.001, 0.001),
        "EPSG:4326",
        None,
    )
    with pytest.raises(RasterError) as info:
        estimate_from_grid(_dataset(), str(small), shares=SHARES)
    message = str(info.value)
    assert "does not cover the outline" in message and "未覆盖" in message
    assert "113.61, 24.685, 113.615, 24.69" in message  # the grid's extent
    assert "113.6, 24.68, 113.62, 24.7" in message  # the outline's


def test_age_grids_give_the_children_by_band(tmp_path: Path) -> None:
    pop = _lonlat_grid(tmp_path, "pop.tif", 10.0)
    groups = {
        "chn_f_0_2020.tif": 0.1,
        "chn_f_1_2020.tif": 0.4,
        "chn_f_5_2020.tif": 0.5,
        "chn_f_10_2020.tif": 0.5,
    }
    ages = [str(_lonlat_grid(tmp_path, name, v)) for name, v in groups.items()]
    assert age_group_of(ages[1]) == (1, 4) and age_group_of("x.tif=3-5") == (3, 5)
    est = estimate_from_grid(_dataset(), str(pop), age_grids=ages, options=UnitOptions(unit="hex"))
    assert est.population == 4000
    # per cell: 0-2 = 0.1 + 2/4·0.4 = 0.3; 3-5 = 0.2 + 0.1 = 0.3; 6-11 = 0.4 + 0.2 = 0.6; 12-14 = 0.3
    assert est.band_totals == {"pop_0_2": 120, "pop_3_5": 120, "pop_6_11": 240, "pop_12_14": 120}
    for band, total in est.band_totals.items():
        assert int(est.units[band].sum()) == total


def test_the_command_writes_a_grid_estimate(tmp_path: Path) -> None:
    from qjgeo.osm_import import import_osm

    osm = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "osm"
    if not osm.is_dir():
        pytest.skip("shared OSM extracts not found")
    data = import_osm(osm / "munich_small.osm", tmp_path / "munich")
    grid = _write(
        tmp_path / "m.tif",
        np.ones((30, 30)),
        from_origin(10.06, 48.14, 0.0005, 0.0005),
        "EPSG:4326",
        None,
    )
    res = runner.invoke(
        app, ["demand", "--data", str(data), "--raster", str(grid), "--children-share", "0.15"]
    )
    assert res.exit_code == 0, res.output
    assert "population grid m.tif" in res.output
    res = runner.invoke(
        app,
        [
            "demand",
            "--data",
            str(data),
            "--raster",
            str(tmp_path / "no.tif"),
            "--children-share",
            "0.15",
        ],
    )
    assert res.exit_code == 2 and "not a readable raster" in res.output
