"""The scenario format: validated pydantic models, YAML reading and writing.

A scenario holds only what differs from its base. Frozen models with ``extra="forbid"``;
every error names the file, the key path (e.g. ``add[2].lon``) and the bad value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from qjgeo.crs import KNOWN_SYSTEMS
from qjgeo.params import DEFAULT_PARAMS, merge_params
from qjgeo.schema import FACILITY_LAYERS

CoordSystem = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
assert set(CoordSystem.__args__) == set(KNOWN_SYSTEMS)  # type: ignore[attr-defined]

#: File suffixes read as scenarios by :func:`list_scenarios` and base resolution.
SCENARIO_SUFFIXES = (".yaml", ".yml")
#: Name of the baseline (no scenario) when used as ``base`` or ``--compare``.
BASELINE = "baseline"
SCHEMA_FILE = "scenario.schema.json"
#: Largest scenario file (or uploaded text) read, in bytes: checked before parsing. A
#: scenario holds only what differs from its base, so real ones are a few KB.
MAX_SCENARIO_BYTES = 1_000_000
#: Most edits (``add`` + ``remove`` + ``modify`` + ``move`` items) one scenario may hold.
MAX_SCENARIO_EDITS = 5_000
#: The keys whose items count as edits.
EDIT_KEYS: tuple[str, ...] = ("add", "remove", "modify", "move")

#: Columns a scenario may never set through ``attributes``.
_RESERVED = frozenset({"id", "name", "geometry", "provenance", "scenario"})
#: Attributes an added facility must carry (no sensible default exists).
REQUIRED_NEW_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "childcare": ("places",),
    "kindergarten": ("places",),
    "primary_school": ("places",),
    "middle_school": ("places",),
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


class PointOutsideError(ScenarioError):
    """A scenario places a facility outside the district (``lon``/``lat`` in WGS84)."""

    def __init__(self, message: str, *, lon: float, lat: float) -> None:
        super().__init__(message)
        self.lon = lon
        self.lat = lat


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
    assumptions: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="how attributes were set when not known, e.g. a capacity derived from "
        "the demand a recommended site serves: assumptions, to check and edit before use",
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
        "access: {childcare: {rural_threshold_m: 3000}}, target_overrides: {...}}; "
        "optional travel mode: {mode: walk|bike|drive, minutes: 15}",
    )
    population: PopulationChange = Field(default_factory=PopulationChange)

    _source: Path | None = PrivateAttr(default=None)
    _origin: str | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data: Any) -> Any:
        """Refuse more than :data:`MAX_SCENARIO_EDITS` edits before validating any of them."""
        if isinstance(data, dict):
            counts = {
                key: len(data[key])
                for key in EDIT_KEYS
                if isinstance(data.get(key), list | tuple) and data[key]
            }
            total = sum(counts.values())
            if total > MAX_SCENARIO_EDITS:
                parts = " + ".join(f"{key} {n:,}" for key, n in counts.items())
                if len(counts) > 1:
                    parts += f" = {total:,}"
                raise ValueError(
                    f"too many edits: {parts}, more than the {MAX_SCENARIO_EDITS:,} a scenario "
                    "may hold (split it into scenarios based on one another)"
                )
        return data

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


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a scenario's name (``None`` if it can).

    The rules and the message are those of :class:`Scenario`'s ``name`` field (1 to 120
    characters, no leading space, none of ``/ \\ : * ? " < > |``), checked by the model
    itself so a command can refuse a bad name before doing any work.
    """
    try:
        Scenario.model_validate({"name": name})
    except ValidationError as exc:
        return _format_errors(exc, "scenario").removeprefix("scenario: ")
    return None


def _too_big(size: int, source: str) -> ScenarioError:
    return ScenarioError(
        f"{source}: {size:,} bytes, more than the {MAX_SCENARIO_BYTES:,} bytes a scenario "
        "file may have (a scenario holds only what differs from its base)"
    )


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
        Naming ``source``, the key path and the bad value; also for a text over
        :data:`MAX_SCENARIO_BYTES` (checked before parsing).
    """
    if len(text) > MAX_SCENARIO_BYTES // 4:  # could be over the limit: count the bytes
        size = len(text.encode("utf-8", errors="surrogatepass"))
        if size > MAX_SCENARIO_BYTES:
            raise _too_big(size, source)
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
        If the file is missing, larger than :data:`MAX_SCENARIO_BYTES` (checked before
        reading it), not UTF-8 YAML or does not fit the format (the message names the file,
        the key path and the value).
    """
    file = Path(path)
    if not file.is_file():
        raise ScenarioError(f"{file}: scenario file not found")
    size = file.stat().st_size
    if size > MAX_SCENARIO_BYTES:
        raise _too_big(size, str(file))
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
            order = ["type", "id", "name", "lon", "lat", "crs", "attributes", "assumptions"]
            items.append({k: item[k] for k in order if k in item})
        if items:
            data[key] = items
    data.setdefault("name", scenario.name)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
