"""The Excel report: coverage, district indicators, township × indicator matrix, gaps, hazards.

One table per sheet (Chinese headers in row 1, English in row 2, both frozen and repeated on
every printed page; data from row 3):

``覆盖情况`` (coverage)
    children covered per facility type: walking distances, villages and children covered,
    share covered, distance method;
``全区指标`` (district indicators)
    every district-level plan indicator: value, comparison, target, 达标 / 未达标, shortfall;
``镇街×指标`` (townships × indicators)
    one row per township, one column per indicator value, cells green when the target is
    met and red when not (grey: cannot be judged), and the weakest data status of the
    township's indicators in the last column;
``村缺口`` (gaps by village)
    every village for every facility type: children, service distance, distance, covered;
``溺水隐患`` (water hazards)
    the ranked hazards (:func:`qjgeo.hazards.rank_hazards`), when the dataset has them;
``情景对比`` (scenario versus base), ``覆盖变化`` (coverage change)
    indicator values, then children covered, in the base and the scenario, when ``base``
    is given, with the data status of the comparison;
``数据说明`` (about the data)
    scenario, date, distances and method, data status, sources, coverage rule;
``数据来源`` (layer sources)
    every layer: features, data status, source, licence, date, notes.

Cells are shown as a planner reads them (:mod:`qjgeo.export.excel_style`): codes and
enumerations in Chinese (数据状态 官方 / 估算 / 样例 / 用户 / OSM, 达标 / 未达标 / 无法判断,
≥ ≤, 直线×绕行系数 / 步行路网, 是 / 否), every number with a number format, widths from the
content, long text wrapped; every sheet prints A4 landscape, fitted to the width, with the
data status in the footer; the document properties name the report and creator ``qjgeo``.

Every row drawn from results carries a ``data_status`` (数据状态) column: 样例 (sample) or
估算 (estimated) when it rests on such data.

Every text cell is passed through :func:`qjgeo.textsafety.neutralise_formula` (via
:func:`safe_cell`), so a name beginning with ``= + - @`` is shown as text, never run as a
formula.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from typing import Any, Final

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from qjgeo.catalog import Dataset
from qjgeo.export.excel_style import (
    MAX_WIDTH,
    STATUS_ZH,
    VALUE_COLUMNS,
    column_format,
    display_frame,
    fit_row_heights,
    formatted_text,
    print_setup,
    row_value_format,
    set_properties,
    text_width,
)
from qjgeo.export.staticmap import (
    ExportError,
    attribution_line,
    data_status_line,
    data_status_texts,
    default_facility_types,
    facility_titles,
    gaps_by_facility_type,
    scenario_line,
    township_data_status,
)
from qjgeo.textsafety import neutralise_formula

#: Sheet names in workbook order (``情景对比`` and ``覆盖变化`` only with a base).
SHEETS: Final[tuple[str, ...]] = (
    "覆盖情况",
    "全区指标",
    "镇街×指标",
    "村缺口",
    "溺水隐患",
    "情景对比",
    "覆盖变化",
    "数据说明",
    "数据来源",
)

#: Column → (Chinese header, English header).
HEADERS: Final[dict[str, tuple[str, str]]] = {
    "facility_type": ("设施类型代码", "Facility type code"),
    "facility_title": ("设施", "Facility"),
    "age_label": ("儿童年龄（岁）", "Children aged"),
    "urban_threshold_m": ("城镇步行距离（米）", "Urban walking distance (m)"),
    "rural_threshold_m": ("农村步行距离（米）", "Rural walking distance (m)"),
    "facilities": ("设施数", "Facilities"),
    "villages": ("村（社区）数", "Villages"),
    "villages_covered": ("已覆盖村数", "Villages covered"),
    "children": ("儿童数", "Children"),
    "children_covered": ("已覆盖儿童", "Children covered"),
    "children_uncovered": ("未覆盖儿童", "Children not covered"),
    "share_covered": ("覆盖率", "Share covered"),
    "method": ("距离方法", "Distance method"),
    "data_status": ("数据状态", "Data status"),
    "id": ("指标编号", "Indicator id"),
    "title_zh": ("指标", "Indicator (zh)"),
    "title_en": ("指标（英文）", "Indicator"),
    "section": ("规划条目", "Plan section"),
    "scope": ("范围代码", "Scope code"),
    "scope_name": ("范围", "Scope"),
    "value": ("现状值", "Value"),
    "unit": ("单位", "Unit"),
    "op": ("比较", "Op"),
    "target": ("目标值", "Target"),
    "met": ("是否达标", "Met"),
    "hazard_id": ("隐患编号", "Hazard id"),
    "townships_nearby": ("附近镇街代码", "Townships nearby (codes)"),
    "shortfall_zh": ("差距", "Shortfall (zh)"),
    "shortfall_en": ("差距（英文）", "Shortfall"),
    "code9": ("镇街代码", "Township code"),
    "name": ("名称", "Name"),
    "code12": ("村（社区）代码", "Village code"),
    "township_code": ("镇街代码", "Township code"),
    "township_name": ("镇街", "Township"),
    "urban": ("城镇", "Urban"),
    "threshold_m": ("步行距离标准（米）", "Service distance (m)"),
    "distance_m": (
        "最近设施出行代价（米，时间×参考速度）",
        "Travel cost to nearest (m at reference speed)",
    ),
    "route_m": ("最近设施路线长度（米）", "Route to nearest (m)"),
    "facility_id": ("最近设施编号", "Nearest facility id"),
    "covered": ("是否覆盖", "Covered"),
    "distance_band": ("距离分段", "Distance band"),
    "rank": ("排序", "Rank"),
    "kind": ("类型", "Kind"),
    "villages_nearby": ("附近村（社区）", "Villages nearby"),
    "schools_nearby": ("附近学校", "Schools nearby"),
    "kindergartens_nearby": ("附近幼儿园", "Kindergartens nearby"),
    "children_nearby": ("附近儿童数", "Children nearby"),
    "missing_zh": ("缺少的防护", "Missing protection (zh)"),
    "missing": ("缺少的防护（英文）", "Missing protection"),
    "near_children": ("靠近儿童", "Near children"),
    "unprotected": ("未设防护", "Unprotected"),
    "provenance": ("数据来源类型", "Provenance"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "value_a": ("基线值", "Base value"),
    "value_b": ("情景值", "Scenario value"),
    "delta": ("变化", "Change"),
    "met_a": ("基线达标", "Base met"),
    "met_b": ("情景达标", "Scenario met"),
    "covered_a": ("基线已覆盖儿童", "Children covered (base)"),
    "covered_b": ("情景已覆盖儿童", "Children covered (scenario)"),
    "newly_covered": ("新增覆盖儿童", "Newly covered"),
    "newly_uncovered": ("新增未覆盖儿童", "Newly not covered"),
    "share_a": ("基线覆盖率", "Share covered (base)"),
    "share_b": ("情景覆盖率", "Share covered (scenario)"),
    "flipped": ("达标状态改变", "Status flipped"),
    "layer": ("图层代码", "Layer id"),
    "title": ("图层名称", "Layer title"),
    "features": ("要素数", "Features"),
    "source": ("来源", "Source"),
    "licence": ("许可", "Licence"),
    "as_of": ("数据时间", "As of"),
    "notes": ("说明", "Notes"),
    "item": ("项目", "Item"),
    "text": ("内容", "Content"),
}

_MET_FILL = PatternFill("solid", fgColor="C6EFCE")
_NOT_MET_FILL = PatternFill("solid", fgColor="FFC7CE")
_NA_FILL = PatternFill("solid", fgColor="E7E6E6")
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEAD_FONT = Font(bold=True)
_EN_FONT = Font(italic=True, color="595959", size=9)
_TOP = Alignment(vertical="top")
_TOP_WRAP = Alignment(vertical="top", wrap_text=True)


def safe_cell(value: Any) -> Any:
    """A value ready for a cell: numpy → Python, NaN/inf → empty, lists → text, formulas defused.

    Parameters
    ----------
    value
        Any value from a result frame.

    Returns
    -------
    object
        ``None``, a bool, int, float, date, or a string that cannot start a formula.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, bool | int | float | dt.date):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        value = "、".join(str(v) for v in items)
    return neutralise_formula(str(value))


