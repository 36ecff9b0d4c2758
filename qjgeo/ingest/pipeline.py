"""One import from file to dataset, as the command line runs it: read, map, check, commit.

:func:`import_file` chains the steps of :mod:`qjgeo.ingest` (the app's Import page calls the
same steps one widget at a time) and returns an :class:`ImportOutcome`: the report, and what
the commit did when there was one. Unusable input raises
:class:`~qjgeo.ingest.safety.IngestError` naming the file; nothing is written then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qjgeo.catalog import Dataset
from qjgeo.ingest.columns import parse_map_options, suggest_mapping
from qjgeo.ingest.commit import CommitInfo, commit
from qjgeo.ingest.readers import read_table
from qjgeo.ingest.report import validate
from qjgeo.ingest.rowlog import ImportReport
from qjgeo.ingest.safety import IngestError

__all__ = ["ImportOutcome", "import_file"]


@dataclass(frozen=True)
class ImportOutcome:
    """What :func:`import_file` did.

    Attributes
    ----------
    report
        The validation report (rows read, accepted, rejected with reasons, warnings).
    committed
        What was written, or ``None`` (a dry run, or every row rejected).
    """

    report: ImportReport
    committed: CommitInfo | None

    def to_dict(self) -> dict[str, Any]:
        """The report and the commit as JSON-ready data."""
        payload = self.report.to_dict()
        payload["committed"] = self.committed is not None
        info = self.committed
        if info is not None:
            payload["commit"] = {
                "path": str(info.path),
                "backup": str(info.backup) if info.backup else None,
                "mode": info.mode,
                "features_before": info.features_before,
                "features_after": info.features_after,
                "renamed_ids": info.renamed_ids,
                "provenance": info.provenance,
            }
        return payload


def import_file(
    file: Path,
    dataset: Dataset,
    layer: str,
    *,
    crs: str = "wgs84",
    mode: str = "append",
    mapping_options: Sequence[str] = (),
    sheet: str | None = None,
    allow_outside: bool = False,
    dry_run: bool = False,
) -> ImportOutcome:
    """Read a ledger, check it against the dataset and (unless a dry run) write it.

    Parameters
    ----------
    file
        The ledger (CSV, XLSX, GeoJSON, KML/KMZ, zipped shapefile, GeoPackage, OSM XML).
    dataset
        The dataset imported into; it is written in its folder (``dataset.root``).
    layer
        The layer to fill, or ``village`` / ``township`` to update those unit by unit.
    crs, mode, allow_outside
        As for :func:`~qjgeo.ingest.report.validate`.
    mapping_options
        ``FIELD=COLUMN`` overrides of the suggested column mapping.
    sheet
        The sheet or layer to read, when the file has several.
    dry_run
        Check only; write nothing.

    Returns
    -------
    ImportOutcome
        The report, and the commit when one was made (not when every row was rejected).

    Raises
    ------
    IngestError
        If the file is unusable as a whole, or the commit fails (nothing is written then).
    """
    try:
        raw = read_table(file, sheet=sheet, layer_id=layer)
        columns = suggest_mapping(raw, layer)
        if mapping_options:
            columns = columns.with_overrides(parse_map_options(mapping_options, raw.filename), raw)
        result = validate(
            raw, dataset, layer, mapping=columns, crs=crs, mode=mode, allow_outside=allow_outside
        )
    except IngestError as exc:
        raise exc if file.name in str(exc) else IngestError(f"{file}: {exc}") from exc
    if dry_run or not result.report.ok:
        return ImportOutcome(report=result.report, committed=None)
    return ImportOutcome(
        report=result.report, committed=commit(dataset.root, layer, result, mode=mode)
    )
