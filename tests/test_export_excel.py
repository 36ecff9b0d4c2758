"""The Excel report opens in openpyxl, holds the results and defuses formulas."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from qjgeo.export.excel import SHEETS, ExportError, excel_report, safe_cell
from qjgeo.gaps import compute_gaps
from qjgeo.indicators import evaluate
from qjgeo.scenario import apply, load_scenario

REPO = Path(__file__).resolve().parent.parent

TYPES = ("childcare", "park")


@pytest.fixture(scope="module")
def indicators(dataset):
    return evaluate(dataset)


@pytest.fixture(scope="module")
def workbook(dataset, indicators):
    data = excel_report(dataset, facility_types=TYPES, indicators=indicators)
    return openpyxl.load_workbook(io.BytesIO(data))


def _rows(ws) -> list[list[object]]:
    return [
        list(r) for r in ws.iter_rows(min_row=3, values_only=True) if any(v is not None for v in r)
    ]


def test_sheets_and_headers(workbook) -> None:
    # issue 15: one table per sheet (区汇总 split into 覆盖情况 and 全区指标; 数据来源 apart)
    assert workbook.sheetnames == [s for s in SHEETS if s not in ("情景对比", "覆盖变化")]
    ws = workbook["村缺口"]
    zh = [c.value for c in ws[1]]
    en = [c.value for c in ws[2]]
    assert "村（社区）代码" in zh and "是否覆盖" in zh
    assert "Village code" in en and "Covered" in en


def test_district_summary_matches_gaps(dataset, workbook) -> None:
    ws = workbook["覆盖情况"]
    head = [c.value for c in ws[1]]
    rows = [r for r in ws.iter_rows(min_row=3, max_row=2 + len(TYPES), values_only=True)]
    for ft, row in zip(TYPES, rows, strict=True):
        g = compute_gaps(dataset, ft)
        rec = dict(zip(head, row, strict=False))
        assert rec["设施类型代码"] == ft
        assert rec["未覆盖儿童"] == pytest.approx(g.district["children_uncovered"])
        assert rec["覆盖率"] == pytest.approx(g.district["share_covered"])
        assert rec["数据状态"] == "样例"  # issue 15: data status in Chinese


def test_village_gaps_rows(workbook) -> None:
    rows = _rows(workbook["村缺口"])
    assert len(rows) == 110 * len(TYPES)


def test_matrix_colours_follow_met(workbook, indicators) -> None:
    ws = workbook["镇街×指标"]
    assert ws.max_row >= 12
    codes = [ws.cell(row=r, column=1).value for r in range(3, 13)]
    assert len(set(codes)) == 10
    town_rows = indicators[indicators["scope"] != "district"]
    ids = list(dict.fromkeys(town_rows["id"]))
    checked = 0
    for i, code in enumerate(codes, start=3):
        for j, ind in enumerate(ids, start=3):
            rec = town_rows[(town_rows["scope"] == code) & (town_rows["id"] == ind)]
            if rec.empty:
                continue
            cell = ws.cell(row=i, column=j)
            met = rec["met"].iloc[0]
            colour = cell.fill.fgColor.rgb[-6:]
            if met is None or pd.isna(met):
                assert colour == "E7E6E6"
            else:
                assert colour == ("C6EFCE" if met else "FFC7CE")
                checked += 1
            if pd.notna(rec["value"].iloc[0]):
                assert cell.value == pytest.approx(rec["value"].iloc[0])
    assert checked > 50


def test_hazards_sheet_rows(dataset, workbook) -> None:
    from qjgeo.hazards import rank_hazards

    assert len(_rows(workbook["溺水隐患"])) == len(rank_hazards(dataset))


def test_formulas_are_neutralised(dataset, indicators) -> None:
    village = dataset.layer("village").copy()
    bad = ["=1+2", "+SUM(A1)", "-3+A1", "@cmd", '=HYPERLINK("http://evil")']
    village.loc[village.index[: len(bad)], "name"] = bad
    ds = dataset.with_layer("village", village)
    data = excel_report(ds, facility_types=("childcare",), indicators=indicators)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), cell.value
    names = [r[3] for r in _rows(wb["村缺口"])[: len(bad)]]
    assert names == ["'" + b for b in bad]


def test_safe_cell_keeps_numbers() -> None:
    assert safe_cell(-3) == -3
    assert safe_cell(float("inf")) is None
    assert safe_cell(["a", "b"]) == "a、b"
    assert safe_cell("-x") == "'-x"


def test_scenario_sheet_with_base(dataset, indicators) -> None:
    scenario = apply(dataset, load_scenario(REPO / "scenarios" / "childcare_in_luokeng.yaml"))
    wb = openpyxl.load_workbook(
        io.BytesIO(excel_report(scenario, base=dataset, facility_types=("childcare",)))
    )
    assert "情景对比" in wb.sheetnames
    ws = wb["情景对比"]
    head = [c.value for c in ws[1]]
    assert {"基线值", "情景值", "变化"} <= set(head)
    about = [r[1] for r in _rows(wb["数据说明"]) if r[1]]
    assert any(scenario.scenario_name in str(v) for v in about)


def test_missing_layers(dataset, indicators) -> None:
    with pytest.raises(ExportError, match="nosuch"):
        excel_report(dataset, facility_types=("nosuch",))
    specs = {k: v for k, v in dataset.specs.items() if k != "water_hazard"}
    frames = {k: v for k, v in dataset.frames.items() if k != "water_hazard"}
    smaller = dataclasses.replace(dataset, specs=specs, frames=frames, _metric_cache={})
    data = excel_report(smaller, facility_types=("childcare",), indicators=indicators)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert "not available" in str(wb["溺水隐患"]["A1"].value)


def test_matrix_rows_carry_data_status(workbook, indicators) -> None:
    ws = workbook["镇街×指标"]
    town_rows = indicators[indicators["scope"] != "district"]
    column = len(dict.fromkeys(town_rows["id"])) + 3
    assert ws.cell(row=1, column=column).value == "数据状态"
    assert ws.cell(row=2, column=column).value == "Data status"
    weakest = town_rows.groupby("scope")["data_status"].agg(
        lambda s: "样例" if "sample" in set(s) else ("估算" if "estimated" in set(s) else "官方")
    )
    for r in range(3, 13):
        code = ws.cell(row=r, column=1).value
        assert ws.cell(row=r, column=column).value == weakest[code]


def test_every_result_sheet_has_data_status_and_about_sheet(dataset, indicators) -> None:
    scenario = apply(dataset, load_scenario(REPO / "scenarios" / "childcare_in_luokeng.yaml"))
    wb = openpyxl.load_workbook(
        io.BytesIO(excel_report(scenario, base=dataset, facility_types=("childcare",)))
    )
    for name in ("覆盖情况", "全区指标", "村缺口", "溺水隐患", "情景对比", "覆盖变化"):
        assert "数据状态" in [c.value for c in wb[name][1]], name
    cs = wb["情景对比"]
    cmp_head = [c.value for c in cs[1]]
    indicator_rows = _rows(cs)
    statuses = {r[cmp_head.index("数据状态")] for r in indicator_rows}
    assert indicator_rows and statuses <= {"样例", "估算"}
    coverage = wb["覆盖变化"]  # issue 15: the coverage change has its own sheet
    cov_head = [c.value for c in coverage[1]]
    cov_statuses = {r[cov_head.index("数据状态")] for r in _rows(coverage)}
    assert cov_statuses and cov_statuses <= {"样例", "估算"}
    about = [r[0] for r in _rows(wb["数据说明"])]
    assert "数据状态 Data status" in about


#: English codes and enumerations that must not show in a column with a Chinese header.
ENGLISH_CODES = {
    "TRUE",
    "FALSE",
    "True",
    "False",
    "sample",
    "estimated",
    "official",
    "user",
    "osm",
    ">=",
    "<=",
    "==",
    "straight_line_x_detour",
    "straight_line",
    "network",
    "district",
    "river",
    "pond",
    "reservoir",
}


@pytest.fixture(scope="module")
def report_with_base(dataset):
    scenario = apply(dataset, load_scenario(REPO / "scenarios" / "childcare_in_luokeng.yaml"))
    data = excel_report(
        scenario, base=dataset, facility_types=TYPES, date=__import__("datetime").date(2026, 5, 4)
    )
    return openpyxl.load_workbook(io.BytesIO(data))


def _is_id_column(header: object) -> bool:
    return isinstance(header, str) and header.endswith(("代码", "编号"))


def test_report_cells_as_a_planner_reads_them(report_with_base) -> None:
    """Issue 15: every number formatted, no English code under a Chinese header, no TRUE/FALSE."""
    wb = report_with_base
    assert wb.sheetnames == list(SHEETS)
    numbers = 0
    for ws in wb:
        head = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=3):
            for cell in row:
                value = cell.value
                assert not isinstance(value, bool), (ws.title, cell.coordinate)
                if isinstance(value, int | float):
                    numbers += 1
                    assert cell.number_format != "General", (ws.title, cell.coordinate, value)
                if not isinstance(value, str) or cell.column > len(head):
                    continue
                header = head[cell.column - 1]
                if _is_id_column(header):
                    continue
                tokens = {value, *value.replace(", ", "、").split("、")}
                assert not tokens & ENGLISH_CODES, (ws.title, header, cell.coordinate, value)
                assert "straight_line" not in value, (ws.title, header, value)
    assert numbers > 1000
    share = wb["覆盖情况"]
    head = [c.value for c in share[1]]
    assert share.cell(row=3, column=head.index("覆盖率") + 1).number_format == "0.0%"
    assert share.cell(row=3, column=head.index("儿童数") + 1).number_format == "#,##0"
    assert share.cell(row=3, column=head.index("城镇步行距离（米）") + 1).number_format == "#,##0"
    district = wb["全区指标"]
    head = [c.value for c in district[1]]
    formats = {
        district.cell(row=r, column=head.index("现状值") + 1).number_format for r in range(3, 20)
    }
    assert formats <= {"#,##0", "#,##0.0", "#,##0.00"} and "#,##0.0" in formats
    assert {r[head.index("是否达标")] for r in _rows(district)} <= {"达标", "未达标", "无法判断"}
    assert {r[head.index("比较")] for r in _rows(district)} <= {"≥", "≤", ">", "<", "="}


def test_report_headers_name_what_columns_hold(dataset, report_with_base, indicators) -> None:
    """Each id column sits under the header of what it holds (hazard ids under 隐患编号)."""
    from qjgeo.hazards import rank_hazards

    wb = report_with_base
    hz = wb["溺水隐患"]
    head = [c.value for c in hz[1]]
    assert "指标编号" not in head
    assert [r[head.index("隐患编号")] for r in _rows(hz)] == list(rank_hazards(dataset)["id"])
    ids = set(indicators["id"])
    for ws in wb:
        head = [c.value for c in ws[1]]
        if "指标编号" in head:
            assert {r[head.index("指标编号")] for r in _rows(ws)} <= ids, ws.title
        assert None not in head[: ws.max_column] or ws.title == "镇街×指标", ws.title
        english = [c.value for c in ws[2]]
        assert all(isinstance(h, str) and not h.isascii() for h in head if h is not None), ws.title
        assert len(english) == len(head)


def test_report_layout_and_print_setup(report_with_base) -> None:
    """Widths from content, wrapped long text, top alignment, A4 landscape, footer, properties."""
    wb = report_with_base
    gaps = wb["村缺口"]
    head = [c.value for c in gaps[1]]
    names = [r[head.index("名称")] for r in _rows(gaps)]
    widest = max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in n) for n in names)
    letter = openpyxl.utils.get_column_letter(head.index("名称") + 1)
    assert gaps.column_dimensions[letter].width >= widest
    district = wb["全区指标"]
    head = [c.value for c in district[1]]
    shortfall = district.cell(row=3, column=head.index("差距") + 1)
    assert shortfall.alignment.wrap_text and shortfall.alignment.vertical == "top"
    assert (district.row_dimensions[3].height or 0) > 15  # the row grows to its wrapped text
    assert gaps.cell(row=3, column=1).alignment.vertical == "top"
    for ws in wb:
        assert ws.freeze_panes == ("C3" if ws.title == "镇街×指标" else "A3"), ws.title
        assert ws.page_setup.orientation == "landscape", ws.title
        assert str(ws.page_setup.paperSize) == "9", ws.title  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, ws.title
        assert ws.print_title_rows and ws.print_title_rows.replace("$", "") == "1:2", ws.title
        footer = ws.oddFooter.left.text
        # the data notice as maps and briefs print it (their wording: 示例数据 = sample)
        assert footer and "数据状态" in footer and "示例数据" in footer, ws.title
        assert "&P" in ws.oddFooter.right.text
    props = wb.properties
    assert props.creator == "qjgeo"
    assert props.title and "曲江区" in props.title
    assert props.subject and "数据状态" in props.subject
    assert props.created is not None and props.created.date().isoformat() == "2026-05-04"
