"""Write an accepted import into a dataset directory, keeping the previous version for undo.

:func:`commit` appends the imported features to a layer or replaces it. It holds the dataset
folder's write lock (a second import waits, then merges into what the first one wrote) and
changes the layer file, the manifest and the history record in one crash-safe transaction
(:mod:`qjgeo.transaction`): a kill at any instant leaves the old or the new state, and the
history names only imports that landed. The old file and the manifest are kept under
``<dataset>/.history/`` with a time stamp; :func:`undo_last` puts the newest copy back. When the layer becomes wholly user data the
manifest entry's provenance becomes ``user`` (with source and date), so the "sample data"
notice for that layer disappears everywhere.

:func:`merge_layer` and :func:`preview_dataset` do the same merge in memory (for a preview
map or indicators before committing).
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd
import pyogrio
import yaml

from qjgeo.catalog import (
    DEFAULT_DATA_DIR,
    MANIFEST_NAME,
    Dataset,
    DatasetError,
    LayerSpec,
    Manifest,
    load_dataset,
    read_manifest,
)
from qjgeo.crs import WGS84_CRS
from qjgeo.fileio import write_atomic
from qjgeo.ingest.rowlog import ImportResult
from qjgeo.ingest.safety import IngestError
from qjgeo.locking import DEFAULT_WAIT_S, FolderBusyError, folder_lock
from qjgeo.places import is_bundled, working_dataset_dir
from qjgeo.transaction import Transaction, recover

HISTORY_DIR: Final[str] = ".history"
#: Layers an import updates unit by unit (the result is always the whole layer), and the key
#: column naming a unit.
UPDATED_LAYERS: Final[dict[str, str]] = {"village": "code12", "township": "code9"}
_MODES: Final[frozenset[str]] = frozenset({"append", "replace"})


@dataclass(frozen=True)
class CommitInfo:
    """What :func:`commit` did.

    Attributes
    ----------
    layer_id, mode
        The layer written and how (``append`` / ``replace``).
    path
        The layer file written.
    backup
        The copy of the previous file under ``.history/`` (``None`` if the layer was new).
    features_before, features_after
        Feature counts before and after.
    renamed_ids
        Imported ids that clashed with existing ones (append) and their new ids.
    provenance
        The layer's manifest provenance after the commit.
    """

    layer_id: str
    mode: str
    path: Path
    backup: Path | None
    features_before: int
    features_after: int
    renamed_ids: dict[str, str] = field(default_factory=dict)
    provenance: str = "user"


def _refuse_bundled(data_dir: Path) -> None:
    """Writes never go into the bundled dataset (an installation, or the checkout's layers/)."""
    if is_bundled(data_dir):
        raise IngestError(
            f"{data_dir} 是自带数据，只读；请写入用户数据目录中的副本（不加 --data）或另一目录 / "
            "is the bundled dataset, read-only: write to the working copy in the user data "
            "folder (no --data) or another folder"
        )


def _template_spec(layer_id: str) -> LayerSpec:
    """A manifest entry for a layer the dataset lacks, titled as in the bundled dataset."""
    try:
        bundled = {s.id: s for s in read_manifest(DEFAULT_DATA_DIR).layers}
    except DatasetError:
        bundled = {}
    base = bundled.get(layer_id)
    if base is not None:
        return base.model_copy(update={"file": f"{layer_id}.geojson", "crs": WGS84_CRS})
    return LayerSpec(
        id=layer_id,
        title_zh=layer_id,
        title_en=layer_id.replace("_", " ").capitalize(),
        kind="facility",
        geometry_type="Point",
        file=f"{layer_id}.geojson",
        crs=WGS84_CRS,
        provenance="user",
        source="user import",
        licence="supplied by the user",
        as_of=dt.date.today().isoformat(),
    )


def merge_layer(
    dataset: Dataset, layer_id: str, result: ImportResult, *, mode: str = "append"
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """The layer as it would be after the import (pure: nothing is written).

    Parameters
    ----------
    dataset
        The dataset imported into.
    layer_id
        The layer.
    result
        From :func:`~qjgeo.ingest.report.validate`.
    mode
        ``"append"`` (existing features kept) or ``"replace"``.

    Returns
    -------
    tuple
        The merged WGS84 frame, and imported ids renamed because they clashed with existing
        ones (append only; ``CHI001`` → ``CHI001-u``).
    """
    if mode not in _MODES:
        raise IngestError(f"mode must be 'append' or 'replace', got {mode!r}")
    if layer_id in UPDATED_LAYERS:
        return _merge_updates(dataset, layer_id, result), {}
    new = result.features.copy()
    renamed: dict[str, str] = {}
    if mode == "replace" or not dataset.has(layer_id):
        return gpd.GeoDataFrame(new, geometry="geometry", crs=WGS84_CRS), renamed
    old = dataset.layer(layer_id)
    if "id" in old.columns and "id" in new.columns:
        taken = set(old["id"].astype(str))
        ids = new["id"].astype(str).tolist()
        for i, value in enumerate(ids):
            if value in taken:
                candidate = f"{value}-u"
                while candidate in taken or candidate in ids:
                    candidate += "u"
                renamed[value] = candidate
                ids[i] = candidate
            taken.add(ids[i])
        new["id"] = ids
    merged = pd.concat([old.to_crs(WGS84_CRS), new], ignore_index=True)
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=WGS84_CRS), renamed


def _merge_updates(dataset: Dataset, layer_id: str, result: ImportResult) -> gpd.GeoDataFrame:
    """The current admin layer with the units the import updated replaced by their new rows.

    The result holds the whole layer as it was when the ledger was checked; taking only the
    updated units keeps what another import changed in the meantime.
    """
    new = gpd.GeoDataFrame(result.features, geometry="geometry", crs=WGS84_CRS)
    key = UPDATED_LAYERS[layer_id]
    if not dataset.has(layer_id) or key not in new.columns:
        return new
    current = dataset.layer(layer_id).to_crs(WGS84_CRS)
    updated = new[new[key].astype(str).isin(set(result.updated_keys))].set_index(key)
    out = current.set_index(current[key].astype(str), drop=False)
    keys = [k for k in updated.index if k in out.index]
    columns = [c for c in updated.columns if c in out.columns]
    merged = pd.DataFrame(out).copy()
    by_key = new.set_index(new[key].astype(str))
    for column in by_key.columns.difference(merged.columns):  # e.g. a first boundary_source
        merged[column] = by_key[column].reindex(merged.index).to_numpy()
    for column in columns:  # column by column, so each keeps its dtype
        merged[column] = merged[column].astype(object)
        merged.loc[keys, column] = updated.loc[keys, column].to_numpy(dtype=object)
        merged[column] = merged[column].infer_objects()
    merged = merged.reset_index(drop=True)
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=WGS84_CRS)


