"""``qjgeo hazards``: water hazards near children lacking fencing, signs or rescue equipment."""

from __future__ import annotations

from typing import Annotated

import typer

from qjgeo.commands._common import DataOption, TableFormat, emit_frame, fail, open_dataset


def register(app: typer.Typer) -> None:
    """Add the ``hazards`` command."""

    @app.command("hazards")
    def hazards_command(
        data: DataOption = None,
        distance_m: Annotated[
            float,
            typer.Option(
                "--distance-m", help="Near = within this distance of a village / school (m)."
            ),
        ] = 500.0,
        fmt: Annotated[
            TableFormat, typer.Option("--format", help="table, json or csv")
        ] = TableFormat.table,
    ) -> None:
        """Unprotected water hazards near villages, schools and kindergartens, most children first."""
        from qjgeo.hazards import rank_hazards
        from qjgeo.indicators.metrics import NotAvailableError

        if distance_m <= 0:
            fail(f"--distance-m must be positive, got {distance_m}")
        dataset = open_dataset(data)
        try:
            ranked = rank_hazards(dataset, distance_m=distance_m)
        except NotAvailableError as exc:
            fail(str(exc))
        frame = ranked.drop(columns="geometry")
        if fmt is not TableFormat.json:
            for col in ("villages_nearby", "schools_nearby", "kindergartens_nearby"):
                frame[col] = frame[col].map("、".join)
        if fmt is TableFormat.table:
            frame = frame[
                [
                    "rank",
                    "name",
                    "kind",
                    "children_nearby",
                    "missing_zh",
                    "villages_nearby",
                    "schools_nearby",
                    "kindergartens_nearby",
                    "data_status",
                ]
            ]
        emit_frame(frame, fmt)
