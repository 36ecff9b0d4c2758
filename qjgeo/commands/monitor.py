"""``qjgeo monitor``: keep each year's indicator values and warn early (plan 五、监测评估)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qjgeo.commands._common import (
    DataOption,
    NetworkOption,
    TableFormat,
    emit_frame,
    fail,
    open_dataset,
    resolve_graph,
)

DirOption = Annotated[
    Path,
    typer.Option("--dir", help="Monitoring directory (one indicators-<year>.csv per year)."),
]


def register(app: typer.Typer) -> None:
    """Add the ``monitor`` command group (record, show)."""
    group = typer.Typer(
        help="Annual monitoring: record a year's indicator values, show trends and warnings.",
        no_args_is_help=True,
    )
    app.add_typer(group, name="monitor")

    @group.command("record")
    def record_command(
        year: Annotated[int, typer.Option("--year", help="The monitoring year, e.g. 2026.")],
        directory: DirOption = Path("monitoring"),
        data: DataOption = None,
        network: NetworkOption = None,
        overwrite: Annotated[
            bool, typer.Option("--overwrite", help="Replace the year if already recorded.")
        ] = False,
    ) -> None:
        """Evaluate the indicators of the dataset and keep them as YEAR's values."""
        from qjgeo.monitoring import MonitoringError, record_year

        dataset = open_dataset(data)
        graph, note = resolve_graph(dataset, network)
        typer.echo(note, err=True)
        try:
            path = record_year(dataset, year, directory, graph=graph, overwrite=overwrite)
        except MonitoringError as exc:
            fail(str(exc))
        status = dataset.data_status(dataset.layer_ids)
        typer.echo(f"wrote {path} (data status {status})")
        if status in ("sample", "estimated"):
            typer.echo(
                "注意：这些数值基于样例或估算数据，不是正式监测结果。\n"
                "NOTE: these values rest on sample or estimated data: not official monitoring.",
                err=True,
            )

    @group.command("show")
    def show_command(
        directory: DirOption = Path("monitoring"),
        township: Annotated[
            str | None, typer.Option("--township", help="A township code instead of the district.")
        ] = None,
        final_year: Annotated[
            int, typer.Option("--final-year", help="Year of the projection (plan: 2030).")
        ] = 2030,
        fmt: Annotated[
            TableFormat, typer.Option("--format", help="table, csv or json")
        ] = TableFormat.table,
    ) -> None:
        """Each indicator's recorded years, trend projection and early-warning status."""
        from qjgeo.monitoring import MonitoringError, early_warnings, load_series

        try:
            series = load_series(directory)
        except MonitoringError as exc:
            fail(str(exc))
        if series.empty:
            fail(f"{directory}: no year recorded yet (qjgeo monitor record --year YEAR)")
        table = early_warnings(series, final_year=final_year, scope=township or "district")
        if table.empty:
            fail(f"--township {township!r}: no rows for this scope in {directory}")
        if fmt is TableFormat.table:
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
        else:
            emit_frame(table, fmt)
