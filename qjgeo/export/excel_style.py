"""How the Excel report looks: Chinese cell values, number formats, widths, print setup.

The report goes into a government report unedited, so every cell is shown as a planner
reads it:

* codes and enumerations in Chinese (:func:`display_frame`): data status 官方 / 估算 / 样例
  / 用户 / OSM, distance method 直线×绕行系数 / 步行路网, comparisons ≥ ≤, targets
  达标 / 未达标 / 无法判断, booleans 是 / 否, hazard kinds 河流 / 山塘 …;
* every number with a number format (:func:`number_format`): shares as ``0.0%``, counts
  and metres as ``#,##0``, values with decimals as ``#,##0.0`` (two decimals when the
  target has two);
* column widths from the content, CJK characters counting double (:func:`text_width`),
  long text wrapped, every cell aligned to the top;
* every sheet printed A4 landscape, fitted to the page width, the header rows repeated on
  each page, the data notice in the footer (:func:`print_setup`).

The module knows no dataset and no sheet: :mod:`qjgeo.export.excel` decides what is shown.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Mapping
from typing import Any, Final

import pandas as pd
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

#: Data status and provenance codes → Chinese.
STATUS_ZH: Final[dict[str, str]] = {
    "official": "官方",
    "estimated": "估算",
    "sample": "样例",
    "user": "用户",
    "osm": "OSM",
    "": "官方",
}

#: Distance methods → Chinese.
METHOD_ZH: Final[dict[str, str]] = {
    "straight_line_x_detour": "直线×绕行系数",
    "straight_line": "直线距离",
    "network": "步行路网",
}

#: Comparison operators of a target → the signs a report prints.
OP_ZH: Final[dict[str, str]] = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "=", "=": "="}

#: Water-hazard kinds → Chinese.
KIND_ZH: Final[dict[str, str]] = {
    "river": "河流",
    "stream": "溪流",
    "canal": "水渠",
    "ditch": "沟渠",
    "reservoir": "水库",
    "pond": "山塘",
    "lake": "湖泊",
    "pool": "水池",
    "other": "其他",
}

#: Scope codes that are words, not numbers.
SCOPE_ZH: Final[dict[str, str]] = {"district": "全区"}

#: Columns that hold a target's outcome (True / False / unknown).
MET_COLUMNS: Final[frozenset[str]] = frozenset({"met", "met_a", "met_b"})

#: Columns holding indicator values, formatted row by row (the indicators differ by row).
VALUE_COLUMNS: Final[tuple[str, ...]] = ("value", "target", "value_a", "value_b", "delta")

#: Column format when the column holds shares (0–1), metres or coordinates.
_COLUMN_FORMATS: Final[dict[str, str]] = {"lon": "0.000000", "lat": "0.000000"}

INTEGER: Final[str] = "#,##0"
DECIMAL: Final[str] = "#,##0.0"
DECIMAL2: Final[str] = "#,##0.00"
PERCENT: Final[str] = "0.0%"

#: Widest column (characters, CJK counting double) before its text wraps.
MAX_WIDTH: Final[int] = 40


def _met_zh(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "无法判断"
    return "达标" if bool(value) else "未达标"


def _mapped(table: Mapping[str, str]) -> Any:
    def convert(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        parts = [p.strip() for p in value.split(",")]
        return "、".join(table.get(p, p) for p in parts)

    return convert


def _yes_no(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as a report shows it: codes and enumerations in Chinese, booleans 是 / 否.

    Parameters
    ----------
    frame
        A result table with columns named as in :data:`qjgeo.export.excel.HEADERS`.

    Returns
    -------
    pandas.DataFrame
        A copy, object columns translated; numbers unchanged.
    """
    out = frame.copy()
    converters: dict[str, Any] = {
        "data_status": _mapped(STATUS_ZH),
        "provenance": _mapped(STATUS_ZH),
        "method": _mapped(METHOD_ZH),
        "op": _mapped(OP_ZH),
        "kind": _mapped(KIND_ZH),
        "scope": _mapped(SCOPE_ZH),
    }
    for column in out.columns:
        name = str(column)
        series = out[column].astype(object)
        if name in MET_COLUMNS:
            out[column] = series.map(_met_zh)
        elif name in converters:
            out[column] = series.map(converters[name])
        else:
            out[column] = series.map(_yes_no)
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def column_format(column: str, values: pd.Series) -> str:
    """The number format of a whole column, from its name and its numbers.

    Parameters
    ----------
    column
        Column name: ``share*`` are shares (``0.0%``), ``*_m`` metres (``#,##0``),
        ``lon`` / ``lat`` coordinates (six decimals).
    values
        The column's values (text and empty cells ignored).

    Returns
    -------
    str
        An Excel number format.
    """
    if column in _COLUMN_FORMATS:
        return _COLUMN_FORMATS[column]
    if column.startswith("share"):
        return PERCENT
    if column.endswith("_m"):
        return INTEGER
    numbers = [float(v) for v in values if _is_number(v) and math.isfinite(float(v))]
    if all(float(v).is_integer() for v in numbers):
        return INTEGER
    return DECIMAL


