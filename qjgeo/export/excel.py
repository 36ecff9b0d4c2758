"""The Excel report: district summary, township × indicator matrix, gaps, hazards, scenario.

Sheets (Chinese headers in row 1, English in row 2, data from row 3):

``区汇总`` (district summary)
    coverage of children per facility type, then every district-level plan indicator;
``镇街×指标`` (townships × indicators)
    one row per township, one column per indicator value, cells green when the target is
    met and red when not (grey: cannot be judged), and the weakest data status of the
    township's indicators in the last column;
``村缺口`` (gaps by village)
    every village for every facility type: children, service distance, distance, covered;
``溺水隐患`` (water hazards)
    the ranked hazards (:func:`qjgeo.hazards.rank_hazards`), when the dataset has them;
``情景对比`` (scenario versus base)
    indicator values in the base and the scenario, when ``base`` is given, with the data
    status of the comparison;
``数据说明`` (about the data)
    scenario, date, distances and method, data status of every layer, sources and licences.

Every row drawn from results carries a ``data_status`` (数据状态) column: ``sample`` or
``estimated`` when it rests on such data.

Every text cell is passed through :func:`qjgeo.ingest.safety.neutralise_formula`, so a name
beginning with ``= + - @`` is shown as text, never run as a formula.
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
from qjgeo.export.staticmap import (
    ExportError,
    attribution_line,
    data_status_line,
    default_facility_types,
    facility_titles,
    gaps_by_facility_type,
    scenario_line,
    township_data_status,
)
from qjgeo.textsafety import neutralise_formula

#: Sheet names in workbook order (``情景对比`` only with a base).
SHEETS: Final[tuple[str, ...]] = (
    "区汇总",
    "镇街×指标",
    "村缺口",
    "溺水隐患",
    "情景对比",
    "数据说明",
)

#: Column → (Chinese header, English header).
HEADERS: Final[dict[str, tuple[str, str]]] = {
    "facility_type": ("设施类型", "Facility type"),
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
    "shortfall_zh": ("差距", "Shortfall (zh)"),
    "shortfall_en": ("差距（英文）", "Shortfall"),
    "code9": ("镇街代码", "Township code"),
    "name": ("名称", "Name"),
    "code12": ("村（社区）代码", "Village code"),
    "township_code": ("镇街代码", "Township code"),
    "township_name": ("镇街", "Township"),
    "urban": ("城镇", "Urban"),
    "threshold_m": ("步行距离标准（米）", "Service distance (m)"),
    "distance_m": ("最近设施距离（米）", "Distance to nearest (m)"),
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
    "flipped": ("达标状态改变", "Status flipped"),
    "layer": ("图层", "Layer"),
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


def write_table(ws: Worksheet, frame: pd.DataFrame, *, start_row: int = 1) -> int:
    """Write a frame with a Chinese header row and an English header row below it.

    Parameters
    ----------
    ws
        The sheet.
    frame
        The table (columns named as in :data:`HEADERS`; others keep their name).
    start_row
        First row of the Chinese header.

    Returns
    -------
    int
        The last row written.
    """
    columns = list(frame.columns)
    for j, col in enumerate(columns, start=1):
        zh, en = _header(str(col))
        top = ws.cell(row=start_row, column=j, value=safe_cell(zh))
        top.font = _HEAD_FONT
        top.fill = _HEAD_FILL
        sub = ws.cell(row=start_row + 1, column=j, value=safe_cell(en))
        sub.font = _EN_FONT
        sub.fill = _HEAD_FILL
    row = start_row + 1
    for row, values in enumerate(frame.itertuples(index=False, name=None), start=start_row + 2):
        for j, value in enumerate(values, start=1):
            ws.cell(row=row, column=j, value=safe_cell(value))
    for j, col in enumerate(columns, start=1):
        width = max(
            [len(str(_header(str(col))[0])) * 2, len(str(_header(str(col))[1]))]
            + [min(len(str(v)), 40) for v in frame[col].head(200)]
        )
        ws.column_dimensions[get_column_letter(j)].width = min(max(8, width + 2), 50)
    ws.freeze_panes = ws.cell(row=start_row + 2, column=1)
    return row


def _percent_format(ws: Worksheet, frame: pd.DataFrame, column: str, start_row: int = 3) -> None:
    if column not in frame.columns:
        return
    j = list(frame.columns).index(column) + 1
    for i in range(len(frame)):
        ws.cell(row=start_row + i, column=j).number_format = "0.0%"


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
        v["distance_m"] = v["distance_m"].astype(float).round(1)
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


def _matrix_sheet(ws: Worksheet, indicators: pd.DataFrame, dataset: Dataset) -> int:
    """Township × indicator values, coloured by met / not met; returns the number of rows."""
    rows = indicators[indicators["scope"].astype(str) != "district"]
    ids = list(dict.fromkeys(rows["id"]))
    titles = rows.drop_duplicates("id").set_index("id")
    if dataset.has("township"):
        towns = dataset.layer("township")[["code9", "name"]].astype(str)
    else:
        towns = rows[["scope", "scope_name"]].drop_duplicates().set_axis(["code9", "name"], axis=1)
    ws.cell(row=1, column=1, value="镇街代码").font = _HEAD_FONT
    ws.cell(row=1, column=2, value="镇街").font = _HEAD_FONT
    ws.cell(row=2, column=1, value="Township code").font = _EN_FONT
    ws.cell(row=2, column=2, value="Township").font = _EN_FONT
    for j, ind in enumerate(ids, start=3):
        raw_unit: Any = titles.at[ind, "unit"] if "unit" in titles.columns else None
        unit = "" if raw_unit is None or pd.isna(raw_unit) else str(raw_unit)
        zh = str(titles.at[ind, "title_zh"]) + (f"（{unit}）" if unit else "")
        top = ws.cell(row=1, column=j, value=safe_cell(zh))
        top.font = _HEAD_FONT
        top.alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(row=2, column=j, value=safe_cell(titles.at[ind, "title_en"])).font = _EN_FONT
        ws.cell(row=2, column=j).alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(j)].width = 16
    status_col = len(ids) + 3
    ws.cell(row=1, column=status_col, value="数据状态").font = _HEAD_FONT
    ws.cell(row=2, column=status_col, value="Data status").font = _EN_FONT
    ws.column_dimensions[get_column_letter(status_col)].width = 12
    for cell in (*ws[1], *ws[2]):
        cell.fill = _HEAD_FILL
    ws.row_dimensions[1].height = 60
    ws.row_dimensions[2].height = 45
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 12
    lookup = rows.set_index(["scope", "id"])
    lookup = lookup[~lookup.index.duplicated()]
    default = dataset.data_status(["township"]) if dataset.has("township") else "official"
    statuses = township_data_status(indicators, towns["code9"], default=default)
    for i, (code, name) in enumerate(zip(towns["code9"], towns["name"], strict=True), start=3):
        ws.cell(row=i, column=1, value=safe_cell(code))
        ws.cell(row=i, column=2, value=safe_cell(name))
        ws.cell(row=i, column=status_col, value=safe_cell(statuses.iloc[i - 3]))
        for j, ind in enumerate(ids, start=3):
            key = (str(code), ind)
            cell = ws.cell(row=i, column=j)
            if key not in lookup.index:
                cell.fill = _NA_FILL
                continue
            rec = lookup.loc[key]
            cell.value = safe_cell(rec["value"])
            if isinstance(cell.value, float):
                cell.number_format = "0.0"
            met = rec["met"]
            cell.fill = (
                _NA_FILL
                if met is None or (isinstance(met, float) and np.isnan(met))
                else (_MET_FILL if bool(met) else _NOT_MET_FILL)
            )
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
    ws.title = "区汇总"
    _summary_sheet(ws, dataset, gaps, indicators)
    _matrix_sheet(wb.create_sheet("镇街×指标"), indicators, dataset)
    write_table(wb.create_sheet("村缺口"), village_gaps(dataset, gaps))
    _hazard_sheet(wb.create_sheet("溺水隐患"), hazards)
    if base is not None:
        _comparison_sheet(wb, base, dataset, list(gaps), indicators, graph=graph)
    _about_sheet(wb.create_sheet("数据说明"), dataset, gaps, base, date)

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _summary_sheet(
    ws: Worksheet, dataset: Dataset, gaps: dict[str, Any], indicators: pd.DataFrame
) -> None:
    """``区汇总``: children covered per facility type, then the district's plan indicators."""
    summary = district_summary(dataset, gaps)
    last = write_table(ws, summary)
    _percent_format(ws, summary, "share_covered")
    district_ind = indicators[indicators["scope"].astype(str) == "district"]
    district_ind = district_ind[_indicator_columns(district_ind)]
    start = last + 3
    ws.cell(
        row=start - 1, column=1, value="全区规划指标 District plan indicators"
    ).font = _HEAD_FONT
    write_table(ws, district_ind, start_row=start)
    ws.freeze_panes = "A3"


