"""Turn an OpenStreetMap extract into a qjgeo dataset directory, offline.

``import_osm("area.osm.bz2", "data/area")`` reads an OSM XML file (``.osm``, ``.osm.bz2``; a
``.osm.pbf`` or ``clip=``/``bbox=`` is cut first by :mod:`qjgeo.osm_pbf`) and writes a dataset
directory in the manifest format of :mod:`qjgeo.catalog`, so every command (``--data DIR``)
runs on any OSM extract. Nothing is downloaded.

Tag mapping
-----------
:data:`LAYER_TAGS` is the one table of OSM tags per layer (the ledger importer's OSM XML
reader, :mod:`qjgeo.ingest.readers`, uses it too); :data:`OSM_TAGS` and the per-layer
selection (:func:`select_layer`) are derived from it. A feature belongs to a layer when any
of the layer's tags matches; the first matching key (in table order) gives ``kind``.

================ ===================================================================
layer            OSM tags
================ ===================================================================
park             ``leisure=park|playground``; ``has_play_area`` is true for a
                 playground and for a park that contains a mapped playground
kindergarten     ``amenity=kindergarten``
childcare        ``amenity=childcare``
primary_school   ``amenity=school``. OSM does not say primary or secondary unless
                 ``isced:level`` / ``school`` tags exist: ``school_level`` holds those
                 tags (``"unknown"`` otherwise) and every school is kept
science_venue    ``tourism=museum``, ``amenity=library`` (candidates: whether a venue
                 offers children's science activities is not in OSM)
health_centre    ``amenity=hospital|clinic|doctors``, ``healthcare=*`` (any value, so
                 also pharmacies, dentists…: ``kind`` says which); doctor and bed
                 counts are not in OSM
internet_cafe    ``amenity=internet_cafe``, ``leisure=amusement_arcade``
water_hazard     ``waterway=river|stream|canal``, ``water=reservoir|pond``,
                 ``natural=water``, ``landuse=reservoir``
district         the extract's ``<bounds>`` box (else the bounding box of its nodes),
                 population unknown (0, said in the notes)
================ ===================================================================

``family_edu_station`` (家庭教育指导站), ``children_home`` (儿童之家) and
``minors_protection_station`` (未成年人保护工作站) have no OSM tag that identifies them
(:data:`NO_OSM_TAG_LAYERS`): they are never guessed from OSM; import a ledger instead.
``middle_school`` (初中) is in that list too: every ``amenity=school`` goes to
``primary_school`` (its ``school_level`` tells a middle school apart when tagged), so no
school is counted twice.

What OSM does not hold is stated, never invented: ``places`` is the ``capacity`` tag or
empty (NaN) when untagged; ``puhui`` (普惠) is false with ``puhui_known`` false; the health-centre counts
(``gp_or_paediatrician``, ``child_health_doctors``, ``paediatric_doctors``,
``paediatric_beds``) are empty (NaN) with ``counts_known`` false; water
``fenced`` / ``warning_signs`` / ``rescue_equipment`` are false with ``protection_known``
false; ``township_code`` is empty. There are no township or village layers: the coverage
gaps need villages with children as demand and report "not available" until ``qjgeo demand``
estimates them from the ``osm_building`` / ``osm_landuse`` / ``osm_place`` layers (kind
``other``) kept for it (:mod:`qjgeo.demand.osm_layers`). Features whose geometry is incomplete in the extract (e.g. a relation
whose member ways were cut off) are left out by osmnx; the number is given in the notes.

Point layers take a point inside each polygon (``representative_point``). Layers are
written as GeoPackage, which keeps the column schema even for a layer with no features
(an empty layer means "none mapped in this extract"). The networks of the three travel
modes (:func:`qjgeo.modes.networks_from_osm_file`: walking, cycling, driving with one-way
streets and travel times) are saved as ``network/walk.npz``, ``network/bike.npz`` and
``network/drive.npz`` and listed in the manifest (``dataset.networks``), in
:data:`qjgeo.crs.METRIC_CRS` when the extract lies in its area of use (Qujiang) and in the
local UTM zone otherwise; ``qjgeo gaps`` uses it by default. Every feature has provenance
``osm``; the data are © OpenStreetMap contributors under the ODbL 1.0, which the manifest
records as the dataset's attribution.

The directory is written to a temporary sibling and renamed into place only once it
loads with :func:`qjgeo.load_dataset`; a failure leaves nothing half-written, and an
existing non-empty directory is only replaced with ``overwrite=True``.
"""