def row_value_format(row: Mapping[str, Any]) -> str:
    """The number format of an indicator row's values (value, target, change …).

    Whole numbers (counts) show without decimals; otherwise one decimal, two when the
    target itself has two (a ratio like 1.12 doctors per 1,000 children).

    Parameters
    ----------
    row
        Column → value of one row.

    Returns
    -------
    str
        An Excel number format.
    """
    numbers = [
        float(row[c])
        for c in VALUE_COLUMNS
        if c in row and _is_number(row[c]) and math.isfinite(float(row[c]))
    ]
    if all(v.is_integer() for v in numbers):
        return INTEGER
    target = row.get("target")
    if isinstance(target, int | float) and not isinstance(target, bool) and math.isfinite(target):
        if round(float(target), 1) != round(float(target), 4):
            return DECIMAL2
    return DECIMAL


def formatted_text(value: Any, number_format: str) -> str:
    """The text Excel shows for a value under a number format (for column widths)."""
    if not _is_number(value):
        return "" if value is None else str(value)
    v = float(value)
    if number_format == PERCENT:
        return f"{v:.1%}"
    if number_format == INTEGER:
        return f"{v:,.0f}"
    if number_format == DECIMAL2:
        return f"{v:,.2f}"
    if number_format == DECIMAL:
        return f"{v:,.1f}"
    return f"{v:.6f}"


def text_width(text: str) -> int:
    """Width of a text in Excel characters: CJK and other wide characters count double.

    Parameters
    ----------
    text
        The cell text (its longest line counts).

    Returns
    -------
    int
        Its width.
    """
    lines = str(text).split("\n") or [""]
    return max(
        sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in lines
    )


def _footer_text(text: str, limit: int = 200) -> str:
    text = text.replace("&", "&&")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_setup(ws: Worksheet, *, notice: str, title_rows: str = "1:2") -> None:
    """A4 landscape, fitted to the page width, header rows repeated, the data notice below.

    Parameters
    ----------
    ws
        The sheet.
    notice
        The data notice printed in the footer of every page (shortened to Excel's limit).
    title_rows
        The header rows repeated on every printed page (``"1:2"``: Chinese and English).
    """
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = True
    ws.print_title_rows = title_rows
    ws.page_margins.bottom = 0.9
    ws.page_margins.footer = 0.3
    ws.oddFooter.left.text = _footer_text(notice)
    ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = "第 &P 页，共 &N 页"
    ws.oddFooter.right.size = 8
    ws.oddHeader.left.text = _footer_text(ws.title, 60)
    ws.oddHeader.left.size = 9


def set_properties(wb: Workbook, *, title: str, subject: str, date: dt.date | None) -> None:
    """Document properties: title, subject, creator ``qjgeo`` and the date of the report.

    Parameters
    ----------
    wb
        The workbook.
    title, subject
        Shown by Excel under File → Info and used by the PDF a printer makes.
    date
        The report's date (today by default).
    """
    day = date or dt.date.today()
    created = dt.datetime(day.year, day.month, day.day)
    wb.properties.title = title
    wb.properties.subject = subject
    wb.properties.creator = "qjgeo"
    wb.properties.lastModifiedBy = "qjgeo"
    wb.properties.created = created
    wb.properties.modified = created
    wb.properties.keywords = "曲江区; 儿童友好; qjgeo"


def fit_row_heights(ws: Worksheet) -> None:
    """Row heights for wrapped text (LibreOffice keeps the default height of an xlsx row).

    Rows with a height already set are left alone; a row grows to the most lines a
    wrapped cell of it needs at its column's width (CJK characters counting double).

    Parameters
    ----------
    ws
        The sheet, its column widths already set.
    """
    widths = {
        letter: (dim.width or 8.43) for letter, dim in ws.column_dimensions.items() if dim.width
    }
    for row in ws.iter_rows():
        index = row[0].row
        if ws.row_dimensions[index].height is not None:
            continue
        height = 0.0
        for cell in row:
            if cell.value is None or not cell.alignment.wrap_text:
                continue
            width = max(1.0, widths.get(cell.column_letter, 8.43) - 1.5)
            lines = sum(
                max(1, math.ceil(text_width(line) / width)) for line in str(cell.value).split("\n")
            )
            size = float(cell.font.sz or 11)
            height = max(height, lines * size * 1.4 + 2)
        if height > 15:
            ws.row_dimensions[index].height = round(height, 1)
