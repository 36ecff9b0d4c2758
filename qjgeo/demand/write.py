"""Store estimated demand in a dataset folder: the ``village`` layer, its method, the totals.

:func:`write_demand` replaces (or adds) the dataset's ``village`` layer with the estimate's
units, adds ``demand_area`` (the hexagons, for the map) when the units are hexagons, writes
the resident total and the child bands on the ``district`` layer, and records the method in
the manifest (the ``village`` layer's source and notes; the dataset description). It holds the
folder's lock and changes every file in one crash-safe transaction; the previous ``village``
file and manifest are kept under ``.history/``.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import geopandas as gpd
import pyogrio
import yaml

from qjgeo.catalog import MANIFEST_NAME, LayerSpec, Manifest, load_dataset, read_manifest
from qjgeo.demand.estimate import DemandError, DemandEstimate
from qjgeo.locking import folder_lock
from qjgeo.places import is_bundled
from qjgeo.schema import AGE_BANDS, REQUIRED_COLUMNS
from qjgeo.transaction import Transaction, recover

__all__ = ["DEMAND_AREA_LAYER", "write_demand"]

DEMAND_AREA_LAYER = "demand_area"
_HISTORY = ".history"


def _writer(frame: gpd.GeoDataFrame, layer: str, driver: str):  # type: ignore[no-untyped-def]
    out = frame.copy()
    for col in out.columns:
        if col != "geometry" and out[col].dtype == object:
            out[col] = out[col].where(out[col].notna(), None)

    def write(path: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pyogrio.write_dataframe(out, path, driver=driver, layer=layer)

    return write


def _driver(file: str) -> str:
    return "GeoJSON" if file.lower().endswith((".geojson", ".json")) else "GPKG"


def _village_spec(estimate: DemandEstimate, old: LayerSpec | None) -> LayerSpec:
    if estimate.refines and old is not None:  # the same villages, moved and re-weighted
        return old.model_copy(
            update={
                "file": old.file if _driver(old.file) == "GPKG" else "village.gpkg",
                "source": f"{old.source}; {estimate.source}",
                "notes": f"{old.notes} {estimate.method}".strip(),
                "as_of": dt.date.today().isoformat(),
            }
        )
    hexagons = estimate.cells is not None
    return LayerSpec(
        id="village",
        title_zh="人口需求单元（六边形，估算）" if hexagons else "居民点（人口估算）",
        title_en="Demand units (estimated residents and children)",
        kind="admin",
        geometry_type="Point",
        file=old.file if old is not None and _driver(old.file) == "GPKG" else "village.gpkg",
        provenance="estimated",
        source=estimate.source,
        licence="ODbL 1.0 (OSM inputs) / as the population input"
        if "OSM" in estimate.source
        else "as the population input",
        as_of=dt.date.today().isoformat(),
        required_attributes=REQUIRED_COLUMNS["village"],
        notes=estimate.method,
    )


def _area_spec(estimate: DemandEstimate) -> LayerSpec:
    return LayerSpec(
        id=DEMAND_AREA_LAYER,
        title_zh="人口需求单元范围（六边形）",
        title_en="Demand-unit areas (hexagons)",
        kind="other",
        geometry_type="Polygon",
        file=f"{DEMAND_AREA_LAYER}.gpkg",
        provenance="estimated",
        source=estimate.source,
        licence="as the village layer",
        as_of=dt.date.today().isoformat(),
        notes="The hexagons of the village layer's units (same code12 and counts).",
    )


def _with_district(district: gpd.GeoDataFrame, estimate: DemandEstimate) -> gpd.GeoDataFrame:
    out = district.copy()
    if len(out) == 1:
        out["population"] = estimate.population
        for band, count in estimate.band_totals.items():
            out[band] = count
        out["pop_0_14"] = sum(estimate.band_totals[b] for b in AGE_BANDS if b != "pop_0_14")
    return out


def write_demand(data_dir: str | Path, estimate: DemandEstimate) -> Path:
    """Write an estimate into a dataset folder as its ``village`` layer (locked, atomic).

    Parameters
    ----------
    data_dir
        The dataset folder (not the bundled data).
    estimate
        From :func:`qjgeo.demand.estimate.estimate_from_osm` or the raster path.

    Returns
    -------
    pathlib.Path
        The folder, which loads with the new layer.

    Raises
    ------
    DemandError
        For the bundled (read-only) dataset.
    """
    folder = Path(data_dir)
    if is_bundled(folder):
        raise DemandError(
            "内置数据只读，请指定 --data 或先复制 / the bundled data are read-only: "
            "give --data DIR (a dataset folder of yours)"
        )
    with folder_lock(folder):
        recover(folder)
        manifest = read_manifest(folder)
        dataset = load_dataset(folder)
        _commit(folder, manifest, dataset.frames.get("district"), estimate)
    load_dataset(folder)
    return folder


def _commit(
    folder: Path, manifest: Manifest, district: gpd.GeoDataFrame | None, estimate: DemandEstimate
) -> None:
    specs = {s.id: s for s in manifest.layers}
    village = _village_spec(estimate, specs.get("village"))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    (folder / _HISTORY).mkdir(exist_ok=True)
    tx = Transaction(folder)
    try:
        old = specs.get("village")
        if old is not None and (folder / old.file).is_file():
            tx.copy(
                folder / old.file, folder / _HISTORY / f"village-{stamp}{Path(old.file).suffix}"
            )
        tx.copy(folder / MANIFEST_NAME, folder / _HISTORY / f"village-{stamp}.manifest.yaml")
        tx.write_with(folder / village.file, _writer(estimate.units, "village", "GPKG"))
        if old is not None and old.file != village.file and (folder / old.file).is_file():
            tx.delete(folder / old.file)  # kept in .history above
        new_specs = {**specs, "village": village}
        if estimate.cells is not None:
            area = _area_spec(estimate)
            tx.write_with(folder / area.file, _writer(estimate.cells, area.id, "GPKG"))
            new_specs[area.id] = area
        else:
            new_specs.pop(DEMAND_AREA_LAYER, None)
        if district is not None and "district" in specs and not estimate.refines:
            spec = specs["district"]
            frame = _with_district(district, estimate)
            tx.write_with(folder / spec.file, _writer(frame, "district", _driver(spec.file)))
            note = f"population {estimate.population} and child bands: as given to qjgeo demand"
            new_specs["district"] = spec.model_copy(
                update={
                    "notes": (spec.notes.split(" Population:")[0] + f" Population: {note}.").strip()
                }
            )
        text = _manifest_text(manifest.model_copy(update={"layers": tuple(new_specs.values())}))
        tx.write_bytes(MANIFEST_NAME, text.encode("utf-8"))
    except BaseException:
        tx.abort()
        raise
    tx.commit()


def _manifest_text(manifest: Manifest) -> str:
    raw = manifest.model_dump(mode="json")
    for layer in raw["layers"]:
        if not layer.get("attribute_provenance"):
            layer.pop("attribute_provenance", None)
    body = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=100)
    return "# Edited by qjgeo demand (previous versions in .history/).\n" + body
