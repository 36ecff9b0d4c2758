"""``qjgeo export``: format from the extension, clear errors, atomic writes."""

from __future__ import annotations

import pyogrio
import pytest
from typer.testing import CliRunner

from qjgeo.cli import app
from qjgeo.export import EXTENSIONS, ExportError, export_to_path, resolve_township, write_atomic

runner = CliRunner()


def test_data_gpkg(tmp_path) -> None:
    out = tmp_path / "childcare.gpkg"
    result = runner.invoke(
        app, ["export", "--what", "data", "--type", "childcare", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    names = [n for n, _ in pyogrio.list_layers(out)]
    assert names[:5] == [
        "district",
        "gaps_hex",
        "villages_access",
        "townships_summary",
        "indicators_by_township",
    ]
    assert "facility_childcare" in names and names[-1] == "layer_styles"
    assert pyogrio.read_info(out, layer="villages_access")["crs"] == "EPSG:4490"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_unknown_extension_lists_allowed(tmp_path) -> None:
    out = tmp_path / "map.docx"
    result = runner.invoke(app, ["export", "--what", "map", "--out", str(out)])
    assert result.exit_code == 2
    assert ".png, .pdf" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_unknown_type_and_township(tmp_path) -> None:
    result = runner.invoke(
        app, ["export", "--what", "map", "--type", "zoo", "--out", str(tmp_path / "m.png")]
    )
    assert result.exit_code == 2 and "no layer 'zoo'" in result.output
    result = runner.invoke(
        app, ["export", "--what", "brief", "--township", "火星镇", "--out", str(tmp_path / "b.pdf")]
    )
    assert result.exit_code == 2 and "no township '火星镇'" in result.output


def test_export_to_path_rejects_bad_extension(dataset, tmp_path) -> None:
    with pytest.raises(ExportError, match=r"\.gpkg, \.geojson, \.zip, \.csv"):
        export_to_path("data", dataset, tmp_path / "x.kml")
    with pytest.raises(ExportError, match="--what must be one of"):
        export_to_path("poster", dataset, tmp_path / "x.png")
    assert set(EXTENSIONS) == {"map", "html", "data", "report", "brief"}


def test_csv_data_by_extension(dataset, tmp_path) -> None:
    out = export_to_path("data", dataset, tmp_path / "t.csv", layer="townships_summary")
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(out.read_text(encoding="utf-8-sig").strip().splitlines()) == 1 + 10


def test_resolve_township_by_name(dataset) -> None:
    assert resolve_township(dataset, "马坝镇") == "440205100"
    assert resolve_township(dataset, "440205100") == "440205100"


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch) -> None:
    out = tmp_path / "keep.csv"
    out.write_text("old", encoding="utf-8")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("qjgeo.fileio.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(out, b"new")
    assert out.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]


def test_export_bytes_brief_zip_and_png(dataset) -> None:
    import io
    import zipfile

    from PIL import Image

    from qjgeo.export import export_bytes

    data = export_bytes("brief", dataset, ".zip", township="马坝镇")
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.namelist() == ["440205100_马坝镇.pdf"]
    assert zf.read("440205100_马坝镇.pdf").startswith(b"%PDF-")
    png = export_bytes("map", dataset, ".png", facility_type="park", dpi=30)
    assert Image.open(io.BytesIO(png)).size == (int(11.69 * 30), int(8.27 * 30))
    with pytest.raises(ExportError, match="--township"):
        export_bytes("brief", dataset, ".pdf")


@pytest.fixture(scope="module")
def osm_dataset_dir(tmp_path_factory):
    from conftest import OSM_DIR

    from qjgeo.osm_import import import_osm

    return import_osm(OSM_DIR / "West-Oakland.osm.bz2", tmp_path_factory.mktemp("osm") / "ds")


@pytest.mark.parametrize("ext", [".png", ".pdf", ".html", ".gpkg"])
def test_gap_map_of_a_dataset_without_villages(osm_dataset_dir, tmp_path, ext) -> None:
    """An OSM import has no villages: the exports show the distance surface, say that
    children were not counted, and carry the OpenStreetMap status and attribution."""
    out = tmp_path / f"park{ext}"
    what = {".gpkg": "data", ".html": "html"}.get(ext, "map")
    args = ["export", "--data", str(osm_dataset_dir), "--what", what, "--type", "park"]
    res = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    if ext == ".gpkg":
        layers = [name for name, _ in pyogrio.list_layers(out)]
        assert "gaps_hex" in layers and "facility_park" in layers
        # no empty village / township tables
        assert not {"villages_access", "townships_summary"} & set(layers)
        hexes = pyogrio.read_dataframe(out, layer="gaps_hex")
        assert len(hexes) >= 10 and set(hexes["data_status"]) == {"osm"}
        return
    if ext == ".html":
        text = out.read_text(encoding="utf-8")
        assert "children not counted" in text and "OpenStreetMap data" in text
        return
    if ext == ".pdf":
        import subprocess

        text = subprocess.run(
            ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "children not counted" in text and "未统计儿童" in text
        assert "OpenStreetMap" in text and "Includes estimated data" not in text
    else:
        assert out.stat().st_size > 50_000


def test_brief_of_a_dataset_without_villages_is_refused(osm_dataset_dir, tmp_path) -> None:
    args = ["export", "--data", str(osm_dataset_dir), "--what", "brief", "--type", "park"]
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "b.zip")])
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_data_crs_and_facilities_layer(tmp_path) -> None:
    out = tmp_path / "fac.geojson"
    args = ["export", "--what", "data", "--type", "park", "--layer", "facilities"]
    res = runner.invoke(app, [*args, "--crs", "cgcs2000-gk", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert pyogrio.read_info(out)["crs"] == "EPSG:4547"
    assert "scenario_change" in pyogrio.read_info(out)["fields"]
    res = runner.invoke(app, [*args, "--crs", "gcj02", "--out", str(out)])
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_png_map_gets_world_file_prj_and_title(tmp_path) -> None:
    out = tmp_path / "map.png"
    result = runner.invoke(
        app,
        ["export", "--what", "map", "--out", str(out), "--dpi", "50",
         "--title", "托育缺口", "--figure-no", "5"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.exists() and (tmp_path / "map.pgw").exists() and (tmp_path / "map.prj").exists()
    assert len((tmp_path / "map.pgw").read_text().split()) == 6
    assert "CGCS2000" in (tmp_path / "map.prj").read_text()
    from PIL import Image

    with Image.open(out) as img:
        assert img.info.get("Title") == "图 5  托育缺口"
