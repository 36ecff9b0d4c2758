"""``--network`` reaches every command that measures distances (indicators, scenario, site)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qjgeo.cli import app
from qjgeo.network import graph_from_arrays, save_walk_graph


@pytest.fixture(scope="module")
def grid_network(tmp_path_factory: pytest.TempPathFactory, dataset) -> Path:
    """A 500 m street grid over the whole district (metric CRS), saved as .npz."""
    minx, miny, maxx, maxy = dataset.metric("district").total_bounds
    xs = np.arange(minx - 500, maxx + 500, 500.0)
    ys = np.arange(miny - 500, maxy + 500, 500.0)
    gx, gy = np.meshgrid(xs, ys)
    ids = np.arange(gx.size).reshape(gx.shape)
    right = (ids[:, :-1].ravel(), ids[:, 1:].ravel())
    up = (ids[:-1, :].ravel(), ids[1:, :].ravel())
    u = np.concatenate([right[0], up[0]])
    v = np.concatenate([right[1], up[1]])
    graph = graph_from_arrays(ids.ravel(), gx.ravel(), gy.ravel(), u, v, np.full(u.size, 500.0))
    return save_walk_graph(graph, tmp_path_factory.mktemp("net") / "grid.npz")


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_indicators_use_the_network(grid_network: Path) -> None:
    straight = _run("indicators", "--format", "json")
    network = _run("indicators", "--format", "json", "--network", str(grid_network))
    assert straight.exit_code == 0 and network.exit_code == 0, network.output
    by_id = {(r["id"], r["scope"]): r for r in json.loads(network.stdout)}
    row = by_id[("childcare_access", "district")]
    assert row["method"] == "network"
    before = {(r["id"], r["scope"]): r for r in json.loads(straight.stdout)}
    assert before[("childcare_access", "district")]["method"] == "straight_line_x_detour"
    # Manhattan distance on a grid ≥ straight line: coverage can only fall or stay
    assert row["value"] <= before[("childcare_access", "district")]["value"] + 1e-9


def test_site_and_scenario_accept_the_network(grid_network: Path) -> None:
    result = _run("site", "--type", "childcare", "--k", "2", "--network", str(grid_network))
    assert result.exit_code == 0, result.output
    assert f"walking network from {grid_network}" in result.output
    scenario = Path(__file__).resolve().parent.parent / "scenarios" / "childcare_in_luokeng.yaml"
    result = _run(
        "scenario", "run", str(scenario), "--network", str(grid_network), "--format", "json"
    )
    assert result.exit_code == 0, result.output


def test_bad_network_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"not a graph")
    result = _run("indicators", "--network", str(bad))
    assert result.exit_code == 2
    assert "broken.npz" in result.output
