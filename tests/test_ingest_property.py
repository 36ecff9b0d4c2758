"""Property test: 1,000 generated ledgers never crash the importer and every row is accounted for.

Ledgers mix encodings (UTF-8, UTF-8 with BOM, GBK, GB18030), Chinese and English headers,
missing and extra columns, junk values, blank cells and wholly empty rows. The only exception
allowed is :class:`~qjgeo.ingest.safety.IngestError` for input unusable as a whole (no name
column, no position column); otherwise ``rows_read == accepted + len(rejected)`` and
``rows_read + empty_rows`` equals the data rows written. A second test writes the same kind of
tables as Excel workbooks (150 examples); a third sends 300 village / township update tables
(populations, codes, junk), which must keep every unit of the layer.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from typing import Any

import numpy as np
import openpyxl
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from qjgeo import Dataset, load_dataset
from qjgeo.ingest.readers import read_table
from qjgeo.ingest.report import validate
from qjgeo.ingest.safety import IngestError

HEADERS = {
    "name": ["名称", "name", "机构名称", " 名称 "],
    "lon": ["经度", "lon", "Longitude", "X"],
    "lat": ["纬度", "lat", "latitude", "Y"],
    "lonlat": ["经纬度"],
    "township": ["所属镇", "township", "镇街"],
    "village": ["所属村/社区", "village", "村居"],
    "village_code": ["村代码"],
    "places": ["托位", "places", "学位数"],
    "puhui": ["是否普惠", "puhui"],
    "id": ["编号", "id"],
}
CJK = re.compile(r"[\u4e00-\u9fff]")
EXTRA = ["备注", "联系电话", "负责人", "column", "Unnamed: 9", "地址"]
VILLAGES = [
    "群星村村民委员会",
    "群星村",
    "东区社区居民委员会",
    "东区社区",
    "群心村",
    "不存在村",
    "",
]
TOWNS = ["马坝镇", "马坝", "松山街道", "440205107", "不存在镇", ""]
# A lone carriage return is a line break to every CSV reader, and Python's csv writer leaves it
# unquoted when the line terminator is "\n": the written file would hold another row.
JUNK = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
    max_size=8,
)


def _cell(kind: str) -> st.SearchStrategy[str]:
    number = st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda v: f"{v:g}")
    common = [JUNK, st.just(""), number]
    if kind == "lon":
        return st.one_of(st.floats(113.2, 114.0).map(lambda v: f"{v:.6f}"), *common)
    if kind == "lat":
        return st.one_of(st.floats(24.45, 24.9).map(lambda v: f"{v:.6f}"), *common)
    if kind == "lonlat":
        return st.one_of(
            st.tuples(st.floats(113.2, 114.0), st.floats(24.45, 24.9)).map(
                lambda p: f"{p[0]:.5f},{p[1]:.5f}"
            ),
            *common,
        )
    if kind == "village":
        return st.one_of(st.sampled_from(VILLAGES), JUNK)
    if kind == "village_code":
        return st.one_of(st.sampled_from(["440205107209", "440205001001", "440205999999"]), JUNK)
    if kind == "township":
        return st.one_of(st.sampled_from(TOWNS), JUNK)
    if kind == "places":
        return st.one_of(st.integers(-50, 5000).map(str), *common)
    if kind == "puhui":
        return st.one_of(st.sampled_from(["是", "否", "Y", "N", "1", "0", "普惠"]), *common)
    if kind == "id":
        return st.one_of(st.sampled_from(["A1", "A2", "A1"]), st.just(""), JUNK)
    if kind == "name":
        return st.one_of(st.sampled_from(["甲托育", "<b>乙</b>", "=1+1", "丙"]), *common)
    return st.one_of(*common)


CELLS = {kind: _cell(kind) for kind in [*HEADERS, "extra"]}
HEADER_CHOICES = {field: st.sampled_from(names) for field, names in HEADERS.items()}


@st.composite
def tables(draw: Any) -> tuple[list[str], list[list[str]], int]:
    """A header and data rows (some empty, some ragged), and the number of data rows."""
    fields = draw(st.lists(st.sampled_from(sorted(HEADERS)), min_size=1, max_size=7, unique=True))
    extras = draw(st.lists(st.sampled_from(EXTRA), max_size=2, unique=True))
    header = [draw(HEADER_CHOICES[f]) for f in fields] + extras
    kinds = fields + ["extra"] * len(extras)
    if len(header) < 2:  # a header needs two filled cells to be found
        header.append("备注2")
        kinds.append("extra")
    order = draw(st.permutations(range(len(header))))
    header = [header[i] for i in order]
    kinds = [kinds[i] for i in order]
    n_rows = draw(st.integers(0, 5))
    rows = []
    for _ in range(n_rows):
        if draw(st.integers(0, 5)) == 0:
            rows.append([""] * len(header))  # a wholly empty row
        else:
            row = [draw(CELLS[k]) for k in kinds]
            cut = draw(st.integers(0, 2))  # ragged rows: fewer or more cells than the header
            rows.append(row[: len(row) - cut] if cut == 1 else row + ([" x"] if cut == 2 else []))
    return header, rows, n_rows


@st.composite
def ledgers(draw: Any) -> tuple[bytes, str, int, str]:
    """A CSV ledger as bytes, its encoding, the number of data rows, and a coordinate system."""
    header, rows, n_rows = draw(tables())
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    writer.writerows(rows)
    text = buf.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"]))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        encoding = "gb18030"
        data = text.encode(encoding)
    crs = draw(st.sampled_from(["wgs84", "gcj02", "bd09", "cgcs2000"]))
    return data, encoding, n_rows, crs


@st.composite
def workbooks(draw: Any) -> tuple[bytes, int]:
    """An XLSX ledger (cells as text; ``=…`` cells become formulas) and its data row count."""
    header, rows, n_rows = draw(tables())
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [header, *rows]:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) or None for cell in row])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue(), n_rows


@functools.cache
def small_dataset() -> Dataset:
    """The bundled dataset with a handful of villages (keeps 1,000 examples fast)."""
    dataset = load_dataset()
    villages = dataset.layer("village")
    keep = villages["code12"].isin(["440205107209", "440205001001", "440205104203"])
    return dataset.with_layer("village", villages[keep].reset_index(drop=True))


@settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(ledger=ledgers(), layer=st.sampled_from(["childcare", "children_home", "park"]))
def test_generated_ledgers_never_crash_and_every_row_is_accounted_for(
    ledger: tuple[bytes, str, int, str], layer: str
) -> None:
    data, _encoding, n_rows, crs = ledger
    try:
        raw = read_table(data, "ledger.csv")
        result = validate(raw, small_dataset(), layer, crs=crs)
    except IngestError as exc:
        message = str(exc)
        assert message and "Traceback" not in message
        return
    report = result.report
    assert raw.encoding in {"utf-8", "utf-8-sig", "gb18030"}
    assert report.rows_read == report.accepted + len(report.rejected)
    assert report.rows_read + report.empty_rows == n_rows
    assert len(result.features) == report.accepted
    numbers = set(raw.row_numbers.tolist())
    assert {r["row"] for r in report.rejected} <= numbers
    assert all(r["reason"] for r in report.rejected)
    # every reason and warning is also said in Chinese
    assert all(CJK.search(r["reason_zh"]) for r in report.rejected)
    assert all(CJK.search(w["message_zh"]) for w in report.warnings)
    assert all(w["row"] is None or w["row"] in numbers for w in report.warnings)
    features = result.features
    if len(features):
        geoms = np.asarray(features.geometry.array)
        assert not shapely.is_empty(geoms).any() and shapely.is_valid(geoms).all()
        assert (features["provenance"] == "user").all()
        assert features["id"].is_unique
        assert (features["name"] != "").all()
    json.dumps(report.to_dict(), ensure_ascii=False)
    assert report.to_text()


@settings(max_examples=150, deadline=None, derandomize=True)
@given(workbook=workbooks(), layer=st.sampled_from(["childcare", "kindergarten"]))
def test_generated_workbooks_account_for_every_row(workbook: tuple[bytes, int], layer: str) -> None:
    data, n_rows = workbook
    try:
        raw = read_table(data, "ledger.xlsx")
        result = validate(raw, small_dataset(), layer)
    except IngestError as exc:
        assert str(exc)
        return
    report = result.report
    assert report.rows_read == report.accepted + len(report.rejected)
    assert report.rows_read + report.empty_rows == n_rows
    assert {r["row"] for r in report.rejected} <= set(raw.row_numbers.tolist())
    assert all(CJK.search(r["reason_zh"]) for r in report.rejected)
    assert all(CJK.search(w["message_zh"]) for w in report.warnings)
    assert set(raw.row_numbers.tolist()) <= set(range(2, n_rows + 2))  # sheet rows below the header


# --- village ledgers and township tables: updates, not new features ----------------------

UNIT_HEADERS = {
    "village": ["村（社区）", "village", "村居"],
    "village_code": ["村代码"],
    "township": ["镇街", "township", "所属乡镇"],
    "lon": ["经度", "lon"],
    "lat": ["纬度", "lat"],
    "population": ["常住人口", "population"],
    "pop_0_2": ["0-2岁"],
    "pop_6_11": ["6-11岁"],
    "pop_0_14": ["儿童数"],
}
_COUNT = st.one_of(st.integers(-10, 200_000).map(str), JUNK, st.just(""))
UNIT_CELLS = {
    **{k: CELLS[k] for k in ("village", "village_code", "township", "lon", "lat")},
    **dict.fromkeys(("population", "pop_0_2", "pop_6_11", "pop_0_14"), _COUNT),
}


@st.composite
def unit_ledgers(draw: Any) -> tuple[bytes, int]:
    """A CSV of village / township updates (UTF-8) and its number of data rows."""
    fields = draw(
        st.lists(st.sampled_from(sorted(UNIT_HEADERS)), min_size=2, max_size=6, unique=True)
    )
    header = [draw(st.sampled_from(UNIT_HEADERS[f])) for f in fields]
    n_rows = draw(st.integers(0, 5))
    rows = [
        [""] * len(header)
        if draw(st.integers(0, 5)) == 0
        else [draw(UNIT_CELLS[f]) for f in fields]
        for _ in range(n_rows)
    ]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8"), n_rows


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    ledger=unit_ledgers(),
    layer=st.sampled_from(["village", "township"]),
    crs=st.sampled_from(["wgs84", "gcj02"]),
)
def test_generated_unit_updates_never_crash_and_keep_every_unit(
    ledger: tuple[bytes, int], layer: str, crs: str
) -> None:
    data, n_rows = ledger
    dataset = small_dataset()
    try:
        raw = read_table(data, "units.csv")
        result = validate(raw, dataset, layer, crs=crs)
    except IngestError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    report = result.report
    assert report.rows_read == report.accepted + len(report.rejected)
    assert report.rows_read + report.empty_rows == n_rows
    assert all(CJK.search(r["reason_zh"]) for r in report.rejected)
    assert all(CJK.search(w["message_zh"]) for w in report.warnings)
    # the layer keeps exactly its units (codes, names); nothing added or dropped
    key = "code12" if layer == "village" else "code9"
    before, after = dataset.layer(layer), result.features
    assert sorted(after[key].astype(str)) == sorted(before[key].astype(str))
    assert (after["name"].to_numpy() == before["name"].to_numpy()).all()
    assert set(after["provenance"]) <= {"estimated", "user"}
    geoms = np.asarray(after.geometry.array)
    assert not shapely.is_empty(geoms).any() and shapely.is_valid(geoms).all()
    for col in ("population", "pop_0_2", "pop_0_14"):
        assert (after[col].astype(float).dropna() >= 0).all()
