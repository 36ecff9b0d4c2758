"""``qjgeo osm-fetch`` against a local Overpass / Nominatim stand-in (tests/overpass_standin.py).

osmnx's endpoint settings point at a server on 127.0.0.1 that answers from the bundled OSM
extracts; the fetched dataset must be the one ``osm-import --clip`` writes for the same area.
Offline (nothing listening) the error is one line naming the PBF route.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import osmnx as ox
import pytest
import shapely
from overpass_standin import OverpassStandIn
from test_osm_pbf import MUNICH_WEST, NAMES, assert_same_dataset
from typer.testing import CliRunner

from qjgeo import load_dataset
from qjgeo.cli import app
from qjgeo.osm_fetch import OfflineError, fetch_osm
from qjgeo.osm_import import OsmImportError, import_osm

runner = CliRunner()
PLACE = "曲江区, 韶关市, 广东省"
#: most of the West Oakland extract: streets, footways, a park and a playground
OAKLAND_WEST = (-122.3026, 37.8061, -122.2995, 37.8092)
TRIANGLE = shapely.Polygon([(10.0680, 48.1350), (10.0710, 48.1350), (10.0680, 48.1370)])


@pytest.fixture
def osmnx_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """osmnx's cache in a temporary folder; its global DNS patch undone afterwards."""
    monkeypatch.setattr(socket, "getaddrinfo", socket.getaddrinfo)
    monkeypatch.setattr(ox.settings, "use_cache", True)
    monkeypatch.setattr(ox.settings, "cache_folder", str(tmp_path / "osmnx-cache"))
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", True)  # the stand-in has /status


@pytest.fixture
def standin(
    osm_dir: Path, osmnx_settings: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[OverpassStandIn]:
    places = {PLACE: TRIANGLE}
    with OverpassStandIn([osm_dir / name for name in NAMES], places) as server:
        monkeypatch.setattr(ox.settings, "overpass_url", server.overpass_url)
        monkeypatch.setattr(ox.settings, "nominatim_url", server.nominatim_url)
        yield server


def _boundary(tmp_path: Path, area: shapely.Polygon) -> Path:
    path = tmp_path / "area.geojson"
    gpd.GeoDataFrame(geometry=[area], crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return path


def test_fetch_by_boundary_writes_the_osm_import_dataset(
    tmp_path: Path, osm_dir: Path, standin: OverpassStandIn
) -> None:
    for name, box in ((NAMES[1], OAKLAND_WEST), (NAMES[0], MUNICH_WEST)):
        boundary = _boundary(tmp_path, shapely.box(*box))
        fetched = fetch_osm(tmp_path / "fetched", boundary=boundary, overwrite=True)
        imported = import_osm(osm_dir / name, tmp_path / "imported", clip=boundary, overwrite=True)
        # the stand-in dates its answers; the Oakland file has no date
        assert_same_dataset(fetched, imported, same_date=name == NAMES[0])
        if name == NAMES[1]:
            assert len(load_dataset(fetched).layer("park")) == 2
            # demand's buildings come down too (qjgeo demand needs them)
            assert len(load_dataset(fetched).layer("osm_building")) > 0
    assert standin.hits["/api/interpreter"] == 4  # roads, then features, per area
    assert standin.hits["/api/status"] == 4  # osmnx's rate-limit check before each


def test_fetch_by_place_uses_nominatim_and_osmnx_cache(
    tmp_path: Path, standin: OverpassStandIn
) -> None:
    first = load_dataset(fetch_osm(tmp_path / "one", place=PLACE))
    assert first.layer("district").geometry.iloc[0].equals_exact(TRIANGLE, 1e-9)
    assert first.spec("park").as_of == "2020-08-10"
    asked = dict(standin.hits)
    assert asked["/nominatim/search"] == 1 and asked["/api/interpreter"] == 2
    again = fetch_osm(tmp_path / "two", place=PLACE)
    assert dict(standin.hits) == asked  # every answer came from osmnx's cache
    assert_same_dataset(tmp_path / "one", again)


def test_cli_fetch_and_its_checks(tmp_path: Path, standin: OverpassStandIn) -> None:
    boundary = _boundary(tmp_path, TRIANGLE)
    ok = runner.invoke(
        app, ["osm-fetch", "--boundary", str(boundary), "--out", str(tmp_path / "d")]
    )
    assert ok.exit_code == 0, ok.output
    assert "wrote" in ok.output and "OpenStreetMap contributors" in ok.output
    neither = runner.invoke(app, ["osm-fetch", "--out", str(tmp_path / "e")])
    assert neither.exit_code == 2 and "--place or --boundary" in neither.output
    with pytest.raises(OsmImportError, match="未找到该地名的范围"):
        fetch_osm(tmp_path / "f", place="nowhere at all")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_offline_says_so_in_one_line_and_names_the_pbf_route(
    tmp_path: Path, osmnx_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _closed_port()
    monkeypatch.setattr(ox.settings, "overpass_url", f"http://127.0.0.1:{port}/api")
    monkeypatch.setattr(ox.settings, "nominatim_url", f"http://127.0.0.1:{port}/nominatim/")
    boundary = _boundary(tmp_path, TRIANGLE)
    with pytest.raises(OfflineError) as caught:
        fetch_osm(tmp_path / "out", boundary=boundary)
    message = str(caught.value)
    assert "\n" not in message
    assert "offline" in message and "离线" in message
    assert "qjgeo osm-import FILE.osm.pbf --clip" in message
    cli = runner.invoke(app, ["osm-fetch", "--place", PLACE, "--out", str(tmp_path / "cli")])
    assert cli.exit_code == 2
    assert cli.output.strip().count("\n") == 0 and "osm-import FILE.osm.pbf" in cli.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "cli").exists()
