"""What the village and township updates share: their row state, common checks and build steps.

A village ledger (:mod:`qjgeo.ingest.villages`) and a township file
(:mod:`qjgeo.ingest.townships`) both update an existing layer unit by unit. Each runs its own
list of named checks over a :class:`UnitRows` (the table, the dataset, what earlier checks
found), writing verdicts into one :class:`~qjgeo.ingest.rowlog.RowLog`, as the facility ledger
does (:mod:`qjgeo.ingest.ledger`). The checks they have in common live here:

- :func:`check_repeats` -- one row per unit;
- :func:`check_population` -- the population columns (:func:`read_population`);
- :func:`check_something_to_update` -- a row must give a place (point / polygon) or a
  population.

So do the build steps: :func:`start_update` copies the layer, :func:`apply_row_population`
and :func:`settle_provenance` apply one accepted row, :func:`updated_layer` makes the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS
from qjgeo.ingest.columns import ColumnMapping
from qjgeo.ingest.fields import SEX_FIELDS, field_name_zh
from qjgeo.ingest.locate import parse_numbers
from qjgeo.ingest.readers import RawTable
from qjgeo.ingest.rowlog import RowLog, field_text
from qjgeo.schema import AGE_BANDS

__all__ = [
    "BANDS",
    "IMPLAUSIBLE_TEXT",
    "IMPLAUSIBLE_TEXT_ZH",
    "SCALED_TEXT",
    "SCALED_TEXT_ZH",
    "LayerUpdate",
    "UnitKind",
    "UnitRows",
    "apply_population",
    "apply_row_population",
    "check_population",
    "check_repeats",
    "check_sex_split",
    "check_something_to_update",
    "read_population",
    "settle_provenance",
    "start_update",
    "updated_keys",
    "updated_layer",
]

#: The age bands that add up to the children aged 0–14.
BANDS: Final[tuple[str, ...]] = ("pop_0_2", "pop_3_5", "pop_6_11", "pop_12_14")

SCALED_TEXT: Final = "no children by age given: the estimated age bands were scaled to match"
SCALED_TEXT_ZH: Final = "未提供分年龄段儿童数：已按比例调整估算的年龄段人数"
IMPLAUSIBLE_TEXT: Final = "more children aged 0–14 than residents"
IMPLAUSIBLE_TEXT_ZH: Final = "0–14 岁儿童多于常住人口"
SEX_EXCESS_TEXT: Final = (
    "girls + boys aged 0–14 ({sex:,.10g}) exceed the children aged 0–14 ({children:,.10g})"
)
SEX_EXCESS_TEXT_ZH: Final = (
    "0–14岁女童与男童之和（{sex:,.10g}）超过0–14岁儿童数（{children:,.10g}）"
)


def apply_population(
    pops: dict[str, np.ndarray], k: int, given: dict[str, float]
) -> tuple[bool, bool]:
    """Put a ledger's population figures into unit ``k`` of ``pops`` (column → values).

    Children given by age band replace the bands (``pop_0_14`` is their sum unless given);
    without them, the estimated bands are scaled to the given ``pop_0_14``, else to the
    given population. Returns ``(scaled, implausible)``: whether bands were scaled, and
    whether more children than residents result.
    """
    old_pop = pops["population"][k]
    if "population" in given:
        pops["population"][k] = given["population"]
    bands_given = [b for b in BANDS if b in given]
    for b in bands_given:
        pops[b][k] = given[b]
    scaled = False
    if bands_given:
        pops["pop_0_14"][k] = given.get("pop_0_14", sum(pops[b][k] for b in BANDS))
    else:
        old_children = sum(pops[b][k] for b in BANDS)
        if "pop_0_14" in given:
            scale = given["pop_0_14"] / old_children if old_children > 0 else np.nan
        elif "population" in given:
            scale = given["population"] / old_pop if old_pop and old_pop > 0 else np.nan
        else:
            scale = np.nan
        if np.isfinite(scale):
            for b in BANDS:
                pops[b][k] = round(pops[b][k] * scale)
            scaled = True
        pops["pop_0_14"][k] = sum(pops[b][k] for b in BANDS)
    return scaled, bool(pops["pop_0_14"][k] > pops["population"][k])


def read_population(
    raw: RawTable, mapping: ColumnMapping, log: RowLog
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The population columns a ledger maps (NaN where blank), rejecting junk and values
    outside their plausible range; and per row whether it gives any population figure."""
    numbers: dict[str, np.ndarray] = {}
    for fld in ("population", *AGE_BANDS, *SEX_FIELDS):
        if mapping.source(fld):
            values, junk = parse_numbers(cells(raw, mapping, fld))
            zh = field_name_zh(fld)
            log.reject(junk, f"{fld} is not a number", f"{zh}不是数字")
            log.reject_out_of_range(fld, values)
            values = np.where(values == 0, 0.0, values)  # -0 is 0
            numbers[fld] = values
    gives = np.zeros(len(raw), dtype=bool)
    for values in numbers.values():
        gives |= np.isfinite(values)
    return numbers, gives