from __future__ import annotations

import bz2
import datetime as dt
import shutil
import tempfile
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import defusedxml.ElementTree as DefusedET
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import yaml
from defusedxml import DefusedXmlException
from shapely.geometry.base import BaseGeometry

from qjgeo.catalog import MANIFEST_NAME, DatasetInfo, LayerSpec, Manifest, load_dataset
from qjgeo.crs import WGS84_CRS, metric_crs_for
from qjgeo.demand.osm_layers import demand_source_layers, demand_source_specs
from qjgeo.fileio import current_umask
from qjgeo.locking import folder_lock
from qjgeo.osm_pbf import PBF_SUFFIXES, OsmClipError, clipped_extract, is_pbf
from qjgeo.osm_tags import (
    LAYER_TAGS,
    NO_OSM_TAG_LAYERS,
    OSM_TAGS,
    READ_TAGS,
    describe_tags,
    select_layer,
    tag_is,
    tag_matches,
    tag_values,
    union_tags,
)
from qjgeo.schema import POPULATION_COLUMNS

if TYPE_CHECKING:
    from qjgeo.modes import ModeNetwork
    from qjgeo.network import WalkGraph

__all__ = [
    "ATTRIBUTION",
    "LAYER_TAGS",
    "LICENCE",
    "NETWORK_FILE",
    "NO_OSM_TAG_LAYERS",
    "OSM_TAGS",
    "READ_TAGS",
    "SOURCE",
    "OsmImportError",
    "classify_features",
    "describe_tags",
    "import_extract",
    "import_osm",
    "select_layer",
    "union_tags",
]

SOURCE = "© OpenStreetMap contributors"
LICENCE = "ODbL 1.0"
ATTRIBUTION = (
    "Map data © OpenStreetMap contributors, available under the Open Database Licence "
    "(ODbL 1.0), https://www.openstreetmap.org/copyright"
)
#: File of the walking network inside an imported dataset directory (datasets imported
#: before travel modes have ``network.npz``, still read as the walking network).
NETWORK_FILE = "network/walk.npz"
#: The network file of each travel mode.
NETWORK_FILES = {mode: f"network/{mode}.npz" for mode in ("walk", "bike", "drive")}


class OsmImportError(ValueError):
    """The OSM file cannot be imported or the output directory cannot be written."""


@dataclass(frozen=True)
class _LayerDef:
    id: str
    title_zh: str
    title_en: str
    kind: str
    points: bool
    notes: str


_UNKNOWN = "not in OSM"

_LAYERS: tuple[_LayerDef, ...] = (
    _LayerDef(
        "park",
        "公园与儿童游戏场地",
        "Parks and playgrounds",
        "facility",
        True,
        "has_play_area: a playground, or a park containing a mapped playground; "
        "child_friendly_base: " + _UNKNOWN + " (false).",
    ),
    _LayerDef(
        "kindergarten",
        "幼儿园",
        "Kindergartens",
        "facility",
        True,
        "places: capacity tag (empty when untagged); puhui: "
        + _UNKNOWN
        + " (false, puhui_known false).",
    ),
    _LayerDef(
        "childcare",
        "托育机构",
        "Childcare",
        "facility",
        True,
        "places: capacity tag (empty when untagged); puhui: "
        + _UNKNOWN
        + " (false, puhui_known false).",
    ),
    _LayerDef(
        "primary_school",
        "学校（小学候选）",
        "Schools (primary-school candidates)",
        "facility",
        True,
        "OSM does not say primary or secondary unless isced:level / school tags exist; "
        "school_level holds them ('unknown' otherwise) and every school is kept.",
    ),
    _LayerDef(
        "science_venue",
        "科普场所候选（图书馆、博物馆）",
        "Science-venue candidates (libraries, museums)",
        "facility",
        True,
        "candidates only; whether a venue runs children's science activities is " + _UNKNOWN + ".",
    ),
    _LayerDef(
        "health_centre",
        "医疗机构（医院、诊所、卫生院候选）",
        "Health facilities (hospitals, clinics, doctors)",
        "facility",
        True,
        "kind: the amenity value, else the healthcare value (healthcare=* also tags "
        "pharmacies, dentists…: filter on kind); whether a facility is a township health "
        "centre (卫生院) and its doctor and bed counts (gp_or_paediatrician, "
        "child_health_doctors, paediatric_doctors, paediatric_beds) are "
        + _UNKNOWN
        + " (empty, counts_known false).",
    ),
    _LayerDef(
        "internet_cafe",
        "网吧 / 游戏厅",
        "Internet cafés / game halls",
        "facility",
        True,
        "kind: internet_cafe or amusement_arcade; such venues are often unmapped in OSM, "
        "so a missing venue is not evidence that there is none; licensing and whether "
        "minors are admitted are " + _UNKNOWN + ".",
    ),
    _LayerDef(
        "water_hazard",
        "水体（溺水隐患候选）",
        "Water bodies (drowning-hazard candidates)",
        "hazard",
        False,
        "fenced / warning_signs / rescue_equipment are " + _UNKNOWN + " (false, "
        "protection_known false): survey before reporting a hazard as unprotected.",
    ),
)

