"""Applying a scenario (after its chain of bases) to a dataset: :func:`apply`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import ValidationError

from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS, convert
from qjgeo.params import merge_params
from qjgeo.scenario.files import resolve_chain
from qjgeo.scenario.model import (
    _RESERVED,
    DEFAULT_NEW_ATTRIBUTES,
    REQUIRED_NEW_ATTRIBUTES,
    FacilityAdd,
    PointOutsideError,
    Scenario,
    ScenarioError,
    _format_errors,
)
from qjgeo.schema import POPULATION_COLUMNS, REQUIRED_COLUMNS
from qjgeo.travel import choice_of, travel_params


def _where(scenario: Scenario) -> str:
    if scenario.source is not None:
        return str(scenario.source)
    if scenario._origin is not None:
        return f"{scenario._origin} (scenario {scenario.name!r})"
    return f"scenario {scenario.name!r}"


def _to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    x, y = convert(lon, lat, crs, "wgs84")
    return float(x), float(y)


def _district_area(dataset: Dataset) -> Any:
    if dataset.has("district") and len(dataset.layer("district")):
        return shapely.union_all(dataset.layer("district").geometry.array)
    if dataset.has("township") and len(dataset.layer("township")):
        return shapely.union_all(dataset.layer("township").geometry.array)
    return None


def _township_codes(dataset: Dataset, points: np.ndarray) -> list[str | None]:
    """Township code9 of each WGS84 point (``None`` outside every township polygon)."""
    if not dataset.has("township") or len(points) == 0:
        return [None] * len(points)
    town = dataset.layer("township")
    geoms = shapely.points(points)
    tree = shapely.STRtree(town.geometry.array)
    pt_idx, poly_idx = tree.query(geoms, predicate="intersects")
    out: list[str | None] = [None] * len(points)
    codes = town["code9"].astype(str).to_numpy()
    for p, q in zip(pt_idx[::-1], poly_idx[::-1], strict=True):  # first polygon wins
        out[int(p)] = str(codes[q])
    return out


def _nearest_village(dataset: Dataset, points: np.ndarray) -> list[str | None]:
    if not dataset.has("village") or len(dataset.layer("village")) == 0 or len(points) == 0:
        return [None] * len(points)
    villages = dataset.metric("village")
    pts = gpd.GeoSeries(shapely.points(points), crs=WGS84_CRS).to_crs(villages.crs)
    tree = shapely.STRtree(villages.geometry.array)
    idx = tree.nearest(pts.array)
    codes = villages["code12"].astype(str).to_numpy()
    return [str(codes[i]) for i in idx]


def inside_district(dataset: Dataset, lon: float, lat: float) -> bool:
    """Whether a WGS84 point lies in the district, as :func:`apply` checks added/moved points.

    Parameters
    ----------
    dataset
        The dataset whose ``district`` layer (else its townships) is the district.
    lon, lat
        The point, WGS84 degrees.

    Returns
    -------
    bool
        ``True`` inside (or when the dataset has no district or township outline).
    """
    area = _district_area(dataset)
    return area is None or bool(shapely.intersects(area, shapely.Point(lon, lat)))


def _check_inside(
    scenario: Scenario, area: Any, key: str, lon: float, lat: float, wlon: float, wlat: float
) -> None:
    if area is None:
        return
    if not shapely.intersects(area, shapely.Point(wlon, wlat)):
        raise PointOutsideError(
            f"{_where(scenario)}: {key}: point ({lon}, {lat}) lies outside the district "
            f"(WGS84 {wlon:.6f}, {wlat:.6f})",
            lon=wlon,
            lat=wlat,
        )


def _require_layer(dataset: Dataset, scenario: Scenario, key: str, layer: str) -> None:
    if not dataset.has(layer):
        raise ScenarioError(
            f"{_where(scenario)}: {key}.type: dataset {dataset.info.id!r} has no layer {layer!r}"
        )


def _index_of(
    frame: pd.DataFrame, scenario: Scenario, key: str, layer: str, facility_id: str
) -> Any:
    ids = frame["id"].astype(str)
    hits = frame.index[(ids == str(facility_id)).to_numpy()]
    if len(hits) == 0:
        raise ScenarioError(
            f"{_where(scenario)}: {key}.id: no {layer} facility with id {facility_id!r}"
        )
    return hits[0]


def _check_attributes(
    scenario: Scenario, key: str, layer: str, frame: pd.DataFrame, attrs: dict[str, Any]
) -> None:
    allowed = (set(frame.columns) | set(REQUIRED_COLUMNS.get(layer, ()))) - _RESERVED
    for name, value in attrs.items():
        if name in _RESERVED:
            raise ScenarioError(
                f"{_where(scenario)}: {key}.attributes.{name}: cannot be set as an attribute"
                + (" (use the item's own key)" if name in {"id", "name"} else "")
            )
        if name not in allowed:
            raise ScenarioError(
                f"{_where(scenario)}: {key}.attributes.{name}: {layer} has no attribute "
                f"{name!r} (got {value!r}; known: {', '.join(sorted(allowed - {'source'}))})"
            )
        if name == "places" and (
            isinstance(value, bool) or not isinstance(value, int | float) or value < 0
        ):
            raise ScenarioError(
                f"{_where(scenario)}: {key}.attributes.places: must be a number ≥ 0 (got {value!r})"
            )


def _set_cell(frame: pd.DataFrame, idx: Any, column: str, value: Any) -> pd.DataFrame:
    if column not in frame.columns:
        frame[column] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    try:
        frame.loc[idx, column] = value
    except (TypeError, ValueError):
        frame[column] = frame[column].astype(object)
        frame.loc[idx, column] = value
    return frame


class _Frames:
    """The layers one scenario edits, each copied once and given a ``scenario`` column."""

    def __init__(self, dataset: Dataset, scenario: Scenario) -> None:
        self.dataset = dataset
        self.scenario = scenario
        self.edited: dict[str, gpd.GeoDataFrame] = {}

    def get(self, layer: str, key: str) -> gpd.GeoDataFrame:
        """The (edited copy of the) layer; ``key`` names the item in the error if it is missing."""
        _require_layer(self.dataset, self.scenario, key, layer)
        if layer not in self.edited:
            frame = self.dataset.layer(layer).copy()
            if "scenario" not in frame.columns:
                frame["scenario"] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
            self.edited[layer] = frame
        return self.edited[layer]


def _remove(frames: _Frames, scenario: Scenario) -> None:
    """Drop the facilities of ``remove``."""
    for i, ref in enumerate(scenario.remove):
        key = f"remove[{i}]"
        frame = frames.get(ref.type, key)
        idx = _index_of(frame, scenario, key, ref.type, ref.id)
        frames.edited[ref.type] = frame.drop(index=idx)


def _modify(frames: _Frames, scenario: Scenario) -> None:
    """Set the attributes of ``modify``."""
    for i, mod in enumerate(scenario.modify):
        key = f"modify[{i}]"
        frame = frames.get(mod.type, key)
        idx = _index_of(frame, scenario, key, mod.type, mod.id)
        _check_attributes(scenario, key, mod.type, frame, mod.attributes)
        for column, value in mod.attributes.items():
            frame = _set_cell(frame, idx, column, value)
        frame = _set_cell(frame, idx, "scenario", scenario.name)
        frames.edited[mod.type] = frame


def _move(frames: _Frames, dataset: Dataset, scenario: Scenario, area: Any) -> None:
    """Move the facilities of ``move`` (and update their township code)."""
    for i, mv in enumerate(scenario.move):
        key = f"move[{i}]"
        frame = frames.get(mv.type, key)
        idx = _index_of(frame, scenario, key, mv.type, mv.id)
        wlon, wlat = _to_wgs84(mv.lon, mv.lat, mv.crs)
        _check_inside(scenario, area, key, mv.lon, mv.lat, wlon, wlat)
        frame.loc[[idx], frame.geometry.name] = gpd.GeoSeries(
            [shapely.Point(wlon, wlat)], index=[idx], crs=frame.crs
        )
        if "township_code" in frame.columns:
            code = _township_codes(dataset, np.array([[wlon, wlat]]))[0]
            if code is not None:
                frame = _set_cell(frame, idx, "township_code", code)
        frame = _set_cell(frame, idx, "scenario", scenario.name)
        frames.edited[mv.type] = frame


def _new_id(item: FacilityAdd, layer: str, used: set[str], where: str, key: str) -> str:
    """The id of an added facility: its own, else the first free ``S-<layer>-<n>``."""
    fid = item.id
    if fid is None:
        n = 1
        while f"S-{layer}-{n}" in used:
            n += 1
        fid = f"S-{layer}-{n}"
    if fid in used:
        raise ScenarioError(f"{where}: {key}.id: {layer} already has id {fid!r}")
    return fid


def _new_row(
    scenario: Scenario, layer: str, key: str, item: FacilityAdd, frame: pd.DataFrame, area: Any
) -> tuple[dict[str, Any], tuple[float, float]]:
    """The checked attributes of an added facility (no id yet) and its WGS84 location."""
    wlon, wlat = _to_wgs84(item.lon, item.lat, item.crs)
    _check_inside(scenario, area, key, item.lon, item.lat, wlon, wlat)
    _check_attributes(scenario, key, layer, frame, item.attributes)
    for needed in REQUIRED_NEW_ATTRIBUTES.get(layer, ()):
        if needed not in item.attributes:
            raise ScenarioError(
                f"{_where(scenario)}: {key}.attributes.{needed}: required for a new {layer} "
                f"(e.g. attributes: {{{needed}: 40}})"
            )
    row: dict[str, Any] = dict(DEFAULT_NEW_ATTRIBUTES.get(layer, {}))
    row.update(item.attributes)
    return row, (wlon, wlat)


def _add_layer(
    dataset: Dataset,
    scenario: Scenario,
    frame: gpd.GeoDataFrame,
    layer: str,
    items: list[tuple[int, FacilityAdd]],
    area: Any,
) -> gpd.GeoDataFrame:
    """The layer with the added facilities of one type appended."""
    where = _where(scenario)
    used = set(frame["id"].astype(str))
    rows = []
    xy = []
    for i, item in items:
        key = f"add[{i}]"
        row, location = _new_row(scenario, layer, key, item, frame, area)
        fid = _new_id(item, layer, used, where, key)
        used.add(fid)
        row.update(
            id=fid,
            name=item.name or f"{scenario.name}: new {layer} {fid}",
            provenance="user",
            source=f"scenario {scenario.name} (planner-entered)",
            scenario=scenario.name,
        )
        rows.append(row)
        xy.append(location)
    points = np.asarray(xy, dtype=np.float64)
    towns = _township_codes(dataset, points)
    villages = _nearest_village(dataset, points)
    for row, town, village in zip(rows, towns, villages, strict=True):
        if "township_code" not in row:
            row["township_code"] = town
        if "village_code" in frame.columns and "village_code" not in row:
            row["village_code"] = village if layer == "children_home" else None
    new = gpd.GeoDataFrame(rows, geometry=shapely.points(points), crs=WGS84_CRS)
    new = new.rename_geometry(frame.geometry.name) if frame.geometry.name != "geometry" else new
    combined = pd.concat([frame, new], ignore_index=True)
    return gpd.GeoDataFrame(combined, geometry=frame.geometry.name, crs=frame.crs)


def _add(frames: _Frames, dataset: Dataset, scenario: Scenario, area: Any) -> None:
    """Append the facilities of ``add``, layer by layer."""
    by_type: dict[str, list[tuple[int, FacilityAdd]]] = {}
    for i, item in enumerate(scenario.add):
        by_type.setdefault(item.type, []).append((i, item))
    for layer, items in by_type.items():
        frame = frames.get(layer, f"add[{items[0][0]}]")
        frames.edited[layer] = _add_layer(dataset, scenario, frame, layer, items, area)


def _apply_parameters(dataset: Dataset, scenario: Scenario) -> Dataset:
    """The dataset with the scenario's parameter overrides merged in.

    A travel mode (``parameters: {mode: bike, minutes: 15}``, optional) turns the thresholds
    into the mode's (:func:`qjgeo.travel.travel_params`).
    """
    try:
        params = merge_params(dataset.params, scenario.parameters)
        if params.mode is not None:
            params = travel_params(params, choice_of(params))
        return dataset.with_params(params)
    except ValidationError as exc:
        raise ScenarioError(_format_errors(exc, f"{_where(scenario)}: parameters")) from None


def _apply_one(dataset: Dataset, scenario: Scenario) -> Dataset:
    """Apply one scenario (not its bases) to a dataset."""
    frames = _Frames(dataset, scenario)
    _remove(frames, scenario)
    _modify(frames, scenario)
    area = _district_area(dataset) if scenario.move or scenario.add else None
    _move(frames, dataset, scenario, area)
    _add(frames, dataset, scenario, area)
    out = dataset
    for layer, frame in frames.edited.items():
        out = out.with_layer(layer, frame)
    if scenario.parameters:
        out = _apply_parameters(out, scenario)
    if not scenario.population.is_empty():
        out = _apply_population(out, scenario)
    return out


def _scale(values: pd.Series, factor: np.ndarray) -> np.ndarray:
    return np.rint(values.to_numpy(dtype=np.float64) * factor)


def _apply_population(dataset: Dataset, scenario: Scenario) -> Dataset:
    pop = scenario.population
    district = pop.district if pop.district is not None else 1.0
    out = dataset
    town_delta = dict.fromkeys(POPULATION_COLUMNS, 0.0)
    for layer, code_col in (("township", "code9"), ("village", "township_code")):
        if not dataset.has(layer):
            continue
        frame = dataset.layer(layer).copy()
        codes = frame[code_col].astype(str)
        if layer == "township":
            unknown = sorted(set(pop.townships) - set(codes))
            if unknown:
                raise ScenarioError(
                    f"{_where(scenario)}: population.townships.{unknown[0]}: no township with "
                    f"code9 {unknown[0]!r}"
                )
        factor = np.full(len(frame), district) * codes.map(pop.townships).fillna(1.0).to_numpy(
            dtype=np.float64
        )
        for col in POPULATION_COLUMNS:
            if col in frame.columns:
                new = _scale(frame[col], factor)
                if layer == "township":
                    town_delta[col] = float(new.sum() - frame[col].sum())
                frame[col] = new.astype(np.int64)
        out = out.with_layer(layer, frame)
    if dataset.has("district") and dataset.has("township"):
        frame = dataset.layer("district").copy()
        for col in POPULATION_COLUMNS:
            if col in frame.columns:
                frame[col] = np.rint(
                    frame[col].to_numpy(dtype=np.float64) + town_delta[col]
                ).astype(np.int64)
        out = out.with_layer("district", frame)
    return out


def apply(
    dataset: Dataset, scenario: Scenario, *, scenarios_dir: str | Path | None = None
) -> Dataset:
    """Apply a scenario (after its chain of bases) to a dataset.

    Parameters
    ----------
    dataset
        The baseline data.
    scenario
        The scenario; its ``base`` chain is resolved in ``scenarios_dir`` (default: the
        directory it was loaded from).
    scenarios_dir
        Where to look up base scenarios.

    Returns
    -------
    Dataset
        A new dataset (the input is untouched) with ``scenario_name`` set. Added facilities
        have provenance ``"user"`` and a ``scenario`` column naming the scenario.

    Raises
    ------
    ScenarioError
        Naming the scenario (file), the key and the value: a facility id that does not
        exist, a layer the dataset lacks, a point outside the district, a missing required
        attribute, a base that cannot be found or a cycle of bases.
    """
    out = dataset
    for step in resolve_chain(scenario, scenarios_dir):
        out = _apply_one(out, step)
    return dataclasses.replace(out, scenario_name=scenario.name)
