"""``qjgeo gaps``: children beyond reach (mode, minutes or metres) of a facility type."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer

from qjgeo.commands._common import (
    DataOption,
    MinutesOption,
    ModeOption,
    NetworkOption,
    TableFormat,
    apply_scenario_option,
    apply_travel_option,
    emit_frame,
    fail,
    frame_records,
    open_dataset,
    resolve_graph,
)

if TYPE_CHECKING:
    from qjgeo.catalog import Dataset
    from qjgeo.gaps import GapResult, GapsReport


class SupplyDemand(StrEnum):
    """Supply-demand methods offered by ``--supply-demand``."""

    sfca = "2sfca"
    e2sfca = "e2sfca"
    gaussian = "gaussian"


_VILLAGE_COLUMNS = [
    "code12",
    "name",
    "township_code",
    "urban",
    "children",
    "mode",
    "threshold_m",
    "threshold_min",
    "route_m",
    "time_min",
    "distance_m",
    "facility_id",
    "covered",
    "children_uncovered",
    "distance_band",
    "method",
]


def _metres(value: float) -> str:
    """A distance for the header, e.g. ``"2,000 m"``."""
    return f"{value:,.0f} m"


def _limit(p: dict[str, Any] | Any, which: str) -> str:
    """A threshold in the run's unit with the other in brackets, e.g. ``"15 min (3,750 m)"``."""
    metres, minutes = p[f"{which}_threshold_m"], p[f"{which}_threshold_min"]
    if p["threshold_unit"] == "min":
        return f"{minutes:g} min ({_metres(metres)})"
    return f"{_metres(metres)} ({minutes:,.0f} min)"


def _header_lines(result: GapResult, graph_note: str, dataset: Dataset) -> list[str]:
    p = result.params_used
    unit = "time" if p["threshold_unit"] == "min" else "distance"
    if p["threshold_override"] or p.get("minutes") is not None:
        option = "--threshold-m" if p["threshold_override"] else "--minutes"
        distances = f"service {unit} {_limit(p, 'urban')} (urban and rural, {option})"
    else:
        distances = f"service {unit} urban {_limit(p, 'urban')}, rural {_limit(p, 'rural')}"
    d = result.district
    share = d["share_covered"]
    lines = [
        f"{result.facility_type}: children aged {result.age_label}; {distances}; covered = "
        f"{unit} ≤ service {unit}",
        f"mode: {p['mode']} ({p['mode_title_en']}, {p['speed_kmh']:g} km/h); route_m = the "
        "route's length (m), time_min = its travel time; distance_m = the search cost (time × "
        "speed, compared with threshold_m)",
        f"distances: {result.method} — {graph_note}",
        f"scenario: {dataset.scenario_name or 'baseline'}; dataset: {dataset.info.id}",
        f"district: {d['children']:,.0f} children, {d['children_uncovered']:,.0f} uncovered, "
        f"share covered {'n/a' if math.isnan(share) else f'{share:.1%}'}; "
        f"villages {d['villages_covered']}/{d['villages']} covered, "
        f"{d['villages_unreachable']} unreachable; {d['facilities']} facilities",
    ]
    if result.method == "no facilities":
        lines.append(
            f"NOTE: the {result.facility_type} layer has no facilities: every distance is "
            "infinite ('unreachable'), every child uncovered"
        )
    given = set().union(
        *(dataset.provenance_of(i) for i in ("village", result.facility_type) if dataset.has(i))
    )
    if "osm" in given:
        lines.append(
            "注意：使用 OpenStreetMap 数据（© OpenStreetMap 贡献者，ODbL 1.0），非官方统计。"
        )
        lines.append(
            "NOTE: uses OpenStreetMap data (© OpenStreetMap contributors, ODbL 1.0): "
            "not official statistics"
        )
    if "user" in given:
        lines.append("NOTE: includes user-entered features (scenario or upload)")
    if dataset.demand_source():
        lines.append(f"需求（儿童）来源 / demand source: {dataset.demand_source()}")
    if result.data_status in ("sample", "estimated"):
        weak = "; ".join(f"{k}: {', '.join(sorted(v))}" for k, v in result.weak_layers.items())
        status_zh = {"sample": "样例", "estimated": "估算"}[result.data_status]
        lines.append(f"注意：结果基于{status_zh}数据（{weak}），非官方统计，不能作为事实引用。")
        lines.append(
            f"NOTE: data status {result.data_status.upper()} ({weak}): not official statistics"
        )
    return lines


FacilityTypeOption = Annotated[
    str, typer.Option("--type", help="Facility type, e.g. childcare, park.")
]
ScenarioOption = Annotated[
    Path | None, typer.Option("--scenario", help="Apply this scenario file first.")
]
ThresholdOption = Annotated[
    float | None,
    typer.Option("--threshold-m", help="One service distance (m) for urban and rural villages."),
]
TownshipOption = Annotated[
    str | None,
    typer.Option("--township", help="Show only this township (9-digit code or name)."),
]
FormatOption = Annotated[TableFormat, typer.Option("--format", help="table, json or csv")]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Also write the villages to FILE.gpkg|.geojson|.csv (.gpkg adds the "
        "townships; unreachable distances are left empty, see method).",
    ),
]
SurfaceOption = Annotated[
    Path | None,
    typer.Option("--surface", help="Also write the hexagonal gap surface to FILE.gpkg|.geojson."),
]
CellSizeOption = Annotated[
    float | None,
    typer.Option(
        "--cell-size-m",
        help="Hexagon size (circumradius, m); default 500, or about 1,000 cells over "
        "the outline (50–500 m) for a dataset without villages.",
    ),
]
SupplyDemandOption = Annotated[
    SupplyDemand | None,
    typer.Option(
        "--supply-demand",
        help="childcare only: also childcare places per 1,000 children aged 0–2 in "
        "reach (2sfca, e2sfca or gaussian; catchment --threshold-m, default the rural "
        "distance).",
    ),
]


