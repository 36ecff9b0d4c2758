"""``qjgeo isochrones``: the area within 5 / 10 / 15 minutes of a facility or point, by mode."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from qjgeo.commands._common import (
    DataOption,
    ModeOption,
    NetworkOption,
    TableFormat,
    apply_travel_option,
    emit_frame,
    fail,
    open_dataset,
    resolve_network,
)

if TYPE_CHECKING:
    from qjgeo.catalog import Dataset

_SUFFIXES = (".geojson", ".gpkg")


class Direction(StrEnum):
    """Which trips an isochrone times."""

    to = "to"
    from_ = "from"


def _parse_minutes(text: str) -> list[float]:
    from qjgeo.isochrones import IsochroneError, parse_minutes

    try:
        return parse_minutes(text)
    except IsochroneError as exc:
        fail(f"--minutes: {exc}")


def _point(
    dataset: Dataset, lonlat: str | None, facility_type: str | None, facility: str | None
) -> tuple[tuple[float, float], str]:
    """The point (WGS84) and a label: ``--lonlat``, or ``--type`` + ``--facility``."""
    from qjgeo.isochrones import IsochroneError, facility_point, parse_lonlat

    if (lonlat is None) == (facility is None):
        fail(
            "给出 --lonlat 或 --type 与 --facility 之一；give --lonlat LON,LAT or --type T --facility ID"
        )
    try:
        if lonlat is not None:
            lon, lat = parse_lonlat(lonlat)
            return (lon, lat), f"point {lon:.5f}, {lat:.5f}"
        if facility_type is None:
            fail("--facility 需要 --type；--facility needs --type")
        point, name = facility_point(dataset, facility_type, facility or "")
    except IsochroneError as exc:
        fail(f"{'--lonlat' if lonlat is not None else '--facility'}: {exc}")
    return point, f"{facility_type} {facility} {name}".strip()


def isochrones_command(
    mode: ModeOption = None,
    minutes: Annotated[
        str, typer.Option("--minutes", help="Times in minutes, comma-separated.")
    ] = "5,10,15",
    lonlat: Annotated[
        str | None, typer.Option("--lonlat", help="The point: LON,LAT (WGS84).")
    ] = None,
    facility_type: Annotated[
        str | None, typer.Option("--type", help="Facility layer of --facility.")
    ] = None,
    facility: Annotated[str | None, typer.Option("--facility", help="Facility id.")] = None,
    direction: Annotated[
        Direction,
        typer.Option("--direction", help="to: trips to the point (a catchment); from: leaving it."),
    ] = Direction.to,
    data: DataOption = None,
    network: NetworkOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the polygons to FILE.geojson|.gpkg.")
    ] = None,
    fmt: Annotated[TableFormat, typer.Option("--format", help="table, json or csv")] = (
        TableFormat.table
    ),
) -> None:
    """Catchments of a facility or point within 5/10/15 (or chosen) minutes, by mode."""
    from qjgeo.isochrones import IsochroneError, isochrones

    times = _parse_minutes(minutes)
    if out is not None and out.suffix.lower() not in _SUFFIXES:
        fail(f"--out {out}: 请用 .geojson 或 .gpkg；use a .geojson or .gpkg file")
    dataset = apply_travel_option(open_dataset(data), mode, None)
    point, label = _point(dataset, lonlat, facility_type, facility)
    net, note = resolve_network(dataset, network)
    chosen = dataset.params.mode or "walk"
    try:
        frame = isochrones(
            net, point, mode=chosen, minutes=times, direction=direction.value,
            params=dataset.params,
        )  # fmt: skip
    except IsochroneError as exc:
        fail(str(exc))
    frame.insert(0, "place", label)
    if out is not None:
        frame.to_file(out, driver="GPKG" if out.suffix.lower() == ".gpkg" else "GeoJSON")
        typer.echo(f"wrote {out} ({len(frame)} polygons, WGS84)", err=True)
    if fmt is TableFormat.table:
        travel = dataset.params.travel(chosen)
        typer.echo(f"{label}: mode {chosen} ({travel.title_en}, {travel.speed_kmh:g} km/h), "
                   f"trips {direction.value} the point; {note}")  # fmt: skip
    table = pd.DataFrame(frame.drop(columns="geometry")).round({"area_km2": 3, "radius_m": 0})
    emit_frame(table, fmt)


def register(app: typer.Typer) -> None:
    """Add the ``isochrones`` command."""
    app.command("isochrones")(isochrones_command)