def _header(column: str) -> tuple[str, str]:
    return HEADERS.get(column, (column, column))


def _write_header(ws: Worksheet, columns: list[str], start_row: int) -> None:
    for j, col in enumerate(columns, start=1):
        zh, en = _header(col)
        top = ws.cell(row=start_row, column=j, value=safe_cell(zh))
        top.font = _HEAD_FONT
        top.fill = _HEAD_FILL
        top.alignment = _TOP_WRAP
        sub = ws.cell(row=start_row + 1, column=j, value=safe_cell(en))
        sub.font = _EN_FONT
        sub.fill = _HEAD_FILL
        sub.alignment = _TOP_WRAP


def _cell_formats(frame: pd.DataFrame) -> list[list[str]]:
    """The number format of every cell: by column, indicator values by row."""
    columns = [str(c) for c in frame.columns]
    by_column = [column_format(c, frame[c]) for c in columns]
    out = []
    for record in frame.to_dict("records"):
        row_format = row_value_format({str(k): v for k, v in record.items()})
        out.append(
            [
                row_format if c in VALUE_COLUMNS else f
                for c, f in zip(columns, by_column, strict=True)
            ]
        )
    return out


def write_table(
    ws: Worksheet, frame: pd.DataFrame, *, start_row: int = 1, max_width: int = MAX_WIDTH
) -> int:
    """Write a frame with a Chinese header row and an English header row below it.

    Codes are shown in Chinese (:func:`~qjgeo.export.excel_style.display_frame`), every
    number gets a number format, column widths follow the content (CJK counting double),
    text wider than ``max_width`` wraps, every cell is aligned to the top, and the two
    header rows stay frozen.

    Parameters
    ----------
    ws
        The sheet.
    frame
        The table (columns named as in :data:`HEADERS`; others keep their name).
    start_row
        First row of the Chinese header.
    max_width
        Widest column (characters) before its text wraps.

    Returns
    -------
    int
        The last row written.
    """
    columns = [str(c) for c in frame.columns]
    shown = display_frame(frame)
    formats = _cell_formats(frame)
    _write_header(ws, columns, start_row)
    widths = [min(max(text_width(z), text_width(e)), 16) for z, e in map(_header, columns)]
    row = start_row + 1
    cells: list[list[Any]] = []
    for row, (values, row_formats) in enumerate(
        zip(shown.itertuples(index=False, name=None), formats, strict=True), start=start_row + 2
    ):
        line = []
        for j, (value, number_format) in enumerate(zip(values, row_formats, strict=True)):
            cell = ws.cell(row=row, column=j + 1, value=safe_cell(value))
            if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                cell.number_format = number_format
            widths[j] = max(widths[j], text_width(formatted_text(cell.value, number_format)))
            line.append(cell)
        cells.append(line)
    for j, width in enumerate(widths):
        ws.column_dimensions[get_column_letter(j + 1)].width = min(max(6, width), max_width) + 2
        alignment = _TOP_WRAP if width > max_width else _TOP
        for line in cells:
            line[j].alignment = alignment
    ws.freeze_panes = ws.cell(row=start_row + 2, column=1)
    return row


