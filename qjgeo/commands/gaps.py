"""``qjgeo gaps``: children beyond walking distance of a facility type, per village and township."""

from __future__ import annotations

import dataclasses
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pandas as pd
import typer

from qjgeo.commands._common import (
    DataOption,
    NetworkOption,
    TableFormat,
    apply_scenario_option,
    emit_frame,
    fail,
    frame_records,
    open_dataset,
    resolve_graph,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from qjgeo.catalog import Dataset
    from qjgeo.gaps import GapResult
    from qjgeo.network import WalkGraph

_OUT_SUFFIXES = (".gpkg", ".geojson", ".csv")


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
    "threshold_m",
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


def _header_lines(result: GapResult, graph_note: str, dataset: Dataset) -> list[str]:
    p = result.params_used
    if p["threshold_override"]:
        distances = (
            f"service distance {_metres(p['urban_threshold_m'])} (urban and rural, --threshold-m)"
        )
    else:
        distances = (
            f"service distance urban {_metres(p['urban_threshold_m'])}, "
            f"rural {_metres(p['rural_threshold_m'])}"
        )
    d = result.district
    share = d["share_covered"]
    lines = [
        f"{result.facility_type}: children aged {result.age_label}; {distances}; covered = "
        "distance ≤ service distance",
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
    if result.data_status in ("sample", "estimated"):
        weak = "; ".join(f"{k}: {', '.join(sorted(v))}" for k, v in result.weak_layers.items())
        status_zh = {"sample": "样例", "estimated": "估算"}[result.data_status]
        lines.append(f"注意：结果基于{status_zh}数据（{weak}），非官方统计，不能作为事实引用。")
        lines.append(
            f"NOTE: data status {result.data_status.upper()} ({weak}): not official statistics"
        )
    return lines


def _finite_or_none(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """For GIS files: ``inf`` distance → empty (the ``method`` column says 'unreachable')."""
    out = frame.copy()
    out["distance_m"] = out["distance_m"].where(out["distance_m"].map(math.isfinite))
    return out


def _write_out(result: GapResult, villages: gpd.GeoDataFrame, path: Path, dataset: Dataset) -> None:
    suffix = path.suffix.lower()
    if suffix not in _OUT_SUFFIXES:
        fail(f"--out {path}: use a .gpkg, .geojson or .csv file")
    if not path.parent.is_dir():
        fail(f"--out {path}: directory {path.parent} does not exist")
    meta = (
        f"{result.facility_type}; children {result.age_label}; method {result.method}; "
        f"data status {result.data_status}"
    )
    vil = villages.assign(data_status=result.data_status, facility_type=result.facility_type)
    try:
        if suffix == ".csv":
            frame = pd.DataFrame(vil.drop(columns="geometry"))
            frame["lon"] = vil.geometry.x
            frame["lat"] = vil.geometry.y
            path.write_text(frame.to_csv(index=False), encoding="utf-8-sig")
        elif suffix == ".geojson":
            _finite_or_none(vil).to_file(path, driver="GeoJSON")
        else:
            if path.exists():
                path.unlink()
            _finite_or_none(vil).to_file(path, driver="GPKG", layer="gap_villages")
            towns = result.townships.assign(data_status=result.data_status)
            if dataset.has("township"):
                shapes = dataset.layer("township")[["code9", "geometry"]].assign(
                    code9=lambda f: f["code9"].astype(str)
                )
                towns = shapes.merge(towns, on="code9", how="right")
                towns.to_file(path, driver="GPKG", layer="gap_townships")
            else:
                import geopandas as gpd

                gpd.GeoDataFrame(towns, geometry=[None] * len(towns), crs=vil.crs).to_file(
                    path, driver="GPKG", layer="gap_townships"
                )
    except OSError as exc:
        fail(f"--out {path}: cannot write: {exc}")
    typer.echo(f"wrote {path} ({meta})", err=True)


def _write_surface(
    dataset: Dataset,
    facility_type: str,
    path: Path,
    cell_size_m: float,
    graph: WalkGraph | None,
    threshold_m: float | None,
) -> None:
    """Write the hexagonal gap surface (``--surface``)."""
    from qjgeo.gaps import GapsUnavailable, gap_surface

    try:
        cells = gap_surface(
            dataset, facility_type, cell_size_m=cell_size_m, graph=graph, threshold_m=threshold_m
        )
    except GapsUnavailable as exc:
        fail(str(exc))
    status = dataset.data_status(["village", facility_type])
    cells = cells.assign(data_status=status)
    if not path.parent.is_dir():
        fail(f"--surface {path}: directory {path.parent} does not exist")
    driver = "GPKG" if path.suffix.lower() == ".gpkg" else "GeoJSON"
    if path.exists():
        path.unlink()
    _finite_or_none(cells).to_file(path, driver=driver)
    if not len(dataset.layer(facility_type)):
        method = "no facilities: every cell unreachable"
    else:
        method = "network" if graph is not None else "straight_line_x_detour"
    typer.echo(f"wrote {path} ({len(cells)} hexagons, {method}, data status {status})", err=True)


def register(app: typer.Typer) -> None:
    """Add the ``gaps`` command."""

    @app.command("gaps")
    def gaps_command(
        facility_type: Annotated[
            str, typer.Option("--type", help="Facility type, e.g. childcare, park.")
        ],
        data: DataOption = None,
        network: NetworkOption = None,
        scenario: Annotated[
            Path | None, typer.Option("--scenario", help="Apply this scenario file first.")
        ] = None,
        threshold_m: Annotated[
            float | None,
            typer.Option(
                "--threshold-m", help="One service distance (m) for urban and rural villages."
            ),
        ] = None,
        township: Annotated[
            str | None,
            typer.Option("--township", help="Show only this township (9-digit code or name)."),
        ] = None,
        fmt: Annotated[
            TableFormat, typer.Option("--format", help="table, json or csv")
        ] = TableFormat.table,
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                help="Also write the villages to FILE.gpkg|.geojson|.csv (.gpkg adds the "
                "townships; unreachable distances are left empty, see method).",
            ),
        ] = None,
        surface: Annotated[
            Path | None,
            typer.Option(
                "--surface", help="Also write the hexagonal gap surface to FILE.gpkg|.geojson."
            ),
        ] = None,
        cell_size_m: Annotated[
            float | None,
            typer.Option(
                "--cell-size-m",
                help="Hexagon size (circumradius, m); default 500, or about 1,000 cells over "
                "the outline (50–500 m) for a dataset without villages.",
            ),
        ] = None,
        supply_demand: Annotated[
            SupplyDemand | None,
            typer.Option(
                "--supply-demand",
                help="childcare only: also childcare places per 1,000 children aged 0–2 in "
                "reach (2sfca, e2sfca or gaussian; catchment --threshold-m, default the rural "
                "distance).",
            ),
        ] = None,
    ) -> None:
        """Children beyond walking distance of a facility type: villages (most uncovered first) and townships."""
        from qjgeo.gaps import (
            DEFAULT_CELL_SIZE_M,
            GapsUnavailable,
            compute_gaps,
            gap_types,
            outline_cell_size,
        )

        if threshold_m is not None and not (threshold_m > 0 and math.isfinite(threshold_m)):
            fail(f"--threshold-m must be a positive distance in metres, got {threshold_m}")
        if cell_size_m is not None and not cell_size_m > 0:
            fail(f"--cell-size-m must be positive, got {cell_size_m}")
        for option, path, allowed in (
            ("--out", out, _OUT_SUFFIXES),
            ("--surface", surface, (".gpkg", ".geojson")),
        ):
            if path is not None and path.suffix.lower() not in allowed:
                fail(f"{option} {path}: use a {', '.join(allowed)} file")
        dataset = apply_scenario_option(open_dataset(data), scenario)
        valid = gap_types(dataset)
        if facility_type not in valid:
            known = ", ".join(valid) or "none"
            missing = [t for t in dataset.params.access if t not in valid]
            extra = f" (not in this dataset: {', '.join(missing)})" if missing else ""
            fail(f"unknown or unavailable --type {facility_type!r}; valid types: {known}{extra}")
        if supply_demand is not None and facility_type != "childcare":
            fail("--supply-demand applies to --type childcare only")
        graph, graph_note = resolve_graph(dataset, network)
        if cell_size_m is None:
            cell_size_m = (
                DEFAULT_CELL_SIZE_M if dataset.has("village") else outline_cell_size(dataset)
            )
        if not dataset.has("village") and surface is not None:
            # no demand layer (e.g. an OSM import): the distance surface is all there is
            _write_surface(dataset, facility_type, surface, cell_size_m, graph, threshold_m)
            typer.echo(
                f"dataset {dataset.info.id!r} has no village layer: per-village and township "
                f"gaps are not available; the surface shows distances only ({graph_note})"
            )
            return
        try:
            result = compute_gaps(dataset, facility_type, graph=graph, threshold_m=threshold_m)
        except GapsUnavailable as exc:
            fail(str(exc))

        villages = result.villages
        towns = result.townships
        if township is not None:
            hit = towns[(towns["code9"] == township) | (towns["name"] == township)]
            if hit.empty:
                fail(
                    f"--township {township!r} not found; townships: "
                    + ", ".join(
                        f"{c} {n}" for c, n in zip(towns["code9"], towns["name"], strict=True)
                    )
                )
            code = str(hit["code9"].iloc[0])
            villages = villages[villages["township_code"].astype(str) == code]
            towns = hit
        villages = villages.sort_values(
            ["children_uncovered", "distance_m"], ascending=[False, False], kind="stable"
        )

        if out is not None:
            _write_out(result, villages, out, dataset)
        if surface is not None:
            _write_surface(dataset, facility_type, surface, cell_size_m, graph, threshold_m)

        access = None
        if supply_demand is not None:
            from qjgeo.gaps import childcare_accessibility

            method: Literal["2sfca", "e2sfca"] = (
                "e2sfca" if supply_demand is SupplyDemand.e2sfca else "2sfca"
            )
            decay: Literal["step", "gaussian"] = (
                "gaussian" if supply_demand is SupplyDemand.gaussian else "step"
            )
            try:
                access = childcare_accessibility(
                    dataset, method=method, decay=decay, threshold_m=threshold_m, graph=graph
                )
            except GapsUnavailable as exc:
                fail(str(exc))
            if township is not None:
                access = dataclasses.replace(
                    access, townships=access.townships[access.townships["code9"] == code]
                )

        table = pd.DataFrame(villages[_VILLAGE_COLUMNS])
        if fmt is TableFormat.json:
            payload: dict[str, Any] = {
                "facility_type": result.facility_type,
                "age_label": result.age_label,
                "method": result.method,
                "network": graph_note,
                "scenario": dataset.scenario_name,
                "data_status": result.data_status,
                "weak_layers": {k: sorted(v) for k, v in result.weak_layers.items()},
                "params_used": result.params_used,
                "district": frame_records(pd.DataFrame([result.district]))[0],
                "townships": frame_records(towns),
                "villages": frame_records(table),
            }
            if access is not None:
                payload["supply_demand"] = {
                    "method": access.method,
                    "data_status": access.data_status,
                    "params_used": access.params_used,
                    "district": frame_records(pd.DataFrame([access.district]))[0],
                    "townships": frame_records(access.townships),
                    "villages": frame_records(
                        pd.DataFrame(access.villages.drop(columns="geometry"))
                    ),
                }
            typer.echo(json.dumps(payload, ensure_ascii=False, indent=1))
            return
        if fmt is TableFormat.csv:
            emit_frame(table, fmt)
            return
        for line in _header_lines(result, graph_note, dataset):
            typer.echo(line)
        typer.echo("")
        typer.echo("villages (most children uncovered first):")
        shown = table.assign(
            distance_m=table["distance_m"].map(
                lambda v: f"{v:,.0f}" if math.isfinite(v) else "inf (unreachable)"
            ),
            children=table["children"].map("{:,.0f}".format),
            children_uncovered=table["children_uncovered"].map("{:,.0f}".format),
        )
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
