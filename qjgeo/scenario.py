"""What-if scenarios: add, remove, modify or move facilities, change parameters and population.

A scenario is a small YAML file in ``scenarios/`` that holds only what differs from its base
(the baseline data, or another scenario of the same directory, resolved recursively). It is
validated by frozen pydantic models with ``extra="forbid"``; every error names the file, the
key path (e.g. ``add[2].lon``) and the bad value. The JSON schema of the format is generated
from the models (:func:`write_schema`) and kept in ``scenarios/scenario.schema.json``.

Flow: :func:`load_scenario` → :func:`apply` (a new :class:`~qjgeo.catalog.Dataset`) →
:func:`compare` (indicator deltas, children newly covered or uncovered, villages and townships
whose status flips). An app computes the baseline's :func:`snapshot` once and compares each
edited scenario against it: on the bundled data ``apply`` takes 5–30 ms and ``compare``
against a cached baseline 0.3–0.7 s (``bench/bench_siting.py``, shared 2-core machine),
almost all of it :func:`qjgeo.indicators.evaluate` of the scenario.

Building a scenario in memory (the app's editor): ``Scenario(name=...)`` then
:meth:`Scenario.with_add` / ``with_remove`` / ``with_modify`` / ``with_move`` /
``with_parameters`` / ``with_population`` / ``without`` / ``renamed``, each returning a new
validated scenario. Files: :func:`save_scenario` (atomic, never overwrites unless asked),
:func:`list_scenarios`, :func:`rename_scenario`, :func:`delete_scenario`.

Example file::

    name: childcare_in_luokeng
    description: A community childcare point in 罗坑镇
    add:
      - type: childcare
        lon: 113.34
        lat: 24.52
        name: 罗坑镇社区托育点
        attributes: {places: 40, puhui: true}

Population changes multiply ``population`` and every age-band column of the township and
village layers (and the district totals by the same amount). Each unit's new count is
``round(count × factor)`` (round half to even, as :func:`numpy.rint`), so the villages of a
township may differ from the township total by a few people of rounding.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from qjgeo.catalog import Dataset
from qjgeo.crs import KNOWN_SYSTEMS, WGS84_CRS, convert
from qjgeo.fileio import write_atomic
from qjgeo.params import DEFAULT_PARAMS, merge_params
from qjgeo.schema import FACILITY_LAYERS, POPULATION_COLUMNS, REQUIRED_COLUMNS

if TYPE_CHECKING:
    from qjgeo.network import WalkGraph

__all__ = [
    "Comparison",
    "FacilityAdd",
    "FacilityModify",
    "FacilityMove",
    "FacilityRef",
    "PopulationChange",
    "Scenario",
    "ScenarioError",
    "ScenarioInfo",
    "Snapshot",
    "apply",
    "compare",
    "delete_scenario",
    "list_scenarios",
    "load_scenario",
    "rename_scenario",
    "resolve_chain",
    "save_scenario",
    "scenario_from_yaml",
    "scenario_to_yaml",
    "snapshot",
    "write_schema",
]

CoordSystem = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
assert set(CoordSystem.__args__) == set(KNOWN_SYSTEMS)  # type: ignore[attr-defined]

#: File suffixes read as scenarios by :func:`list_scenarios` and base resolution.
SCENARIO_SUFFIXES = (".yaml", ".yml")
#: Name of the baseline (no scenario) when used as ``base`` or ``--compare``.
BASELINE = "baseline"
SCHEMA_FILE = "scenario.schema.json"

#: Columns a scenario may never set through ``attributes``.
_RESERVED = frozenset({"id", "name", "geometry", "provenance", "scenario"})
#: Attributes an added facility must carry (no sensible default exists).
REQUIRED_NEW_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "childcare": ("places",),
    "kindergarten": ("places",),
    "primary_school": ("places",),
}
#: Defaults filled in for the other required columns of an added facility.
DEFAULT_NEW_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "park": {"has_play_area": True, "child_friendly_base": False},
    "family_edu_station": {"level": "community"},
    "science_venue": {"youth_science_base": False, "child_friendly_base": False},
    "childcare": {"puhui": False},
    "kindergarten": {"puhui": False},
    "minors_protection_station": {"kind": "workstation"},
    "health_centre": {
        "kind": "township_health_centre",
        "gp_or_paediatrician": 0,
        "child_health_doctors": 0,
        "paediatric_doctors": 0,
        "paediatric_beds": 0,
    },
    "internet_cafe": {"kind": "网吧"},
}
_NAME_RE = re.compile(r"^[^/\\:*?\"<>|\s][^/\\:*?\"<>|]*$")


class ScenarioError(ValueError):
    """A scenario file or scenario is unusable; the message names the file, key and value."""


# --------------------------------------------------------------------------------------
# Models


def _check_type(value: str) -> str:
    if value not in FACILITY_LAYERS:
        raise ValueError(
            f"unknown facility type {value!r}; use one of {', '.join(FACILITY_LAYERS)}"
        )
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Typed(_Strict):
    type: str = Field(description="facility layer id, e.g. 'childcare'")

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _check_type(value)


class FacilityRef(_Typed):
    """An existing facility, by layer and id (used by ``remove``)."""

    id: str = Field(min_length=1, description="the facility's id in that layer")


class FacilityAdd(_Typed):
    """A new facility: its type, location and attributes."""

    lon: float = Field(ge=-180, le=180, description="longitude in degrees, in `crs`")
    lat: float = Field(ge=-90, le=90, description="latitude in degrees, in `crs`")
    crs: CoordSystem = Field(
        default="wgs84", description="coordinate system of lon/lat: wgs84, cgcs2000, gcj02, bd09"
    )
    name: str = Field(default="", description="display name (generated when empty)")
    id: str | None = Field(
        default=None, min_length=1, description="feature id (generated 'S-<type>-<n>' when empty)"
    )
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="layer attributes, e.g. {places: 40, puhui: true}"
    )


class FacilityModify(_Typed):
    """New attribute values for an existing facility."""

    id: str = Field(min_length=1)
    attributes: dict[str, Any] = Field(min_length=1, description="attributes to change")


class FacilityMove(_Typed):
    """A new location for an existing facility."""

    id: str = Field(min_length=1)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: CoordSystem = "wgs84"


class PopulationChange(_Strict):
    """Population growth factors (1.10 = +10 %) for the district and/or single townships."""

    district: float | None = Field(
        default=None, gt=0, le=10, description="factor applied to every township and village"
    )
    townships: dict[str, float] = Field(
        default_factory=dict,
        description="{township code9: factor}, applied on top of the district factor",
    )

    @field_validator("townships")
    @classmethod
    def _codes(cls, value: dict[str, float]) -> dict[str, float]:
        for code, factor in value.items():
            if not re.fullmatch(r"\d{9}", str(code)):
                raise ValueError(f"township code {code!r} is not a 9-digit code")
            if not 0 < factor <= 10:
                raise ValueError(f"factor {factor!r} for township {code} must be in (0, 10]")
        return value

    def is_empty(self) -> bool:
        """Whether the change does nothing."""
        return self.district is None and not self.townships


class Scenario(_Strict):
    """A what-if scenario: only what differs from its base."""

    name: str = Field(min_length=1, max_length=120, description="scenario name")
    description: str = ""
    base: str | None = Field(
        default=None,
        description="None/'baseline' = the data as loaded; else the name or file stem of "
        "another scenario in the same directory",
    )
    add: list[FacilityAdd] = Field(default_factory=list)
    remove: list[FacilityRef] = Field(default_factory=list)
    modify: list[FacilityModify] = Field(default_factory=list)
    move: list[FacilityMove] = Field(default_factory=list)
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="partial PlanningParams overrides, e.g. {detour_factor: 1.4, "
        "access: {childcare: {rural_threshold_m: 3000}}, target_overrides: {...}}",
    )
    population: PopulationChange = Field(default_factory=PopulationChange)

    _source: Path | None = PrivateAttr(default=None)
    _origin: str | None = PrivateAttr(default=None)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError(
                f'name {value!r} may not start with a space or contain / \\ : * ? " < > |'
            )
        return value

    @field_validator("base")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        return None if value in (None, "", BASELINE) else value

    @field_validator("parameters")
    @classmethod
    def _params(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            merge_params(DEFAULT_PARAMS, value)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            raise ValueError(f"{key}: {err['msg']} (got {err['input']!r})") from None
        return value

    def __eq__(self, other: object) -> bool:
        """Equal when the contents are (where a scenario was read from does not count)."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    @property
    def source(self) -> Path | None:
        """The file this scenario was read from (``None`` when built in memory)."""
        return self._source

    # -- building in memory (the app's editor) -----------------------------------------

    def _with(self, **update: Any) -> Scenario:
        data = self.model_dump()
        data.update(update)
        out = Scenario.model_validate(data)
        out._source = self._source
        out._origin = self._origin
        return out

    def with_add(self, item: FacilityAdd) -> Scenario:
        """A copy with one more facility added."""
        return self._with(add=[*self.model_dump()["add"], item.model_dump()])

    def with_remove(self, facility_type: str, facility_id: str) -> Scenario:
        """A copy that also removes an existing facility."""
        ref = {"type": facility_type, "id": facility_id}
        return self._with(remove=[*self.model_dump()["remove"], ref])

    def with_modify(
        self, facility_type: str, facility_id: str, attributes: dict[str, Any]
    ) -> Scenario:
        """A copy that also changes attributes of an existing facility."""
        item = {"type": facility_type, "id": facility_id, "attributes": dict(attributes)}
        return self._with(modify=[*self.model_dump()["modify"], item])

    def with_move(
        self,
        facility_type: str,
        facility_id: str,
        lon: float,
        lat: float,
        crs: CoordSystem = "wgs84",
    ) -> Scenario:
        """A copy that also moves an existing facility."""
        item = {"type": facility_type, "id": facility_id, "lon": lon, "lat": lat, "crs": crs}
        return self._with(move=[*self.model_dump()["move"], item])

    def with_parameters(self, overrides: dict[str, Any]) -> Scenario:
        """A copy with parameter overrides deep-merged into the existing ones."""
        from qjgeo.params import deep_merge

        return self._with(parameters=deep_merge(self.parameters, overrides))

    def with_population(
        self, *, district: float | None = None, townships: dict[str, float] | None = None
    ) -> Scenario:
        """A copy with a new population change."""
        return self._with(population={"district": district, "townships": dict(townships or {})})

    def without(self, key: Literal["add", "remove", "modify", "move"], index: int) -> Scenario:
        """A copy with one item of ``add``/``remove``/``modify``/``move`` dropped."""
        items = list(self.model_dump()[key])
        del items[index]
        return self._with(**{key: items})

    def renamed(self, name: str) -> Scenario:
        """A copy under another name."""
        return self._with(name=name)


