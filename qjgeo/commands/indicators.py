"""``qjgeo indicators``: which plan targets are met, where, and by how much they are missed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from qjgeo.commands._checks import check_output_path
from qjgeo.commands._common import (
    DataOption,
    MinutesOption,
    ModeOption,
    NetworkOption,
    apply_travel_option,
    check_travel_option,
    emit_frame,
    fail,
    open_dataset,
    resolve_graph,
    travel_line,
)
from qjgeo.textsafety import neutralise_formula

#: Chinese headers of the xlsx export (column → header).
HEADERS_ZH: dict[str, str] = {
    "id": "指标编号",
    "plan_id": "规划指标",
    "part": "类别",
    "section": "规划条款",
    "title_zh": "指标",
    "title_en": "Indicator",
    "kind": "计算方式",
    "scope": "范围代码",
    "scope_name": "范围",
    "value": "现状值",
    "unit": "单位",
    "op": "比较",
    "target": "目标值",
    "met": "是否达标",
    "shortfall": "差距（英文）",
    "shortfall_zh": "差距",
    "shortfall_en": "Shortfall",
    "shortfall_n": "差距数量",
    "failing_units": "未达标单元",
    "n_failing": "未达标单元数",
    "numerator": "分子",
    "denominator": "分母",
    "data_status": "数据状态",
    "weak_layers": "估算/示例数据图层",
    "layers_used": "使用图层",
    "method": "距离方法",
    "note": "说明",
    "scenario": "情景",
    "failing_townships": "未达标单元所在镇（街道）代码",
}

TABLE_COLUMNS = [
    "id", "scope_name", "value", "unit", "op", "target", "met", "data_status", "shortfall_zh"
]  # fmt: skip


class IndicatorFormat(StrEnum):
    """Output formats of ``qjgeo indicators``."""

    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists joined with '; ' (for CSV / xlsx / table)."""
    out = frame.copy()
    for col in ("failing_units", "weak_layers", "layers_used", "failing_townships"):
        if col in out.columns:
            out[col] = out[col].map(lambda v: "; ".join(map(str, v)) if isinstance(v, list) else v)
    return out


