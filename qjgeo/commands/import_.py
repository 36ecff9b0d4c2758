"""``qjgeo import``: bring a facility ledger (台账) into a dataset; ``qjgeo import-undo``."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from qjgeo.commands._common import DataOption, fail, open_dataset
from qjgeo.ingest.commit import CommitInfo, undo_last
from qjgeo.ingest.pipeline import ImportOutcome, import_file
from qjgeo.ingest.safety import IngestError


class CoordinateSystem(StrEnum):
    """Coordinate systems a ledger may use."""

    wgs84 = "wgs84"
    cgcs2000 = "cgcs2000"
    gcj02 = "gcj02"
    bd09 = "bd09"


class ImportMode(StrEnum):
    """Append to the layer or replace it."""

    APPEND = "append"
    REPLACE = "replace"


class ReportFormat(StrEnum):
    """Output formats for the import report."""

    table = "table"
    json = "json"


def _commit_text(info: CommitInfo, layer: str) -> str:
    return (
        f"\nwrote {info.path} ({info.mode}: {info.features_before} → {info.features_after} "
        "features; previous version kept"
        + (f" at {info.backup}" if info.backup else "")
        + f"; undo with: qjgeo import-undo --layer {layer})"
    )


def render_outcome(outcome: ImportOutcome, layer: str, fmt: ReportFormat, dry_run: bool) -> None:
    """Print the report (and what was written) as a table or JSON."""
    if fmt is ReportFormat.json:
        typer.echo(json.dumps(outcome.to_dict(), ensure_ascii=False, indent=1))
        return
    text = outcome.report.to_text()
    if dry_run:
        text += "\n(dry run: nothing written)"
    elif outcome.committed is not None:
        text += _commit_text(outcome.committed, layer)
    typer.echo(text)


def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="Ledger: CSV, XLSX, GeoJSON, KML/KMZ, zipped shapefile, GeoPackage or OSM XML."
        ),
    ],
    layer: Annotated[
        str,
        typer.Option(
            "--layer",
            help="Layer to fill, e.g. childcare; or village / township to update their "
            "points, boundaries and populations unit by unit (--mode does not apply).",
        ),
    ],
    data: DataOption = None,
    crs: Annotated[
        CoordinateSystem, typer.Option("--crs", help="Coordinate system of the ledger.")
    ] = CoordinateSystem.wgs84,
    mode: Annotated[
        ImportMode, typer.Option("--mode", help="append to the layer or replace it")
    ] = ImportMode.APPEND,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only check and report; write nothing.")
    ] = False,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", help="table or json")
    ] = ReportFormat.table,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=COLUMN, e.g. --map places=核定托位 (repeatable)."),
    ] = None,
    sheet: Annotated[
        str | None, typer.Option("--sheet", help="Sheet or layer to read, if several.")
    ] = None,
    allow_outside: Annotated[
        bool,
        typer.Option(
            "--allow-outside",
            help="Keep points more than 2 km outside the district (warned); "
            "by default such rows are refused.",
        ),
    ] = False,
) -> None:
    """Check a ledger, print the report and (unless --dry-run) write it into the layer.

    Nothing is written when the file is unusable or every row is rejected.

    The previous version of the layer is kept under DATA/.history/ (qjgeo import-undo).
    """
    dataset = open_dataset(data, write=not dry_run)
    try:
        outcome = import_file(
            file, dataset, layer, crs=crs.value, mode=mode.value, mapping_options=mapping or (),
            sheet=sheet, allow_outside=allow_outside, dry_run=dry_run,
        )  # fmt: skip
    except IngestError as exc:
        fail(str(exc))
    render_outcome(outcome, layer, fmt, dry_run)
    if not dry_run and outcome.committed is None:
        fail(f"{file}: every row was rejected; nothing written")


def import_undo_command(
    layer: Annotated[str, typer.Option("--layer", help="Layer whose last import to undo.")],
    data: DataOption = None,
) -> None:
    """Put back the version of a layer from before its last import."""
    dataset = open_dataset(data, write=True)
    try:
        record = undo_last(dataset.root or Path("."), layer)
    except IngestError as exc:
        fail(str(exc))
    typer.echo(f"restored layer {layer} as before the import of {record.get('source')}")


def register(app: typer.Typer) -> None:
    """Add the ``import`` and ``import-undo`` commands."""
    app.command("import")(import_command)
    app.command("import-undo")(import_undo_command)