def cells(raw: RawTable, mapping: ColumnMapping, field: str) -> pd.Series:
    """:func:`~qjgeo.ingest.rowlog.field_text` as a Series on the table's index."""
    return pd.Series(field_text(raw, mapping, field), index=raw.rows.index, dtype=object)


@dataclass(frozen=True)
class UnitKind:
    """What differs between updating villages and townships, in the shared steps.

    Attributes
    ----------
    layer
        The layer updated (``"village"``), also the unit's name in English.
    key_column
        The layer's code column rows are matched to (``"code12"``).
    unit_zh
        The unit's name in Chinese, in "already updated" reasons (``"村（社区）"``).
    stays_zh
        "This unit" in Chinese, in the still-estimated warning (``"该村"``).
    source
        How the source columns name the file (``"ledger"`` → ``"ledger 村台账.csv"``).
    place_column
        The column naming where the unit's place came from (``"location_source"``).
    place
        The place a row gives, in English and Chinese (``("point", "位置")``).
    nothing, nothing_zh
        The reason given to a row with neither a place nor a population.
    pop_dtype
        The dtype population columns are read as (``None``: as stored).
    """

    layer: str
    key_column: str
    unit_zh: str
    stays_zh: str
    source: str
    place_column: str
    place: tuple[str, str]
    nothing: str
    nothing_zh: str
    pop_dtype: type[float] | None


@dataclass
class UnitRows:
    """A ledger updating units (villages, townships) being checked, and what checks found.

    Arrays have one entry per row read (``len(raw)``); subclasses add their own findings.
    """

    kind: ClassVar[UnitKind]

    raw: RawTable
    dataset: Dataset
    mapping: ColumnMapping
    crs: str
    log: RowLog = field(init=False)
    code: np.ndarray = field(init=False)  # the unit each row updates ("" for none)
    has_place: np.ndarray = field(init=False)  # gives a usable point / polygon
    numbers: dict[str, np.ndarray] = field(init=False, default_factory=dict)
    gives_pop: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = len(self.raw)
        self.log = RowLog(self.raw)
        self.code = np.full(n, "", dtype=object)
        self.has_place = np.zeros(n, dtype=bool)
        self.gives_pop = np.zeros(n, dtype=bool)

    def cells(self, canonical: str) -> pd.Series:
        """The clean text of the cells feeding a field, on the table's index."""
        return cells(self.raw, self.mapping, canonical)

    def source_text(self) -> str:
        """How the updated units' source columns name this file."""
        return f"{self.kind.source} {self.raw.filename}"


# --- the shared checks ---------------------------------------------------------------------------


def check_repeats(unit: UnitRows) -> None:
    """One row per unit: refuse a later row for a unit an earlier open row updates."""
    unit.log.refuse_repeats(unit.code, unit.kind.layer, unit.kind.unit_zh)


def check_population(unit: UnitRows) -> None:
    """Read the population columns, refusing junk and values outside their range."""
    unit.numbers, unit.gives_pop = read_population(unit.raw, unit.mapping, unit.log)