def safe_cell(value: Any) -> Any:
    """A cell value that a spreadsheet will not run as a formula (``'=…`` stays text)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return neutralise_formula(value)


def write_sheet(
    flat: pd.DataFrame, path: Path, *, title: str, headers: Mapping[str, str], freeze: str
) -> None:
    """One table as an .xlsx sheet: Chinese headers, frozen panes, no live formulas.

    Parameters
    ----------
    flat
        The table, one value per cell (lists already joined).
    path
        Destination file.
    title, headers, freeze
        The sheet's name, column → Chinese header, and the first unfrozen cell.
    """
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    ws.append([headers.get(c, c) for c in flat.columns])
    for row in flat.itertuples(index=False):
        ws.append([safe_cell(v.item() if hasattr(v, "item") else v) for v in row])
    ws.freeze_panes = freeze
    wb.save(path)


def write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    """Write the indicator table to an .xlsx file with Chinese headers and no live formulas.

    Parameters
    ----------
    frame
        The :func:`qjgeo.indicators.evaluate` result.
    path
        Destination file.
    """
    write_sheet(_flat(frame), path, title="指标", headers=HEADERS_ZH, freeze="C2")


def weak_data_note(frame: pd.DataFrame) -> str:
    """A notice naming the layers of sample / estimated data the rows rest on ('' if none)."""
    weak_rows = frame["data_status"].isin(["sample", "estimated"])
    if not weak_rows.any():
        return ""
    layers = sorted({lid for ids in frame.loc[weak_rows, "weak_layers"] for lid in ids})
    statuses = "/".join(sorted(set(frame.loc[weak_rows, "data_status"]), reverse=True))
    return (
        f"注意：{int(weak_rows.sum())}/{len(frame)} 行基于样例或估算数据（图层：{'、'.join(layers)}），"
        f"非官方统计。\nNOTE: {int(weak_rows.sum())} of {len(frame)} rows rest on {statuses} "
        f"data (layers: {', '.join(layers)}): not official statistics."
    )


ScenarioOption = Annotated[
    Path | None, typer.Option("--scenario", help="Scenario YAML applied first.")
]
TownshipOption = Annotated[
    str | None,
    typer.Option("--township", help="Only the rows of this township (9-digit code)."),
]
TargetsOption = Annotated[
    Path | None,
    typer.Option("--targets", help="Targets YAML (default: the bundled plan targets)."),
]
IndicatorFormatOption = Annotated[
    IndicatorFormat, typer.Option("--format", help="table, csv, json or xlsx")
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Write to this file instead of stdout.")
]


def _evaluate(
    data: Path | None,
    scenario: Path | None,
    targets: Path | None,
    network: Path | None,
    mode: str | None = None,
    minutes: float | None = None,
) -> pd.DataFrame:
    """Load the dataset, apply ``--scenario`` and ``--mode`` and evaluate every indicator."""
    from qjgeo.indicators import TargetsError, evaluate

    dataset = open_dataset(data)
    scn = None
    if scenario is not None:
        from qjgeo.scenario import ScenarioError, load_scenario

        try:
            scn = load_scenario(scenario)
        except ScenarioError as exc:
            fail(str(exc))
    try:
        if scn is not None:
            from qjgeo.scenario import apply

            dataset = apply(dataset, scn)
        dataset = apply_travel_option(dataset, mode, minutes)  # --mode wins over the scenario's
        graph, graph_note = resolve_graph(dataset, network)
        typer.echo(graph_note, err=True)
        typer.echo(travel_line(dataset, graph is not None), err=True)
        return evaluate(dataset, targets=targets, graph=graph)
    except TargetsError as exc:
        fail(str(exc))
    except ValueError as exc:  # ScenarioError and other bad input, named by the message
        fail(str(exc))


def _render_indicators(
    frame: pd.DataFrame, township: str | None, fmt: IndicatorFormat, out: Path | None
) -> None:
    """Print or write the indicator table (only one township's rows with ``--township``)."""
    if township is not None:
        codes = [s for s in dict.fromkeys(frame["scope"]) if s != "district"]
        if township not in codes:
            fail(f"--township {township!r}: no such township (known: {', '.join(codes)})")
        from qjgeo.indicators import township_view

        frame = township_view(frame, township)
    note = weak_data_note(frame)
    if note:
        typer.echo(note, err=True)
    if frame.attrs.get("demand_source"):
        typer.echo(f"需求（儿童）来源 / demand source: {frame.attrs['demand_source']}", err=True)
    if fmt is IndicatorFormat.xlsx:
        if out is None:
            fail("--format xlsx needs --out FILE.xlsx")
        write_xlsx(frame, out)
        typer.echo(f"wrote {out}")
        return
    if fmt is IndicatorFormat.json:
        emit_frame(frame, "json", out)
    elif fmt is IndicatorFormat.csv:
        emit_frame(_flat(frame), "csv", out)
    else:
        table = frame[TABLE_COLUMNS].copy()
        table["value"] = table["value"].round(2)
        table["met"] = table["met"].map({True: "✔", False: "✘"}).fillna("–")
        emit_frame(table, "table", out)


def indicators_command(
    data: DataOption = None,
    scenario: ScenarioOption = None,
    township: TownshipOption = None,
    targets: TargetsOption = None,
    network: NetworkOption = None,
    mode: ModeOption = None,
    minutes: MinutesOption = None,
    fmt: IndicatorFormatOption = IndicatorFormat.table,
    out: OutOption = None,
) -> None:
    """Each plan target: value, target, met, shortfall, per district and township
    (distances by --mode, thresholds in minutes with --mode / --minutes)."""
    if out is not None:  # an existing file is replaced, as always
        check_output_path(out, overwrite=True)
    if fmt is IndicatorFormat.xlsx and out is None:
        fail("--format xlsx needs --out FILE.xlsx")
    check_travel_option(mode, minutes)
    frame = _evaluate(data, scenario, targets, network, mode, minutes)
    _render_indicators(frame, township, fmt, out)


def register(app: typer.Typer) -> None:
    """Add the ``indicators`` command."""
    app.command("indicators")(indicators_command)
