"""``qjgeo scenario``: run, validate and compare what-if scenario files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from qjgeo.commands._checks import check_output_path
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
    from qjgeo.catalog import Dataset
    from qjgeo.network import WalkGraph
    from qjgeo.scenario import Comparison, Scenario


def _load(path: Path) -> Scenario:
    from qjgeo.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as exc:
        fail(str(exc))


def _resolve_base(spec: str, beside: Path) -> Path | None:
    """``baseline`` → None; else a file path, or a stem of a file beside the scenario."""
    if spec == "baseline":
        return None
    path = Path(spec)
    if path.is_file():
        return path
    for suffix in (".yaml", ".yml"):
        candidate = beside.parent / f"{spec}{suffix}"
        if candidate.is_file():
            return candidate
    fail(f"--compare {spec!r}: no such scenario file (give a path, a stem or 'baseline')")


FileArgument = Annotated[Path, typer.Argument(help="Scenario YAML file.")]
CompareOption = Annotated[
    str | None,
    typer.Option(
        "--compare",
        help="Compare with BASE: 'baseline', a scenario file or a stem beside FILE.",
    ),
]
FormatOption = Annotated[TableFormat, typer.Option("--format", help="table, json or csv")]
SchemaOutOption = Annotated[
    Path | None, typer.Option("--out", help="Write the JSON schema to this file.")
]


def _run(
    dataset: Dataset,
    scenario: Scenario,
    file: Path,
    compare_with: str | None,
    graph: WalkGraph | None,
) -> pd.DataFrame | Comparison:
    """The indicators under the scenario, or (``--compare``) its comparison with a base."""
    from qjgeo.indicators import TargetsError, evaluate
    from qjgeo.scenario import ScenarioError, apply, compare

    try:
        result = apply(dataset, scenario)
        if compare_with is None:
            return evaluate(result, graph=graph)
        base_file = _resolve_base(compare_with, file)
        base = dataset if base_file is None else apply(dataset, _load(base_file))
        return compare(base, result, graph=graph)
    except (ScenarioError, TargetsError) as exc:
        fail(str(exc))


def _render_evaluation(
    frame: pd.DataFrame, scenario: Scenario, file: Path, fmt: TableFormat
) -> None:
    """Print the indicators under a scenario (the main columns as a table)."""
    cols = ["id", "scope_name", "value", "unit", "target", "met", "data_status"]
    table = frame[[c for c in cols if c in frame.columns]] if fmt is TableFormat.table else frame
    typer.echo(f"scenario {scenario.name!r} ({file})", err=True)
    emit_frame(table, fmt)


def _render_comparison(comparison: Comparison, fmt: TableFormat) -> None:
    """Print a comparison: everything (json), the indicator deltas (csv) or what changes."""
    if fmt is TableFormat.json:
        payload = {
            "a": comparison.name_a,
            "b": comparison.name_b,
            "data_status": comparison.data_status,
            "notes": list(comparison.notes),
            "indicators": frame_records(comparison.indicators),
            "coverage": frame_records(comparison.coverage),
            "villages_flipped": frame_records(comparison.villages_flipped),
            "townships_flipped": frame_records(comparison.townships_flipped),
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=1))
        return
    changed = comparison.indicators
    changed = changed[(changed["delta"].fillna(0) != 0) | changed["flipped"]]
    if fmt is TableFormat.csv:
        emit_frame(comparison.indicators, fmt)
        return
    typer.echo(f"{comparison.name_b} vs {comparison.name_a} (data: {comparison.data_status})\n")
    typer.echo("Indicators that change:")
    emit_frame(changed.round(3) if len(changed) else pd.DataFrame({"": ["none"]}), fmt)
    typer.echo("\nChildren covered per facility type:")
    emit_frame(comparison.coverage.round(3), fmt)
    if len(comparison.villages_flipped):
        typer.echo("\nVillages whose coverage flips:")
        emit_frame(comparison.villages_flipped, fmt)
    for note in comparison.notes:
        typer.echo(f"note: {note}")


def run_command(
    file: FileArgument,
    data: DataOption = None,
    compare_with: CompareOption = None,
    fmt: FormatOption = TableFormat.table,
    network: NetworkOption = None,
    mode: ModeOption = None,
    minutes: MinutesOption = None,
) -> None:
    """Evaluate the plan indicators under a scenario (with --compare: the deltas); --mode
    sets the travel mode of both sides (a scenario's own parameters.mode otherwise)."""
    check_travel_option(mode, minutes)
    dataset = open_dataset(data)
    scenario = _load(file)
    if mode is None and minutes is None and scenario.parameters.get("mode"):
        dataset = apply_travel_option(dataset, scenario.parameters["mode"], None)
    dataset = apply_travel_option(dataset, mode, minutes)
    if mode is not None or minutes is not None:  # the command line wins over the file
        scenario = scenario.with_parameters({"mode": dataset.params.mode,
                                             "minutes": dataset.params.minutes})  # fmt: skip
    graph, graph_note = resolve_graph(dataset, network)
    typer.echo(graph_note, err=True)
    typer.echo(travel_line(dataset, graph is not None), err=True)
    result = _run(dataset, scenario, file, compare_with, graph)
    if isinstance(result, pd.DataFrame):
        _render_evaluation(result, scenario, file, fmt)
    else:
        _render_comparison(result, fmt)


def _validate(file: Path, scenario: Scenario, dataset: Dataset) -> list[Scenario]:
    """Resolve the base chain, apply the scenario and check its target overrides."""
    from qjgeo.indicators import TargetsError, apply_overrides, load_targets
    from qjgeo.scenario import ScenarioError, apply, resolve_chain

    try:
        chain = resolve_chain(scenario)
        result = apply(dataset, scenario)
        if result.params.target_overrides:
            apply_overrides(
                load_targets(),
                result.params.target_overrides,
                where=f"{file}: parameters.target_overrides",
            )
    except (ScenarioError, TargetsError) as exc:
        fail(str(exc))
    return chain


def validate_command(file: FileArgument, data: DataOption = None) -> None:
    """Check a scenario file: format, base chain, ids, types and locations."""
    scenario = _load(file)
    dataset = open_dataset(data)
    chain = _validate(file, scenario, dataset)
    bases = " ← ".join([*(s.name for s in reversed(chain[:-1])), "baseline"])
    typer.echo(
        f"ok: {file}: {scenario.name!r} (on {bases}): {len(scenario.add)} added, "
        f"{len(scenario.remove)} removed, {len(scenario.modify)} modified, "
        f"{len(scenario.move)} moved"
    )


def schema_command(out: SchemaOutOption = None) -> None:
    """Print (or write) the JSON schema of scenario files."""
    from qjgeo.scenario import Scenario, write_schema

    if out is None:
        typer.echo(json.dumps(Scenario.model_json_schema(), ensure_ascii=False, indent=2))
        return
    check_output_path(out, overwrite=True, folder_must_exist=False)
    write_schema(out)
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Add the ``scenario`` command group (run, validate, schema)."""
    group = typer.Typer(
        help="What-if scenarios: run one, compare it with another, validate a file.",
        no_args_is_help=True,
    )
    app.add_typer(group, name="scenario")
    group.command("run")(run_command)
    group.command("validate")(validate_command)
    group.command("schema")(schema_command)
