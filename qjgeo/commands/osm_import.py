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
        """Write a dataset (parks, schools, childcare, water, walking network) from OSM tags."""
        from qjgeo.catalog import DatasetError, load_dataset
        from qjgeo.osm_import import ATTRIBUTION, NETWORK_FILE, OsmImportError, import_osm

        try:
            written = import_osm(file, out, overwrite=overwrite)
        except (OsmImportError, DatasetError) as exc:
            fail(str(exc))
        dataset = load_dataset(written)
        counts = ", ".join(f"{i} {len(dataset.layer(i))}" for i in dataset.layer_ids)
        typer.echo(f"wrote {written}: {counts}")
        network = written / NETWORK_FILE
        typer.echo(f"walking network: {network}" if network.is_file() else "walking network: none")
        typer.echo(
            "no township / village layers: children are not counted until "
            f"`qjgeo demand --data {written} --population N --children-share S` estimates them "
            "from the buildings, land use and places kept here"
        )
        typer.echo(ATTRIBUTION)
