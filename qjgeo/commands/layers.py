"""``qjgeo layers``: list the dataset's layers with their provenance."""

from __future__ import annotations

from typing import Annotated

import typer

from qjgeo.catalog import layer_table
from qjgeo.commands._common import DataOption, TableFormat, emit_frame, open_dataset


def register(app: typer.Typer) -> None:
    """Add the ``layers`` command."""

    @app.command("layers")
    def layers_command(
        data: DataOption = None,
        fmt: Annotated[
            TableFormat, typer.Option("--format", help="table, json or csv")
        ] = TableFormat.table,
    ) -> None:
        """One row per layer: id, titles, feature count, provenance, CRS, source."""
        dataset = open_dataset(data)
        table = layer_table(dataset)
        if fmt is TableFormat.table:
            table = table[["id", "title_zh", "title_en", "features", "provenance", "crs", "source"]]
        emit_frame(table, fmt)