def district_summary(dataset: Dataset, gaps: dict[str, Any]) -> pd.DataFrame:
    """One row per facility type: children, covered, not covered, share, method, data status."""
    rows = []
    for ft, g in gaps.items():
        d = g.district
        rows.append(
            {
                "facility_title": facility_titles(dataset, ft)[0],
                "facility_type": ft,
                "age_label": g.age_label,
                "urban_threshold_m": g.params_used.get("urban_threshold_m"),
                "rural_threshold_m": g.params_used.get("rural_threshold_m"),
                "facilities": d.get("facilities"),
                "villages": d.get("villages"),
                "villages_covered": d.get("villages_covered"),
                "children": d.get("children"),
                "children_covered": d.get("children_covered"),
                "children_uncovered": d.get("children_uncovered"),
                "share_covered": d.get("share_covered"),
                "method": g.method,
                "data_status": g.data_status,
            }
        )
    return pd.DataFrame(rows)


def village_gaps(dataset: Dataset, gaps: dict[str, Any]) -> pd.DataFrame:
    """Every village for every facility type (long table), township names added."""
    names: dict[str, str] = {}
    if dataset.has("township"):
        t = dataset.layer("township")
        names = dict(zip(t["code9"].astype(str), t["name"].astype(str), strict=True))
    columns = [
        "facility_title",
        "facility_type",
        "code12",
        "name",
        "township_code",
        "township_name",
        "urban",
        "children",
        "threshold_m",
        "route_m",
        "distance_m",
        "distance_band",
        "facility_id",
        "covered",
        "children_uncovered",
        "method",
        "data_status",
    ]
    parts = []
    for ft, g in gaps.items():
        v = pd.DataFrame(g.villages.drop(columns=g.villages.geometry.name)).copy()
        v["facility_title"] = facility_titles(dataset, ft)[0]
        v["facility_type"] = ft
        v["township_name"] = v["township_code"].astype(str).map(names)
        v["data_status"] = g.data_status
        for col in ("distance_m", "route_m"):  # route_m: the route's metres, distance_m its cost
            if col in v.columns:
                v[col] = v[col].astype(float).round(1)
        parts.append(v[[c for c in columns if c in v.columns]])
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)