# --------------------------------------------------------------------------------------
# Reading and writing


def _format_loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _format_errors(exc: ValidationError, source: str) -> str:
    problems = []
    for err in exc.errors():
        loc = _format_loc(err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        given = err.get("input")
        shown = "" if isinstance(given, dict | list) else f" (got {given!r})"
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        problems.append(f"{loc}: {msg}{shown}")
    return f"{source}: " + "; ".join(problems)


def scenario_from_yaml(text: str, source: str = "<upload>") -> Scenario:
    """Parse and validate a scenario from YAML text.

    Parameters
    ----------
    text
        The YAML document.
    source
        Where it came from, used in error messages (a file name or ``"<upload>"``).

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    ScenarioError
        Naming ``source``, the key path and the bad value.
    """
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{source}: not valid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise ScenarioError(
            f"{source}: a scenario must be a YAML mapping with at least 'name', "
            f"got {type(raw).__name__}"
        )
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(_format_errors(exc, source)) from None
    scenario._origin = source
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Parameters
    ----------
    path
        A ``.yaml`` scenario file.

    Returns
    -------
    Scenario
        The scenario; its :attr:`Scenario.source` is the file (used to resolve ``base``).

    Raises
    ------
    ScenarioError
        If the file is missing, not UTF-8 YAML or does not fit the format (the message
        names the file, the key path and the value).
    """
    file = Path(path)
    if not file.is_file():
        raise ScenarioError(f"{file}: scenario file not found")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    scenario = scenario_from_yaml(text, source=str(file))
    scenario._source = file.resolve()
    return scenario


def scenario_to_yaml(scenario: Scenario) -> str:
    """The scenario as YAML holding only non-default fields (keys in model order)."""
    data = scenario.model_dump(mode="json", exclude_defaults=True)
    for key in ("add", "move"):
        items = []
        for item in data.get(key, []):
            item.setdefault("crs", "wgs84")  # keep the CRS visible in the file
            order = ["type", "id", "name", "lon", "lat", "crs", "attributes"]
            items.append({k: item[k] for k in order if k in item})
        if items:
            data[key] = items
    data.setdefault("name", scenario.name)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _atomic_write(path: Path, text: str, *, overwrite: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_atomic(path, text, overwrite=overwrite)
    except FileExistsError:
        raise ScenarioError(f"{path}: already exists; refusing to overwrite it") from None


def save_scenario(scenario: Scenario, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a scenario file atomically (temporary file in the same directory, then rename).

    Parameters
    ----------
    scenario
        The scenario to write (only non-default fields are written).
    path
        Target ``.yaml`` file.
    overwrite
        Replace an existing file; refused otherwise.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ScenarioError
        If the file exists and ``overwrite`` is false. On any failure the previous file is
        left intact and no temporary file remains.
    """
    file = Path(path)
    if file.suffix not in SCENARIO_SUFFIXES:
        raise ScenarioError(f"{file}: scenario files end in .yaml")
    _atomic_write(file, scenario_to_yaml(scenario), overwrite=overwrite)
    return file


@dataclass(frozen=True)
class ScenarioInfo:
    """One scenario file of a directory, as listed by :func:`list_scenarios`."""

    stem: str
    path: Path
    name: str | None
    description: str
    base: str | None
    error: str | None = None


def _scenario_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix in SCENARIO_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


def list_scenarios(directory: str | Path) -> list[ScenarioInfo]:
    """List the scenario files of a directory, sorted by file name.

    Unreadable files are listed too, with ``error`` set, so the app can show what is wrong.
    """
    out = []
    for path in _scenario_files(Path(directory)):
        try:
            s = load_scenario(path)
        except ScenarioError as exc:
            out.append(ScenarioInfo(path.stem, path, None, "", None, str(exc)))
            continue
        out.append(ScenarioInfo(path.stem, path, s.name, s.description, s.base))
    return out


def _find_file(directory: Path, name: str) -> Path | None:
    for suffix in SCENARIO_SUFFIXES:
        candidate = directory / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _dependents(directory: Path, stem: str, name: str | None) -> list[str]:
    keys = {stem} | ({name} if name else set())
    return [
        info.path.name
        for info in list_scenarios(directory)
        if info.stem != stem and info.base is not None and info.base in keys
    ]


def rename_scenario(directory: str | Path, old: str, new: str) -> Path:
    """Rename a scenario file and its ``name`` (atomic; refuses to overwrite).

    Scenarios using ``old`` as their base are updated to use ``new``.

    Parameters
    ----------
    directory
        The scenarios directory.
    old, new
        File stems (``new`` also becomes the scenario's ``name``).

    Returns
    -------
    pathlib.Path
        The new file.
    """
    folder = Path(directory)
    src = _find_file(folder, old)
    if src is None:
        raise ScenarioError(f"{folder}: no scenario file {old}.yaml")
    if not _NAME_RE.match(new):
        raise ScenarioError(f"{new!r} is not a usable scenario name")
    dst = folder / f"{new}.yaml"
    if dst.exists() or _find_file(folder, new) is not None:
        raise ScenarioError(f"{dst}: already exists; refusing to overwrite it")
    scenario = load_scenario(src)
    dependents = _dependents(folder, src.stem, scenario.name)
    save_scenario(scenario.renamed(new), dst)
    for fname in dependents:
        child = load_scenario(folder / fname)
        save_scenario(child._with(base=new), folder / fname, overwrite=True)
    src.unlink()
    return dst


def delete_scenario(directory: str | Path, name: str) -> None:
    """Delete a scenario file; refused while another scenario uses it as its base."""
    folder = Path(directory)
    path = _find_file(folder, name)
    if path is None:
        raise ScenarioError(f"{folder}: no scenario file {name}.yaml")
    try:
        scenario_name: str | None = load_scenario(path).name
    except ScenarioError:
        scenario_name = None
    dependents = _dependents(folder, path.stem, scenario_name)
    if dependents:
        raise ScenarioError(
            f"{path}: cannot delete, used as base by {', '.join(sorted(dependents))}"
        )
    path.unlink()


def write_schema(path: str | Path) -> Path:
    """Write the JSON schema of scenario files (generated from :class:`Scenario`)."""
    file = Path(path)
    text = json.dumps(Scenario.model_json_schema(), ensure_ascii=False, indent=2) + "\n"
    _atomic_write(file, text, overwrite=True)
    return file


# --------------------------------------------------------------------------------------
# Applying


def resolve_chain(scenario: Scenario, scenarios_dir: str | Path | None = None) -> list[Scenario]:
    """The scenario and its bases, baseline-most first.

    Parameters
    ----------
    scenario
        The scenario whose ``base`` chain to follow.
    scenarios_dir
        Where bases are looked up (by file stem, then by ``name``); defaults to the
        directory the scenario was read from.

    Raises
    ------
    ScenarioError
        If a base is not found or the chain loops (the message lists the loop).
    """
    chain = [scenario]
    seen = [scenario.name]
    current = scenario
    while current.base is not None:
        folder = (
            Path(scenarios_dir)
            if scenarios_dir is not None
            else (current.source.parent if current.source else None)
        )
        where = current.source or f"scenario {current.name!r}"
        if folder is None:
            raise ScenarioError(
                f"{where}: base: {current.base!r} cannot be found (no scenarios directory given)"
            )
        path = _find_file(folder, current.base)
        if path is None:
            matches = [i.path for i in list_scenarios(folder) if i.name == current.base]
            path = matches[0] if matches else None
        if path is None:
            raise ScenarioError(
                f"{where}: base: no scenario {current.base!r} in {folder} "
                f"(use 'baseline' or a file stem)"
            )
        parent = load_scenario(path)
        if parent.name in seen or path.stem in seen:
            loop = " → ".join([*seen, parent.name])
            raise ScenarioError(f"{where}: base: scenarios form a cycle: {loop}")
        seen.append(parent.name)
        chain.append(parent)
        current = parent
    return chain[::-1]


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


def _check_inside(
    scenario: Scenario, area: Any, key: str, lon: float, lat: float, wlon: float, wlat: float
) -> None:
    if area is None:
        return
    if not shapely.intersects(area, shapely.Point(wlon, wlat)):
        raise ScenarioError(
            f"{_where(scenario)}: {key}: point ({lon}, {lat}) lies outside the district "
            f"(WGS84 {wlon:.6f}, {wlat:.6f})"
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


def _apply_one(dataset: Dataset, scenario: Scenario) -> Dataset:
    """Apply one scenario (not its bases) to a dataset."""
    where = _where(scenario)
    area = None
    frames: dict[str, gpd.GeoDataFrame] = {}

    def frame_of(layer: str, key: str) -> gpd.GeoDataFrame:
        _require_layer(dataset, scenario, key, layer)
        if layer not in frames:
            frame = dataset.layer(layer).copy()
            if "scenario" not in frame.columns:
                frame["scenario"] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
            frames[layer] = frame
        return frames[layer]

    for i, ref in enumerate(scenario.remove):
        key = f"remove[{i}]"
        frame = frame_of(ref.type, key)
        idx = _index_of(frame, scenario, key, ref.type, ref.id)
        frames[ref.type] = frame.drop(index=idx)

    for i, mod in enumerate(scenario.modify):
        key = f"modify[{i}]"
        frame = frame_of(mod.type, key)
        idx = _index_of(frame, scenario, key, mod.type, mod.id)
        _check_attributes(scenario, key, mod.type, frame, mod.attributes)
        for column, value in mod.attributes.items():
            frame = _set_cell(frame, idx, column, value)
        frame = _set_cell(frame, idx, "scenario", scenario.name)
        frames[mod.type] = frame

    if scenario.move or scenario.add:
        area = _district_area(dataset)

    for i, mv in enumerate(scenario.move):
        key = f"move[{i}]"
        frame = frame_of(mv.type, key)
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
        frames[mv.type] = frame

    by_type: dict[str, list[tuple[int, FacilityAdd]]] = {}
    for i, item in enumerate(scenario.add):
        by_type.setdefault(item.type, []).append((i, item))
    for layer, items in by_type.items():
        frame = frame_of(layer, f"add[{items[0][0]}]")
        used = set(frame["id"].astype(str))
        rows = []
        xy = []
        for i, item in items:
            key = f"add[{i}]"
            wlon, wlat = _to_wgs84(item.lon, item.lat, item.crs)
            _check_inside(scenario, area, key, item.lon, item.lat, wlon, wlat)
            _check_attributes(scenario, key, layer, frame, item.attributes)
            for needed in REQUIRED_NEW_ATTRIBUTES.get(layer, ()):
                if needed not in item.attributes:
                    raise ScenarioError(
                        f"{where}: {key}.attributes.{needed}: required for a new {layer} "
                        f"(e.g. attributes: {{{needed}: 40}})"
                    )
            fid = item.id
            if fid is None:
                n = 1
                while f"S-{layer}-{n}" in used:
                    n += 1
                fid = f"S-{layer}-{n}"
            if fid in used:
                raise ScenarioError(f"{where}: {key}.id: {layer} already has id {fid!r}")
            used.add(fid)
            row: dict[str, Any] = dict(DEFAULT_NEW_ATTRIBUTES.get(layer, {}))
            row.update(item.attributes)
            row.update(
                id=fid,
                name=item.name or f"{scenario.name}: new {layer} {fid}",
                provenance="user",
                source=f"scenario {scenario.name} (planner-entered)",
                scenario=scenario.name,
            )
            rows.append(row)
            xy.append((wlon, wlat))
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
        frames[layer] = gpd.GeoDataFrame(combined, geometry=frame.geometry.name, crs=frame.crs)

    out = dataset
    for layer, frame in frames.items():
        out = out.with_layer(layer, frame)

    if scenario.parameters:
        try:
            out = out.with_params(merge_params(out.params, scenario.parameters))
        except ValidationError as exc:
            raise ScenarioError(_format_errors(exc, f"{where}: parameters")) from None

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


# --------------------------------------------------------------------------------------
# Comparing


@dataclass(frozen=True)
class Comparison:
    """What changes between two datasets (usually a baseline and a scenario).

    Attributes
    ----------
    name_a, name_b
        Scenario names (``"baseline"`` for none).
    indicators
        One row per indicator and scope: ``id, scope, value_a, value_b, delta, met_a,
        met_b, flipped, scope_name`` (from :func:`qjgeo.indicators.evaluate`).
    coverage
        One row per facility type: ``facility_type, children, covered_a, covered_b,
        newly_covered, newly_uncovered, share_a, share_b``.
    villages_flipped
        Villages whose covered status changes: ``facility_type, code12, name,
        township_code, children, covered_a, covered_b``.
    townships_flipped
        Townships whose indicator status changes (met → not met or back): ``id, scope,
        met_a, met_b``, plus townships whose uncovered children change.
    data_status
        ``official``/``estimated``/``sample``: the weakest data the comparison rests on.
    notes
        What could not be computed and why.
    """

    name_a: str
    name_b: str
    indicators: pd.DataFrame
    coverage: pd.DataFrame
    villages_flipped: pd.DataFrame
    townships_flipped: pd.DataFrame
    data_status: str
    notes: tuple[str, ...] = ()


_INDICATOR_COLUMNS = ["id", "scope", "value_a", "value_b", "delta", "met_a", "met_b", "flipped"]
_COVERAGE_COLUMNS = [
    "facility_type",
    "children",
    "covered_a",
    "covered_b",
    "newly_covered",
    "newly_uncovered",
    "share_a",
    "share_b",
]
_VILLAGE_COLUMNS = [
    "facility_type",
    "code12",
    "name",
    "township_code",
    "children",
    "covered_a",
    "covered_b",
]


def evaluate_indicators(dataset: Dataset, graph: WalkGraph | None = None) -> pd.DataFrame:
    """The plan indicators of a dataset (:func:`qjgeo.indicators.evaluate`)."""
    from qjgeo.indicators import evaluate

    return evaluate(dataset, graph=graph)


def _indicator_deltas(fa: pd.DataFrame, fb: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in ("id", "scope", "scope_name", "value", "met") if c in fa.columns]
    merged = fa[keep].merge(
        fb[[c for c in keep if c != "scope_name"]],
        on=["id", "scope"],
        how="outer",
        suffixes=("_a", "_b"),
        sort=False,
    )
    for col in ("value_a", "value_b", "met_a", "met_b"):
        if col not in merged.columns:
            merged[col] = None
    merged["delta"] = pd.to_numeric(merged["value_b"], errors="coerce") - pd.to_numeric(
        merged["value_a"], errors="coerce"
    )
    met_a = merged["met_a"].astype(object)
    met_b = merged["met_b"].astype(object)
    merged["flipped"] = (met_a.notna() & met_b.notna() & (met_a != met_b)).astype(bool)
    extra = ["scope_name"] if "scope_name" in merged.columns else []
    return merged[_INDICATOR_COLUMNS + extra].reset_index(drop=True)


def _village_coverage(
    dataset: Dataset, facility_type: str, graph: WalkGraph | None
) -> pd.DataFrame | None:
    """Per-village coverage ``code12, name, township_code, children, covered`` (qjgeo.gaps)."""
    from qjgeo.gaps import GapsUnavailable, compute_gaps

    try:
        result = compute_gaps(dataset, facility_type, graph=graph)
    except GapsUnavailable:
        return None
    cols = ["code12", "name", "township_code", "children", "covered"]
    return pd.DataFrame(result.villages[cols])


@dataclass(frozen=True)
class Snapshot:
    """What :func:`compare` needs of one dataset, computed once (cache the baseline's).

    Attributes
    ----------
    name
        Scenario name (``"baseline"`` for none).
    indicators
        :func:`qjgeo.indicators.evaluate` of the dataset.
    coverage
        Facility type → per-village coverage (``code12, name, township_code, children,
        covered``) from :func:`qjgeo.gaps.compute_gaps`; types whose layers are missing are
        left out.
    data_status
        Weakest provenance of the village, township and facility layers used.
    """

    name: str
    indicators: pd.DataFrame
    coverage: Mapping[str, pd.DataFrame]
    data_status: str


def snapshot(
    dataset: Dataset,
    *,
    graph: WalkGraph | None = None,
    facility_types: Iterable[str] | None = None,
) -> Snapshot:
    """Evaluate indicators and coverage of one dataset, for :func:`compare`.

    Parameters
    ----------
    dataset
        The baseline or a scenario applied to it.
    graph
        Walking network; straight line × detour factor when ``None``.
    facility_types
        Facility types whose coverage to compute; default: every type with access
        parameters whose layer the dataset holds.
    """
    types = (
        [t for t in dataset.params.access if dataset.has(t)]
        if facility_types is None
        else list(facility_types)
    )
    coverage = {}
    for ftype in types:
        frame = _village_coverage(dataset, ftype, graph)
        if frame is not None:
            coverage[ftype] = frame
    layers = [x for x in ("village", "township", *types) if dataset.has(x)]
    return Snapshot(
        name=dataset.scenario_name or BASELINE,
        indicators=evaluate_indicators(dataset, graph),
        coverage=coverage,
        data_status=dataset.data_status(layers),
    )


def compare(
    a: Dataset | Snapshot,
    b: Dataset | Snapshot,
    *,
    graph: WalkGraph | None = None,
    facility_types: Iterable[str] | None = None,
) -> Comparison:
    """Compare two datasets: indicator deltas, children newly covered, status flips.

    Parameters
    ----------
    a, b
        Usually the baseline and a scenario applied to it (:func:`apply`), as datasets or
        as :func:`snapshot` results (pass the baseline's cached snapshot to halve the time).
    graph
        Walking network for coverage; straight line × detour factor when ``None``.
    facility_types
        Facility types whose coverage to compare; default: those with access parameters
        present in both.

    Returns
    -------
    Comparison
        Frames of deltas; ``data_status`` says whether they rest on estimated/sample data.
    """
    types = None if facility_types is None else list(facility_types)
    sa = a if isinstance(a, Snapshot) else snapshot(a, graph=graph, facility_types=types)
    sb = b if isinstance(b, Snapshot) else snapshot(b, graph=graph, facility_types=types)
    notes: list[str] = []
    indicators = _indicator_deltas(sa.indicators, sb.indicators)
    if types is None:
        types = [t for t in sb.coverage if t in sa.coverage]
    cov_rows = []
    village_rows = []
    town_rows: list[dict[str, Any]] = []
    for ftype in types:
        va, vb = sa.coverage.get(ftype), sb.coverage.get(ftype)
        if va is None or vb is None:
            notes.append(f"coverage of {ftype}: layer not available")
            continue
        m = va.merge(
            vb[["code12", "children", "covered"]], on="code12", how="outer", suffixes=("_a", "_b")
        )
        ca = m["covered_a"].fillna(False).astype(bool).to_numpy()
        cb = m["covered_b"].fillna(False).astype(bool).to_numpy()
        kids_a = m["children_a"].fillna(0).to_numpy(dtype=np.float64)
        kids_b = m["children_b"].fillna(0).to_numpy(dtype=np.float64)
        total = float(kids_b.sum())
        cov_rows.append(
            {
                "facility_type": ftype,
                "children": total,
                "covered_a": float(kids_a[ca].sum()),
                "covered_b": float(kids_b[cb].sum()),
                "newly_covered": float(kids_b[cb & ~ca].sum()),
                "newly_uncovered": float(kids_a[ca & ~cb].sum()),
                "share_a": float(kids_a[ca].sum() / kids_a.sum()) if kids_a.sum() else np.nan,
                "share_b": float(kids_b[cb].sum() / total) if total else np.nan,
            }
        )
        flip = ca != cb
        if flip.any():
            village_rows.append(
                pd.DataFrame(
                    {
                        "facility_type": ftype,
                        "code12": m.loc[flip, "code12"].to_numpy(),
                        "name": m.loc[flip, "name"].to_numpy(),
                        "township_code": m.loc[flip, "township_code"].to_numpy(),
                        "children": kids_b[flip],
                        "covered_a": ca[flip],
                        "covered_b": cb[flip],
                    }
                )
            )
        towns = m["township_code"].astype(str).to_numpy()
        unc_a = pd.Series(kids_a * ~ca).groupby(towns).sum()
        unc_b = pd.Series(kids_b * ~cb).groupby(towns).sum()
        changed = unc_a.index[(unc_a != unc_b.reindex(unc_a.index)).to_numpy()]
        town_rows.extend(
            {
                "id": f"{ftype}_uncovered_children",
                "scope": str(code),
                "value_a": float(unc_a[code]),
                "value_b": float(unc_b[code]),
            }
            for code in changed
        )
    coverage = pd.DataFrame(cov_rows, columns=_COVERAGE_COLUMNS)
    villages_flipped = (
        pd.concat(village_rows, ignore_index=True)
        if village_rows
        else pd.DataFrame(columns=_VILLAGE_COLUMNS)
    )
    town_ind = indicators[indicators["flipped"] & (indicators["scope"].astype(str) != "district")][
        ["id", "scope", "value_a", "value_b", "met_a", "met_b"]
    ]
    town_cov = pd.DataFrame(town_rows, columns=["id", "scope", "value_a", "value_b"]).assign(
        met_a=None, met_b=None
    )
    townships_flipped = (
        pd.concat([f for f in (town_ind, town_cov) if len(f)], ignore_index=True)
        if (len(town_ind) or len(town_cov))
        else pd.DataFrame(columns=["id", "scope", "value_a", "value_b", "met_a", "met_b"])
    )
    order = ["official", "estimated", "sample"]
    status = max(sa.data_status, sb.data_status, key=order.index)
    return Comparison(
        name_a=sa.name,
        name_b=sb.name,
        indicators=indicators,
        coverage=coverage,
        villages_flipped=villages_flipped,
        townships_flipped=townships_flipped,
        data_status=status,
        notes=tuple(notes),
    )
