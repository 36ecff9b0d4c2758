"""``qjgeo monitor evaluate``: the plan's mid-term (2025) or final (2030) evaluation."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from qjgeo.commands._checks import check_output_path
from qjgeo.commands._common import (
    DataOption,
    NetworkOption,
    emit_frame,
    fail,
    monitoring_directory,
    open_dataset,
)
from qjgeo.commands.indicators import write_sheet

#: Chinese headers of the evaluation table (xlsx, and the report's tables).
EVALUATION_HEADERS_ZH: dict[str, str] = {
    "id": "指标编号",
    "section": "规划条款",
    "title_zh": "指标",
    "title_en": "Indicator",
    "unit": "单位",
    "op": "比较",
    "target": "2030年目标",
    "stage": "评估",
    "stage_year": "评估年份",
    "baseline_year": "基线年份",
    "baseline": "基线值",
    "latest_year": "最新年份",
    "latest": "最新值",
    "stage_target": "评估年份应达值（线性路径）",
    "path_now": "最新年份应达值（线性路径）",
    "trend_per_year": "年均变化（趋势）",
    "projected": "按趋势推算2030年值",
    "status": "status",
    "status_zh": "评估结论",
    "volatile": "波动较大",
    "held_back_by": "未达标镇（街道）",
    "failing_units": "未达标单元",
    "years": "记录年份",
    "data_status": "数据状态",
    "weak_data": "基于估算/示例数据",
}


class EvaluationFormat(StrEnum):
    """Output formats of ``qjgeo monitor evaluate``."""

    table = "table"
    json = "json"
    xlsx = "xlsx"
    docx = "docx"


class StageChoice(StrEnum):
    """The plan's two evaluations."""

    midterm = "midterm"
    final = "final"


class Language(StrEnum):
    """Language of the Word report (Chinese first)."""

    zh = "zh"
    en = "en"


StageOption = Annotated[
    StageChoice, typer.Option("--stage", help="midterm (2025) or final (2030).")
]
TownshipOption = Annotated[
    str | None, typer.Option("--township", help="A township code instead of the district.")
]
FormatOption = Annotated[
    EvaluationFormat, typer.Option("--format", help="table, json, xlsx or docx (the report)")
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Write to this file (needed for xlsx and docx).")
]
DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="Monitoring directory (default: monitoring/ inside the dataset folder).",
        show_default=False,
    ),
]
LangOption = Annotated[Language, typer.Option("--lang", help="Report language: zh or en.")]


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in ("held_back_by", "failing_units"):
        out[col] = out[col].map(lambda v: "; ".join(map(str, v)) if isinstance(v, list) else v)
    return out


def write_evaluation_xlsx(frame: pd.DataFrame, path: Path) -> None:
    """The evaluation table as .xlsx with Chinese headers (no live formulas).

    Parameters
    ----------
    frame
        From :func:`qjgeo.evaluation.evaluate_stage`.
    path
        Destination file.
    """
    write_sheet(_flat(frame), path, title="评估", headers=EVALUATION_HEADERS_ZH, freeze="D2")


def _render_table(frame: pd.DataFrame) -> None:
    from qjgeo.evaluation import stage_counts

    shown = frame[
        ["id", "baseline_year", "baseline", "latest_year", "latest", "stage_target", "target",
         "projected", "status_zh", "data_status"]
    ].round(2)  # fmt: skip
    emit_frame(shown, "table")
    c = stage_counts(frame)
    typer.echo(
        f"\n已达标 {c['met']} 项，进度符合预期 {c['on track']} 项，进度滞后 {c['behind']} 项，"
        f"预计难以达标 {c['at risk']} 项 / met {c['met']}, on track {c['on track']}, "
        f"behind {c['behind']}, at risk {c['at risk']}"
    )


def _checked_out(fmt: EvaluationFormat, out: Path | None) -> None:
    if fmt in (EvaluationFormat.xlsx, EvaluationFormat.docx):
        if out is None:
            fail(f"--format {fmt.value} needs --out FILE.{fmt.value}")
        check_output_path(out, suffixes=(f".{fmt.value}",), overwrite=True)
    elif out is not None:
        check_output_path(out, overwrite=True)


def evaluate_command(
    stage: StageOption = StageChoice.midterm,
    township: TownshipOption = None,
    fmt: FormatOption = EvaluationFormat.table,
    out: OutOption = None,
    directory: DirOption = None,
    data: DataOption = None,
    network: NetworkOption = None,
    lang: LangOption = Language.zh,
) -> None:
    """The mid-term (2025) or final (2030) evaluation: baseline, path, status, who holds it back."""
    from qjgeo.evaluation import evaluate_stage
    from qjgeo.monitoring import MonitoringError, load_series

    _checked_out(fmt, out)
    folder = monitoring_directory(directory, data)
    try:
        series = load_series(folder)
        if series.empty:
            fail(f"{folder}: no year recorded yet (qjgeo monitor record --year YEAR)")
        frame = evaluate_stage(series, stage.value, scope=township or "district")
    except MonitoringError as exc:
        fail(str(exc))
    if frame["weak_data"].any():
        typer.echo(
            "注意：部分最新值基于示例或估算数据，评估结论仅供演示。\n"
            "NOTE: some latest values rest on sample or estimated data: a demonstration, "
            "not an official evaluation.",
            err=True,
        )
    if fmt is EvaluationFormat.docx:
        assert out is not None
        _write_report(frame, series, stage.value, township, out, data, network, lang.value)
    elif fmt is EvaluationFormat.xlsx:
        assert out is not None
        write_evaluation_xlsx(frame, out)
        typer.echo(f"wrote {out}")
    elif fmt is EvaluationFormat.json:
        emit_frame(frame, "json", out)
    else:
        _render_table(frame)


def _write_report(
    frame: pd.DataFrame,
    series: pd.DataFrame,
    stage: str,
    township: str | None,
    out: Path,
    data: Path | None,
    network: Path | None,
    lang: str,
) -> None:
    """The Word report (gap maps drawn from the dataset as it stands)."""
    from qjgeo.commands._common import resolve_graph
    from qjgeo.export.evaluation_report import write_evaluation_docx

    dataset = open_dataset(data)
    graph, note = resolve_graph(dataset, network)
    typer.echo(note, err=True)
    write_evaluation_docx(
        dataset, frame, series, out, stage=stage, scope=township or "district", lang=lang,
        graph=graph,
    )  # fmt: skip
    typer.echo(f"wrote {out}")
