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
        file: Annotated[
            Path, typer.Argument(help="OSM extract: .osm, .osm.bz2 or .osm.pbf (a province).")
        ],
        out: Annotated[Path, typer.Option("--out", help="Dataset directory to write.")],
        clip: Annotated[
            Path | None,
            typer.Option("--clip", help="Boundary file (GeoJSON, GeoPackage…) to clip to."),
        ] = None,
        bbox: Annotated[
            str | None, typer.Option("--bbox", help="Box W,S,E,N in degrees to clip to.")
        ] = None,
        overwrite: Annotated[
            bool, typer.Option("--overwrite", help="Replace OUT if it exists and is not empty.")
        ] = False,
    ) -> None:
        """Write a dataset (parks, schools, childcare, water, walk/bike/drive networks) from OSM tags.

        A .osm.pbf is clipped first (--clip or --bbox), streaming: a province file is fine.
        """
        from qjgeo.catalog import DatasetError
        from qjgeo.osm_import import OsmImportError, import_osm
        from qjgeo.osm_pbf import OsmClipError, clip_area

        try:
            area = clip_area(clip, bbox)  # checked before any work starts
            written = import_osm(file, out, overwrite=overwrite, clip=area)
        except (OsmImportError, OsmClipError, DatasetError) as exc:
            fail(str(exc))
        report_written(written)


def report_written(written: Path) -> None:
    """Print what an OSM dataset folder holds (shared with ``osm-fetch``)."""
    from qjgeo.catalog import load_dataset
    from qjgeo.osm_import import ATTRIBUTION, NETWORK_FILES

    dataset = load_dataset(written)
    counts = ", ".join(f"{i} {len(dataset.layer(i))}" for i in dataset.layer_ids)
    typer.echo(f"wrote {written}: {counts}")
    for mode, name in NETWORK_FILES.items():
        network = written / name
        typer.echo(f"{mode} network: {network}" if network.is_file() else f"{mode} network: none")
    typer.echo(
        "no township / village layers: children are not counted until "
        f"`qjgeo demand --data {written} --population N --children-share S` estimates them "
        "from the buildings, land use and places kept here"
    )
    typer.echo(ATTRIBUTION)