def _indicator_columns(frame: pd.DataFrame) -> list[str]:
    wanted = [
        "id",
        "section",
        "title_zh",
        "title_en",
        "scope_name",
        "value",
        "unit",
        "op",
        "target",
        "met",
        "shortfall_zh",
        "shortfall_en",
        "data_status",
    ]
    return [c for c in wanted if c in frame.columns]


def _matrix_header(ws: Worksheet, ids: list[str], titles: pd.DataFrame) -> int:
    """The two header rows of ``镇街×指标`` (indicator titles with units); the status column."""
    heads = [("镇街代码", "Township code"), ("镇街", "Township")]
    for ind in ids:
        raw_unit: Any = titles.at[ind, "unit"] if "unit" in titles.columns else None
        unit = "" if raw_unit is None or pd.isna(raw_unit) else str(raw_unit)
        zh = str(titles.at[ind, "title_zh"]) + (f"（{unit}）" if unit else "")
        heads.append((zh, str(titles.at[ind, "title_en"])))
    heads.append(("数据状态", "Data status"))
    for j, (zh, en) in enumerate(heads, start=1):
        top = ws.cell(row=1, column=j, value=safe_cell(zh))
        sub = ws.cell(row=2, column=j, value=safe_cell(en))
        top.font, sub.font = _HEAD_FONT, _EN_FONT
        for cell in (top, sub):
            cell.fill = _HEAD_FILL
            cell.alignment = _TOP_WRAP
        ws.column_dimensions[get_column_letter(j)].width = 16 if 2 < j < len(heads) else 12
    ws.row_dimensions[1].height = 60
    ws.row_dimensions[2].height = 45
    return len(heads)


def _matrix_sheet(ws: Worksheet, indicators: pd.DataFrame, dataset: Dataset) -> int:
    """Township × indicator values, coloured by met / not met; returns the number of rows."""
    rows = indicators[indicators["scope"].astype(str) != "district"]
    ids = list(dict.fromkeys(rows["id"]))
    titles = rows.drop_duplicates("id").set_index("id")
    if dataset.has("township"):
        towns = dataset.layer("township")[["code9", "name"]].astype(str)
    else:
        towns = rows[["scope", "scope_name"]].drop_duplicates().set_axis(["code9", "name"], axis=1)
    status_col = _matrix_header(ws, ids, titles)
    lookup = rows.set_index(["scope", "id"])
    lookup = lookup[~lookup.index.duplicated()]
    default = dataset.data_status(["township"]) if dataset.has("township") else "official"
    statuses = township_data_status(indicators, towns["code9"], default=default)
    formats = {ind: column_format("value", rows.loc[rows["id"] == ind, "value"]) for ind in ids}
    for i, (code, name) in enumerate(zip(towns["code9"], towns["name"], strict=True), start=3):
        ws.cell(row=i, column=1, value=safe_cell(code)).alignment = _TOP
        ws.cell(row=i, column=2, value=safe_cell(name)).alignment = _TOP
        status = str(statuses.iloc[i - 3])
        ws.cell(row=i, column=status_col, value=safe_cell(STATUS_ZH.get(status, status)))
        for j, ind in enumerate(ids, start=3):
            key = (str(code), ind)
            cell = ws.cell(row=i, column=j)
            cell.alignment = _TOP
            if key not in lookup.index:
                cell.fill = _NA_FILL
                continue
            rec = lookup.loc[key]
            cell.value = safe_cell(rec["value"])
            if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                cell.number_format = formats[ind]
            met = rec["met"]
            cell.fill = (
                _NA_FILL
                if met is None or (isinstance(met, float) and np.isnan(met))
                else (_MET_FILL if bool(met) else _NOT_MET_FILL)
            )
    ws.column_dimensions["A"].width = (
        max(text_width(str(c)) for c in [*towns["code9"], "镇街代码"]) + 2
    )
    ws.column_dimensions["B"].width = max(text_width(str(n)) for n in [*towns["name"], "镇街"]) + 2
    ws.freeze_panes = "C3"
    legend_row = len(towns) + 4
    ws.cell(
        row=legend_row,
        column=1,
        value="绿色=达标 green = met；红色=未达标 red = not met；"
        "灰色=无法判断 grey = cannot be judged",
    ).font = _EN_FONT
    return len(towns)


