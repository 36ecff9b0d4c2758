"""Water-safety hazards near children (qjgeo.hazards) on the tiny hand-made dataset.

Figures from tests/fixtures/indicators/README.md: H1 is 200 m from 二村 (500 children) and not
fenced; H4 is 400 m from school P1 and 447 m from 三村 (750 children) with no rescue gear; H2 is
far from everyone; H3 is exactly 500 m from 一村 but fully protected.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from qjgeo import Dataset, load_dataset
from qjgeo.cli import app
from qjgeo.hazards import rank_hazards
from qjgeo.indicators.metrics import NotAvailableError

TINY = Path(__file__).resolve().parent / "fixtures" / "indicators" / "tiny"


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    return load_dataset(TINY)


def test_ranked_by_children_nearby(tiny: Dataset) -> None:
    ranked = rank_hazards(tiny)
    assert list(ranked["id"]) == ["H4", "H1"]
    assert list(ranked["rank"]) == [1, 2]
    h4, h1 = ranked.iloc[0], ranked.iloc[1]
    assert h4["children_nearby"] == 750 and h4["villages_nearby"] == ["三村"]
    assert h4["schools_nearby"] == ["小学一"] and h4["kindergartens_nearby"] == ["幼儿园二"]
    assert h4["missing"] == "rescue equipment" and h4["missing_zh"] == "救援装备"
    assert h1["children_nearby"] == 500 and h1["schools_nearby"] == []
    assert h1["missing"] == "fencing"
    assert ranked.crs.to_epsg() == 4326
    assert (ranked["data_status"] == "sample").all()


def test_threshold_inclusive_and_include_all(tiny: Dataset) -> None:
    every = rank_hazards(tiny, include_all=True).set_index("id")
    assert len(every) == 4
    # H3 is exactly 500 m from 一村: near (inclusive) but protected
    assert every.loc["H3", "near_children"] and not every.loc["H3", "unprotected"]
    assert every.loc["H3", "children_nearby"] == 1000
    assert not every.loc["H2", "near_children"] and every.loc["H2", "unprotected"]
    assert every.loc["H2", "missing"] == "fencing, warning signs, rescue equipment"
    at_499 = rank_hazards(tiny, distance_m=499.0, include_all=True).set_index("id")
    assert at_499.loc["H3", "villages_nearby"] == [] and at_499.loc["H3", "children_nearby"] == 0
    # ... still near children through kindergarten K1, 300 m away
    assert at_499.loc["H3", "kindergartens_nearby"] == ["幼儿园一"]
    at_299 = rank_hazards(tiny, distance_m=299.0, include_all=True).set_index("id")
    assert not at_299.loc["H3", "near_children"]
    # 447 m to 三村 drops out at 440 m, the school at 400 m keeps H4 near children
    at_440 = rank_hazards(tiny, distance_m=440.0).set_index("id")
    assert at_440.loc["H4", "children_nearby"] == 0 and at_440.loc["H4", "schools_nearby"]


def test_protections_are_a_parameter(tiny: Dataset) -> None:
    # requiring only fencing: H4 (fenced) is no longer listed
    assert list(rank_hazards(tiny, protections=("fenced",))["id"]) == ["H1"]
    with pytest.raises(ValueError, match="unknown protection"):
        rank_hazards(tiny, protections=("moat",))
    with pytest.raises(ValueError, match="distance_m"):
        rank_hazards(tiny, distance_m=0)


def test_missing_layers(tiny: Dataset) -> None:
    frames = {k: v for k, v in tiny.frames.items() if k != "water_hazard"}
    specs = {k: v for k, v in tiny.specs.items() if k != "water_hazard"}
    with pytest.raises(NotAvailableError, match="water_hazard"):
        rank_hazards(dataclasses.replace(tiny, frames=frames, specs=specs, _metric_cache={}))
    # without schools / kindergartens layers, villages alone make a hazard near children
    frames = {k: v for k, v in tiny.frames.items() if k not in ("primary_school", "kindergarten")}
    specs = {k: v for k, v in tiny.specs.items() if k in frames}
    ranked = rank_hazards(dataclasses.replace(tiny, frames=frames, specs=specs, _metric_cache={}))
    assert list(ranked["id"]) == ["H4", "H1"]
    assert ranked.iloc[0]["schools_nearby"] == []
    empty = tiny.with_layer("water_hazard", tiny.layer("water_hazard").iloc[0:0])
    assert len(rank_hazards(empty)) == 0


def test_cli_hazards(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["hazards", "--data", str(TINY), "--format", "json"])
    assert res.exit_code == 0, res.output
    records = json.loads(res.stdout)
    assert [r["id"] for r in records] == ["H4", "H1"]
    assert records[0]["villages_nearby"] == ["三村"]
    res = runner.invoke(app, ["hazards", "--data", str(TINY), "--format", "csv"])
    assert res.exit_code == 0 and res.stdout.splitlines()[0].startswith("rank,id,name")
    res = runner.invoke(app, ["hazards", "--data", str(TINY)])
    assert res.exit_code == 0 and "塘四" in res.stdout
    # a dataset without the hazard layer: a clear error, exit code 2
    copy = tmp_path / "nohaz"
    shutil.copytree(TINY, copy)
    manifest = yaml.safe_load((copy / "manifest.yaml").read_text(encoding="utf-8"))
    manifest["layers"] = [spec for spec in manifest["layers"] if spec["id"] != "water_hazard"]
    (copy / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), "utf-8")
    res = runner.invoke(app, ["hazards", "--data", str(copy)])
    assert res.exit_code == 2 and "water_hazard" in res.stderr


def test_bundled_hazards(dataset: Dataset) -> None:
    ranked = rank_hazards(dataset)
    assert len(ranked) >= 1
    assert ranked["children_nearby"].is_monotonic_decreasing
    assert ranked["unprotected"].all() and ranked["near_children"].all()
