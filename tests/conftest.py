"""Shared fixtures: the bundled dataset (loaded once) and paths to shared test data."""

from __future__ import annotations

from pathlib import Path

import pytest

from qjgeo import Dataset, load_dataset

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: The project brief's shared folder (beside the repository), holding the real OSM extracts.
SHARED = REPO.parent / "shared"
OSM_DIR = SHARED / "data" / "osm"


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    """The bundled Qujiang dataset (read-only: derive, never mutate)."""
    return load_dataset()


@pytest.fixture(scope="session")
def osm_dir() -> Path:
    """Directory of the real OSM test extracts (skips if the shared folder is absent)."""
    if not OSM_DIR.is_dir():
        pytest.skip(f"shared OSM extracts not found at {OSM_DIR}")
    return OSM_DIR
