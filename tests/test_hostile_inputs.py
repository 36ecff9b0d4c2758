"""A catalogue of hostile inputs to ``qjgeo import``: each gets a clear message and exit code 2,
or its rows are refused with a reason; nothing crashes and no ledger loses a row's verdict.

File-level cases must end with exit code 2 and a message naming the file (never a traceback);
row-level cases are read with ``--dry-run --format json`` and must account for every row read
(``rows_read == accepted + len(rejected)``) with the reason given.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from qjgeo.cli import app
from qjgeo.textsafety import neutralise_formula

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
)
EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def _workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _with_part(xlsx: bytes, part: str, transform: object) -> bytes:
    """The workbook with one XML part rewritten by ``transform(bytes) -> bytes``."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, transform(data) if info.filename == part else data)  # type: ignore[operator]
    return out.getvalue()


_GOOD = _workbook([["名称", "经度", "纬度", "托位"], ["甲托育", 113.61, 24.68, 20]])
_SHEET = "xl/worksheets/sheet1.xml"

#: name, file name, content, what the message must say.
FILE_CASES: list[tuple[str, str, bytes, str]] = [
    ("xlsx sheet with entity declarations", "a.xlsx",
     _with_part(_GOOD, _SHEET, lambda d: LAUGHS + d.split(b"?>", 1)[-1]), "entities or a DTD"),
    ("xlsx sheet with an external entity", "b.xlsx",
     _with_part(_GOOD, _SHEET, lambda d: EXTERNAL + d.split(b"?>", 1)[-1]), "entities or a DTD"),
    ("xlsx with a truncated sheet", "c.xlsx",
     _with_part(_GOOD, _SHEET, lambda d: d[: len(d) // 2]), "not a readable Excel workbook"),
    ("xlsx truncated archive", "d.xlsx", _GOOD[: len(_GOOD) // 2], "d.xlsx"),
    ("text file named .xlsx", "e.xlsx", "名称,经度\n甲,1\n".encode(), "not a ZIP archive"),
    ("workbook named .csv", "f.csv", _GOOD, "the extension says csv"),
    ("PNG named .csv", "g.csv", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "a PNG image"),
    ("KML billion laughs", "h.kml", LAUGHS + b"<kml>&lol2;</kml>", "entities or a DTD"),
    ("KML external entity", "i.kml", EXTERNAL + b"<kml>&e;</kml>", "entities or a DTD"),
    ("KML in UTF-16 with entities", "j.kml",
     '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE k [<!ENTITY a "b">]><kml>&a;</kml>'.encode(
         "utf-16"), "entities or a DTD"),
    ("KML not XML", "k.kml", b"<kml><Placemark></kml>", "not well-formed XML"),
    ("OSM XML with entities", "l.osm", LAUGHS + b"<osm>&lol2;</osm>", "entities or a DTD"),
    ("KMZ holding a KML bomb", "m.kmz", _zip({"doc.kml": LAUGHS + b"<kml>&lol2;</kml>"}),
     "entities or a DTD"),
    ("zip slip", "n.zip", _zip({"../evil.shp": b"x", "ok.shp": b"x"}), "refused"),
    ("zip bomb", "o.zip", _zip({"big.dbf": b"\0" * (20 * 1024 * 1024)}), "zip bomb"),
    ("GeoPackage that is text", "p.gpkg", b"not a database", "not a GeoPackage"),
    ("GeoJSON that is not JSON", "q.geojson", b"{not json", "q.geojson"),
    ("empty CSV", "r.csv", b"", "r.csv"),
    ("CSV without a name column", "s.csv", "经度,纬度\n113.6,24.7\n".encode(), "facility name"),
]  # fmt: skip


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("hostile") / "data"
    shutil.copytree(REPO / "layers", target)
    return target


@pytest.mark.parametrize(("case", "filename", "content", "says"), FILE_CASES, ids=lambda v: "")
def test_malformed_file_is_a_clear_error(
    tmp_path: Path, data_dir: Path, case: str, filename: str, content: bytes, says: str
) -> None:
    path = tmp_path / filename
    path.write_bytes(content)
    before = sorted(p.name for p in data_dir.iterdir())
    res = runner.invoke(app, ["import", str(path), "--layer", "childcare", "--data", str(data_dir)])
    assert res.exit_code == 2, (case, res.output, res.exception)
    assert isinstance(res.exception, SystemExit), (case, res.exception)  # no traceback
    assert "Traceback" not in res.output
    assert says in res.output, (case, res.output)
    assert filename in res.output, (case, res.output)  # the file is named
    assert sorted(p.name for p in data_dir.iterdir()) == before  # nothing written


#: name, CSV body (after the header 名称,经度,纬度,托位), what the first row's reason says.
ROW_CASES: list[tuple[str, str, str]] = [
    ("1e308 places", "甲,113.61,24.68,1e308", "places 1e+308 is outside its plausible range"),
    ("huge integer places", "甲,113.61,24.68,99999999999999999999999", "outside its plausible range"),
    ("negative places", "甲,113.61,24.68,-3", "places -3 is outside its plausible range 0–5,000"),
    ("places with a unit", "甲,113.61,24.68,8000个", "places 8,000 is outside"),
    ("full-width digits", "甲,113.61,24.68,１２０００", "places 12,000 is outside"),
    ("a point in Beijing", "甲,116.40,39.90,10", "km outside the district"),
    ("a point at (0, 0)", "甲,0,0,10", "km outside the district"),
    ("swapped coordinates", "甲,24.68,113.61,10", "look swapped"),
    ("not degrees", "甲,500,24.68,10", "not longitude/latitude in degrees"),
    ("empty name", ",113.61,24.68,10", "name is empty"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "row", "says"), ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_hostile_row_is_refused_with_its_reason(
    tmp_path: Path, data_dir: Path, case: str, row: str, says: str
) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(f"名称,经度,纬度,托位\n{row}\n乙托育,113.62,24.69,30\n", encoding="utf-8")
    args = ["import", str(path), "--layer", "childcare", "--data", str(data_dir)]
    res = runner.invoke(app, [*args, "--dry-run", "--format", "json"])
    assert res.exit_code == 0, (case, res.output)
    report = json.loads(res.output[: res.output.rindex("}") + 1])
    assert report["rows_read"] == report["accepted"] + len(report["rejected"]) == 2
    (rejected,) = report["rejected"]
    assert rejected["row"] == 2
    assert says in rejected["reason"], (case, rejected)
    assert rejected["reason_zh"] and rejected["reason_zh"] != rejected["reason"]


def test_points_outside_are_kept_when_allowed(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text("名称,经度,纬度,托位\n京托育,116.40,39.90,10\n", encoding="utf-8")
    args = ["import", str(path), "--layer", "childcare", "--data", str(data_dir)]
    res = runner.invoke(app, [*args, "--dry-run", "--format", "json", "--allow-outside"])
    report = json.loads(res.output[: res.output.rindex("}") + 1])
    assert report["accepted"] == 1
    (outside,) = [w for w in report["warnings"] if w["kind"] == "outside_district"]
    assert outside["row"] == 2 and "km" in outside["message"]


@pytest.mark.parametrize(
    ("cell", "neutralised"),
    [
        ("=1+1", True), (" =1+1", True), ("\u3000=cmd|' /C calc'!A0", True), ("+86 123", True),
        ("-x", True), ("@SUM(A1)", True), ("\tx", True), ("\rx", True), ("\nx", True),
        ("托育 = 好", False), ("a-b", False), (-3, False), (12.5, False),
    ],
)  # fmt: skip
def test_formula_cells_are_neutralised(cell: object, neutralised: bool) -> None:
    out = neutralise_formula(cell)
    assert (out == "'" + cell) if neutralised else (out == cell)  # type: ignore[operator]


def test_osm_extract_with_a_dtd_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "evil.osm"
    src.write_bytes(LAUGHS + b'<osm version="0.6"><node id="1" lat="24.6" lon="113.6"/></osm>')
    res = runner.invoke(app, ["osm-import", str(src), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit)
    assert "entities or a DTD" in res.output and "evil.osm" in res.output
    assert not (tmp_path / "out").exists()


def test_cli_xlsx_tables_neutralise_formulas_behind_blanks() -> None:
    """`qjgeo indicators --format xlsx` and `monitor evaluate --format xlsx` write through one
    cell guard: it is the shared one, so " =1+1" is caught there too."""
    from qjgeo.commands.indicators import safe_cell

    assert safe_cell(" =1+1") == "' =1+1"
    assert safe_cell("\u3000@SUM(A1)") == "'\u3000@SUM(A1)"
    assert safe_cell(-3) == -3 and safe_cell(float("nan")) is None


def test_cli_csv_tables_neutralise_formula_cells(tmp_path: Path) -> None:
    import pandas as pd

    from qjgeo.commands._common import emit_frame

    out = tmp_path / "t.csv"
    emit_frame(pd.DataFrame({"id": ["=HYPERLINK(1)", " =1+1", "ok"], "n": [1, -2, 3]}), "csv", out)
    text = out.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(1)" in text and "' =1+1" in text and ",-2" in text
