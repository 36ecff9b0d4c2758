"""``qjgeo osm-import``: turn an OpenStreetMap extract into a dataset directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qjgeo.commands._common import fail


def register(app: typer.Typer) -> None:
    """Add the ``osm-import`` command."""

    @app.command("osm-import")
    def osm_import_command(
        file: Annotated[Path, typer.Argument(help="OSM XML extract (.osm or .osm.bz2).")],
        out: Annotated[Path, typer.Option("--out", help="Dataset directory to write.")],
        overwrite: Annotated[
            bool, typer.Option("--overwrite", help="Replace OUT if it exists and is not empty.")
        ] = False,
    ) -> None:
        """Write a dataset (parks, schools, childcare, water, walk/bike/drive networks) from OSM tags."""
        from qjgeo.catalog import DatasetError, load_dataset
        from qjgeo.osm_import import ATTRIBUTION, NETWORK_FILES, OsmImportError, import_osm

        try:
            written = import_osm(file, out, overwrite=overwrite)
        except (OsmImportError, DatasetError) as exc:
            fail(str(exc))
        dataset = load_dataset(written)
        counts = ", ".join(f"{i} {len(dataset.layer(i))}" for i in dataset.layer_ids)
        typer.echo(f"wrote {written}: {counts}")
        for mode, name in NETWORK_FILES.items():
            network = written / name
            typer.echo(
                f"{mode} network: {network}" if network.is_file() else f"{mode} network: none"
            )
        typer.echo("no township / village layers: `qjgeo gaps` needs a village layer with children")
        typer.echo(ATTRIBUTION)
