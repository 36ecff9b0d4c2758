"""The layer catalog: a manifest describing every layer, and the validated :class:`Dataset`.

A dataset is a directory holding ``manifest.yaml`` and the layer files it names. The bundled
Qujiang dataset lives in the repository's ``layers/`` directory; any other directory with the
same manifest format is another dataset (``--data DIR`` on the command line).

Frames are held in WGS84 (EPSG:4326) for display; :meth:`Dataset.metric` gives the same frame in
the metric CRS (EPSG:4547, CGCS2000 3-degree Gauss-Krüger CM 114°E) for analysis.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pyproj import CRS
from pyproj.exceptions import CRSError

from qjgeo.crs import METRIC_CRS, WGS84_CRS, metric_crs_for
from qjgeo.params import DEFAULT_PARAMS, PlanningParams
from qjgeo.places import bundled_path, working_dataset_dir
from qjgeo.schema import (
    GEOMETRY_TYPES,
    PROVENANCES,
    REQUIRED_COLUMNS,
    WEAK_PROVENANCES,
    Provenance,
)
from qjgeo.transaction import recover_if_idle

MANIFEST_NAME = "manifest.yaml"
#: The bundled Qujiang dataset (read-only): the checkout's ``layers/``, or its copy in an installed
#: wheel (:func:`qjgeo.places.bundled_path`). Writes go to the planner's working copy instead
#: (:func:`qjgeo.places.working_dataset_dir`).
DEFAULT_DATA_DIR = bundled_path("layers")


class DatasetError(ValueError):
    """A dataset directory, manifest or layer file is unusable; the message names which."""


LayerKind = Literal["admin", "facility", "hazard", "network", "other"]


class LayerSpec(BaseModel):
    """One layer's entry in the manifest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title_zh: str
    title_en: str
    kind: LayerKind
    geometry_type: str
    file: str
    crs: str = WGS84_CRS
    provenance: Provenance
    source: str
    licence: str
    as_of: str
    required_attributes: tuple[str, ...] = ()
    #: Provenance of single attributes that differ from the features' own, e.g. the
    #: village ``tap_water`` flag invented for demonstration (``{tap_water: sample}``)
    #: while the villages themselves are ``estimated``. A result reading the attribute
    #: rests on it (:meth:`Dataset.data_status`).
    attribute_provenance: dict[str, Provenance] = Field(default_factory=dict)
    notes: str = ""

    @field_validator("file")
    @classmethod
    def _relative_file(cls, value: str) -> str:
        path = Path(value)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError(f"file must be a path inside the dataset directory, got {value!r}")
        return value


class DatasetInfo(BaseModel):
    """Dataset-level facts: what it is, where it comes from, how it was built."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title_zh: str
    title_en: str
    description: str = ""
    built_by: str = ""
    attribution: str = ""
    #: The network file of each travel mode inside the dataset, e.g. ``{walk: network/walk.npz}``.
    networks: dict[str, str] = Field(default_factory=dict)


class Manifest(BaseModel):
    """The whole manifest file: dataset info and one entry per layer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: DatasetInfo
    layers: tuple[LayerSpec, ...]

    @field_validator("layers")
    @classmethod
    def _unique_ids(cls, layers: tuple[LayerSpec, ...]) -> tuple[LayerSpec, ...]:
        seen: set[str] = set()
        for spec in layers:
            if spec.id in seen:
                raise ValueError(f"layer id {spec.id!r} appears twice")
            seen.add(spec.id)
        return layers


def read_manifest(data_dir: Path) -> Manifest:
    """Read and validate ``manifest.yaml`` in a dataset directory.

    Parameters
    ----------
    data_dir
        The dataset directory.

    Returns
    -------
    Manifest
        The validated manifest.

    Raises
    ------
    DatasetError
        If the directory or manifest is missing, not YAML, or does not match the format.
    """
    path = Path(data_dir) / MANIFEST_NAME
    if not Path(data_dir).is_dir():
        raise DatasetError(f"dataset directory {data_dir} does not exist")
    if not path.is_file():
        raise DatasetError(
            f"{path}: no manifest (expected {MANIFEST_NAME} in the dataset directory)"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: not readable YAML: {exc}") from exc
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(_describe_loc(raw, err['loc']))}: {err['msg']}"
            + (f" (got {err['input']!r})" if not isinstance(err["input"], dict | list) else "")
            for err in exc.errors()
        )
        raise DatasetError(f"{path}: {problems}") from exc