def _row_children(numbers: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Children aged 0–14 a row gives: ``pop_0_14``, else the sum of all four bands (NaN)."""
    bands = [numbers.get(b, np.full(n, np.nan)) for b in BANDS]
    total = np.sum(bands, axis=0) if bands else np.full(n, np.nan)
    return np.where(np.isfinite(numbers.get("pop_0_14", np.full(n, np.nan))),
                    numbers.get("pop_0_14", np.full(n, np.nan)), total)  # fmt: skip


def check_sex_split(unit: UnitRows) -> None:
    """Refuse a row whose girls + boys aged 0–14 exceed the children aged 0–14 it gives."""
    if not any(s in unit.numbers for s in SEX_FIELDS):
        return
    n = len(unit.raw)
    sex = np.zeros(n)
    for s in SEX_FIELDS:
        sex += np.nan_to_num(unit.numbers.get(s, np.zeros(n)))
    children = _row_children(unit.numbers, n)
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(children) & (sex > children)
    text = np.full(n, "", dtype=object)
    text_zh = text.copy()
    for i in np.flatnonzero(bad).tolist():
        text[i] = SEX_EXCESS_TEXT.format(sex=sex[i], children=children[i])
        text_zh[i] = SEX_EXCESS_TEXT_ZH.format(sex=sex[i], children=children[i])
    unit.log.reject(bad, text, text_zh)


def check_something_to_update(unit: UnitRows) -> None:
    """Refuse a row giving neither a place nor a population."""
    unit.log.reject(~unit.has_place & ~unit.gives_pop, unit.kind.nothing, unit.kind.nothing_zh)


# --- the shared build steps ----------------------------------------------------------------------


@dataclass
class LayerUpdate:
    """The layer being updated (WGS84) and the new values of its units, by position."""

    frame: gpd.GeoDataFrame
    position: dict[str, int]  # unit code → position in ``frame``
    geoms: np.ndarray
    provenance: np.ndarray
    place_src: np.ndarray
    pop_src: np.ndarray
    pops: dict[str, np.ndarray]


def _source_column(frame: gpd.GeoDataFrame, column: str) -> np.ndarray:
    if column in frame.columns:
        return frame[column].fillna("").astype(str).to_numpy(dtype=object).copy()
    return np.full(len(frame), "", dtype=object)


def start_update(unit: UnitRows) -> LayerUpdate:
    """The unit's layer in WGS84 with its current geometries, sources and populations."""
    frame = unit.dataset.layer(unit.kind.layer).to_crs(WGS84_CRS).copy()
    return LayerUpdate(
        frame=frame,
        position={str(c): k for k, c in enumerate(frame[unit.kind.key_column].astype(str))},
        geoms=np.asarray(frame.geometry.array, dtype=object).copy(),
        provenance=frame["provenance"].astype(str).to_numpy(dtype=object).copy(),
        place_src=_source_column(frame, unit.kind.place_column),
        pop_src=_source_column(frame, "population_source"),
        pops={
            c: pd.to_numeric(frame[c], errors="coerce").to_numpy(
                dtype=unit.kind.pop_dtype, copy=True
            )
            if c in frame.columns
            else np.full(len(frame), np.nan)
            for c in ("population", *AGE_BANDS, *_sex_columns(unit, frame))
        },
    )


def _sex_columns(unit: UnitRows, frame: gpd.GeoDataFrame) -> tuple[str, ...]:
    """The children-by-sex columns kept: those the layer has or the ledger gives."""
    return tuple(s for s in SEX_FIELDS if s in frame.columns or s in unit.numbers)


def apply_row_population(unit: UnitRows, upd: LayerUpdate, i: int, k: int) -> None:
    """Put row ``i``'s population figures into unit ``k``, warning when bands were scaled."""
    given = {f: v[i] for f, v in unit.numbers.items() if np.isfinite(v[i])}
    by_sex = {s: given.pop(s) for s in SEX_FIELDS if s in given}
    row = int(unit.log.rows[i])
    for s, value in by_sex.items():
        upd.pops[s][k] = value
    if by_sex:
        sex = sum(float(np.nan_to_num(upd.pops[s][k])) for s in SEX_FIELDS if s in upd.pops)
        children = float(upd.pops["pop_0_14"][k])
        if not given and sex > children:  # against the (estimated) children already held
            unit.log.warn(
                row,
                "implausible_value",
                SEX_EXCESS_TEXT.format(sex=sex, children=children),
                SEX_EXCESS_TEXT_ZH.format(sex=sex, children=children),
            )
    if not given:
        return
    scaled, implausible = apply_population(upd.pops, k, given)
    if scaled:
        unit.log.warn(row, "scaled_age_bands", SCALED_TEXT, SCALED_TEXT_ZH)
    if implausible:
        unit.log.warn(row, "implausible_value", IMPLAUSIBLE_TEXT, IMPLAUSIBLE_TEXT_ZH)
    by_age = any(b in given for b in BANDS)
    source = unit.source_text()
    upd.pop_src[k] = source if by_age else f"{source} (age bands scaled)"


def settle_provenance(unit: UnitRows, upd: LayerUpdate, i: int, k: int) -> None:
    """Unit ``k`` becomes ``user`` when its place and children by age come from a file.

    Otherwise it is ``estimated`` (whatever it was, part of it is now an estimate), and row
    ``i`` is warned what is still estimated.
    """
    prefix = unit.kind.source
    placed = upd.place_src[k].startswith(prefix)
    counted = upd.pop_src[k].startswith(prefix) and not upd.pop_src[k].endswith("scaled)")
    if placed and counted:
        upd.provenance[k] = "user"
        return
    upd.provenance[k] = "estimated"
    missing, missing_zh = unit.kind.place if not placed else ("children by age", "分年龄段儿童数")
    name = upd.frame["name"].iloc[k]
    unit.log.warn(
        int(unit.log.rows[i]),
        "still_estimated",
        f"{name}: {missing} still estimated, so the {unit.kind.layer} stays 'estimated'",
        f"{name}：{missing_zh}仍为估算，{unit.kind.stays_zh}保持“估算”",
    )


def updated_layer(upd: LayerUpdate, sources: dict[str, np.ndarray]) -> gpd.GeoDataFrame:
    """The whole updated layer (WGS84): provenance, the given source columns, populations."""
    out = upd.frame.copy()
    out["provenance"] = upd.provenance
    for column, values in sources.items():
        out[column] = values
    for c, values in upd.pops.items():
        out[c] = values
    return gpd.GeoDataFrame(out, geometry=list(upd.geoms), crs=WGS84_CRS)


def updated_keys(unit: UnitRows) -> tuple[str, ...]:
    """The codes of the units the accepted rows update."""
    return tuple(str(c) for c in unit.code[unit.log.ok])