def _updated_spec(spec: LayerSpec, frame: gpd.GeoDataFrame, result: ImportResult) -> LayerSpec:
    """The manifest entry after the import: provenance ``user`` when all features are user's."""
    today = dt.date.today().isoformat()
    wholly_user = len(frame) > 0 and bool((frame["provenance"] == "user").all())
    note = f"user import of {result.source_name} on {today}"
    if wholly_user:
        return spec.model_copy(
            update={
                "provenance": "user",
                "source": f"user import: {result.source_name}",
                "licence": "supplied by the user",
                "as_of": today,
                "notes": note,
                "file": str(Path(spec.file).with_suffix(".geojson")),
                "crs": WGS84_CRS,
                "attribute_provenance": {},  # every attribute is now the user's
            }
        )
    notes = f"{spec.notes}; {note}" if spec.notes else note
    return spec.model_copy(
        update={
            "notes": notes,
            "file": str(Path(spec.file).with_suffix(".geojson")),
            "crs": WGS84_CRS,
        }
    )


def preview_dataset(dataset: Dataset, result: ImportResult, *, mode: str = "append") -> Dataset:
    """The dataset as it would be after the import, in memory (for previews and indicators).

    Parameters
    ----------
    dataset
        The dataset imported into.
    result
        From :func:`~qjgeo.ingest.report.validate`.
    mode
        ``"append"`` or ``"replace"``.

    Returns
    -------
    Dataset
        A new dataset; ``dataset`` is unchanged.
    """
    frame, _ = merge_layer(dataset, result.layer_id, result, mode=mode)
    spec = dataset.specs.get(result.layer_id) or _template_spec(result.layer_id)
    return dataset.with_layer(result.layer_id, frame, _updated_spec(spec, frame, result))


