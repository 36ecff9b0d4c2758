"""Safety of qjgeo.ingest: malicious archives, names, sizes, XML entities, HTML in names."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest

from qjgeo import Dataset, load_dataset
from qjgeo.ingest.commit import commit
from qjgeo.ingest.readers import read_table
from qjgeo.ingest.report import validate
from qjgeo.ingest.safety import (
    IngestError,
    check_upload_name,
    escape_html,
    neutralise_formula,
    safe_extract_zip,
)

REPO = Path(__file__).resolve().parent.parent
SCRIPT = "<script>alert('x')</script>托育"


def zip_of(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buf.getvalue()


@pytest.mark.parametrize(
    "member",
    ["../evil.shp", "a/../../evil.shp", "/etc/evil.shp", "C:\\evil.shp", "..\\evil.shp"],
)
def test_zip_slip_is_refused(tmp_path: Path, member: str) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(IngestError, match="refused"):
        safe_extract_zip(zip_of({member: b"x"}), dest, "evil.zip")
    with pytest.raises(IngestError, match="refused"):
        read_table(zip_of({member: b"x", "ok.shp": b"x"}), "evil.zip")
    assert not (tmp_path / "evil.shp").exists()
    assert list(dest.iterdir()) == []


def test_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    bomb = zip_of({"big.dbf": b"\0" * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000  # a tiny upload …
    with pytest.raises(IngestError, match="zip bomb"):
        safe_extract_zip(bomb, tmp_path, "bomb.zip")  # … refused from its declared ratio
    with pytest.raises(IngestError, match="zip bomb"):
        read_table(bomb, "bomb.zip")
    with pytest.raises(IngestError, match="zip bomb"):
        read_table(zip_of({"doc.kml": b" " * (20 * 1024 * 1024)}), "bomb.kmz")
    assert list(tmp_path.iterdir()) == []


def test_total_unpacked_size_limit(tmp_path: Path) -> None:
    data = zip_of({"a.txt": b"abc" * 1000}, zipfile.ZIP_STORED)
    with pytest.raises(IngestError, match="unpacks to"):
        safe_extract_zip(data, tmp_path, "a.zip", max_unpacked_bytes=100)


def test_safe_extract_flattens_folders(tmp_path: Path) -> None:
    files = safe_extract_zip(zip_of({"dir/sub/a.shp": b"1", "b.dbf": b"2"}), tmp_path, "a.zip")
    assert sorted(p.name for p in files) == ["a.shp", "b.dbf"]
    assert all(p.parent == tmp_path.resolve() for p in files)


def test_upload_size_limit() -> None:
    with pytest.raises(IngestError, match="upload limit"):
        read_table(b"a,b\n" * 100, "a.csv", max_bytes=50)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("台账.xlsx", "台账.xlsx"), ("../../etc/passwd.csv", "passwd.csv"),
     ("C:\\Users\\x\\台账.CSV", "台账.CSV"), ("/abs/path/a.geojson", "a.geojson")],
)  # fmt: skip
def test_upload_names_are_reduced_to_a_bare_name(given: str, expected: str) -> None:
    assert check_upload_name(given) == expected


@pytest.mark.parametrize("bad", ["", "..", ".csv", "a.exe", "a\x00.csv", "dir/"])
def test_bad_upload_names_are_refused(bad: str) -> None:
    with pytest.raises(IngestError):
        check_upload_name(bad)


def test_browser_path_never_reaches_the_file_system(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("名称,经度,纬度\n秘密,113.6,24.7\n", encoding="utf-8")
    # bytes + a name that points at a file: only the bytes are read, the name is just a label
    raw = read_table("名称,经度,纬度\n上传,113.6,24.7\n".encode(), str(secret))
    assert raw.filename == "secret.csv"
    assert raw.rows["名称"].tolist() == ["上传"]


def test_xml_entities_are_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&b;</name>'
        b"<Point><coordinates>113.6,24.7</coordinates></Point></Placemark></kml>"
    )
    with pytest.raises(IngestError, match="entities"):
        read_table(laughs, "a.kml")
    with pytest.raises(IngestError, match="entities"):
        read_table(laughs.replace(b"kml", b"osm"), "a.osm", layer_id="park")


def test_escape_html_and_neutralise_formula() -> None:
    assert escape_html(SCRIPT) == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;托育"
    assert escape_html(None) == ""
    assert neutralise_formula('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert neutralise_formula("+1") == "'+1" and neutralise_formula("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise_formula(-3) == -3 and neutralise_formula("托育") == "托育"


def test_html_name_is_kept_as_text_and_flagged(dataset: Dataset, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(REPO / "layers", data_dir)
    ledger = f'名称,经度,纬度,托位\n"{SCRIPT}",113.61,24.68,10\n=cmd|calc,113.62,24.69,5\n'
    raw = read_table(ledger.encode(), "a.csv")
    result = validate(raw, dataset, "childcare", mode="replace")
    assert result.report.accepted == 2
    assert result.features["name"].tolist() == [SCRIPT, "=cmd|calc"]  # stored unchanged
    kinds = [(w["row"], w["kind"]) for w in result.report.warnings]
    assert (2, "markup_in_text") in kinds
    commit(data_dir, "childcare", result, mode="replace")
    reloaded = load_dataset(data_dir).layer("childcare")
    assert reloaded["name"].tolist() == [SCRIPT, "=cmd|calc"]
    # what renderers must do with it
    assert "<script>" not in escape_html(reloaded["name"].iloc[0])
    assert neutralise_formula(reloaded["name"].iloc[1]) == "'=cmd|calc"


def test_streamlit_upload_limit_matches_the_importer() -> None:
    import tomllib
    from pathlib import Path

    from qjgeo.ingest.safety import MAX_UPLOAD_BYTES

    config = Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml"
    server = tomllib.loads(config.read_text(encoding="utf-8"))["server"]
    assert server["maxUploadSize"] * 1024 * 1024 == MAX_UPLOAD_BYTES