_EXTRA_COLUMNS: dict[str, dict[str, Any]] = {
    "park": {"has_play_area": False, "child_friendly_base": False},
    "kindergarten": {"places": np.nan, "puhui": False, "puhui_known": False},
    "childcare": {"places": np.nan, "puhui": False, "puhui_known": False},
    "primary_school": {"places": np.nan, "school_level": "unknown"},
    "science_venue": {"youth_science_base": False, "child_friendly_base": False},
    "health_centre": {
        "gp_or_paediatrician": np.nan,
        "child_health_doctors": np.nan,
        "paediatric_doctors": np.nan,
        "paediatric_beds": np.nan,
        "counts_known": False,
    },
    "internet_cafe": {},
    "water_hazard": {
        "fenced": False,
        "warning_signs": False,
        "rescue_equipment": False,
        "protection_known": False,
    },
}


def _open(path: Path) -> IO[bytes]:
    return bz2.open(path, "rb") if path.name.lower().endswith(".bz2") else path.open("rb")


def _header(path: Path) -> tuple[tuple[float, float, float, float] | None, str | None]:
    """The ``<bounds>`` box and the ``timestamp`` of the ``<osm>`` element, if present."""
    bounds: tuple[float, float, float, float] | None = None
    stamp: str | None = None
    try:
        with _open(path) as handle:
            for _event, elem in DefusedET.iterparse(handle, events=("start",), forbid_dtd=True):
                if elem.tag == "osm":
                    stamp = elem.get("timestamp")
                elif elem.tag == "bounds":
                    keys = ("minlon", "minlat", "maxlon", "maxlat")
                    if all(elem.get(k) is not None for k in keys):
                        b = tuple(float(elem.get(k, "nan")) for k in keys)
                        bounds = (b[0], b[1], b[2], b[3])
                elif elem.tag in ("node", "way", "relation"):
                    break
    except DefusedXmlException as exc:
        raise OsmImportError(
            f"{path}: XML declaring entities or a DTD (<!DOCTYPE …>) is refused "
            "（含实体或 DTD 声明的 XML 文件不予导入）"
        ) from exc
    except (ET.ParseError, OSError, EOFError) as exc:
        raise OsmImportError(f"{path}: not a readable OSM XML file: {exc}") from exc
    return bounds, stamp


def _node_bounds(path: Path) -> tuple[float, float, float, float] | None:
    """The bounding box of every node in the file (when it has no ``<bounds>``)."""
    lon: list[float] = []
    lat: list[float] = []
    try:
        with _open(path) as handle:
            for _event, elem in DefusedET.iterparse(handle, events=("end",), forbid_dtd=True):
                if elem.tag == "node":
                    try:
                        lon.append(float(elem.get("lon", "nan")))
                        lat.append(float(elem.get("lat", "nan")))
                    except ValueError:
                        pass
                    elem.clear()
    except (ET.ParseError, DefusedXmlException, OSError, EOFError) as exc:
        raise OsmImportError(f"{path}: not a readable OSM XML file: {exc}") from exc
    x, y = np.asarray(lon), np.asarray(lat)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        raise OsmImportError(f"{path}: the file holds no nodes: nothing to import")
    x, y = x[ok], y[ok]
    pad = 1e-4  # ≈ 10 m, so a single node still gives a polygon
    return (float(x.min()) - pad, float(y.min()) - pad, float(x.max()) + pad, float(y.max()) + pad)