def _layer_writer(frame: gpd.GeoDataFrame) -> Callable[[Path], None]:
    """A function writing ``frame`` as GeoJSON to the path it is given."""
    out = frame.copy()
    for col in out.columns:
        if col != "geometry" and out[col].dtype == object:
            out[col] = out[col].where(out[col].notna(), None)

    def write(path: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pyogrio.write_dataframe(out, path, driver="GeoJSON")

    return write


def manifest_text(manifest: Manifest) -> str:
    """``manifest.yaml`` as qjgeo writes it: a safe YAML dump, Chinese kept readable."""
    raw = manifest.model_dump(mode="json")
    for layer in raw["layers"]:  # an empty attribute_provenance is left out, as written by hand
        if not layer.get("attribute_provenance"):
            layer.pop("attribute_provenance", None)
    body = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=100)
    return "# Edited by qjgeo import (see .history/ for earlier versions).\n" + body


def write_manifest(data_dir: Path, manifest: Manifest) -> None:
    """Write ``manifest.yaml`` atomically (for a change of the manifest alone)."""
    write_atomic(Path(data_dir) / MANIFEST_NAME, manifest_text(manifest))


def _with_spec(manifest: Manifest, spec: LayerSpec | None, layer_id: str) -> Manifest:
    layers = [s for s in manifest.layers if s.id != layer_id]
    if spec is not None:
        old_ids = [s.id for s in manifest.layers]
        position = old_ids.index(layer_id) if layer_id in old_ids else len(layers)
        layers.insert(position, spec)
    return manifest.model_copy(update={"layers": tuple(layers)})


def commit(
    dataset_dir: str | Path | None,
    layer_id: str,
    result: ImportResult,
    *,
    mode: str = "append",
    timeout_s: float = DEFAULT_WAIT_S,
) -> CommitInfo:
    """Write an import into a dataset directory (append or replace), keeping the old version.

    The dataset folder is locked for the write (:func:`qjgeo.locking.folder_lock`): an
    import started while another one is being written waits for it and then merges into the
    layer as *that* import left it, so both land. The layer file, the manifest and the
    history record change in one crash-safe :class:`~qjgeo.transaction.Transaction`.

    Parameters
    ----------
    dataset_dir
        The dataset directory (``None``: the working copy in the user data folder, made from the
        bundled data first if needed; never the bundled data itself).
    layer_id
        The layer written; must be the layer the result was validated for.
    result
        From :func:`~qjgeo.ingest.report.validate`; its rejected rows are not written.
    mode
        ``"append"`` or ``"replace"``.
    timeout_s
        Longest wait for another writer of the same dataset (seconds).

    Returns
    -------
    CommitInfo
        Paths, counts and renamed ids.

    Raises
    ------
    IngestError
        If nothing was accepted, the layer does not match, another writer held the dataset
        too long, or the written dataset would not load (the previous version is then put
        back).
    """
    data_dir = Path(dataset_dir) if dataset_dir is not None else working_dataset_dir()
    _refuse_bundled(data_dir)
    if layer_id in UPDATED_LAYERS:
        mode = "replace"  # the result holds the whole updated layer
    if result.layer_id != layer_id:
        raise IngestError(f"the import was checked for {result.layer_id!r}, not {layer_id!r}")
    if result.report.accepted == 0:
        raise IngestError(f"{result.source_name}: every row was rejected; nothing written")
    with _locked(data_dir, timeout_s):
        dataset, manifest = _load(data_dir)
        frame, renamed = merge_layer(dataset, layer_id, result, mode=mode)
        old_spec = dataset.specs.get(layer_id)
        spec = _updated_spec(old_spec or _template_spec(layer_id), frame, result)
        backup = _write_commit(data_dir, manifest, old_spec, spec, frame, result, mode)
        try:
            load_dataset(data_dir)
        except DatasetError as exc:
            _undo_locked(data_dir, layer_id)
            raise IngestError(
                f"the imported layer would not load ({exc}); nothing changed"
            ) from exc
    return CommitInfo(
        layer_id=layer_id,
        mode=mode,
        path=data_dir / spec.file,
        backup=backup,
        features_before=len(dataset.layer(layer_id)) if dataset.has(layer_id) else 0,
        features_after=len(frame),
        renamed_ids=renamed,
        provenance=spec.provenance,
    )


@contextmanager
def _locked(data_dir: Path, timeout_s: float) -> Iterator[None]:
    """Hold the dataset's write lock and finish or clear what a killed writer left."""
    try:
        with folder_lock(data_dir, timeout_s=timeout_s):
            recover(data_dir)
            yield
    except FolderBusyError as exc:
        raise IngestError(f"{exc}\n{exc.message_zh}") from exc


def _load(data_dir: Path) -> tuple[Dataset, Manifest]:
    try:
        return load_dataset(data_dir), read_manifest(data_dir)
    except DatasetError as exc:
        raise IngestError(f"cannot import into {data_dir}: {exc}") from exc