def _describe_loc(raw: Any, loc: tuple[Any, ...]) -> list[str]:
    """Turn a pydantic error location into key names, naming layers by id."""
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node):
            item = node[key]
            label = item.get("id") if isinstance(item, dict) else None
            parts[-1:] = [f"{parts[-1] if parts else ''}[{label or key}]"]
            node = item
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return parts


def _check_crs(spec: LayerSpec, where: str) -> CRS:
    try:
        return CRS.from_user_input(spec.crs)
    except CRSError as exc:
        raise DatasetError(f"layer {spec.id!r} ({where}): unknown CRS {spec.crs!r}") from exc


def _read_layer(data_dir: Path, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Read and validate one layer file, returning it in WGS84."""
    path = data_dir / spec.file
    where = f"file {path}"
    declared = _check_crs(spec, where)
    if not path.is_file():
        raise DatasetError(f"layer {spec.id!r}: file {path} does not exist")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise DatasetError(f"layer {spec.id!r}: cannot read {where}: {exc}") from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise DatasetError(f"layer {spec.id!r}: {where} has no geometry column")
    file_crs = frame.crs
    if file_crs is not None and not CRS.from_user_input(file_crs).equals(
        declared, ignore_axis_order=True
    ):
        raise DatasetError(
            f"layer {spec.id!r}: {where} is in {file_crs.to_string()}, "
            f"but the manifest says crs {spec.crs!r}"
        )
    frame = frame.set_crs(declared, allow_override=True)

    required = tuple(dict.fromkeys((*spec.required_attributes, *REQUIRED_COLUMNS.get(spec.id, ()))))
    missing = [col for col in required if col not in frame.columns]
    if missing:
        raise DatasetError(f"layer {spec.id!r}: {where} is missing column(s) {', '.join(missing)}")

    geoms = frame.geometry.array
    bad_rows = [int(i) for i in range(len(frame)) if geoms[i] is None or geoms[i].is_empty]
    if bad_rows:
        raise DatasetError(
            f"layer {spec.id!r}: {where} has empty or missing geometry in row(s) "
            f"{_row_list(bad_rows)}"
        )
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        rows = [int(i) for i in invalid.nonzero()[0]]
        raise DatasetError(
            f"layer {spec.id!r}: {where} has invalid geometry in row(s) {_row_list(rows)}"
        )
    allowed = GEOMETRY_TYPES.get(spec.id)
    if allowed is not None:
        types = frame.geom_type
        wrong = [int(i) for i in (~types.isin(allowed)).to_numpy().nonzero()[0]]
        if wrong:
            raise DatasetError(
                f"layer {spec.id!r}: {where} row(s) {_row_list(wrong)} are "
                f"{types.iloc[wrong[0]]}, expected {' or '.join(allowed)}"
            )

    if "provenance" in frame.columns:
        bad = ~frame["provenance"].isin(PROVENANCES)
        if bad.any():
            first = int(bad.to_numpy().nonzero()[0][0])
            raise DatasetError(
                f"layer {spec.id!r}: {where} row {first + 1} column 'provenance' has "
                f"{frame['provenance'].iloc[first]!r}; expected one of {', '.join(PROVENANCES)}"
            )
    else:
        frame["provenance"] = spec.provenance

    if "id" in frame.columns and frame["id"].duplicated().any():
        dup = frame.loc[frame["id"].duplicated(), "id"].iloc[0]
        raise DatasetError(f"layer {spec.id!r}: {where} column 'id' repeats the value {dup!r}")

    frame = frame.to_crs(WGS84_CRS)
    bounds = frame.total_bounds
    if len(frame) and not (
        -180 <= bounds[0] <= bounds[2] <= 180 and -90 <= bounds[1] <= bounds[3] <= 90
    ):
        raise DatasetError(
            f"layer {spec.id!r}: {where} coordinates fall outside longitude/latitude range "
            f"once read as {spec.crs!r}; is the crs in the manifest right?"
        )
    return frame


def _row_list(rows: list[int]) -> str:
    shown = ", ".join(str(r + 1) for r in rows[:5])
    return shown + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")


@dataclass(frozen=True)
class Dataset:
    """A validated set of layers.

    Frames are WGS84 for display. Treat returned frames as read-only: derive new
    datasets with :meth:`with_layer` instead of mutating them.
    """

    info: DatasetInfo
    specs: Mapping[str, LayerSpec]
    frames: Mapping[str, gpd.GeoDataFrame]
    root: Path | None = None
    params: PlanningParams = DEFAULT_PARAMS
    #: Name of the scenario applied to this dataset (``None`` for the baseline).
    scenario_name: str | None = None
    _metric_cache: dict[str, gpd.GeoDataFrame] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def layer_ids(self) -> tuple[str, ...]:
        """Layer ids in manifest order."""
        return tuple(self.specs)

    def has(self, layer_id: str) -> bool:
        """Whether the dataset holds a layer of this id."""
        return layer_id in self.frames

    def spec(self, layer_id: str) -> LayerSpec:
        """The manifest entry of a layer."""
        self._require(layer_id)
        return self.specs[layer_id]

    def layer(self, layer_id: str) -> gpd.GeoDataFrame:
        """A layer in WGS84 (EPSG:4326), for display."""
        self._require(layer_id)
        return self.frames[layer_id]

    @cached_property
    def metric_crs(self) -> str:
        """The metric CRS of distances and areas, chosen from where the data lies.

        :data:`qjgeo.crs.METRIC_CRS` (CGCS2000 Gauss–Krüger, EPSG:4547) for Qujiang and
        anything else in its zone, the local UTM zone elsewhere (an OSM extract abroad):
        :func:`qjgeo.crs.metric_crs_for` of the centre of the district outline, else of
        all layers.
        """
        frames = (
            [self.frames["district"]]
            if self.has("district") and len(self.frames["district"])
            else [f for f in self.frames.values() if len(f)]
        )
        bounds = [f.total_bounds for f in frames if not f.geometry.is_empty.all()]
        if not bounds:
            return METRIC_CRS
        west = min(b[0] for b in bounds)
        east = max(b[2] for b in bounds)
        south = min(b[1] for b in bounds)
        north = max(b[3] for b in bounds)
        return metric_crs_for((west + east) / 2, (south + north) / 2)

    def metric(self, layer_id: str) -> gpd.GeoDataFrame:
        """A layer in the dataset's metric CRS (:attr:`metric_crs`), for distances and areas."""
        self._require(layer_id)
        cached = self._metric_cache.get(layer_id)
        if cached is None:
            cached = self.frames[layer_id].to_crs(self.metric_crs)
            self._metric_cache[layer_id] = cached
        return cached

    def with_layer(
        self, layer_id: str, frame: gpd.GeoDataFrame, spec: LayerSpec | None = None
    ) -> Dataset:
        """Return a new dataset with one layer replaced (or added).

        Parameters
        ----------
        layer_id
            The layer to replace or add.
        frame
            The new features, in any CRS (converted to WGS84).
        spec
            The layer's manifest entry; defaults to the existing one.
        """
        if spec is None:
            self._require(layer_id)
            spec = self.specs[layer_id]
        frames = dict(self.frames)
        frames[layer_id] = (
            frame.to_crs(WGS84_CRS) if frame.crs is not None else frame.set_crs(WGS84_CRS)
        )
        specs = dict(self.specs)
        specs[layer_id] = spec
        # other layers' metric frames stay valid unless the outline (which sets the CRS) moved
        kept = (
            {}
            if layer_id == "district"
            else {k: v for k, v in self._metric_cache.items() if k != layer_id}
        )
        return replace(self, specs=specs, frames=frames, _metric_cache=kept)

    def with_params(self, params: PlanningParams) -> Dataset:
        """Return a new dataset using other planning parameters (frames shared)."""
        return replace(self, params=params, _metric_cache=self._metric_cache)

    def provenance_of(self, layer_id: str) -> frozenset[str]:
        """The set of provenance values of a layer's features (the layer's own if empty)."""
        frame = self.layer(layer_id)
        if len(frame) == 0:
            return frozenset({self.specs[layer_id].provenance})
        return frozenset(str(v) for v in frame["provenance"].unique())

    def attribute_provenance_of(self, layer_id: str, columns: Iterable[str]) -> frozenset[str]:
        """The declared provenances of some attributes of a layer (empty when none declared).

        Parameters
        ----------
        layer_id
            The layer.
        columns
            The attributes read (e.g. ``["tap_water"]``).
        """
        declared = self.spec(layer_id).attribute_provenance
        return frozenset(str(declared[c]) for c in columns if c in declared)

    def weak_layers(
        self,
        layer_ids: Iterable[str] | None = None,
        attributes: Mapping[str, Iterable[str]] | None = None,
    ) -> dict[str, frozenset[str]]:
        """Layers resting on estimated or sample data, with the weak provenances found.

        ``attributes`` (layer → columns read) adds the declared provenance of those
        attributes (:attr:`LayerSpec.attribute_provenance`) to the features' own.
        """
        ids = self.layer_ids if layer_ids is None else [i for i in layer_ids if self.has(i)]
        out: dict[str, frozenset[str]] = {}
        for layer_id in ids:
            found = self.provenance_of(layer_id) | self.attribute_provenance_of(
                layer_id, (attributes or {}).get(layer_id, ())
            )
            weak = found & WEAK_PROVENANCES
            if weak:
                out[layer_id] = frozenset(weak)
        return out

    def data_status(
        self, layer_ids: Iterable[str], attributes: Mapping[str, Iterable[str]] | None = None
    ) -> str:
        """Summarise the provenance a result rests on.

        Returns the weakest provenance among the layers' features, in the order
        ``"sample"`` > ``"estimated"`` > ``"osm"`` > ``"user"`` > ``"official"``: a result
        resting on any sample feature is ``"sample"``; one resting only on official records
        is ``"official"``. ``attributes`` (layer → columns read) adds the declared
        provenance of those attributes: a share of villages with tap water reads an
        invented ``tap_water`` flag and is ``"sample"`` although the villages are
        ``"estimated"``.
        """
        found: set[str] = set()
        for layer_id in layer_ids:
            if self.has(layer_id):
                found |= self.provenance_of(layer_id)
                found |= self.attribute_provenance_of(
                    layer_id, (attributes or {}).get(layer_id, ())
                )
        for status in ("sample", "estimated", "osm", "user"):
            if status in found:
                return status
        return "official"

    def demand_source(self) -> str:
        """Which demand (residents and children) results rest on: the village layer's source.

        ``""`` when the dataset has no village layer. Shown with every result counting
        children, so an estimate (``qjgeo demand``) is never read as a census.
        """
        if "village" not in self.specs:
            return ""
        spec = self.specs["village"]
        return f"{spec.title_en} [{spec.provenance}]: {spec.source}"

    def _require(self, layer_id: str) -> None:
        if layer_id not in self.frames:
            available = ", ".join(self.frames) or "none"
            raise KeyError(f"dataset {self.info.id!r} has no layer {layer_id!r} (has: {available})")


def load_dataset(path: str | Path | None = None) -> Dataset:
    """Load and validate a dataset directory.

    Parameters
    ----------
    path
        A directory holding ``manifest.yaml``. When ``None``: the planner's working copy in the
        user data folder if one was made (by an import), else the bundled Qujiang dataset
        (:func:`qjgeo.places.working_dataset_dir`).

    Returns
    -------
    Dataset
        Every layer validated and held in WGS84.

    Raises
    ------
    DatasetError
        Naming the layer, file and column of the first problem found.

    Notes
    -----
    When no writer is at work, an import a killed process committed is finished and its
    temporary files are removed first (:func:`qjgeo.transaction.recover_if_idle`).
    """
    data_dir = Path(path) if path is not None else working_dataset_dir(create=False)
    recover_if_idle(data_dir)  # finish or clear what a killed writer left
    manifest = read_manifest(data_dir)
    frames = {spec.id: _read_layer(data_dir, spec) for spec in manifest.layers}
    return Dataset(
        info=manifest.dataset,
        specs={spec.id: spec for spec in manifest.layers},
        frames=frames,
        root=data_dir.resolve(),
    )


def layer_table(dataset: Dataset) -> pd.DataFrame:
    """One row per layer: id, titles, feature count, provenance, CRS, source.

    Parameters
    ----------
    dataset
        The dataset to describe.
    """
    rows = []
    for layer_id in dataset.layer_ids:
        spec = dataset.spec(layer_id)
        counts = dataset.layer(layer_id)["provenance"].value_counts()
        rows.append(
            {
                "id": layer_id,
                "title_zh": spec.title_zh,
                "title_en": spec.title_en,
                "kind": spec.kind,
                "features": len(dataset.layer(layer_id)),
                "provenance": ", ".join(f"{k} {v}" for k, v in counts.items()) or spec.provenance,
                "crs": spec.crs,
                "source": spec.source,
                "licence": spec.licence,
                "as_of": spec.as_of,
            }
        )
    return pd.DataFrame(rows)


def today_iso() -> str:
    """Today's date as ISO text (used in export footers)."""
    return dt.date.today().isoformat()
