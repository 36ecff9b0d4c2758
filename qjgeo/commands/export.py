"""``qjgeo export``: maps, interactive HTML, GIS data, the Excel report and township briefs."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from qjgeo.commands._common import (
    DataOption,
    MinutesOption,
    ModeOption,
    NetworkOption,
    fail,
    open_dataset,
)


def _datasets(
    data: Path | None, scenario: Path | None, mode: str | None, minutes: float | None
) -> tuple[Any, Any]:
    """The base dataset and the one exported (scenario applied), both in ``--mode``."""
    from qjgeo.commands._common import (
        apply_scenario_option,
        apply_travel_option,
        check_travel_option,
    )

    check_travel_option(mode, minutes)
    base = apply_travel_option(open_dataset(data), mode, minutes)
    return base, apply_travel_option(apply_scenario_option(base, scenario), mode, minutes)


def _catchments(
    dataset: Any,
    net: Any,
    facility_type: str,
    where: tuple[str | None, str | None],
    minutes: str,
) -> Any:
    """The isochrones of ``--catchments ID`` (of ``--type``) or ``--catchments-at LON,LAT``
    in the run's mode, with a ``place`` column; ``None`` without either (clear exit if bad)."""
    from qjgeo.isochrones import (
        IsochroneError,
        facility_point,
        isochrones,
        parse_lonlat,
        parse_minutes,
    )

    facility, at = where
    if facility is None and at is None:
        return None
    if facility is not None and at is not None:
        fail("给出 --catchments 或 --catchments-at 之一；give --catchments or --catchments-at")
    try:
        times = parse_minutes(minutes)
    except IsochroneError as exc:
        fail(f"--catchment-minutes: {exc}")
    try:
        if facility is not None:
            point, name = facility_point(dataset, facility_type, facility)
            place = f"{facility_type} {facility} {name}".strip()
        else:
            point = parse_lonlat(at or "")
            place = f"{point[0]:.5f}, {point[1]:.5f}"
        mode = dataset.params.mode or "walk"
        frame = isochrones(net, point, mode=mode, minutes=times, params=dataset.params)
    except IsochroneError as exc:
        fail(f"{'--catchments' if facility is not None else '--catchments-at'}: {exc}")
    frame.insert(0, "place", place)
    return frame


CatchmentsOption = Annotated[
    str | None,
    typer.Option(
        "--catchments",
        help="html/data: add the catchments (isochrones) of this facility id of --type, "
        "in --mode (walking by default).",
        show_default=False,
    ),
]
CatchmentsAtOption = Annotated[
    str | None,
    typer.Option(
        "--catchments-at",
        help="html/data: add the catchments of the point LON,LAT (WGS84) instead.",
        show_default=False,
    ),
]
CatchmentMinutesOption = Annotated[
    str, typer.Option("--catchment-minutes", help="Times of the catchments, comma-separated.")
]


class ExportWhat(StrEnum):
    """What to export."""

    map = "map"
    html = "html"
    data = "data"
    report = "report"
    brief = "brief"


class ExportCrs(StrEnum):
    """Coordinate reference system of a data export."""

    cgcs2000 = "cgcs2000"
    cgcs2000_gk = "cgcs2000-gk"
    wgs84 = "wgs84"


CrsOption = Annotated[
    ExportCrs,
    typer.Option(
        "--crs",
        help="CRS of data exports: cgcs2000 (EPSG:4490, default), cgcs2000-gk "
        "(Gauss-Krüger CM 114°E, EPSG:4547, metres) or wgs84 (EPSG:4326).",
    ),
]

TitleOption = Annotated[
    str | None, typer.Option("--title", help="Title of a map or brief (default: generated).")
]
FigureNoOption = Annotated[
    str | None,
    typer.Option("--figure-no", help="Figure number before the title, e.g. '3' or '图 3-1'."),
]
LayerOption = Annotated[
    str,
    typer.Option(
        "--layer",
        help="Layer for .geojson/.csv data (default villages_access; also district, "
        "townships_summary, gaps_hex, facilities = the --type facility layer).",
    ),
]


