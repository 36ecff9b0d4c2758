"""Shared fixtures: the bundled dataset (loaded once), paths to shared test data, a tiny graph."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from qjgeo import Dataset, load_dataset
from qjgeo.network import WalkGraph, graph_from_arrays
from qjgeo.places import bundled_path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: The project brief's shared folder (beside the repository), holding the real OSM extracts.
SHARED = REPO.parent / "shared"
OSM_DIR = SHARED / "data" / "osm"


def pytest_configure(config: pytest.Config) -> None:
    """No test, session fixtures included, ever sees the real user data folder: until a test's
    own folder is set (below), ``$QJGEO_HOME`` points at an empty folder of this run."""
    os.environ["QJGEO_HOME"] = tempfile.mkdtemp(prefix="qjgeo-home-session-")


@pytest.fixture(autouse=True)
def user_data_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test gets its own empty user data folder (``$QJGEO_HOME``), so no test reads or
    writes the real one, and a working copy one test makes is not seen by the next."""
    home = tmp_path_factory.mktemp("qjgeo-home")
    monkeypatch.setenv("QJGEO_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    """The bundled Qujiang dataset (read-only: derive, never mutate)."""
    return load_dataset(bundled_path("layers"))


@pytest.fixture(scope="session")
def osm_dir() -> Path:
    """Directory of the real OSM test extracts (skips if the shared folder is absent)."""
    if not OSM_DIR.is_dir():
        pytest.skip(f"shared OSM extracts not found at {OSM_DIR}")
    return OSM_DIR


def path_graph() -> WalkGraph:
    """A four-node walk along the x axis: ids 10, 11, 12, 13 at x = 0, 100, 250, 450 (y = 0),
    edges 100, 150 and 200 m (``from conftest import path_graph``)."""
    return graph_from_arrays(
        [10, 11, 12, 13],
        [0.0, 100.0, 250.0, 450.0],
        [0.0, 0.0, 0.0, 0.0],
        [10, 11, 12],
        [11, 12, 13],
        [100.0, 150.0, 200.0],
    )
