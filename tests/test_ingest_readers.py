"""Readers of qjgeo.ingest: one fixture per format, encodings, header and row numbers."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely

from qjgeo.ingest.columns import normalise_header, suggest_mapping
from qjgeo.ingest.readers import RawTable, cell_text, decode_text, list_sublayers, read_table
from qjgeo.ingest.safety import IngestError

FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"
TRUTH = [
    ("曲江区示范托育中心", 113.6100, 24.6800, 80),
    ("松山街道阳光托育园", 113.6350, 24.7050, 40),
    ("大塘镇小太阳托育点", 113.7020, 24.7680, 20),
]


def truth_frame() -> gpd.GeoDataFrame:
    """The truth points as a GeoDataFrame with Chinese column names."""
    return gpd.GeoDataFrame(
        {"名称": [t[0] for t in TRUTH], "托位": [t[3] for t in TRUTH]},
        geometry=[shapely.Point(t[1], t[2]) for t in TRUTH],
        crs="EPSG:4326",
    )


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def shapefile_zip(tmp_path: Path, encoding: str, cpg: str | None) -> bytes:
    out = tmp_path / "shp"
    out.mkdir()
    truth_frame().to_file(out / "托育.shp", encoding=encoding)
    members = {}
    for path in out.iterdir():
        if path.suffix == ".cpg":
            continue
        members[f"data/{path.name}"] = path.read_bytes()
    if cpg is not None:
        members["data/托育.cpg"] = cpg.encode()
    return zip_bytes(members)


def xlsx_bytes() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "台账"
    sheet.append(["曲江区托育机构台账"])
    sheet.append(["名称", "经度", "纬度", "托位"])
    for name, x, y, places in TRUTH:
        sheet.append([name, x, y, places])
    sheet.append([])
    sheet.append(["空坐标", None, None, 5.0])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def assert_truth_points(geoms: gpd.GeoSeries) -> None:
    xy = np.column_stack([shapely.get_x(geoms.array), shapely.get_y(geoms.array)])
    expected = np.array([[t[1], t[2]] for t in TRUTH])
    np.testing.assert_allclose(xy, expected, atol=1e-9)


def assert_notes_also_in_chinese(raw: RawTable) -> None:
    """Every note the reader makes has a Chinese twin, in the same order."""
    assert raw.notes and len(raw.notes_zh) == len(raw.notes)
    assert all(re.search(r"[\u4e00-\u9fff]", note) for note in raw.notes_zh), raw.notes_zh


# --- text tables ------------------------------------------------------------------------------


def test_utf8_csv_with_title_row_keeps_file_line_numbers() -> None:
    raw = read_table(FIX / "childcare_wgs84_utf8.csv")
    assert raw.encoding == "utf-8"
    assert raw.columns == ("名称", "经度", "纬度", "托位", "是否普惠", "所属镇", "备注")
    # title on line 1, header on line 2, data on lines 3-5, empty line 6, junk row on line 7
    assert raw.row_numbers.tolist() == [3, 4, 5, 7]
    assert raw.empty_rows == 1
    assert raw.rows["名称"].tolist()[0] == "曲江区示范托育中心"
    assert any("line 2" in note for note in raw.notes)
    assert raw.notes_zh == ("表头取自第 2 行，其上各行已跳过",)


def test_gbk_csv_with_chinese_headers_is_detected() -> None:
    raw = read_table(FIX / "childcare_gcj02_gbk.csv")
    assert raw.encoding == "gb18030"
    assert raw.columns[:3] == ("名称", "经度", "纬度")
    assert raw.rows["名称"].tolist() == [t[0] for t in TRUTH]
    assert raw.row_numbers.tolist() == [2, 3, 4]


def test_utf8_bom_csv_with_english_headers() -> None:
    raw = read_table(FIX / "childcare_bd09_utf8sig.csv")
    assert raw.encoding == "utf-8-sig"
    assert raw.columns[0] == "name"  # no BOM left in the first header
    mapping = suggest_mapping(raw, "childcare")
    assert mapping.columns["lon"] == "lng" and mapping.columns["lat"] == "lat"
    assert mapping.columns["places"] == "places"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_decode_text_round_trips_chinese(encoding: str) -> None:
    text = "名称,所属村/社区\n群星村村民委员会,樟市镇\n"
    decoded, _found = decode_text(text.encode(encoding), "x.csv")
    assert decoded.replace("\ufeff", "") == text


def test_quoted_newline_and_semicolon_delimiter_keep_start_line() -> None:
    data = '名称;托位\n"甲\n托育";3\n乙;4\n'.encode()
    raw = read_table(data, "a.csv")
    assert raw.rows["名称"].tolist() == ["甲\n托育", "乙"]
    assert raw.row_numbers.tolist() == [2, 4]


def test_ragged_rows_and_duplicate_headers() -> None:
    raw = read_table("名称,名称,\na\nb,c,d,e\n".encode(), "a.csv")
    assert raw.columns == ("名称", "名称_2", "column_3", "column_4")
    assert raw.rows.iloc[0].tolist() == ["a", "", "", ""]


def test_empty_file_and_header_only() -> None:
    with pytest.raises(IngestError, match="empty"):
        read_table(b"", "a.csv")
    with pytest.raises(IngestError, match="no header"):
        read_table(b"\n\n,,\n", "a.csv")
    raw = read_table("名称,经度\n".encode(), "a.csv")
    assert len(raw) == 0 and raw.columns == ("名称", "经度")


def test_xlsx_sheet_rows_and_numbers(tmp_path: Path) -> None:
    data = xlsx_bytes()
    raw = read_table(data, "台账.xlsx")
    assert raw.format == "xlsx" and raw.sheet == "台账"
    assert raw.row_numbers.tolist() == [3, 4, 5, 7]  # spreadsheet rows
    assert raw.empty_rows == 1
    assert raw.rows["托位"].tolist() == ["80", "40", "20", "5"]  # 5.0 shown as 5
    assert raw.rows["经度"].tolist()[0] == "113.61"
    assert list_sublayers(data, "台账.xlsx") == ["台账"]
    with pytest.raises(IngestError, match="no sheet"):
        read_table(data, "台账.xlsx", sheet="Sheet9")


def test_cell_text() -> None:
    assert cell_text(None) == "" and cell_text(float("nan")) == ""
    assert cell_text(80.0) == "80" and cell_text(113.61) == "113.61"
    assert cell_text(True) == "true" and cell_text("  a ") == "a"


# --- geographic formats ------------------------------------------------------------------------


def test_geojson_reader() -> None:
    raw = read_table(FIX / "kindergarten.geojson")
    assert raw.format == "geojson" and raw.geometry is not None
    assert raw.rows["名称"].tolist() == [t[0] for t in TRUTH]
    assert raw.row_numbers.tolist() == [1, 2, 3]
    assert_truth_points(raw.geometry)


def test_kml_and_kmz_readers() -> None:
    kml = (FIX / "kindergarten.kml").read_bytes()
    for raw in (
        read_table(kml, "幼儿园.kml"),
        read_table(zip_bytes({"doc.kml": kml, "files/icon.png": b"\x89PNG"}), "幼儿园.kmz"),
    ):
        assert raw.geometry is not None
        assert_truth_points(raw.geometry)
        mapping = suggest_mapping(raw, "kindergarten")
        assert raw.rows[mapping.columns["name"]].tolist() == [t[0] for t in TRUTH]
        assert raw.rows[mapping.columns["places"]].tolist() == ["800", "400", "200"]


@pytest.mark.parametrize(
    ("encoding", "cpg", "expected"),
    [("gbk", "GBK", "gb18030"), ("gbk", "936", "gb18030"), ("utf-8", "UTF-8", "utf-8"),
     ("gbk", None, "gb18030"), ("utf-8", None, "utf-8")],
)  # fmt: skip
def test_zipped_shapefile_honours_cpg(
    tmp_path: Path, encoding: str, cpg: str | None, expected: str
) -> None:
    raw = read_table(shapefile_zip(tmp_path, encoding, cpg), "托育.zip")
    assert raw.format == "shapefile"
    assert raw.encoding == expected
    assert raw.rows["名称"].tolist() == [t[0] for t in TRUTH]
    assert raw.geometry is not None
    assert_truth_points(raw.geometry)
    assert_notes_also_in_chinese(raw)  # how the encoding was chosen


def test_projected_shapefile_is_read_back_to_lonlat(tmp_path: Path) -> None:
    out = tmp_path / "m"
    out.mkdir()
    truth_frame().to_crs("EPSG:4547").to_file(out / "p.shp", encoding="utf-8")
    data = zip_bytes({p.name: p.read_bytes() for p in out.iterdir()})
    raw = read_table(data, "p.zip")
    assert raw.geometry is not None
    xy = np.column_stack([raw.geometry.x, raw.geometry.y])
    np.testing.assert_allclose(xy, [[t[1], t[2]] for t in TRUTH], atol=1e-7)
    assert "几何已从 EPSG:4547 转换为 WGS84 经纬度" in raw.notes_zh


def test_geopackage_reader_and_layer_choice(tmp_path: Path) -> None:
    path = tmp_path / "a.gpkg"
    truth_frame().to_file(path, layer="托育", driver="GPKG")
    raw = read_table(path)
    assert raw.geometry is not None
    assert_truth_points(raw.geometry)
    truth_frame().iloc[:1].to_file(path, layer="other", driver="GPKG")
    with pytest.raises(IngestError, match="choose one"):
        read_table(path)
    assert sorted(list_sublayers(path.read_bytes(), "a.gpkg")) == ["other", "托育"]
    assert len(read_table(path, sheet="other")) == 1


def test_osm_xml_reader_picks_the_layer_tags() -> None:
    raw = read_table(FIX / "kindergarten.osm", layer_id="kindergarten")
    assert raw.format == "osm" and len(raw) == 3  # the bench is not a kindergarten
    assert raw.geometry is not None
    assert_truth_points(raw.geometry)
    assert "osm_id" in raw.columns
    assert_notes_also_in_chinese(raw)
    with pytest.raises(IngestError, match="no park features"):
        read_table(FIX / "kindergarten.osm", layer_id="park")
    with pytest.raises(IngestError, match="target layer"):
        read_table(FIX / "kindergarten.osm")
    with pytest.raises(IngestError, match="target layer"):
        read_table(FIX / "kindergarten.osm", layer_id="village")  # not read from OSM


@pytest.mark.parametrize(
    "layer_id", ["children_home", "family_edu_station", "minors_protection_station"]
)
def test_osm_xml_reader_refuses_layers_osm_has_no_tag_for(layer_id: str) -> None:
    # a community centre or social facility is not a 儿童之家 / 指导站 / 工作站: never guessed
    data = (FIX / "kindergarten.osm").read_bytes().replace(b'v="bench"', b'v="community_centre"')
    with pytest.raises(IngestError) as caught:
        read_table(data, "area.osm", layer_id=layer_id)
    assert str(caught.value) == (
        f"area.osm: OSM has no tag for {layer_id}; import a ledger instead"
    )


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="cannot be imported"):
        read_table(b"x", "a.xls")
    with pytest.raises(IngestError, match="cannot read"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(IngestError, match="not readable"):
        read_table(b"not json at all", "a.geojson")


def test_normalise_header() -> None:
    assert normalise_header("经度(°)") == "经度"
    assert normalise_header(" Longitude ") == "longitude"
    assert normalise_header("托位数（个）") == "托位数"


def test_header_found_below_a_two_cell_title_block() -> None:
    data = "填报单位：曲江区卫健局,日期：2024-05\n\n名称,经度,纬度\n甲,113.6,24.7\n".encode("gbk")
    raw = read_table(data, "a.csv")
    assert raw.columns == ("名称", "经度", "纬度")
    assert raw.row_numbers.tolist() == [4]
    assert any("line 3" in note for note in raw.notes)


def test_shapefile_archive_missing_parts(tmp_path: Path) -> None:
    archive = zipfile.ZipFile(io.BytesIO(shapefile_zip(tmp_path, "utf-8", "UTF-8")))
    members = {i.filename: archive.read(i) for i in archive.infolist()}
    for part in (".dbf", ".shx"):
        partial = {k: v for k, v in members.items() if not k.endswith(part)}
        with pytest.raises(IngestError, match=f"no \\{part}"):
            read_table(zip_bytes(partial), "托育.zip")
    with pytest.raises(IngestError, match=r"no \.shp"):
        read_table(zip_bytes({"readme.txt": b"x"}), "a.zip")
