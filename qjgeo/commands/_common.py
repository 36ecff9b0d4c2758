"""Helpers shared by the sub-commands: dataset loading, errors and output formats."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import pandas as pd
import typer

from qjgeo.catalog import Dataset, DatasetError, load_dataset
from qjgeo.places import PlacesError, monitoring_dir, working_dataset_dir
from qjgeo.textsafety import neutralise_frame

if TYPE_CHECKING:
    from qjgeo.network import WalkGraph

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Dataset directory holding manifest.yaml (default: your working copy in the user "
        "data folder, else the bundled Qujiang data).",
        show_default=False,
    ),
]


NetworkOption = Annotated[
    Path | None,
    typer.Option(
        "--network",
        help="Walking network (.osm, .osm.bz2, .graphml or .npz); default: the dataset's "
        "network.npz if present, else straight line × detour factor.",
        show_default=False,
    ),
]


class TableFormat(StrEnum):
    """Output formats for tabular results."""

    table = "table"
    json = "json"
    csv = "csv"


def fail(message: str, code: int = 2) -> NoReturn:
    """Print an error for the user (no traceback) and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def monitoring_directory(directory: Path | None, data: Path | None, *, write: bool = False) -> Path:
    """``--dir``, else ``monitoring/`` inside the dataset folder (never the working directory;
    for the bundled dataset, inside its working copy in the user data folder)."""
    if directory is not None:
        return directory
    return monitoring_dir(data, write=write)


def open_dataset(data: Path | None, *, write: bool = False) -> Dataset:
    """Load the dataset named by ``--data``, turning problems into a clear exit.

    Without ``--data`` a command reads the planner's working copy (the bundled data until
    something was imported); a command that writes (``write=True``) first makes that copy in
    the user data folder, so nothing is ever written into the installation.
    """
    try:
        if data is None and write:
            data = working_dataset_dir()
        return load_dataset(data)
    except (DatasetError, PlacesError, OSError) as exc:
        fail(str(exc))


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if hasattr(value, "item") and not isinstance(value, list | dict | str):
        try:
            return _jsonable(value.item())
        except (ValueError, AttributeError):
            return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready records (NaN → null, numpy scalars → Python)."""
    return [
        {str(k): _jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")
    ]


def emit_frame(frame: pd.DataFrame, fmt: TableFormat | str, out: Path | None = None) -> None:
    """Write a frame as a plain table, JSON records or CSV (UTF-8 with BOM when to a file)."""
    fmt = TableFormat(fmt)
    if fmt is TableFormat.json:
        text = json.dumps(frame_records(frame), ensure_ascii=False, indent=1)
    elif fmt is TableFormat.csv:
        text = neutralise_frame(frame).to_csv(
            index=False, lineterminator="\n"
        )  # write_text makes it "\r\n" on Windows
    else:
        with pd.option_context(
            "display.max_rows",
            None,
            "display.max_columns",
            None,
            "display.width",
            200,
            "display.max_colwidth",
            60,
        ):
            text = frame.to_string(index=False)
    if out is None:
        typer.echo(text)
    else:
        encoding = "utf-8-sig" if fmt is TableFormat.csv else "utf-8"
        Path(out).write_text(text + ("\n" if not text.endswith("\n") else ""), encoding=encoding)
        typer.echo(f"wrote {out}")


def _load_graph(path: Path) -> WalkGraph:
    from qjgeo.network import NetworkError, load_walk_graph

    try:
        return load_walk_graph(path)  # metric CRS chosen from the network's location
    except NetworkError as exc:
        fail(str(exc))


def resolve_graph(dataset: Dataset, network: Path | None) -> tuple[WalkGraph | None, str]:
    """The walking network to use and a line saying where it came from.

    ``--network FILE`` wins; otherwise the dataset directory's ``network.npz`` (written by
    ``qjgeo osm-import``) when present; otherwise none (straight line × detour factor).
    """
    from qjgeo.osm_import import NETWORK_FILE

    if network is not None:
        return _load_graph(network), f"walking network from {network}"
    if dataset.root is not None and (Path(dataset.root) / NETWORK_FILE).is_file():
        path = Path(dataset.root) / NETWORK_FILE
        return _load_graph(path), f"walking network from {path} (dataset default)"
    return None, (
        f"no walking network: straight line × detour factor {dataset.params.detour_factor:g} "
        "(an estimate; pass --network FILE for walking distances)"
    )


def apply_scenario_option(dataset: Dataset, scenario: Path | None) -> Dataset:
    """Apply ``--scenario FILE`` to the dataset, turning scenario errors into a clear exit."""
    if scenario is None:
        return dataset
    from qjgeo.scenario import ScenarioError, apply, load_scenario

    try:
        return apply(dataset, load_scenario(scenario))
    except ScenarioError as exc:
        fail(str(exc))