def _hazard_sheet(hz: Worksheet, hazards: pd.DataFrame | None) -> None:
    """``溺水隐患``: the ranked water hazards (points as lon / lat), or a line saying none."""
    if hazards is not None and len(hazards):
        table = pd.DataFrame(hazards).copy()
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


def _comparison_sheet(
    wb: Workbook,
    base: Dataset,
    dataset: Dataset,
    facility_types: list[str],
    indicators: pd.DataFrame,
    *,
    graph: Any,
) -> None:
    """``情景对比``: indicators in the base and the scenario, then the change in coverage."""
    from qjgeo.scenario import compare

    comparison = compare(base, dataset, graph=graph, facility_types=facility_types)
    cmp_frame = comparison.indicators.copy()
    if "title_zh" not in cmp_frame.columns:
        titles = indicators.drop_duplicates("id").set_index("id")["title_zh"]
        cmp_frame.insert(1, "title_zh", cmp_frame["id"].map(titles))
    if "data_status" not in cmp_frame.columns:
        cmp_frame["data_status"] = comparison.data_status
    cs = wb.create_sheet("情景对比")
    last = write_table(cs, cmp_frame)
    cov = comparison.coverage.copy()
    if "data_status" not in cov.columns:
        cov["data_status"] = comparison.data_status
    if len(cov):
        cs.cell(
            row=last + 2, column=1, value="儿童覆盖变化 Children coverage change"
        ).font = _HEAD_FONT
        write_table(cs, cov, start_row=last + 3)
        cs.freeze_panes = "A3"


def _about_sheet(
    about: Worksheet,
    dataset: Dataset,
    gaps: dict[str, Any],
    base: Dataset | None,
    date: dt.date | None,
) -> None:
    """``数据说明``: scenario, date, method and data status, then every layer's source."""
    last = write_table(about, _about_rows(dataset, gaps, base, date))
    about.column_dimensions["B"].width = 120
    write_table(about, _layer_rows(dataset), start_row=last + 3)
    about.freeze_panes = "A3"
