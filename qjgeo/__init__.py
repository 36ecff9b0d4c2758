"""qjgeo: a geospatial planner for child-friendly facilities (Qujiang District, Shaoguan)."""

from __future__ import annotations

from qjgeo.catalog import Dataset, DatasetError, LayerSpec, load_dataset

__version__ = "0.1.0"
__all__ = ["Dataset", "DatasetError", "LayerSpec", "__version__", "load_dataset"]