def _about_rows(
    dataset: Dataset,
    gaps: dict[str, Any],
    base: Dataset | None,
    date: dt.date | None,
) -> pd.DataFrame:
    layers = [*("district", "township", "village"), *gaps]
    items: list[tuple[str, str]] = [
        ("情景 / 日期 Scenario / date", scenario_line(dataset, date)),
        ("对比基线 Base", (base.scenario_name or "基线 baseline") if base is not None else "—"),
        ("数据集 Dataset", f"{dataset.info.title_zh} / {dataset.info.title_en}"),
        ("数据状态 Data status", data_status_line(dataset, layers)),
        ("来源 Sources", attribution_line(dataset, layers)),
        (
            "距离方法 Distance method",
            f"无路网时为直线×绕行系数 {dataset.params.detour_factor:g} / without a walking network: "
            f"straight line × {dataset.params.detour_factor:g}",
        ),
        (
            "覆盖规则 Coverage rule",
            "距离≤步行距离标准即为覆盖（城镇/农村分别取值）/ covered when distance ≤ the service "
            "distance of the village's class (urban / rural)",
        ),
        (
            "公式防护 Formula safety",
            "以 = + - @ 开头的文本前加 ' 显示为文本 / text starting with = + - @ is prefixed "
            "with ' and shown as text",
        ),
    ]
    return pd.DataFrame(items, columns=["item", "text"])


def _layer_rows(dataset: Dataset) -> pd.DataFrame:
    rows = []
    for layer_id in dataset.layer_ids:
        spec = dataset.spec(layer_id)
        weak = dataset.weak_layers([layer_id]).get(layer_id, frozenset())
        status = "sample" if "sample" in weak else ("estimated" if weak else "official")
        rows.append(
            {
                "layer": layer_id,
                "title": f"{spec.title_zh} / {spec.title_en}",
                "features": len(dataset.layer(layer_id)),
                "data_status": status,
                "source": spec.source,
                "licence": spec.licence,
                "as_of": spec.as_of,
                "notes": spec.notes,
            }
        )
    return pd.DataFrame(rows)


def excel_report(
    dataset: Dataset,
    *,
    base: Dataset | None = None,
    facility_types: Iterable[str] | None = None,
    indicators: pd.DataFrame | None = None,
    hazards: pd.DataFrame | None = None,
    date: dt.date | None = None,
    graph: Any = None,
) -> bytes:
    """The planning report as an Excel workbook (.xlsx bytes).

    Parameters
    ----------
    dataset
        The dataset reported on (a scenario applied, if any).
    base
        The baseline to compare with; adds the ``情景对比`` sheet.
    facility_types
        Facility types for the coverage rows and the village gaps (default: every type the
        dataset has walking distances for).
    indicators
        Precomputed :func:`qjgeo.indicators.evaluate` frame (computed when ``None``).
    hazards
        Precomputed :func:`qjgeo.hazards.rank_hazards` frame (computed when ``None`` and the
        dataset has water hazards).
    date
        Date printed in the ``数据说明`` sheet (today by default).
    graph
        Walking network for the distances (straight line × detour factor when ``None``).

    Returns
    -------
    bytes
        The workbook.

    Raises
    ------
    ExportError
        If a requested facility type is missing from the dataset.
    """
    types = tuple(facility_types) if facility_types is not None else default_facility_types(dataset)
    missing = [ft for ft in types if not dataset.has(ft)]
    if missing:
        raise ExportError(
            f"dataset {dataset.info.id!r} has no layer(s) {', '.join(missing)}: not available"
        )
    gaps = gaps_by_facility_type(dataset, types, graph=graph)
    if indicators is None:
        from qjgeo.indicators import evaluate

        indicators = evaluate(dataset)
    if hazards is None and dataset.has("water_hazard"):
        from qjgeo.hazards import rank_hazards

        hazards = rank_hazards(dataset)

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "覆盖情况"
    write_table(ws, district_summary(dataset, gaps))
    _district_indicator_sheet(wb.create_sheet("全区指标"), indicators)
    _matrix_sheet(wb.create_sheet("镇街×指标"), indicators, dataset)
    write_table(wb.create_sheet("村缺口"), village_gaps(dataset, gaps))
    _hazard_sheet(wb.create_sheet("溺水隐患"), hazards)
    if base is not None:
        _comparison_sheets(wb, base, dataset, list(gaps), indicators, graph=graph)
    _about_sheets(wb, dataset, gaps, base, date)
    _finish(wb, dataset, list(gaps), date)

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _district_indicator_sheet(ws: Worksheet, indicators: pd.DataFrame) -> None:
    """``全区指标``: every district-level plan indicator, its value, target and shortfall."""
    district_ind = indicators[indicators["scope"].astype(str) == "district"]
    write_table(ws, district_ind[_indicator_columns(district_ind)])