def _check_request(what: ExportWhat, out: Path, with_catchments: bool) -> None:
    """Refuse an extension the export cannot be, or catchments on a map / report / brief."""
    from qjgeo.export import EXTENSIONS

    suffix = out.suffix.lower()
    if suffix not in EXTENSIONS[what.value]:
        fail(
            f"{out}: a {what.value} export cannot be {suffix or '(no extension)'}; "
            f"use one of {', '.join(EXTENSIONS[what.value])}"
        )
    if with_catchments and what.value not in ("html", "data"):
        fail(f"--catchments: 只用于 html 或 data；only for --what html or data, not {what.value}")


def _write(what: ExportWhat, dataset: Any, out: Path, options: dict[str, Any]) -> Path:
    """The export written to ``out`` (clear exit on an export or write error)."""
    from qjgeo.export import ExportError, export_to_path
    from qjgeo.export.fonts import FontMissingError

    try:
        return export_to_path(what.value, dataset, out, **options)
    except (ExportError, FontMissingError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{out}: cannot write: {exc.strerror or exc}")


def register(app: typer.Typer) -> None:
    """Add the ``export`` command."""

    @app.command("export")
    def export_command(
        what: Annotated[
            ExportWhat,
            typer.Option(
                "--what",
                help="map (.png/.pdf), html (.html), data (.gpkg/.geojson/.zip/.csv), "
                "report (.xlsx) or brief (.pdf; .zip for every township).",
            ),
        ],
        out: Annotated[
            Path, typer.Option("--out", help="File to write; its extension sets the format.")
        ],
        facility_type: Annotated[
            str, typer.Option("--type", help="Facility type, e.g. childcare, park.")
        ] = "childcare",
        scenario: Annotated[
            Path | None,
            typer.Option("--scenario", help="Apply this scenario file first (report: vs base)."),
        ] = None,
        township: Annotated[
            str | None,
            typer.Option("--township", help="Township of the brief (9-digit code or name)."),
        ] = None,
        paper: Annotated[str, typer.Option("--paper", help="Map paper: A4 or A3.")] = "A4",
        orientation: Annotated[
            str, typer.Option("--orientation", help="Map orientation: landscape or portrait.")
        ] = "landscape",
        dpi: Annotated[int, typer.Option("--dpi", help="PNG resolution.", min=50, max=600)] = 300,
        layer: LayerOption = "villages_access",
        crs: CrsOption = ExportCrs.cgcs2000,
        title: TitleOption = None,
        figure_no: FigureNoOption = None,
        network: NetworkOption = None,
        mode: ModeOption = None,
        minutes: MinutesOption = None,
        catchments: CatchmentsOption = None,
        catchments_at: CatchmentsAtOption = None,
        catchment_minutes: CatchmentMinutesOption = "5,10,15",
        data: DataOption = None,
    ) -> None:
        """Export a gap map, interactive map, GIS data, the Excel report or a township brief
        (distances by --mode, thresholds in minutes with --mode / --minutes; html and data
        exports also the catchments of a facility or point with --catchments[-at])."""
        from qjgeo.commands._common import resolve_network

        _check_request(what, out, catchments is not None or catchments_at is not None)
        base, dataset = _datasets(data, scenario, mode, minutes)
        net, graph_note = resolve_network(dataset, network)
        iso = _catchments(dataset, net, facility_type, (catchments, catchments_at),
                          catchment_minutes)  # fmt: skip
        graph = net.search_graph if net is not None else None
        options = dict(
            facility_type=facility_type, township=township, paper=paper, dpi=dpi,
            base=base if scenario is not None else None, orientation=orientation, layer=layer,
            crs=crs.value, graph=graph, title=title, figure_no=figure_no, catchments=iso,
        )  # fmt: skip
        path = _write(what, dataset, out, options)
        typer.echo(f"wrote {path} ({path.stat().st_size:,} bytes; {graph_note})")
        if what is ExportWhat.map and out.suffix.lower() == ".png":
            typer.echo(f"wrote {path.with_suffix('.pgw')} and {path.with_suffix('.prj')} "
                       "(world file, EPSG:4547: the PNG opens georeferenced in GIS)")  # fmt: skip
