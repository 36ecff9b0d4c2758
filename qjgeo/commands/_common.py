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
    from qjgeo.modes import ModeNetwork
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
        help="Network of the travel mode (.osm, .osm.bz2, .npz; .graphml for walking); "
        "default: the dataset's network/<mode>.npz (network.npz for walking) if present, "
        "else straight line × the mode's detour factor.",
        show_default=False,
    ),
]


class TravelMode(StrEnum):
    """The travel modes of ``--mode``."""

    walk = "walk"
    bike = "bike"
    drive = "drive"


ModeOption = Annotated[
    TravelMode | None,
    typer.Option(
        "--mode",
        help="Travel mode: walk (children, 3.6 km/h), bike (e-bike, 15 km/h) or drive; "
        "thresholds become each type's urban / rural time standard in minutes. Default: "
        "walking with the service distances in metres.",
        show_default=False,
    ),
]
MinutesOption = Annotated[
    float | None,
    typer.Option(
        "--minutes",
        help="One time threshold in minutes for every village (with --mode; walking if "
        "no mode is given). Not with --threshold-m.",
        show_default=False,
    ),
]


def check_travel_option(
    mode: TravelMode | str | None, minutes: float | None, threshold_m: float | None = None
) -> None:
    """Refuse bad ``--mode`` / ``--minutes`` / ``--threshold-m`` before any data is read."""
    from qjgeo.travel import TravelChoice, TravelError

    try:
        TravelChoice(mode=None if mode is None else str(mode), minutes=minutes,
                     threshold_m=threshold_m)  # fmt: skip
    except TravelError as exc:
        fail(str(exc))


def travel_line(dataset: Dataset, networked: bool) -> str:
    """The run's mode, speed and threshold unit in one line (:func:`qjgeo.travel.describe`)."""
    from qjgeo.travel import choice_of, describe

    return describe(dataset.params, choice_of(dataset.params), networked=networked)


def apply_travel_option(
    dataset: Dataset,
    mode: TravelMode | str | None,
    minutes: float | None,
    threshold_m: float | None = None,
) -> Dataset:
    """The dataset with ``--mode`` / ``--minutes`` applied to its parameters (clear exit on
    a bad value). A scenario's own mode stays unless ``--mode`` is given."""
    from qjgeo.travel import TravelChoice, TravelError, travel_params

    params = dataset.params
    try:
        TravelChoice(mode=None if mode is None else str(mode), minutes=minutes,
                     threshold_m=threshold_m)  # fmt: skip
        if mode is None and minutes is None:
            return dataset
        choice = TravelChoice(
            mode=str(mode) if mode is not None else params.mode,
            minutes=minutes if minutes is not None else params.minutes,
        )
    except TravelError as exc:
        fail(str(exc))
    return dataset.with_params(travel_params(params, choice))


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


def _load_network(path: Path, mode: str, params: Any) -> ModeNetwork:
    """A mode's network from a file (metric CRS chosen from its location); clear exit if bad."""
    from qjgeo.crs import AUTO_CRS
    from qjgeo.modes import ModeNetwork, load_network
    from qjgeo.network import NetworkError, load_walk_graph

    def load(crs: str | None) -> ModeNetwork:
        if path.name.lower().endswith(".graphml"):
            if mode != "walk":
                fail(f"{path}: a GraphML file is read as a walking network, not {mode}")
            g = load_walk_graph(path, crs=crs)
            speed = params.travel("walk").speed_kmh
            return ModeNetwork("walk", g, g.weights, speed, directed=False)
        return load_network(path, mode=mode, crs=crs, params=params)

    try:
        return load(AUTO_CRS)  # Qujiang's zone inside its area of use, local UTM elsewhere
    except NetworkError as exc:
        fail(str(exc))


def resolve_network(dataset: Dataset, network: Path | None) -> tuple[ModeNetwork | None, str]:
    """The network of the run's mode (``dataset.params.mode``, walking when unset) and a
    line saying where it came from.

    ``--network FILE`` wins; otherwise the dataset directory's network of the mode
    (``network/<mode>.npz`` written by ``qjgeo osm-import``; ``network.npz`` for walking)
    when present; otherwise none (straight line × the mode's detour factor, at its speed).
    """
    from qjgeo.modes import network_path

    params = dataset.params
    mode = params.mode or "walk"
    travel = params.travel(mode)
    word = {"walk": "walking", "bike": "cycling", "drive": "driving"}[mode]
    if network is not None:
        return _load_network(network, mode, params), f"{word} network from {network}"
    path = network_path(dataset.root, mode) if dataset.root is not None else None
    if path is not None:
        return _load_network(path, mode, params), f"{word} network from {path} (dataset default)"
    return None, (
        f"no {word} network: straight line × detour factor {params.detour_factor:g} at "
        f"{travel.speed_kmh:g} km/h (an estimate; pass --network FILE for {mode} routes)"
    )


def resolve_graph(dataset: Dataset, network: Path | None) -> tuple[WalkGraph | None, str]:
    """The graph a search from facilities to villages runs on (:func:`resolve_network`'s
    network, a drive network reversed) and where it came from."""
    net, note = resolve_network(dataset, network)
    return (net.search_graph if net is not None else None), note


def apply_scenario_option(dataset: Dataset, scenario: Path | None) -> Dataset:
    """Apply ``--scenario FILE`` to the dataset, turning scenario errors into a clear exit."""
    if scenario is None:
        return dataset
    from qjgeo.scenario import ScenarioError, apply, load_scenario

    try:
        return apply(dataset, load_scenario(scenario))
    except ScenarioError as exc:
        fail(str(exc))
