"""``qjgeo demand``: estimate where residents and children live, as the dataset's village layer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qjgeo.commands._common import DataOption, fail, open_dataset

if TYPE_CHECKING:
    from qjgeo.demand.ages import AgeShares
    from qjgeo.demand.estimate import DemandEstimate, UnitOptions

PopulationOption = Annotated[
    int | None,
    typer.Option("--population", min=0, help="Residents of the area (e.g. the census total)."),
]
AgeSharesOption = Annotated[
    Path | None,
    typer.Option("--age-shares", help="Census age shares: CSV (AGES_0, AGES_1-4, …) or YAML."),
]
AgeRowOption = Annotated[
    str | None, typer.Option("--age-row", help="CODE or NAME of the row in a CSV of places.")
]
ChildrenShareOption = Annotated[
    float | None,
    typer.Option("--children-share", help="Share aged 0-14 (0-1), spread evenly by year."),
]
UnitOption = Annotated[
    str, typer.Option("--unit", help="settlement (nearest named OSM place) or hex.")
]
CellSizeOption = Annotated[
    float, typer.Option("--cell-size-m", help="Hexagon spacing, centre to centre (m).")
]
UrbanPlacesOption = Annotated[
    str, typer.Option("--urban-places", help="Place types counted urban (comma-separated).")
]
UrbanDensityOption = Annotated[
    float, typer.Option("--urban-density", help="Residents per km² from which a unit is urban.")
]
RasterOption = Annotated[
    Path | None,
    typer.Option("--raster", help="Population GeoTIFF (persons per cell) instead of OSM."),
]
RasterAgesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--raster-age-bands",
        help="Age-group GeoTIFF on the same grid (FILE=FIRST-LAST, or WorldPop's "
        "chn_f_1_2020.tif names); repeat for each group and sex.",
    ),
]

RefineOption = Annotated[
    Path | None,
    typer.Option(
        "--refine-villages",
        help="Instead of new units: move the dataset's villages to the buildings of this "
        "osm-import dataset folder and split each township's population by floor area.",
    ),
]


def _shares(
    age_shares: Path | None, age_row: str | None, children_share: float | None
) -> AgeShares | None:
    """The age shares the options name (``None`` when neither is given)."""
    from qjgeo.demand.ages import AgeShares, AgeSharesError, read_age_shares

    if age_shares is not None and children_share is not None:
        fail("--age-shares and --children-share exclude each other; give one")
    try:
        if age_shares is not None:
            return read_age_shares(age_shares, age_row)
        if children_share is not None:
            return AgeShares.from_children_share(children_share)
    except AgeSharesError as exc:
        fail(str(exc))
    return None


def _options(unit: str, cell_size_m: float, urban_places: str, density: float) -> UnitOptions:
    from qjgeo.demand.estimate import UnitOptions

    if unit not in ("settlement", "hex"):
        fail(f"--unit must be settlement or hex, got {unit!r}")
    if not cell_size_m > 0 or not density >= 0:
        fail("--cell-size-m must be > 0 and --urban-density ≥ 0")
    places = tuple(p.strip() for p in urban_places.split(",") if p.strip())
    return UnitOptions(unit, cell_size_m, places, density)


def _report(estimate: DemandEstimate, root: Path) -> None:
    from qjgeo.catalog import load_dataset

    units = estimate.units
    typer.echo(f"wrote {len(units)} demand unit(s) as the village layer of {root}")
    typer.echo(
        f"residents {int(units['population'].sum())}, children 0-14 "
        f"{int(units['pop_0_14'].sum())} ("
        + ", ".join(f"{b} {n}" for b, n in estimate.band_totals.items())
        + f"); urban units {int(units['urban'].sum())}"
    )
    for notice in estimate.notices:
        typer.echo(f"note: {notice}")
    typer.echo("demand source: " + load_dataset(root).demand_source())


def _refine(data: Path | None, osm_dir: Path) -> None:
    """``--refine-villages``: the dataset's villages re-estimated from OSM buildings."""
    from qjgeo.catalog import DatasetError, load_dataset
    from qjgeo.demand.estimate import DemandError
    from qjgeo.demand.refine import refine_villages
    from qjgeo.demand.write import write_demand

    try:
        source = load_dataset(osm_dir)
    except DatasetError as exc:
        fail(f"--refine-villages: {exc}")
    if not source.has("osm_building"):
        fail(f"--refine-villages: {osm_dir} has no osm_building layer (re-run qjgeo osm-import)")
    dataset = open_dataset(data, write=True)
    assert dataset.root is not None
    landuse = source.layer("osm_landuse") if source.has("osm_landuse") else None
    try:
        estimate = refine_villages(dataset, source.layer("osm_building"), landuse)
        write_demand(dataset.root, estimate)
    except DemandError as exc:
        fail(str(exc))
    typer.echo(estimate.method)
    for notice in estimate.notices:
        typer.echo(f"note: {notice}")


def demand_command(
    data: DataOption = None,
    population: PopulationOption = None,
    age_shares: AgeSharesOption = None,
    age_row: AgeRowOption = None,
    children_share: ChildrenShareOption = None,
    unit: UnitOption = "settlement",
    cell_size_m: CellSizeOption = 500.0,
    urban_places: UrbanPlacesOption = "city,town,suburb,quarter,neighbourhood",
    urban_density: UrbanDensityOption = 1500.0,
    raster: RasterOption = None,
    raster_age_bands: RasterAgesOption = None,
    refine_villages: RefineOption = None,
) -> None:
    """Spread residents and children over OSM buildings or a population grid (village layer)."""
    from qjgeo.demand.estimate import DemandError, estimate_from_grid, estimate_from_osm
    from qjgeo.demand.raster import RasterError
    from qjgeo.demand.write import write_demand

    if refine_villages is not None:
        _refine(data, refine_villages)
        return
    options = _options(unit, cell_size_m, urban_places, urban_density)
    if raster is None and population is None:
        fail("give --population N (residents to spread over OSM buildings) or --raster FILE")
    shares = _shares(age_shares, age_row, children_share)
    if raster is None and shares is None:
        fail("give --age-shares FILE or --children-share S (the share aged 0-14)")
    dataset = open_dataset(data, write=True)
    assert dataset.root is not None
    try:
        if raster is not None:
            estimate = estimate_from_grid(
                dataset,
                str(raster),
                age_grids=raster_age_bands or (),
                population=population,
                shares=shares,
                options=options,
            )
        else:
            assert population is not None and shares is not None
            estimate = estimate_from_osm(
                dataset, population=population, shares=shares, options=options
            )
        write_demand(dataset.root, estimate)
    except (DemandError, RasterError) as exc:
        fail(str(exc))
    _report(estimate, dataset.root)


def register(app: typer.Typer) -> None:
    """Add the ``demand`` command."""
    app.command("demand")(demand_command)