def _write_commit(
    data_dir: Path,
    manifest: Manifest,
    old_spec: LayerSpec | None,
    spec: LayerSpec,
    frame: gpd.GeoDataFrame,
    result: ImportResult,
    mode: str,
) -> Path | None:
    """Stage the layer, the manifest, the backups and the history record; commit them."""
    layer_id = spec.id
    history = data_dir / HISTORY_DIR
    history.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    old_path = data_dir / old_spec.file if old_spec is not None else None
    target = data_dir / spec.file
    tx = Transaction(data_dir)
    try:
        backup: Path | None = None
        if old_path is not None and old_path.is_file():
            backup = history / f"{layer_id}-{stamp}{old_path.suffix}"
            tx.copy(old_path, backup)
        manifest_copy = history / f"{layer_id}-{stamp}.manifest.yaml"
        tx.copy(data_dir / MANIFEST_NAME, manifest_copy)
        tx.write_with(target, _layer_writer(frame))
        tx.write_bytes(MANIFEST_NAME, manifest_text(_with_spec(manifest, spec, layer_id)).encode())
        if old_path is not None and old_path != target and old_path.is_file():
            tx.delete(old_path)
        record: dict[str, Any] = {
            "layer": layer_id,
            "stamp": stamp,
            "mode": mode,
            "file": old_spec.file if old_spec is not None else None,
            "written": spec.file,
            "backup": backup.name if backup else None,
            "manifest": manifest_copy.name,
            "source": result.source_name,
        }
        record_text = json.dumps(record, ensure_ascii=False, indent=1)
        tx.write_bytes(history / f"{layer_id}-{stamp}.json", record_text.encode("utf-8"))
    except BaseException:
        tx.abort()
        raise
    tx.commit()
    return backup


def history(dataset_dir: str | Path, layer_id: str) -> list[dict[str, Any]]:
    """Earlier versions of a layer kept by :func:`commit`, newest first."""
    folder = Path(dataset_dir) / HISTORY_DIR
    records = []
    for path in sorted(folder.glob(f"{layer_id}-*.json"), reverse=True):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if record.get("layer") == layer_id:
            records.append(record)
    return records


def undo_last(
    dataset_dir: str | Path, layer_id: str, *, timeout_s: float = DEFAULT_WAIT_S
) -> dict[str, Any]:
    """Put back the version of a layer from before its last import.

    Parameters
    ----------
    dataset_dir
        The dataset directory.
    layer_id
        The layer.
    timeout_s
        Longest wait for another writer of the same dataset (seconds).

    Returns
    -------
    dict
        The history record undone (its files move to ``.history/undone/``).

    Raises
    ------
    IngestError
        If there is nothing to undo for the layer, or another writer held the dataset too
        long.
    """
    data_dir = Path(dataset_dir)
    _refuse_bundled(data_dir)
    with _locked(data_dir, timeout_s):
        return _undo_locked(data_dir, layer_id)


def _undo_locked(data_dir: Path, layer_id: str) -> dict[str, Any]:
    """:func:`undo_last` for a caller holding the dataset's lock."""
    records = history(data_dir, layer_id)
    if not records:
        raise IngestError(f"no earlier version of layer {layer_id!r} in {data_dir / HISTORY_DIR}")
    record = records[0]
    folder = data_dir / HISTORY_DIR
    try:
        old_manifest = Manifest.model_validate(
            yaml.safe_load((folder / record["manifest"]).read_text(encoding="utf-8"))
        )
        current = read_manifest(data_dir)
    except (OSError, ValueError, yaml.YAMLError, DatasetError) as exc:
        raise IngestError(f"cannot undo the import of {layer_id!r}: {exc}") from exc
    old_spec = next((s for s in old_manifest.layers if s.id == layer_id), None)
    written = data_dir / str(record["written"])
    tx = Transaction(data_dir)
    try:
        restored = data_dir / str(record["file"]) if record.get("backup") else None
        if restored is not None:
            tx.copy(folder / record["backup"], restored)
        if restored != written:
            tx.delete(written)
        manifest = _with_spec(current, old_spec, layer_id)
        tx.write_bytes(MANIFEST_NAME, manifest_text(manifest).encode("utf-8"))
        stem = f"{layer_id}-{record['stamp']}"
        for path in sorted(folder.glob(f"{stem}*")):
            tx.move(path, folder / "undone" / path.name)
    except BaseException:
        tx.abort()
        raise
    tx.commit()
    return record
