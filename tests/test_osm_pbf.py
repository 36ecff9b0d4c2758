"""OSM PBF in (qjgeo.osm_pbf, ``qjgeo osm-import FILE.osm.pbf --clip|--bbox``).

The bundled XML extracts are converted to PBF here, with pyosmium's writer; the PBF import
must give the same dataset as the XML import, and a clip must keep exactly the features
that touch the area, with their ways complete.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from qjgeo import load_dataset
from qjgeo.cli import app
from qjgeo.network import load_walk_graph
from qjgeo.osm_import import NETWORK_FILE, OsmImportError, import_osm
from qjgeo.osm_pbf import OsmClipError, clip_osm, clip_pbf, parse_bbox, read_boundary

runner = CliRunner()

NAMES = ("munich_small.osm", "West-Oakland.osm.bz2")
#: a box over the western half of the Munich extract (bbox 10.068,48.135 – 10.071,48.137)
MUNICH_WEST = (10.0680, 48.1350, 10.0695, 48.1370)


def to_pbf(src: Path, dest: Path, timestamp: str = "") -> Path:
    """Write an OSM file as PBF (test set-up), carrying the data timestamp in the header."""
    header = osmium.FileProcessor(str(src)).header
    if timestamp:
        header.set("osmosis_replication_timestamp", timestamp)
    with osmium.SimpleWriter(str(dest), header=header) as writer:
        for obj in osmium.FileProcessor(str(src)):
            writer.add(obj)
    return dest


@pytest.fixture(scope="module")
def pbf_dir(tmp_path_factory: pytest.TempPathFactory, osm_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("pbf")
    to_pbf(osm_dir / NAMES[0], out / "munich_small.osm.pbf", "2020-08-10T00:00:00Z")
    to_pbf(osm_dir / NAMES[1], out / "West-Oakland.osm.pbf")
    return out


def assert_same_dataset(a: Path, b: Path, *, same_date: bool = True) -> None:
    one, two = load_dataset(a), load_dataset(b)
    assert one.layer_ids == two.layer_ids
    for layer_id in one.layer_ids:
        f1, f2 = one.layer(layer_id), two.layer(layer_id)
        if layer_id == "district":  # named after the source file (or the download)
            f1, f2 = f1.drop(columns="name"), f2.drop(columns="name")
        pd.testing.assert_frame_equal(
            pd.DataFrame(f1.drop(columns="geometry")), pd.DataFrame(f2.drop(columns="geometry"))
        )
        assert f1.geometry.geom_equals_exact(f2.geometry, tolerance=1e-9).all(), layer_id
        assert not same_date or one.spec(layer_id).as_of == two.spec(layer_id).as_of
    g1, g2 = load_walk_graph(a / NETWORK_FILE), load_walk_graph(b / NETWORK_FILE)
    assert g1.crs == g2.crs
    for name in ("node_ids", "x", "y", "indptr", "indices", "weights"):
        np.testing.assert_array_equal(getattr(g1, name), getattr(g2, name))


@pytest.mark.parametrize("name", NAMES)
def test_pbf_import_gives_the_same_dataset_as_the_xml_import(
    tmp_path: Path, osm_dir: Path, pbf_dir: Path, name: str
) -> None:
    xml_out = import_osm(osm_dir / name, tmp_path / "xml")
    pbf_out = import_osm(pbf_dir / (name.split(".")[0] + ".osm.pbf"), tmp_path / "pbf")
    assert_same_dataset(xml_out, pbf_out)
    assert "osm.pbf" in load_dataset(pbf_out).spec("park").source


def _xml_elements(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def test_clip_keeps_what_touches_the_area_with_complete_ways(tmp_path: Path, pbf_dir: Path) -> None:
    area = shapely.box(*MUNICH_WEST)
    summary = clip_osm(pbf_dir / "munich_small.osm.pbf", tmp_path / "cut.osm", area)
    root = _xml_elements(tmp_path / "cut.osm")
    nodes = {
        n.get("id"): (float(n.get("lon", 0)), float(n.get("lat", 0))) for n in root.iter("node")
    }
    inside = {i for i, (x, y) in nodes.items() if area.intersects(shapely.Point(x, y))}
    assert summary.nodes_inside == len(inside) > 0
    assert summary.nodes == len(nodes) > len(inside)  # outside nodes of crossing ways
    # every way is complete and touches the area
    for way in root.iter("way"):
        refs = [nd.get("ref") for nd in way.findall("nd")]
        assert all(r in nodes for r in refs)
        assert any(r in inside for r in refs)
    for node in root.iter("node"):  # outside nodes carry no tags: no feature outside
        if node.get("id") not in inside:
            assert node.find("tag") is None


def test_clip_finds_every_way_touching_the_area(tmp_path: Path, osm_dir: Path) -> None:
    src = osm_dir / "munich_small.osm"
    area = shapely.box(*MUNICH_WEST)
    root = _xml_elements(src)
    coords = {
        n.get("id"): (float(n.get("lon", 0)), float(n.get("lat", 0))) for n in root.iter("node")
    }
    inside = {i for i, (x, y) in coords.items() if area.intersects(shapely.Point(x, y))}
    expected = {
        w.get("id") for w in root.iter("way") if any(nd.get("ref") in inside for nd in w.iter("nd"))
    }
    clip_pbf(src, tmp_path / "cut.osm", bbox=MUNICH_WEST)
    got = {w.get("id") for w in _xml_elements(tmp_path / "cut.osm").iter("way")}
    assert got == expected


def test_import_clipped_by_bbox_and_by_boundary(tmp_path: Path, pbf_dir: Path) -> None:
    src = pbf_dir / "munich_small.osm.pbf"
    whole = load_dataset(import_osm(src, tmp_path / "whole"))
    by_box = load_dataset(import_osm(src, tmp_path / "box", bbox=MUNICH_WEST))
    triangle = shapely.Polygon([(10.0680, 48.1350), (10.0710, 48.1350), (10.0680, 48.1370)])
    boundary = tmp_path / "boundary.geojson"
    gpd.GeoDataFrame(geometry=[triangle], crs="EPSG:4326").to_file(boundary, driver="GeoJSON")
    by_shape = load_dataset(import_osm(src, tmp_path / "shape", clip=boundary))
    assert by_box.layer("district").geometry.iloc[0].equals(shapely.box(*MUNICH_WEST))
    assert by_shape.layer("district").geometry.iloc[0].equals_exact(triangle, 1e-9)
    for clipped, area in ((by_box, shapely.box(*MUNICH_WEST)), (by_shape, triangle)):
        assert clipped.spec("park").as_of == "2020-08-10"
        graph = load_walk_graph(clipped.root / NETWORK_FILE)  # type: ignore[operator]
        assert 0 < graph.n_nodes < load_walk_graph(tmp_path / "whole" / NETWORK_FILE).n_nodes
        for layer_id in ("park", "science_venue"):
            ids = set(clipped.layer(layer_id)["id"])
            full = whole.layer(layer_id)
            assert ids <= set(full["id"])
            # a feature lying wholly inside the area is kept
            within = full[full.geometry.within(area)]
            assert set(within["id"]) <= ids


def test_xml_extract_can_be_clipped_too(tmp_path: Path, osm_dir: Path, pbf_dir: Path) -> None:
    from_xml = import_osm(osm_dir / "munich_small.osm", tmp_path / "xml", bbox=MUNICH_WEST)
    from_pbf = import_osm(pbf_dir / "munich_small.osm.pbf", tmp_path / "pbf", bbox=MUNICH_WEST)
    assert_same_dataset(from_xml, from_pbf)


# ---------------------------------------------------------------------------
# Bad input: clear Chinese/English messages naming the file


def test_bad_pbf_is_refused_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "guangdong-latest.osm.pbf"
    bad.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all" * 10)
    with pytest.raises(OsmImportError, match=r"guangdong-latest\.osm\.pbf.*无法读取 OSM PBF"):
        import_osm(bad, tmp_path / "out", bbox="113.3,24.5,113.9,25.0")
    assert not (tmp_path / "out").exists()


def test_large_pbf_without_area_is_refused(
    tmp_path: Path, pbf_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = pbf_dir / "munich_small.osm.pbf"
    monkeypatch.setattr("qjgeo.osm_pbf.UNCLIPPED_PBF_LIMIT_BYTES", 100)  # by its size
    with pytest.raises(OsmImportError, match=r"munich_small\.osm\.pbf.* MB;.*--clip.*--bbox.*裁剪"):
        import_osm(src, tmp_path / "out")
    monkeypatch.undo()
    monkeypatch.setattr("qjgeo.osm_pbf.UNCLIPPED_MAX_BOX_DEG2", 1e-6)  # by its header's box
    with pytest.raises(OsmImportError, match=r"munich_small\.osm\.pbf.*square degrees;.*--clip"):
        import_osm(src, tmp_path / "out")


def test_area_without_nodes_is_refused(tmp_path: Path, pbf_dir: Path) -> None:
    with pytest.raises(OsmImportError, match=r"munich_small\.osm\.pbf.*裁剪范围内没有"):
        import_osm(pbf_dir / "munich_small.osm.pbf", tmp_path / "out", bbox="113,24,114,25")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (None, "does not exist.*边界文件不存在"),
        ("{not json", "not a readable boundary file.*无法读取边界文件"),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {},
                            "geometry": {"type": "Point", "coordinates": [10.07, 48.136]},
                        }
                    ],
                }
            ),
            "no polygon.*没有面要素",
        ),
    ],
)
def test_bad_boundary_file_is_refused_naming_it(
    tmp_path: Path, content: str | None, match: str
) -> None:
    path = tmp_path / "county.geojson"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(OsmClipError, match=r"county\.geojson"):
        read_boundary(path)
    with pytest.raises(OsmClipError, match=match):
        read_boundary(path)


@pytest.mark.parametrize("text", ["1,2,3", "a,b,c,d", "114,25,113,24", "0,0,200,10", "nan,1,2,3"])
def test_bad_bbox_is_refused(text: str) -> None:
    with pytest.raises(OsmClipError, match=r"--bbox.*（--bbox"):
        parse_bbox(text)


def test_cli_imports_a_clipped_pbf_and_reports_bad_input(tmp_path: Path, pbf_dir: Path) -> None:
    src = str(pbf_dir / "munich_small.osm.pbf")
    box = ",".join(str(v) for v in MUNICH_WEST)
    ok = runner.invoke(app, ["osm-import", src, "--bbox", box, "--out", str(tmp_path / "a")])
    assert ok.exit_code == 0, ok.output
    assert "wrote" in ok.output and "walk network" in ok.output and "drive network" in ok.output
    both = runner.invoke(
        app,
        ["osm-import", src, "--bbox", box, "--clip", src, "--out", str(tmp_path / "b")],
    )
    assert both.exit_code == 2 and "not both" in both.output
    missing = runner.invoke(
        app,
        ["osm-import", src, "--clip", str(tmp_path / "no.geojson"), "--out", str(tmp_path / "c")],
    )
    assert missing.exit_code == 2 and "no.geojson" in missing.output
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


# ---------------------------------------------------------------------------
# Property: for any box, the clip keeps exactly the ways with a node inside, complete


def _recount(src: Path, area: shapely.Polygon) -> tuple[set[str], set[str], set[str]]:
    """Inside nodes, touching ways and their nodes, recounted with xml.etree."""
    import bz2

    opener = bz2.open if src.name.endswith(".bz2") else open
    with opener(src, "rb") as handle:
        root = ET.parse(handle).getroot()
    inside = {
        n.get("id", "")
        for n in root.iter("node")
        if area.intersects(shapely.Point(float(n.get("lon", 0)), float(n.get("lat", 0))))
    }
    ways = {w.get("id", ""): [nd.get("ref", "") for nd in w.iter("nd")] for w in root.iter("way")}
    kept = {i for i, refs in ways.items() if inside.intersection(refs)}
    present = {n.get("id", "") for n in root.iter("node")}
    nodes = inside | {r for i in kept for r in ways[i] if r in present}
    return inside, kept, nodes


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(NAMES),
    corner=st.tuples(st.floats(0, 0.8), st.floats(0, 0.8)),
    size=st.tuples(st.floats(0.05, 1), st.floats(0.05, 1)),
)
def test_clip_of_any_box_keeps_exactly_the_touching_ways(
    tmp_path: Path,
    osm_dir: Path,
    name: str,
    corner: tuple[float, float],
    size: tuple[float, float],
) -> None:
    src = osm_dir / name
    box = osmium.FileProcessor(str(src)).header.box()
    west, south = box.bottom_left.lon, box.bottom_left.lat
    east, north = box.top_right.lon, box.top_right.lat
    w = west + corner[0] * (east - west)
    s = south + corner[1] * (north - south)
    area = shapely.box(w, s, w + size[0] * (east - west), s + size[1] * (north - south))
    inside, ways, nodes = _recount(src, area)
    dest = tmp_path / f"{name}-{w:.6f}-{s:.6f}.osm"
    if not inside:
        with pytest.raises(OsmClipError, match="no OSM node"):
            clip_osm(src, dest, area)
        return
    summary = clip_osm(src, dest, area)
    root = _xml_elements(dest)
    assert {w.get("id") for w in root.iter("way")} == ways
    assert {n.get("id") for n in root.iter("node")} == nodes
    assert summary.nodes_inside == len(inside)
