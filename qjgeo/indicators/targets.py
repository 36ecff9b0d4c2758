"""The plan's targets as data: a YAML file validated by frozen pydantic models.

Each indicator of ``targets.yaml`` is an instance of one *metric kind* (see
:mod:`qjgeo.indicators.metrics`) with its parameters, a target (operator and value) and a
unit. Planning choices (service distances, which villages count as rural...) are parameters
in the file, never constants in the code; distances left unset fall back to the dataset's
:class:`~qjgeo.params.PlanningParams` (urban vs rural threshold per village).

Errors name the file, the indicator and the key, e.g.::

    targets.yaml: indicator 'childcare_places_per_1000': target.op: Input should be '>=', ...
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from qjgeo.params import deep_merge
from qjgeo.schema import AGE_BANDS, KNOWN_LAYERS

#: The bundled targets file (plan-targets.md sections A and B).
DEFAULT_TARGETS_PATH = Path(__file__).resolve().parent / "targets.yaml"

Operator = Literal[">=", ">", "<=", "<", "=="]
ConditionOp = Literal["==", "!=", ">=", ">", "<=", "<", "in", "not_in"]
Scalar = bool | int | float | str

_STRICT = ConfigDict(extra="forbid", frozen=True)


class TargetsError(ValueError):
    """A targets file or a target override is unusable; the message names file, indicator, key."""


def _known_layer(value: str) -> str:
    if value not in KNOWN_LAYERS:
        raise ValueError(f"unknown layer {value!r} (known: {', '.join(KNOWN_LAYERS)})")
    return value


def _known_bands(bands: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if bands is None:
        return None
    unknown = [b for b in bands if b not in AGE_BANDS and b != "population"]
    if unknown or not bands:
        raise ValueError(f"unknown age band(s) {unknown}; use {', '.join(AGE_BANDS)} or population")
    return bands


class Target(BaseModel):
    """What the plan asks for: ``value <op> target``."""

    model_config = _STRICT

    op: Operator
    value: float


class Condition(BaseModel):
    """One test on a column of a layer, e.g. ``level == town`` or ``kind in [网吧, 游戏厅]``."""

    model_config = _STRICT

    column: str
    op: ConditionOp = "=="
    value: Scalar | tuple[Scalar, ...]


class Selection(BaseModel):
    """Features of one layer, optionally filtered (all conditions must hold)."""

    model_config = _STRICT

    layer: str
    where: tuple[Condition, ...] = ()

    check_layer = field_validator("layer")(_known_layer)


class Source(Selection):
    """Features of a layer whose ``column`` is summed (a count when ``column`` is unset)."""

    column: str | None = None
    #: Treat a missing column (e.g. ``nursery_places`` in an OSM import) as zero.
    optional: bool = False


class ShortfallText(BaseModel):
    """How to word a shortfall: templates with ``{n}`` (the amount missing) and ``{units}``.

    English has a singular: ``en_one`` is used when exactly one is missing ("1 more
    community needs …"), ``en`` for any other number ("3 more communities need …").
    Chinese needs no second form.
    """

    model_config = _STRICT

    zh: str
    en: str
    en_one: str | None = None

    @field_validator("zh", "en", "en_one")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        try:
            if value is not None:
                value.format(n=1, units="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"template may only use {{n}} and {{units}}: {exc}") from exc
        return value

    def english(self, amount: float) -> str:
        """The English template for this amount missing (singular when exactly 1)."""
        return self.en_one if amount == 1 and self.en_one is not None else self.en


# --------------------------------------------------------------------------------------
# Parameters of each metric kind


class UnitCoverageParams(BaseModel):
    """Share of units (townships, communities, villages) with ≥ 1 facility.

    ``match``: ``inside`` (facility point inside the township polygon), ``code`` (the
    facility's ``village_code`` / ``township_code`` names the unit), ``distance`` (nearest
    facility within the service distance), ``code_or_distance`` (either).
    """

    model_config = _STRICT

    units: Literal["township", "village"]
    #: Which units count, e.g. ``urban == true`` or ``unit_type == 社区``.
    unit_where: tuple[Condition, ...] = ()
    facilities: Selection
    match: Literal["inside", "code", "distance", "code_or_distance"]
    #: Service distances; ``None`` = the dataset's planning parameters for the facility layer.
    urban_distance_m: float | None = Field(default=None, gt=0)
    rural_distance_m: float | None = Field(default=None, gt=0)


class PerCapitaParams(BaseModel):
    """Σ a facility attribute per ``scale`` residents of the given age bands."""

    model_config = _STRICT

    sources: tuple[Source, ...] = Field(min_length=1)
    population: tuple[str, ...] = ("population",)
    scale: float = Field(default=1000.0, gt=0)

    check_population = field_validator("population")(_known_bands)


class FeatureCountParams(BaseModel):
    """Number of flagged features over one or more layers."""

    model_config = _STRICT

    sources: tuple[Selection, ...] = Field(min_length=1)


class AttributeShareParams(BaseModel):
    """Share (%) of features meeting a condition, among those of ``base_where``."""

    model_config = _STRICT

    layer: str
    base_where: tuple[Condition, ...] = ()
    condition: tuple[Condition, ...] = Field(min_length=1)
    #: Weight features by this column (e.g. kindergarten ``places``); count when unset.
    weight: str | None = None

    check_layer = field_validator("layer")(_known_layer)


class ProximityViolationsParams(BaseModel):
    """Features of ``features`` within ``distance_m`` (straight line, inclusive) of ``near``."""

    model_config = _STRICT

    features: Selection
    near: tuple[Selection, ...] = Field(min_length=1)
    distance_m: float = Field(gt=0)


class AccessShareParams(BaseModel):
    """Children living within walking distance of the nearest facility.

    ``value``: ``share_within`` (% of children reached) or ``children_beyond`` (count of
    children farther than the distance).
    """

    model_config = _STRICT

    facilities: Selection
    value: Literal["share_within", "children_beyond"] = "share_within"
    #: Age bands of the children counted; ``None`` = the facility's planning parameters.
    age_bands: tuple[str, ...] | None = None
    urban_distance_m: float | None = Field(default=None, gt=0)
    rural_distance_m: float | None = Field(default=None, gt=0)

    check_age_bands = field_validator("age_bands")(_known_bands)


class UnprotectedHazardsParams(BaseModel):
    """Water hazards near villages / schools / kindergartens lacking a protection."""

    model_config = _STRICT

    distance_m: float = Field(default=500.0, gt=0)
    protections: tuple[Literal["fenced", "warning_signs", "rescue_equipment"], ...] = (
        "fenced",
        "warning_signs",
        "rescue_equipment",
    )
    near_layers: tuple[str, ...] = ("village", "primary_school", "kindergarten")

    @field_validator("near_layers")
    @classmethod
    def _layers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_known_layer(v) for v in value)


# --------------------------------------------------------------------------------------
# Indicators


class _IndicatorBase(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title_zh: str
    title_en: str
    #: The plan's own reference, e.g. ``二(六) 主要目标6``.
    section: str
    #: Part of plan-targets.md: ``A`` (numeric target) or ``B`` (target made concrete).
    part: Literal["A", "B"]
    #: The suggested id of plan-targets.md this indicator measures (defaults to ``id``);
    #: a target with two numbers is two indicators sharing one ``plan_id``.
    plan_id: str | None = None
    target: Target
    unit: str
    #: Also evaluate per township (one row per township besides the district row).
    per_township: bool = False
    #: Wording of a shortfall; a generic one is used when unset.
    shortfall: ShortfallText | None = None
    #: Why the target / default was chosen (planning choices are said so).
    note: str = ""


class UnitCoverageIndicator(_IndicatorBase):
    """An indicator of kind ``unit_coverage``."""

    kind: Literal["unit_coverage"]
    params: UnitCoverageParams


class PerCapitaIndicator(_IndicatorBase):
    """An indicator of kind ``per_capita``."""

    kind: Literal["per_capita"]
    params: PerCapitaParams


class FeatureCountIndicator(_IndicatorBase):
    """An indicator of kind ``feature_count``."""

    kind: Literal["feature_count"]
    params: FeatureCountParams


class AttributeShareIndicator(_IndicatorBase):
    """An indicator of kind ``attribute_share``."""

    kind: Literal["attribute_share"]
    params: AttributeShareParams


class ProximityViolationsIndicator(_IndicatorBase):
    """An indicator of kind ``proximity_violations``."""

    kind: Literal["proximity_violations"]
    params: ProximityViolationsParams


class AccessShareIndicator(_IndicatorBase):
    """An indicator of kind ``access_share``."""

    kind: Literal["access_share"]
    params: AccessShareParams


class UnprotectedHazardsIndicator(_IndicatorBase):
    """An indicator of kind ``unprotected_hazards``."""

    kind: Literal["unprotected_hazards"]
    params: UnprotectedHazardsParams


Indicator = Annotated[
    UnitCoverageIndicator
    | PerCapitaIndicator
    | FeatureCountIndicator
    | AttributeShareIndicator
    | ProximityViolationsIndicator
    | AccessShareIndicator
    | UnprotectedHazardsIndicator,
    Field(discriminator="kind"),
]
AnyIndicator = (
    UnitCoverageIndicator
    | PerCapitaIndicator
    | FeatureCountIndicator
    | AttributeShareIndicator
    | ProximityViolationsIndicator
    | AccessShareIndicator
    | UnprotectedHazardsIndicator
)


def _add(out: dict[str, set[str]], layer: str, columns: Any) -> None:
    out.setdefault(layer, set()).update(c for c in columns if c)


def _selection_columns(out: dict[str, set[str]], sel: Selection) -> None:
    _add(out, sel.layer, [c.column for c in sel.where])
    if isinstance(sel, Source) and sel.column:
        _add(out, sel.layer, [sel.column])


def attributes_read(ind: AnyIndicator) -> dict[str, tuple[str, ...]]:
    """The attributes an indicator reads, per layer (for attribute-level provenance).

    Parameters
    ----------
    ind
        An indicator of any kind.

    Returns
    -------
    dict
        Layer id → the columns read (conditions, summed or weighting columns,
        protections); geometry, codes and population are not listed.
    """
    out: dict[str, set[str]] = {}
    p = ind.params
    if isinstance(p, UnitCoverageParams):
        _add(out, p.units, [c.column for c in p.unit_where])
        _selection_columns(out, p.facilities)
    elif isinstance(p, PerCapitaParams | FeatureCountParams):
        for src in p.sources:
            _selection_columns(out, src)
    elif isinstance(p, AttributeShareParams):
        _add(out, p.layer, [c.column for c in (*p.base_where, *p.condition)] + [p.weight or ""])
    elif isinstance(p, ProximityViolationsParams):
        for sel in (p.features, *p.near):
            _selection_columns(out, sel)
    elif isinstance(p, AccessShareParams):
        _selection_columns(out, p.facilities)
    elif isinstance(p, UnprotectedHazardsParams):
        _add(out, "water_hazard", p.protections)
    return {layer: tuple(sorted(cols)) for layer, cols in out.items() if cols}


METRIC_KINDS: tuple[str, ...] = (
    "unit_coverage",
    "per_capita",
    "feature_count",
    "attribute_share",
    "proximity_violations",
    "access_share",
    "unprotected_hazards",
)


class TargetsFile(BaseModel):
    """A whole targets file: one entry per indicator, ids unique."""

    model_config = _STRICT

    version: Literal[1] = 1
    indicators: tuple[Indicator, ...] = Field(min_length=1)

    @field_validator("indicators")
    @classmethod
    def _unique(cls, value: tuple[AnyIndicator, ...]) -> tuple[AnyIndicator, ...]:
        seen: set[str] = set()
        for ind in value:
            if ind.id in seen:
                raise ValueError(f"indicator id {ind.id!r} appears twice")
            seen.add(ind.id)
        return value

    def get(self, indicator_id: str) -> AnyIndicator:
        """The indicator of this id (``KeyError`` naming the known ids)."""
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(
            f"no indicator {indicator_id!r} (known: {', '.join(i.id for i in self.indicators)})"
        )

    @property
    def ids(self) -> tuple[str, ...]:
        """Indicator ids in file order."""
        return tuple(i.id for i in self.indicators)


# --------------------------------------------------------------------------------------
# Reading and overriding


def _describe(raw: Any, loc: tuple[Any, ...]) -> tuple[str | None, str]:
    """Split a pydantic error location into (indicator id, key path)."""
    indicator: str | None = None
    keys: list[str] = []
    node = raw
    kinds = set(METRIC_KINDS)
    for i, key in enumerate(loc):
        if i == 0 and key == "indicators" and len(loc) > 1 and isinstance(loc[1], int):
            node = node.get(key) if isinstance(node, dict) else None
            continue
        if (
            i == 1
            and loc[0] == "indicators"
            and isinstance(key, int)
            and isinstance(node, list)
            and 0 <= key < len(node)
        ):
            item = node[key]
            indicator = str(item.get("id")) if isinstance(item, dict) and "id" in item else None
            indicator = indicator or f"#{key + 1}"
            node = item
            continue
        if i == 2 and loc[0] == "indicators" and key in kinds:
            continue  # the discriminator tag pydantic inserts
        if isinstance(key, int):
            keys[-1:] = [f"{keys[-1] if keys else ''}[{key}]"]
            node = node[key] if isinstance(node, list) and 0 <= key < len(node) else None
        else:
            keys.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return indicator, ".".join(keys)


def _follows_from_another(err: ErrorDetails, errors: list[ErrorDetails]) -> bool:
    """A list is "too short" only because one of its items failed (said already)."""
    loc = tuple(err["loc"])
    return err["type"] == "too_short" and any(
        len(other["loc"]) > len(loc) and tuple(other["loc"][: len(loc)]) == loc for other in errors
    )


def format_validation_error(where: str, raw: Any, exc: ValidationError) -> str:
    """All problems on one line, each naming the file, the indicator and the key."""
    problems = []
    errors = exc.errors()
    for err in errors:
        if _follows_from_another(err, errors):
            continue
        indicator, key = _describe(raw, tuple(err["loc"]))
        head = f"indicator {indicator!r}: " if indicator else ""
        got = err.get("input")
        shown = (
            f" (got {got!r})"
            if err["type"] != "missing" and not isinstance(got, dict | list)
            else ""
        )
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            key = ".".join(k for k in (key, "kind") if k)
            msg = f"unknown or missing metric kind (use one of {', '.join(METRIC_KINDS)})"
            shown = ""
        problems.append(f"{head}{key or '(top level)'}: {msg}{shown}")
    return f"{where}: " + "; ".join(problems)


def parse_targets(raw: Any, where: str = "<targets>") -> TargetsFile:
    """Validate already-parsed YAML/JSON content as a targets file.

    Parameters
    ----------
    raw
        The parsed document (a mapping with ``indicators``).
    where
        Name used in error messages (usually the file path).

    Raises
    ------
    TargetsError
        Naming ``where``, the indicator and the key of each problem.
    """
    try:
        return TargetsFile.model_validate(raw)
    except ValidationError as exc:
        raise TargetsError(format_validation_error(where, raw, exc)) from exc


def load_targets(path: str | Path | None = None) -> TargetsFile:
    """Read and validate a targets file (the bundled ``targets.yaml`` when ``None``).

    Parameters
    ----------
    path
        A YAML file in the format of ``qjgeo/indicators/targets.yaml``.

    Raises
    ------
    TargetsError
        If the file is missing, not YAML, or an indicator does not fit (names file,
        indicator and key).
    """
    if path is None:
        return _bundled_targets()
    p = Path(path)
    if not p.is_file():
        raise TargetsError(f"{p}: targets file does not exist")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TargetsError(f"{p}: not readable YAML: {exc}") from exc
    return parse_targets(raw, str(p))


@cache
def _bundled_targets() -> TargetsFile:
    raw = yaml.safe_load(DEFAULT_TARGETS_PATH.read_text(encoding="utf-8"))
    return parse_targets(raw, str(DEFAULT_TARGETS_PATH))


#: Keys of an indicator a target override may change.
OVERRIDABLE_KEYS: tuple[str, ...] = ("target", "params", "per_township")


def apply_overrides(
    targets: TargetsFile,
    overrides: Mapping[str, Mapping[str, Any]],
    where: str = "params.target_overrides",
) -> TargetsFile:
    """Return ``targets`` with per-indicator overrides merged in and re-validated.

    Parameters
    ----------
    targets
        The targets to start from.
    overrides
        ``{indicator_id: {"target": {...}, "params": {...}}}`` (partial, nested), e.g. from
        :attr:`qjgeo.params.PlanningParams.target_overrides`.
    where
        Name used in error messages.

    Raises
    ------
    TargetsError
        For an unknown indicator id, a key that may not be overridden, or a value that
        does not fit (names the indicator and key).
    """
    if not overrides:
        return targets
    known = set(targets.ids)
    raw = {"version": targets.version, "indicators": []}
    for ind_id in overrides:
        if ind_id not in known:
            raise TargetsError(
                f"{where}: unknown indicator {ind_id!r} (known: {', '.join(targets.ids)})"
            )
        update = overrides[ind_id]
        if not isinstance(update, Mapping):
            raise TargetsError(f"{where}: indicator {ind_id!r}: expected a mapping of keys")
        bad = [k for k in update if k not in OVERRIDABLE_KEYS]
        if bad:
            raise TargetsError(
                f"{where}: indicator {ind_id!r}: {bad[0]}: unknown key "
                f"(may override: {', '.join(OVERRIDABLE_KEYS)})"
            )
    indicators = []
    for ind in targets.indicators:
        dumped = ind.model_dump(mode="json", exclude_none=False)
        if ind.id in overrides:
            dumped = deep_merge(dumped, overrides[ind.id])
        indicators.append(dumped)
    raw["indicators"] = indicators
    return parse_targets(raw, where)


def targets_json_schema() -> dict[str, Any]:
    """The JSON schema of the targets file format (for editors and drift tests)."""
    return TargetsFile.model_json_schema()
