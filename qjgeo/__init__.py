"""qjgeo: a geospatial planner for child-friendly facilities (Qujiang District, Shaoguan)."""

from __future__ import annotations

__version__ = "0.1.0"
