"""``qjgeo osm-fetch``: download a county's roads and facilities from OpenStreetMap."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qjgeo.commands._common import fail
from qjgeo.commands.osm_import import report_written


def register(app: typer.Typer) -> None:
    """Add the ``osm-fetch`` command."""

    @app.command("osm-fetch")
    def osm_fetch_command(
        out: Annotated[Path, typer.Option("--out", help="Dataset directory to write.")],
        place: Annotated[
            str | None,
            typer.Option("--place", help='Place name, e.g. "曲江区, 韶关市, 广东省" (Nominatim).'),
        ] = None,
        boundary: Annotated[
            Path | None,
            typer.Option("--boundary", help="Boundary file (GeoJSON, GeoPackage…) instead."),
        ] = None,
        overwrite: Annotated[
            bool, typer.Option("--overwrite", help="Replace OUT if it exists and is not empty.")
        ] = False,
    ) -> None:
        """Download roads and facility POIs (Overpass, via osmnx) and write a dataset.

        Needs internet; osmnx's cache and rate limits apply. Offline, import a PBF extract:
        qjgeo osm-import FILE.osm.pbf --clip BOUNDARY.geojson --out DIR.
        """
        import osmnx as ox

        from qjgeo.osm_fetch import fetch_osm
        from qjgeo.osm_import import OsmImportError
        from qjgeo.places import user_data_dir

        if (place is None) == (boundary is None):
            fail("give --place or --boundary, one of them（--place 与 --boundary 选一个）")
        if str(ox.settings.cache_folder) == "./cache":  # osmnx's default: not the cwd
            ox.settings.cache_folder = str(user_data_dir() / "osmnx-cache")
        try:
            written = fetch_osm(out, place=place, boundary=boundary, overwrite=overwrite)
        except OsmImportError as exc:
            fail(str(exc))
        report_written(written)
