"""``qjgeo monitor``: keep each year's indicator values and warn early (plan 五、监测评估)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from qjgeo.commands._common import (
    DataOption,
    NetworkOption,
    TableFormat,
    emit_frame,
    fail,
    monitoring_directory,
    open_dataset,
    resolve_graph,
)

DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="Monitoring directory (one indicators-<year>.csv per year; default: monitoring/ "
        "inside the dataset folder).",
        show_default=False,
    ),
]


YearOption = Annotated[int, typer.Option("--year", help="The monitoring year, e.g. 2026.")]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace the year if already recorded.")
]
TownshipOption = Annotated[
    str | None, typer.Option("--township", help="A township code instead of the district.")
]
FinalYearOption = Annotated[
    int, typer.Option("--final-year", help="Year of the projection (plan: 2030).")
]
FormatOption = Annotated[TableFormat, typer.Option("--format", help="table, csv or json")]


def _render_recorded(path: Path, status: str) -> None:
    """Say which file was written and warn when the values rest on sample / estimated data."""
    typer.echo(f"wrote {path} (data status {status})")
    if status in ("sample", "estimated"):
        typer.echo(
            "注意：这些数值基于样例或估算数据，不是正式监测结果。\n"
            "NOTE: these values rest on sample or estimated data: not official monitoring.",
            err=True,
        )


def record_command(
    year: YearOption,
    directory: DirOption = None,
    data: DataOption = None,
    network: NetworkOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Evaluate the indicators of the dataset and keep them as YEAR's values."""
    from qjgeo.monitoring import MonitoringError, record_year

    dataset = open_dataset(data)
    graph, note = resolve_graph(dataset, network)
    typer.echo(note, err=True)
    folder = monitoring_directory(directory, data, write=True)
    try:
        path = record_year(dataset, year, folder, graph=graph, overwrite=overwrite)
    except MonitoringError as exc:
        fail(str(exc))
    _render_recorded(path, dataset.data_status(dataset.layer_ids))


def _render_warnings(table: pd.DataFrame, fmt: TableFormat, final_year: int) -> None:
    """Print the early-warning table (with the counts of warnings and weak data)."""
    if fmt is not TableFormat.table:
        emit_frame(table, fmt)
        return
    shown = table[
        ["id", "years", "latest", "target", "projected", "status_zh", "status", "weak_data"]
    ].round(2)
    emit_frame(shown, fmt)
    n_warn, n_weak = int(table["warning"].sum()), int(table["weak_data"].sum())
    typer.echo(f"\n预警 {n_warn} 项 / {n_warn} early warnings (projection to {final_year})")
    if n_weak:
        typer.echo(
            f"注意：{n_weak} 项最新值基于样例或估算数据 / {n_weak} latest values rest on "
            "sample or estimated data",
            err=True,
        )


def show_command(
    directory: DirOption = None,
    township: TownshipOption = None,
    final_year: FinalYearOption = 2030,
    fmt: FormatOption = TableFormat.table,
    data: DataOption = None,
) -> None:
    """Each indicator's recorded years, trend projection and early-warning status."""
    from qjgeo.monitoring import MonitoringError, early_warnings, load_series

    directory = monitoring_directory(directory, data)
    try:
        series = load_series(directory)
    except MonitoringError as exc:
        fail(str(exc))
    if series.empty:
        fail(f"{directory}: no year recorded yet (qjgeo monitor record --year YEAR)")
    table = early_warnings(series, final_year=final_year, scope=township or "district")
    if table.empty:
        fail(f"--township {township!r}: no rows for this scope in {directory}")
    _render_warnings(table, fmt, final_year)


def register(app: typer.Typer) -> None:
    """Add the ``monitor`` command group (record, show, evaluate)."""
    group = typer.Typer(
        help="Annual monitoring: record a year's indicator values, show trends and warnings.",
        no_args_is_help=True,
    )
    app.add_typer(group, name="monitor")
    group.command("record")(record_command)
    group.command("show")(show_command)
    from qjgeo.commands.evaluate import evaluate_command

    group.command("evaluate")(evaluate_command)