def _finish(
    wb: Workbook, dataset: Dataset, facility_types: list[str], date: dt.date | None
) -> None:
    """Print setup on every sheet (data notice in the footer) and the document properties."""
    layers = ["district", "township", "village", *facility_types]
    if dataset.has("water_hazard"):
        layers.append("water_hazard")
    status_zh = data_status_texts(dataset, layers)[0]
    day = (date or dt.date.today()).isoformat()
    scenario = dataset.scenario_name or "基线"
    notice = f"{status_zh}　情景：{scenario}　日期：{day}"
    for sheet in wb.worksheets:
        fit_row_heights(sheet)
        print_setup(sheet, notice=notice)
    set_properties(
        wb,
        title=f"曲江区儿童友好设施规划报告（{scenario}）",
        subject=f"儿童友好设施覆盖、规划指标、缺口与溺水隐患；{status_zh}",
        date=date,
    )


def _hazard_sheet(hz: Worksheet, hazards: pd.DataFrame | None) -> None:
    """``溺水隐患``: the ranked water hazards (points as lon / lat), or a line saying none."""
    if hazards is not None and len(hazards):
        table = pd.DataFrame(hazards).copy().rename(columns={"id": "hazard_id"})
        if "geometry" in table.columns:
            pts = hazards.geometry.representative_point()
            table = table.drop(columns="geometry")
            table["lon"] = pts.x.round(6).to_numpy()
            table["lat"] = pts.y.round(6).to_numpy()
        write_table(hz, table)
    else:
        hz.cell(
            row=1, column=1, value="本数据集无溺水隐患图层 / no water-hazard layer: not available"
        )


def _comparison_sheets(
    wb: Workbook,
    base: Dataset,
    dataset: Dataset,
    facility_types: list[str],
    indicators: pd.DataFrame,
    *,
    graph: Any,
) -> None:
    """``情景对比``: indicators in the base and the scenario; ``覆盖变化``: children covered."""
    from qjgeo.scenario import compare

    comparison = compare(base, dataset, graph=graph, facility_types=facility_types)
    cmp_frame = comparison.indicators.copy()
    if "title_zh" not in cmp_frame.columns:
        titles = indicators.drop_duplicates("id").set_index("id")["title_zh"]
        cmp_frame.insert(1, "title_zh", cmp_frame["id"].map(titles))
    if "data_status" not in cmp_frame.columns:
        cmp_frame["data_status"] = comparison.data_status
    write_table(wb.create_sheet("情景对比"), cmp_frame)
    cov = comparison.coverage.copy()
    if "data_status" not in cov.columns:
        cov["data_status"] = comparison.data_status
    if len(cov):
        if "facility_type" in cov.columns:
            titles_zh = [facility_titles(dataset, str(ft))[0] for ft in cov["facility_type"]]
            cov.insert(0, "facility_title", titles_zh)
        write_table(wb.create_sheet("覆盖变化"), cov)


def _about_sheets(
    wb: Workbook,
    dataset: Dataset,
    gaps: dict[str, Any],
    base: Dataset | None,
    date: dt.date | None,
) -> None:
    """``数据说明``: scenario, date, method and data status; ``数据来源``: every layer's source."""
    write_table(wb.create_sheet("数据说明"), _about_rows(dataset, gaps, base, date), max_width=90)
    write_table(wb.create_sheet("数据来源"), _layer_rows(dataset), max_width=60)