def _read_features(path: Path) -> gpd.GeoDataFrame:
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", FutureWarning)
            frame = ox.features_from_xml(path, tags=READ_TAGS)
    except InsufficientResponseError:
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=WGS84_CRS), crs=WGS84_CRS)
    except (ET.ParseError, OSError, EOFError, ValueError) as exc:
        raise OsmImportError(f"{path}: cannot read OSM features: {exc}") from exc
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    return frame.set_crs(WGS84_CRS, allow_override=True)


def classify_features(features: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """Map OSM features (osmnx ``features_from_xml`` output) to qjgeo's canonical layers.

    Parameters
    ----------
    features
        OSM features indexed by ``(element, id)`` with tag columns, WGS84.

    Returns
    -------
    dict
        ``{layer_id: GeoDataFrame}`` for every layer of :data:`LAYER_TAGS` (possibly
        empty), each with the layer's required columns, provenance ``osm`` and WGS84
        geometry. A feature matching several layers' tags is in each of them.
    """
    if isinstance(features.index, pd.MultiIndex) and features.index.nlevels >= 2:
        elem = features.index.get_level_values(0).astype(str)
        osm_id = features.index.get_level_values(1).astype(str)
    else:
        elem = pd.Index(["feature"] * len(features))
        osm_id = features.index.astype(str)
    refs = pd.Series([f"{e}/{i}" for e, i in zip(elem, osm_id, strict=True)], index=features.index)
    playgrounds = features[tag_is(features, "leisure", ("playground",))].geometry
    out: dict[str, gpd.GeoDataFrame] = {}
    for layer in _LAYERS:
        mask = select_layer(features, layer.id).to_numpy(dtype=bool)
        sub = features[mask]
        geoms = sub.geometry.to_numpy()
        if layer.points and len(sub):
            geoms = shapely.point_on_surface(geoms)
        names = tag_values(sub, "name")
        kind = _kind(sub, layer.id)
        labels = [
            n if n else f"{k or layer.id} (unnamed, {r})"
            for n, k, r in zip(names, kind, refs[sub.index], strict=True)
        ]
        frame = pd.DataFrame(
            {
                "id": refs[sub.index].to_numpy(dtype=object),
                "name": np.asarray(labels, dtype=object),
                "township_code": np.full(len(sub), "", dtype=object),
                "kind": kind,
                "provenance": np.full(len(sub), "osm", dtype=object),
                "source": np.full(len(sub), SOURCE, dtype=object),
            }
        )
        for column, default in _EXTRA_COLUMNS[layer.id].items():
            frame[column] = pd.Series(
                [default] * len(sub),
                dtype=type(default) if not isinstance(default, float) else float,
            )
        if "places" in frame.columns and "capacity" in sub.columns:
            frame["places"] = pd.to_numeric(tag_values(sub, "capacity"), errors="coerce").to_numpy(
                dtype=float
            )
        if layer.id == "primary_school" and len(sub):
            level = tag_values(sub, "isced:level").fillna(tag_values(sub, "school"))
            frame["school_level"] = level.fillna("unknown").astype(object).to_numpy()
        if layer.id == "park" and len(sub):
            frame["has_play_area"] = _has_play_area(sub, playgrounds)
        out[layer.id] = gpd.GeoDataFrame(
            frame, geometry=gpd.GeoSeries(geoms, crs=WGS84_CRS), crs=WGS84_CRS
        )
    return out


def _kind(sub: pd.DataFrame, layer_id: str) -> np.ndarray:
    """The value of the first of the layer's tags that matches (in :data:`LAYER_TAGS` order)."""
    kind = pd.Series([None] * len(sub), index=sub.index, dtype=object)
    for key, values in LAYER_TAGS[layer_id].items():
        value = tag_values(sub, key)
        kind = kind.fillna(value.where(tag_matches(sub, key, values), None))
    return kind.fillna("").astype(object).to_numpy()


def _has_play_area(parks: pd.DataFrame, playgrounds: gpd.GeoSeries) -> np.ndarray:
    is_playground = tag_is(parks, "leisure", ("playground",)).to_numpy(dtype=bool)
    result = is_playground.copy()
    if len(playgrounds):
        tree = shapely.STRtree(playgrounds.to_numpy())
        park_idx, _ = tree.query(parks.geometry.to_numpy(), predicate="intersects")
        contains = np.zeros(len(parks), dtype=bool)
        contains[park_idx] = True
        result |= contains & ~is_playground
    return result


def _district(
    name: str,
    bounds: tuple[float, float, float, float] | None,
    layers: dict[str, gpd.GeoDataFrame],
    network_lonlat: np.ndarray | None,
    clip: BaseGeometry | None = None,
) -> gpd.GeoDataFrame:
    if clip is not None:
        outline = clip
    elif bounds is not None:
        outline = shapely.box(*bounds)
    else:
        parts = [shapely.union_all(f.geometry.to_numpy()) for f in layers.values() if len(f)]
        if network_lonlat is not None and len(network_lonlat):
            parts.append(shapely.multipoints(network_lonlat))
        if not parts:
            raise OsmImportError("the extract has no bounds, no features and no walkable ways")
        outline = shapely.convex_hull(shapely.union_all(parts))
        if outline.geom_type != "Polygon":
            outline = shapely.buffer(outline, 1e-4)
    row: dict[str, Any] = {"code": "osm", "name": name, "provenance": "osm", "source": SOURCE}
    row.update({c: 0 for c in POPULATION_COLUMNS})
    return gpd.GeoDataFrame([row], geometry=[outline], crs=WGS84_CRS)


def _spec(
    layer_id: str,
    title_zh: str,
    title_en: str,
    kind: str,
    geometry_type: str,
    as_of: str,
    source_file: str,
    notes: str,
) -> LayerSpec:
    return LayerSpec(
        id=layer_id,
        title_zh=title_zh,
        title_en=title_en,
        kind=kind,  # type: ignore[arg-type]
        geometry_type=geometry_type,
        file=f"{layer_id}.gpkg",
        crs=WGS84_CRS,
        provenance="osm",
        source=f"{SOURCE} ({source_file})",
        licence=LICENCE,
        as_of=as_of,
        notes=notes,
    )


def _write_layer(frame: gpd.GeoDataFrame, path: Path, layer_id: str) -> None:
    frame.to_file(path, driver="GPKG", layer=layer_id)


def _count_tagged(path: Path) -> int:
    """Tagged elements of interest in the file (for the 'left out' note)."""
    keys: dict[str, set[str] | None] = {
        k: (set(v) if isinstance(v, list) else None) for k, v in OSM_TAGS.items()
    }
    count = 0
    with _open(path) as handle:
        for _, elem in DefusedET.iterparse(handle, events=("end",), forbid_dtd=True):
            if elem.tag in ("node", "way", "relation"):
                for tag in elem.iter("tag"):
                    key = tag.get("k", "")
                    if key not in keys:
                        continue
                    allowed = keys[key]
                    if allowed is None or tag.get("v") in allowed:
                        count += 1
                        break
                elem.clear()
    return count


def _build_network(src: Path, crs: str | None) -> tuple[dict[str, ModeNetwork], str, int]:
    """Every mode's network of the extract, the modes missing and the ways cut by its edge."""
    from qjgeo.modes import networks_from_osm_file

    networks, problems, cut = networks_from_osm_file(src, crs=crs)
    if "walk" not in networks:  # no walking network: no network at all
        from qjgeo.network import NetworkError

        raise NetworkError(problems.get("walk", "no walkable ways"))
    missing = "; ".join(f"no {m} network ({why})" for m, why in problems.items())
    return networks, missing, cut


def import_osm(
    path: str | Path,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    clip: str | Path | BaseGeometry | None = None,
    bbox: str | Sequence[float] | None = None,
) -> Path:
    """Write a qjgeo dataset directory from an OSM extract (offline).

    Parameters
    ----------
    path
        An ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file. A PBF (or XML with ``clip`` /
        ``bbox``) is first cut to the area by :mod:`qjgeo.osm_pbf`, streaming, so a
        province file is never loaded whole.
    out_dir
        The dataset directory to create (its parent must exist).
    overwrite
        Replace ``out_dir`` if it already exists and is not empty.
    clip
        A boundary file (or a WGS84 polygon) to clip to; the district layer is its outline.
    bbox
        A ``W,S,E,N`` box in degrees to clip to, instead of ``clip``.

    Returns
    -------
    pathlib.Path
        ``out_dir``, which loads with :func:`qjgeo.load_dataset`.

    Raises
    ------
    OsmImportError
        If the file is missing or not OSM, the clip area is invalid, or ``out_dir`` exists
        and is not empty without ``overwrite``. Nothing is left half-written.
    """
    src = Path(path)
    out = Path(out_dir)
    _check_paths(src, out, overwrite)
    if not is_pbf(src) and clip is None and bbox is None:
        return import_extract(src, out, overwrite=overwrite)
    # XML declaring entities or a DTD is refused before pyosmium reads it; its date is kept
    stamp = "" if is_pbf(src) else _header(src)[1] or ""
    try:
        with clipped_extract(src, boundary=clip, bbox=bbox, relation_keys=sorted(READ_TAGS)) as cut:
            return import_extract(
                cut.path,
                out,
                overwrite=overwrite,
                source_name=src.name,
                outline=cut.outline,
                timestamp=cut.timestamp or stamp,
            )
    except OsmClipError as exc:
        raise OsmImportError(str(exc)) from exc


def import_extract(
    src: Path,
    out: Path,
    *,
    overwrite: bool = False,
    source_name: str | None = None,
    outline: BaseGeometry | None = None,
    timestamp: str = "",
) -> Path:
    """Write a dataset from an OSM XML file already cut to its area (:func:`import_osm`'s
    last step; ``qjgeo osm-fetch`` writes its download through it too).

    ``source_name`` names the original file in the manifest, ``outline`` (WGS84) is the
    district layer instead of the file's box, ``timestamp`` the data's date when the XML
    has none.
    """
    _check_paths(src, out, overwrite)
    name = source_name or src.name
    bounds, stamp = _header(src)
    stamp = timestamp or stamp
    if bounds is None:
        bounds = _node_bounds(src)
    as_of = stamp[:10] if stamp else f"unknown (imported {dt.date.today().isoformat()})"
    features = _read_features(src)
    layers = classify_features(features)
    tagged = _count_tagged(src)
    networks, network_note = _walk_network(src, bounds, features)
    stem = name.split(".")[0]
    district = _district(stem, bounds, layers, _lonlat(networks.get("walk")), outline)

    left_out = max(tagged - sum(len(f) for f in layers.values()), 0)
    # buildings, land use and places for `qjgeo demand` (qjgeo.demand.osm_layers)
    sources = demand_source_layers(features)
    source_specs = demand_source_specs(f"{SOURCE} ({name})", LICENCE, as_of, sources)
    manifest = Manifest(
        dataset=_dataset_info(name, stem, layers, left_out, network_note, networks),
        layers=(*_layer_specs(name, as_of, layers), *source_specs),
    )
    _write_dataset(out, district, {**layers, **sources}, networks, manifest)
    return out


def _check_paths(src: Path, out: Path, overwrite: bool) -> None:
    """Refuse a missing or non-OSM input, or an output directory that cannot be (re)placed."""
    if not src.is_file():
        raise OsmImportError(f"OSM file {src} does not exist")
    if not src.name.lower().endswith((".osm", ".osm.bz2", ".xml", *PBF_SUFFIXES)):
        raise OsmImportError(f"{src}: expected an .osm, .osm.bz2 or .osm.pbf file")
    if out.exists() and not out.is_dir():
        raise OsmImportError(f"{out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise OsmImportError(f"{out} exists and is not empty; pass overwrite=True (--overwrite)")
    if not out.parent.is_dir():
        raise OsmImportError(f"parent directory {out.parent} does not exist")


def _walk_network(
    src: Path,
    bounds: tuple[float, float, float, float] | None,
    features: gpd.GeoDataFrame,
) -> tuple[dict[str, ModeNetwork], str]:
    """The extract's networks by mode (empty when it has no walking one) and a note."""
    from qjgeo.modes import describe_networks
    from qjgeo.network import NetworkError

    if bounds is not None:
        lon_c, lat_c = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    elif len(features):
        lon_c, lat_c = shapely.get_coordinates(features.geometry.to_numpy()).mean(axis=0)
    else:
        lon_c, lat_c = 0.0, 0.0
    try:
        networks, missing, trimmed = _build_network(src, metric_crs_for(lon_c, lat_c))
    except NetworkError as exc:
        return {}, f"no walking network ({exc})"
    network_note = (
        f"networks by travel mode, {describe_networks(networks)}; used by `qjgeo gaps "
        "--mode` (walking by default)"
        + (f"; {missing}" if missing else "")
        + (
            f"; {trimmed} way(s) cut by the extract's edge were split at the missing "
            "nodes (only their parts inside the extract are travelled)"
            if trimmed
            else ""
        )
    )
    return networks, network_note


def _lonlat(network: ModeNetwork | None) -> np.ndarray | None:
    """The network's node coordinates in WGS84 (``None`` without nodes)."""
    graph: WalkGraph | None = None if network is None else network.graph
    if graph is None or not graph.n_nodes:
        return None
    to_ll = pyproj.Transformer.from_crs(graph.crs, WGS84_CRS, always_xy=True)
    lon, lat = to_ll.transform(graph.x, graph.y)
    return np.column_stack([lon, lat])


def _layer_specs(
    source_file: str, as_of: str, layers: Mapping[str, gpd.GeoDataFrame]
) -> tuple[LayerSpec, ...]:
    """The manifest entries: the extract outline, then every OSM layer."""
    specs = [
        _spec(
            "district",
            "范围（OSM 数据范围）",
            "Extract outline",
            "admin",
            "Polygon",
            as_of,
            source_file,
            "The extract's bounding box, not an administrative boundary; population unknown (0).",
        )
    ]
    for layer in _LAYERS:
        geometry_type = "Point" if layer.points else "LineString/Polygon"
        specs.append(
            _spec(
                layer.id,
                layer.title_zh,
                layer.title_en,
                layer.kind,
                geometry_type,
                as_of,
                source_file,
                describe_tags(layer.id)
                + "; "
                + layer.notes
                + ("" if len(layers[layer.id]) else " None mapped in this extract."),
            )
        )
    return tuple(specs)


def _dataset_info(
    source_file: str,
    stem: str,
    layers: Mapping[str, gpd.GeoDataFrame],
    left_out: int,
    network_note: str,
    networks: Mapping[str, ModeNetwork],
) -> DatasetInfo:
    """The manifest's dataset entry: id, titles and a description of what was imported."""
    counts = ", ".join(f"{k} {len(v)}" for k, v in layers.items())
    return DatasetInfo(
        id=f"osm_{''.join(c if c.isalnum() else '_' for c in stem.lower())}",
        title_zh=f"OpenStreetMap 导入：{stem}",
        title_en=f"OpenStreetMap import: {stem}",
        description=(
            f"Imported from {source_file} by qjgeo osm-import. Features: {counts}"
            + (
                f"; {left_out} tagged element(s) left out (geometry incomplete in the extract)"
                if left_out
                else ""
            )
            + f". {network_note}. No township or village layers: coverage gaps need a "
            "village layer with children (not available until `qjgeo demand` estimates one "
            "from the buildings, land use and places kept here). OSM data are not official "
            "statistics."
        ),
        built_by="qjgeo osm-import (qjgeo/osm_import.py)",
        attribution=ATTRIBUTION,
        networks={mode: NETWORK_FILES[mode] for mode in networks},
    )


def _write_dataset(
    out: Path,
    district: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame],
    networks: Mapping[str, ModeNetwork],
    manifest: Manifest,
) -> None:
    """Write the dataset beside ``out``, check that it loads, then move it into place."""
    from qjgeo.modes import save_network

    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.osm-import-", dir=out.parent))
    try:
        tmp.chmod(0o777 & ~current_umask())  # mkdtemp makes it private (0700); a dataset is shared
        _write_layer(district, tmp / "district.gpkg", "district")
        for layer_id, frame in layers.items():
            _write_layer(frame, tmp / f"{layer_id}.gpkg", layer_id)
        for mode, network in networks.items():
            (tmp / NETWORK_FILES[mode]).parent.mkdir(exist_ok=True)
            save_network(network, tmp / NETWORK_FILES[mode])
        text = "# Written by qjgeo osm-import. " + SOURCE + ", " + LICENCE + ".\n"
        text += yaml.safe_dump(
            manifest.model_dump(mode="json"), allow_unicode=True, sort_keys=False
        )
        (tmp / MANIFEST_NAME).write_text(text, encoding="utf-8")
        load_dataset(tmp)  # the result must load before it replaces anything
        if out.is_dir():  # another writer of the old folder finishes first
            with folder_lock(out):
                _replace_dir(tmp, out)
        else:
            _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _replace_dir(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out``, replacing an existing ``out`` only after ``tmp`` is in place."""
    if not out.exists():
        tmp.rename(out)
        return
    backup = out.with_name(f".{out.name}.replaced-{tmp.name[-8:]}")
    out.rename(backup)
    try:
        tmp.rename(out)
    except BaseException:
        backup.rename(out)
        raise
    shutil.rmtree(backup, ignore_errors=True)
