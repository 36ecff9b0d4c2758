"""Bring real data in: read a facility ledger (台账), check it, and write it into a dataset.

The steps, each a plain function the app's Import page and ``qjgeo import`` both call:

1. :func:`read_table` -- bytes or a path → :class:`RawTable` (cells as text, row numbers as
   the planner sees them, detected encoding, geometry for geographic formats).
2. :func:`suggest_mapping` -- which column is the name, longitude, village… (Chinese and
   English aliases); override with :meth:`ColumnMapping.with_overrides`.
3. :func:`validate` -- pure: features in WGS84 (provenance ``user``) and an
   :class:`ImportReport` (rows read = accepted + rejected, warnings, village proposals).
   :func:`preview_dataset` shows the dataset as it would be, in memory.
4. :func:`commit` -- writes the layer atomically, keeps the previous version under
   ``.history/``; :func:`undo_last` puts it back.

:class:`IngestError` is the only exception for unusable input; its message names the file.
"""

from qjgeo.ingest.columns import ALIASES, ColumnMapping, layer_fields, suggest_mapping
from qjgeo.ingest.commit import CommitInfo, commit, history, merge_layer, preview_dataset, undo_last
from qjgeo.ingest.readers import RawTable, list_sublayers, read_table
from qjgeo.ingest.report import ImportReport, ImportResult, validate
from qjgeo.ingest.safety import (
    MAX_UPLOAD_BYTES,
    IngestError,
    check_upload_name,
    escape_html,
    neutralise_formula,
    safe_extract_zip,
)

__all__ = [
    "ALIASES",
    "MAX_UPLOAD_BYTES",
    "ColumnMapping",
    "CommitInfo",
    "ImportReport",
    "ImportResult",
    "IngestError",
    "RawTable",
    "check_upload_name",
    "commit",
    "escape_html",
    "history",
    "layer_fields",
    "list_sublayers",
    "merge_layer",
    "neutralise_formula",
    "preview_dataset",
    "read_table",
    "safe_extract_zip",
    "suggest_mapping",
    "undo_last",
    "validate",
]