def gaps_command(
    facility_type: FacilityTypeOption,
    data: DataOption = None,
    network: NetworkOption = None,
    scenario: ScenarioOption = None,
    threshold_m: ThresholdOption = None,
    mode: ModeOption = None,
    minutes: MinutesOption = None,
    township: TownshipOption = None,
    fmt: FormatOption = TableFormat.table,
    out: OutOption = None,
    surface: SurfaceOption = None,
    cell_size_m: CellSizeOption = None,
    supply_demand: SupplyDemandOption = None,
) -> None:
    """Children beyond reach of a facility type (by --mode, in minutes or metres): villages
    (most uncovered first) and townships."""
    from qjgeo.gaps import GapsUnavailable, gaps_report
    from qjgeo.travel import TravelChoice, TravelError

    try:  # check at the boundary, before any data is read
        TravelChoice(mode=mode, minutes=minutes, threshold_m=threshold_m)
    except TravelError as exc:
        fail(str(exc))
    try:
        report = gaps_report(
            lambda: apply_travel_option(
                apply_scenario_option(open_dataset(data), scenario), mode, minutes
            ),
            facility_type,
            load_graph=lambda dataset: resolve_graph(dataset, network),
            threshold_m=threshold_m,
            township=township,
            out=out,
            surface=surface,
            cell_size_m=cell_size_m,
            supply_demand=None if supply_demand is None else supply_demand.value,
            notify=lambda line: typer.echo(line, err=True),
        )
    except GapsUnavailable as exc:
        fail(str(exc))
    _render(report, fmt)


def register(app: typer.Typer) -> None:
    """Add the ``gaps`` command."""
    app.command("gaps")(gaps_command)


def _render(report: GapsReport, fmt: TableFormat) -> None:
    """Print a report: the surface-only note, JSON, CSV of the villages, or the tables."""
    result, towns = report.result, report.townships
    if result is None or report.villages is None or towns is None:
        typer.echo(report.note)
        return
    table = pd.DataFrame(report.villages[_VILLAGE_COLUMNS])
    if fmt is TableFormat.json:
        payload = _payload(report, result, towns, table)
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=1))
        return
    if fmt is TableFormat.csv:
        emit_frame(table, fmt)
        return
    for line in _header_lines(result, report.graph_note, report.dataset):
        typer.echo(line)
    typer.echo("")
    typer.echo("villages (most children uncovered first):")
    shown = table.drop(columns="distance_m").assign(  # the cost: route_m is the distance
        route_m=table["route_m"].map(
            lambda v: f"{v:,.0f}" if math.isfinite(v) else "inf (unreachable)"
        ),
        time_min=table["time_min"].map(lambda v: f"{v:,.1f}" if math.isfinite(v) else "inf"),
        threshold_min=table["threshold_min"].map("{:,.1f}".format),
        children=table["children"].map("{:,.0f}".format),
        children_uncovered=table["children_uncovered"].map("{:,.0f}".format),
    )
    if result.params_used["mode"] == "drive":  # a cost (time × 30 km/h), not a distance
        shown = shown.drop(columns="threshold_m")
    emit_frame(shown, TableFormat.table)
    typer.echo("")
    typer.echo("townships:")
    emit_frame(
        towns.assign(
            share_covered=towns["share_covered"].map(
                lambda v: "n/a" if math.isnan(v) else f"{v:.1%}"
            )
        ),
        TableFormat.table,
    )
    access = report.access
    if access is not None:
        typer.echo("")
        d = access.district
        typer.echo(
            f"childcare places per 1,000 children aged 0–2 in reach ({access.method}; "
            f"data status {access.data_status}): district {d['places_per_1000_children']:.1f}, "
            f"{d['places_unreached']:,.0f} places with no village in reach, "
            f"{d['villages_without_places_in_reach']} villages with no place in reach"
        )
        emit_frame(access.townships.round(1), TableFormat.table)


def _payload(
    report: GapsReport, result: GapResult, towns: pd.DataFrame, table: pd.DataFrame
) -> dict[str, Any]:
    """The ``--format json`` document."""
    payload: dict[str, Any] = {
        "facility_type": result.facility_type,
        "age_label": result.age_label,
        "method": result.method,
        "network": report.graph_note,
        "scenario": report.dataset.scenario_name,
        "data_status": result.data_status,
        "weak_layers": {k: sorted(v) for k, v in result.weak_layers.items()},
        "params_used": result.params_used,
        "district": frame_records(pd.DataFrame([result.district]))[0],
        "townships": frame_records(towns),
        "villages": frame_records(table),
    }
    access = report.access
    if access is not None:
        payload["supply_demand"] = {
            "method": access.method,
            "data_status": access.data_status,
            "params_used": access.params_used,
            "district": frame_records(pd.DataFrame([access.district]))[0],
            "townships": frame_records(access.townships),
            "villages": frame_records(pd.DataFrame(access.villages.drop(columns="geometry"))),
        }
    return payload
