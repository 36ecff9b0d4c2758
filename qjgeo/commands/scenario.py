"""``qjgeo scenario``: run, validate and compare what-if scenario files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from qjgeo.commands._common import (
    DataOption,
    NetworkOption,
    TableFormat,
    emit_frame,
    fail,
    frame_records,
    open_dataset,
    resolve_graph,
)

if TYPE_CHECKING:
    from qjgeo.scenario import Scenario


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


def register(app: typer.Typer) -> None:
    """Add the ``scenario`` command group (run, validate, schema)."""
    group = typer.Typer(
        help="What-if scenarios: run one, compare it with another, validate a file.",
        no_args_is_help=True,
    )
    app.add_typer(group, name="scenario")

    @group.command("run")
    def run_command(
        file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
        data: DataOption = None,
        compare_with: Annotated[
            str | None,
            typer.Option(
                "--compare",
                help="Compare with BASE: 'baseline', a scenario file or a stem beside FILE.",
            ),
        ] = None,
        fmt: Annotated[
            TableFormat, typer.Option("--format", help="table, json or csv")
        ] = TableFormat.table,
        network: NetworkOption = None,
    ) -> None:
        """Evaluate the plan indicators under a scenario (with --compare: the deltas)."""
        from qjgeo.indicators import TargetsError, evaluate
        from qjgeo.scenario import ScenarioError, apply, compare

        dataset = open_dataset(data)
        scenario = _load(file)
        graph, graph_note = resolve_graph(dataset, network)
        typer.echo(graph_note, err=True)
        try:
            result = apply(dataset, scenario)
            if compare_with is None:
                frame = evaluate(result, graph=graph)
            else:
                base_file = _resolve_base(compare_with, file)
                base = dataset if base_file is None else apply(dataset, _load(base_file))
                comparison = compare(base, result, graph=graph)
        except (ScenarioError, TargetsError) as exc:
            fail(str(exc))
        if compare_with is None:
            cols = ["id", "scope_name", "value", "unit", "target", "met", "data_status"]
            table = (
                frame[[c for c in cols if c in frame.columns]]
                if fmt is TableFormat.table
                else frame
            )
            typer.echo(f"scenario {scenario.name!r} ({file})", err=True)
            emit_frame(table, fmt)
            return
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

    @group.command("validate")
    def validate_command(
        file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
        data: DataOption = None,
    ) -> None:
        """Check a scenario file: format, base chain, ids, types and locations."""
        from qjgeo.scenario import ScenarioError, apply, resolve_chain

        scenario = _load(file)
        dataset = open_dataset(data)
        from qjgeo.indicators import TargetsError, apply_overrides, load_targets

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
        bases = " ← ".join([*(s.name for s in reversed(chain[:-1])), "baseline"])
        typer.echo(
            f"ok: {file}: {scenario.name!r} (on {bases}): {len(scenario.add)} added, "
            f"{len(scenario.remove)} removed, {len(scenario.modify)} modified, "
            f"{len(scenario.move)} moved"
        )

    @group.command("schema")
    def schema_command(
        out: Annotated[
            Path | None, typer.Option("--out", help="Write the JSON schema to this file.")
        ] = None,
    ) -> None:
        """Print (or write) the JSON schema of scenario files."""
        from qjgeo.scenario import Scenario, write_schema

        if out is None:
            typer.echo(json.dumps(Scenario.model_json_schema(), ensure_ascii=False, indent=2))
        else:
            write_schema(out)
            typer.echo(f"wrote {out}")
