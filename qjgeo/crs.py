"""Coordinate reference systems used by qjgeo.

Display frames are held in WGS84 (EPSG:4326); distances and areas are computed in
CGCS2000 / 3-degree Gauss-Krüger CM 114°E (EPSG:4547), a metric CRS centred on Qujiang.
"""

from __future__ import annotations

WGS84_CRS = "EPSG:4326"
METRIC_CRS = "EPSG:4547"
