"""``qjgeo site``: recommend sites for new facilities (maximal covering or fewest sites)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import geopandas as gpd
import pandas as pd
import typer

from qjgeo.commands._checks import check_output_path, check_scenario_name
from qjgeo.commands._common import (
    DataOption,
    MinutesOption,
    ModeOption,
    NetworkOption,
    TableFormat,
    apply_travel_option,
    check_travel_option,
    emit_frame,
    fail,
    frame_records,
    open_dataset,
    resolve_graph,
    travel_line,
)

if TYPE_CHECKING:
    from qjgeo.siting import Recommendation


class SiteMethod(StrEnum):
    """Solution methods."""

    greedy = "greedy"
    exact = "exact"


class SiteSolver(StrEnum):
    """Integer-programming solvers for the exact method."""

    highs = "highs"
    cbc = "cbc"


class Demand(StrEnum):
    """What a site covers."""

    children = "children"
    places = "places"
    priority = "priority"
    townships = "townships"


def read_candidates(spec: str) -> str | gpd.GeoDataFrame:
    """``villages``/``seats``/``hex`` as is; else a point file (GeoJSON, GPKG...) or a CSV
    with ``lon``, ``lat`` columns in WGS84."""
    if spec in ("villages", "seats", "hex"):
        return spec
    path = Path(spec)
    if not path.is_file():
        fail(f"--candidates {spec!r}: not villages/seats/hex and no such file")
    if path.suffix.lower() == ".csv":
        try:
            frame = pd.read_csv(path, encoding="utf-8-sig")
        except (ValueError, UnicodeDecodeError) as exc:
            fail(f"{path}: not a readable CSV: {exc}")
        missing = [c for c in ("lon", "lat") if c not in frame.columns]
        if missing:
            fail(f"{path}: missing column(s) {', '.join(missing)} (WGS84 lon/lat expected)")
        lon = pd.to_numeric(frame["lon"], errors="coerce")
        lat = pd.to_numeric(frame["lat"], errors="coerce")
        bad = (lon.isna() | lat.isna()).to_numpy().nonzero()[0]
        if len(bad):
            row = int(bad[0])
            fail(
                f"{path}: row {row + 2}: lon/lat not numbers "
                f"({frame['lon'].iloc[row]!r}, {frame['lat'].iloc[row]!r})"
            )
        return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    try:
        return gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        fail(f"{path}: cannot read candidate sites: {exc}")


FacilityTypeOption = Annotated[
    str, typer.Option("--type", help="Facility layer id, e.g. childcare, science_venue.")
]
KOption = Annotated[int | None, typer.Option("--k", min=1, help="Number of new sites.")]
TargetShareOption = Annotated[
    float | None,
    typer.Option("--target-share", help="Fewest sites reaching this covered share (0–1)."),
]
MethodOption = Annotated[SiteMethod, typer.Option("--method", help="greedy or exact (MILP)")]
CandidatesOption = Annotated[
    str,
    typer.Option("--candidates", help="villages, seats, hex, or a point file (GeoJSON/GPKG/CSV)."),
]
DemandOption = Annotated[
    Demand,
    typer.Option(
        "--demand",
        help="children (villages within walking distance), places (childcare: children "
        "without a place in reach, 2SFCA), priority (left-behind / in-difficulty / migrant / "
        "disabled children only) or townships (a township with ≥ 1 facility counts).",
    ),
]
TimeLimitOption = Annotated[
    float,
    typer.Option(
        "--time-limit",
        min=0.1,
        max=86_400,
        help="Exact method: wall-time limit of the whole solve, seconds (kept to within "
        "about 1 s); when hit, the best solution found is shown with its gap.",
    ),
]
SolverOption = Annotated[
    SiteSolver,
    typer.Option("--solver", help="Exact method: highs (default) or cbc, after the reduction."),
]
PriorityWeightOption = Annotated[
    float,
    typer.Option(
        "--priority-weight",
        min=1,
        max=100,
        help="Count children of the priority groups (留守/困境/流动/残疾儿童) this many times; "
        "needs their counts in the village layer.",
    ),
]
PlacesOption = Annotated[
    str | None,
    typer.Option(
        "--places",
        help="With --out: places of each new site, comma-separated in rank order, replacing "
        "the ones derived from the demand served.",
    ),
]
HexSpacingOption = Annotated[
    float, typer.Option("--hex-spacing", min=50, help="Hex candidate spacing, metres.")
]
FormatOption = Annotated[TableFormat, typer.Option("--format", help="table, json or csv")]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="Also write the sites as a scenario YAML file."),
]
NameOption = Annotated[
    str | None, typer.Option("--name", help="Scenario name (default: the file stem).")
]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace an existing --out file.")
]


def _check_arguments(
    k: int | None,
    target_share: float | None,
    out: Path | None,
    name: str | None,
    overwrite: bool,
) -> None:
    """Refuse bad arguments before loading data or solving anything."""
    from qjgeo.scenario import SCENARIO_SUFFIXES

    if name is not None:
        check_scenario_name(name)
    if out is not None:
        check_output_path(out, suffixes=SCENARIO_SUFFIXES, overwrite=overwrite)
        if name is None:
            check_scenario_name(out.stem, "--out (the scenario is named after the file)")
    if (k is None) == (target_share is None):
        fail("give either --k N or --target-share S")
    if target_share is not None and not 0 < target_share <= 1:
        fail(f"--target-share must be in (0, 1], got {target_share}")


def parse_places(text: str | None) -> list[int] | None:
    """``--places 40,60`` as whole numbers ≥ 0."""
    if text is None:
        return None
    values = []
    for i, part in enumerate(text.split(",")):
        part = part.strip()
        if not part.isdigit():
            fail(f"--places: value {i + 1} ({part!r}) is not a whole number ≥ 0")
        values.append(int(part))
    return values


def _render_sites(rec: Recommendation, fmt: TableFormat) -> None:
    """Print the recommendation: summary and sites (table), the sites (csv) or everything (json)."""
    sites = pd.DataFrame(rec.sites.drop(columns="geometry"))
    summary = rec.summary()
    if fmt is TableFormat.json:
        payload: dict[str, Any] = {
            "summary": frame_records(summary)[0],
            "best_bound": rec.result.best_bound,
            "notes": list(rec.notes),
            "notes_zh": list(rec.notes_zh),
            "sites": frame_records(sites),
        }
        typer.echo(
            json.dumps(frame_records(pd.DataFrame([payload]))[0], ensure_ascii=False, indent=1)
        )
    elif fmt is TableFormat.csv:
        emit_frame(sites, fmt)
    else:
        emit_frame(summary.T.reset_index().set_axis(["", "value"], axis=1), fmt)
        typer.echo("")
        basis = [c for c in ("places_basis", "places_basis_zh") if c in sites.columns]
        shown = sites.drop(columns=["marginal_gain", *basis]).round(
            {"share_after_site": 3, "cumulative_covered": 1, "served_population": 0,
             "served_children": 1}
        )  # fmt: skip
        emit_frame(shown, fmt)
        for note in rec.notes:
            typer.echo(f"note: {note}")
        if basis:
            from qjgeo.params import NEW_SITE_CAPACITY

            typer.echo(
                f"note: places assumed: {NEW_SITE_CAPACITY[rec.facility_type].basis_en}; "
                "written into the scenario as an assumption — edit them with --places or in "
                "the scenario file"
            )


def _write_scenario(
    rec: Recommendation, out: Path, name: str | None, overwrite: bool, places: list[int] | None
) -> None:
    """Write the sites as a scenario file (``--out``)."""
    from qjgeo.scenario import ScenarioError, save_scenario
    from qjgeo.siting import recommendation_to_scenario

    try:
        scenario = recommendation_to_scenario(rec, name or out.stem, places=places)
    except ValueError as exc:
        fail(f"--places: {exc}")
    try:
        save_scenario(scenario, out, overwrite=overwrite)
    except ScenarioError as exc:
        fail(str(exc))
    typer.echo(f"wrote {out}", err=True)


def site_command(
    facility_type: FacilityTypeOption,
    k: KOption = None,
    target_share: TargetShareOption = None,
    method: MethodOption = SiteMethod.greedy,
    candidates: CandidatesOption = "villages",
    demand: DemandOption = Demand.children,
    time_limit_s: TimeLimitOption = 30.0,
    solver: SolverOption = SiteSolver.highs,
    priority_weight: PriorityWeightOption = 1.0,
    places: PlacesOption = None,
    hex_spacing_m: HexSpacingOption = 1000.0,
    fmt: FormatOption = TableFormat.table,
    out: OutOption = None,
    name: NameOption = None,
    overwrite: OverwriteOption = False,
    data: DataOption = None,
    network: NetworkOption = None,
    mode: ModeOption = None,
    minutes: MinutesOption = None,
) -> None:
    """Recommend new sites: k sites covering the most children, or the fewest to a target
    (reach by --mode, in the type's time standards or --minutes)."""
    from qjgeo.siting import recommend_sites

    _check_arguments(k, target_share, out, name, overwrite)
    site_places = parse_places(places)
    if site_places is not None and out is None:
        fail("--places sets the places written with --out; give --out too")
    check_travel_option(mode, minutes)
    dataset = apply_travel_option(open_dataset(data), mode, minutes)
    cands = read_candidates(candidates)
    graph, graph_note = resolve_graph(dataset, network)
    typer.echo(graph_note, err=True)
    typer.echo(travel_line(dataset, graph is not None), err=True)
    try:
        rec = recommend_sites(
            dataset,
            facility_type,
            k=k,
            target_share=target_share,
            method=method.value,  # type: ignore[arg-type]
            candidates=cands,  # type: ignore[arg-type]
            demand=demand.value,  # type: ignore[arg-type]
            time_limit_s=time_limit_s,
            solver=solver.value,  # type: ignore[arg-type]
            priority_weight=priority_weight,
            hex_spacing_m=hex_spacing_m,
            graph=graph,
        )
    except (ValueError, KeyError) as exc:
        fail(str(exc).strip("\"'"))
    _render_sites(rec, fmt)
    if out is not None:
        _write_scenario(rec, out, name, overwrite, site_places)


def register(app: typer.Typer) -> None:
    """Add the ``site`` command."""
    app.command("site")(site_command)
