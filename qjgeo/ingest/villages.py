"""Update the village / community layer from a ledger: real points and populations.

The bundled villages carry official names, codes and urban–rural classes, but their points
and populations are estimates. A planner's ledger (村委会 / 居委会 locations, often from Amap
in GCJ-02; population by age from the civil-affairs or health ledgers) replaces those
estimates village by village:

- each row is matched to one existing village by its 12-digit code, else by its name
  (within its township when one is given), as :func:`~qjgeo.ingest.locate.place_by_village`
  does for facilities; near misses are proposed, never applied;
- a row may give a point (longitude/latitude in the stated system, converted to WGS84), a
  population, children by age band, or any of these; what it gives replaces the estimate,
  the rest is kept;
- a village whose point *and* children by age both come from the ledger becomes provenance
  ``user``; one with only part of it replaced stays ``estimated`` (and the report says so),
  so the app's "estimated data" notice disappears only when nothing estimated is left;
- the village list itself does not change: codes, names and classes stay official; villages
  the ledger does not mention keep their estimates;
- a row may also give the counts of the priority groups (留守儿童, 困境儿童, 流动儿童, 残疾儿童,
  :mod:`qjgeo.priority`); they are stored as given, with ``priority_source`` (the ledger's
  own ``priority_source`` column when it says ``sample``/样例 or ``estimated``/估算, else
  ``user``), so a view built on sample counts labels them sample.

The result is an :class:`~qjgeo.ingest.report.ImportResult` whose ``features`` are the whole
updated layer, written with :func:`~qjgeo.ingest.commit.commit` in ``replace`` mode (the
previous version goes to ``.history/`` as for any import, and ``qjgeo import-undo`` restores
it).

The checks run as a pipeline, as for facilities (:mod:`qjgeo.ingest.ledger`): :data:`CHECKS`
lists them in order, each a small function of one :class:`VillageRows` writing its verdicts
into the shared row log (the first reason a row is refused wins); those shared with the
township update live in :mod:`qjgeo.ingest.unit_checks`. The accepted rows are then applied
village by village.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import numpy as np
import pandas as pd
import shapely

from qjgeo.catalog import Dataset
from qjgeo.crs import WGS84_CRS
from qjgeo.ingest.columns import ColumnMapping, suggest_mapping
from qjgeo.ingest.fields import VILLAGE_FIELDS as VILLAGE_FIELDS
from qjgeo.ingest.locate import (
    VillagePlacement,
    district_area,
    guess_coordinate_system,
    parse_coordinates,
    parse_numbers,
    place_by_village,
    resolve_township,
    split_lonlat,
    to_wgs84,
)
from qjgeo.ingest.readers import RawTable
from qjgeo.ingest.rowlog import ImportResult, normalise_crs_name
from qjgeo.ingest.safety import IngestError
from qjgeo.ingest.unit_checks import BANDS as BANDS
from qjgeo.ingest.unit_checks import IMPLAUSIBLE_TEXT as IMPLAUSIBLE_TEXT
from qjgeo.ingest.unit_checks import IMPLAUSIBLE_TEXT_ZH as IMPLAUSIBLE_TEXT_ZH
from qjgeo.ingest.unit_checks import SCALED_TEXT as SCALED_TEXT
from qjgeo.ingest.unit_checks import SCALED_TEXT_ZH as SCALED_TEXT_ZH
from qjgeo.ingest.unit_checks import (
    LayerUpdate,
    UnitKind,
    UnitRows,
    apply_row_population,
    check_population,
    check_repeats,
    check_sex_split,
    check_something_to_update,
    settle_provenance,
    start_update,
    updated_keys,
    updated_layer,
)
from qjgeo.ingest.unit_checks import apply_population as apply_population
from qjgeo.ingest.unit_checks import cells as ledger_cells
from qjgeo.ingest.unit_checks import read_population as read_population
from qjgeo.priority import PRIORITY_GROUPS, PRIORITY_SOURCE
from qjgeo.schema import AGE_BANDS

__all__ = [
    "BANDS",
    "CHECKS",
    "VILLAGE_FIELDS",
    "VillageRows",
    "apply_population",
    "read_population",
    "validate_villages",
]

#: How a village ledger updates its layer (see :class:`~qjgeo.ingest.unit_checks.UnitKind`).
VILLAGE: Final = UnitKind(
    layer="village",
    key_column="code12",
    unit_zh="村（社区）",
    stays_zh="该村",
    source="ledger",
    place_column="location_source",
    place=("point", "位置"),
    nothing="nothing to update (no point, no population, no priority-group count)",
    nothing_zh="没有可更新的位置、人口或重点群体儿童数",
    pop_dtype=None,
)


@dataclass
class VillageRows(UnitRows):
    """A village ledger being checked: its cells, the dataset and what the checks found.

    Arrays have one entry per row read; ``code`` is the village each row updates and
    ``has_place`` whether it gives a usable point.
    """

    kind: ClassVar[UnitKind] = VILLAGE

    name_field: str = field(init=False)  # "village", else "name"
    town_codes: pd.Series = field(init=False)  # 9-digit codes ("" when none)
    placed: VillagePlacement = field(init=False)
    unnamed: np.ndarray = field(init=False)
    no_match: np.ndarray = field(init=False)
    proposals: list[dict[str, Any]] = field(init=False, default_factory=list)
    lon: np.ndarray = field(init=False)  # as given (the stated system), NaN if none
    lat: np.ndarray = field(init=False)
    lon_junk: np.ndarray = field(init=False)
    lat_junk: np.ndarray = field(init=False)
    area: shapely.Geometry | None = field(init=False, default=None)
    wlon: np.ndarray = field(init=False)  # WGS84
    wlat: np.ndarray = field(init=False)
    priority: dict[str, np.ndarray] = field(init=False, default_factory=dict)
    priority_src: np.ndarray = field(init=False)  # "user", "sample" or "estimated" per row
    priority_layer: dict[str, np.ndarray] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.name_field = _name_field(self.mapping)


#: A check: reads the ledger's cells and earlier findings, writes verdicts into the row log.
Check = Callable[[VillageRows], None]


def _name_field(mapping: ColumnMapping) -> str:
    return "village" if mapping.source("village") else "name"


# --- the checks, in the order they run --------------------------------------------------------


def check_township(v: VillageRows) -> None:
    """Resolve the township each row names (its village is looked for there)."""
    v.town_codes, _unknown = resolve_township(v.dataset, v.cells("township"))


def check_village_placement(v: VillageRows) -> None:
    """Match each row to one village: by code, else by name (within its township)."""
    v.placed = place_by_village(
        v.dataset, v.cells("village_code"), v.cells(v.name_field), v.town_codes
    )
    v.code = v.placed.village_code.to_numpy(dtype=object)


def check_unnamed(v: VillageRows) -> None:
    """Refuse a row naming no village (neither name nor code)."""
    v.unnamed = ((v.cells(v.name_field) == "") & (v.cells("village_code") == "")).to_numpy()
    v.log.reject(v.unnamed, "no village name or code", "缺少村（社区）名称或代码")


def check_no_match(v: VillageRows) -> None:
    """Refuse a row naming a village that matches none, saying why."""
    v.no_match = (v.code == "") & ~v.unnamed
    problem = v.placed.problem.to_numpy(dtype=object)
    problem_zh = v.placed.problem_zh.to_numpy(dtype=object)
    text = np.empty(len(problem), dtype=object)
    text_zh = np.empty(len(problem), dtype=object)
    text[:] = [p or "no such village" for p in problem.tolist()]
    text_zh[:] = [p or "找不到该村（社区）" for p in problem_zh.tolist()]
    v.log.reject(v.no_match, text, text_zh)


def check_proposals(v: VillageRows) -> None:
    """Note the near-miss names of unmatched rows (proposed in the report, never applied)."""
    names = v.cells(v.name_field)
    proposed = v.no_match & (v.placed.proposal.to_numpy(dtype=object) != "")
    v.proposals = [
        {
            "row": int(v.log.rows[i]),
            "given": str(names.iloc[i]),
            "proposal": str(v.placed.proposal.iloc[i]),
            "village_code": str(v.placed.proposal_code.iloc[i]),
            "score": float(v.placed.score[i]),
        }
        for i in np.flatnonzero(proposed)
    ]


def check_coordinates_parse(v: VillageRows) -> None:
    """Read longitude/latitude (two columns or one ``lon,lat`` column)."""
    lon_text, lat_text = v.cells("lon"), v.cells("lat")
    mapping = v.mapping
    if mapping.source("lonlat") and not (mapping.source("lon") or mapping.source("lat")):
        lon_text, lat_text = split_lonlat(v.cells("lonlat"))
    v.lon, v.lon_junk = parse_coordinates(lon_text)
    v.lat, v.lat_junk = parse_coordinates(lat_text)


def check_gis_points(v: VillageRows) -> None:
    """A GIS file: its geometries' points stand for longitude/latitude."""
    if v.raw.geometry is None:
        return
    geoms = np.asarray(v.raw.geometry.array, dtype=object)
    has = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    reps = shapely.point_on_surface(geoms[has])
    v.lon[has], v.lat[has] = shapely.get_x(reps), shapely.get_y(reps)
    v.lon_junk &= ~has
    v.lat_junk &= ~has


def check_coordinate_system(v: VillageRows) -> None:
    """Warn when the points look swapped or in another system than the one stated."""
    v.area = district_area(v.dataset)
    finite = np.isfinite(v.lon) & np.isfinite(v.lat)
    guess = guess_coordinate_system(
        v.area, np.where(finite, v.lon, np.nan), np.where(finite, v.lat, np.nan), v.crs
    )
    if guess.message:
        v.log.warn(None, "coordinate_system", guess.message, guess.message_zh)


def check_coordinates_given(v: VillageRows) -> None:
    """Refuse coordinates that are not numbers, and a longitude without latitude (or back)."""
    v.log.reject(v.lon_junk | v.lat_junk, "coordinate is not a number", "坐标不是数字")
    one_only = np.isfinite(v.lon) ^ np.isfinite(v.lat)
    v.log.reject(one_only, "longitude or latitude is missing", "缺少经度或纬度")


def check_degrees(v: VillageRows) -> None:
    """Refuse coordinates that are not degrees; the rest are the rows' points."""
    finite = np.isfinite(v.lon) & np.isfinite(v.lat)
    bad_range = finite & ((np.abs(v.lon) > 180) | (np.abs(v.lat) > 90))
    v.log.reject(bad_range, "coordinates out of range", "坐标超出范围")
    v.has_place = finite & ~bad_range


def check_outside_district(v: VillageRows) -> None:
    """Convert the points to WGS84; refuse those outside the district."""
    has = v.has_place
    v.wlon, v.wlat = to_wgs84(np.where(has, v.lon, np.nan), np.where(has, v.lat, np.nan), v.crs)
    if v.area is None or not has.any():
        return
    inside = shapely.contains_xy(v.area, np.nan_to_num(v.wlon), np.nan_to_num(v.wlat))
    v.log.reject(
        has & ~inside,
        f"point outside the district (coordinates stated as {v.crs})",
        f"位置在区界之外（坐标按 {v.crs} 解读）",
    )


def check_priority_groups(v: VillageRows) -> None:
    """Read the priority-group counts (留守/困境/流动/残疾儿童), refusing junk and out-of-range."""
    v.priority = {}
    for group in PRIORITY_GROUPS:
        if v.mapping.source(group):
            values, junk = parse_numbers(v.cells(group))
            zh = PRIORITY_GROUPS[group][0]
            v.log.reject(junk, f"{group} is not a number", f"{zh}人数不是数字")
            v.log.reject_out_of_range(group, values)
            v.priority[group] = np.where(values == 0, 0.0, values)
    gives = np.zeros(len(v.raw), dtype=bool)
    for values in v.priority.values():
        gives |= np.isfinite(values)
    v.gives_pop = v.gives_pop | gives  # a count is something to update
    said = ledger_cells(v.raw, v.mapping, PRIORITY_SOURCE).fillna("").astype(str).str.lower()
    v.priority_src = np.select(
        [said.str.contains("sample|样例|示例|模拟"), said.str.contains("estimat|估算|估计")],
        ["sample", "estimated"],
        "user",
    ).astype(object)


#: The checks of a village ledger, in order.
CHECKS: Final[tuple[Check, ...]] = (
    check_township,
    check_village_placement,
    check_unnamed,
    check_no_match,
    check_proposals,
    check_repeats,
    check_coordinates_parse,
    check_gis_points,
    check_coordinate_system,
    check_coordinates_given,
    check_degrees,
    check_outside_district,
    check_population,
    check_sex_split,
    check_priority_groups,
    check_something_to_update,
)


def validate_villages(
    raw: RawTable,
    dataset: Dataset,
    *,
    mapping: ColumnMapping | None = None,
    crs: str = "wgs84",
) -> ImportResult:
    """Check a village ledger and build the updated village layer (nothing is written).

    Runs :data:`CHECKS` in order, then applies the accepted rows village by village.

    Parameters
    ----------
    raw
        The table read by :func:`~qjgeo.ingest.readers.read_table`.
    dataset
        The dataset whose ``village`` layer is updated.
    mapping
        Which column feeds which field (:data:`VILLAGE_FIELDS`); suggested when ``None``.
    crs
        The system of the ledger's coordinates (wgs84, cgcs2000, gcj02, bd09).

    Returns
    -------
    ImportResult
        ``features``: the whole village layer with the ledger's points and populations in
        place (WGS84); ``report``: rows read = accepted + rejected, with reasons in English
        and Chinese, warnings and proposed matches.

    Raises
    ------
    IngestError
        When the dataset has no village layer, or the ledger has no column naming the village
        or nothing to update (no coordinates, no population).
    """
    _refuse_without_villages(raw, dataset)
    crs_n = normalise_crs_name(crs)
    mapping = mapping if mapping is not None else suggest_mapping(raw, "village")
    _refuse_unusable_ledger(raw, mapping)
    v = VillageRows(raw=raw, dataset=dataset, mapping=mapping, crs=crs_n)
    for check in CHECKS:
        check(v)
    return _build_result(v)


def _refuse_without_villages(raw: RawTable, dataset: Dataset) -> None:
    """Raise :class:`IngestError` when the dataset has no villages to update."""
    if not dataset.has("village") or not len(dataset.layer("village")):
        raise IngestError(
            f"{raw.filename}: the dataset has no village layer to update; a village layer "
            "with official codes cannot be created from a ledger"
        )


def _refuse_unusable_ledger(raw: RawTable, mapping: ColumnMapping) -> None:
    """Raise :class:`IngestError` for a ledger naming no village or giving nothing to update."""
    if not (mapping.source(_name_field(mapping)) or mapping.source("village_code")):
        raise IngestError(
            f"{raw.filename}: no column naming the village (村/社区, 村代码) among "
            f"{', '.join(raw.columns) or 'no columns'}"
        )
    updatable = ("lon", "lat", "lonlat", "population", *AGE_BANDS, *PRIORITY_GROUPS)
    if not any(mapping.source(f) for f in updatable):
        raise IngestError(
            f"{raw.filename}: nothing to update: no coordinates (经度/纬度), no population "
            f"columns (人口, 0-2岁…) and no priority-group counts (留守儿童…) among "
            f"{', '.join(raw.columns)}"
        )


# --- building the updated layer ---------------------------------------------------------------


def _township_polygons(dataset: Dataset) -> dict[str, Any]:
    """The (estimated) township polygons in WGS84, by 9-digit code."""
    if not dataset.has("township"):
        return {}
    towns = dataset.layer("township")
    return dict(zip(towns["code9"].astype(str), towns.to_crs(WGS84_CRS).geometry, strict=True))


def _priority_arrays(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The layer's priority columns as they stand (NaN where absent), and their source."""
    out: dict[str, np.ndarray] = {
        g: (
            pd.to_numeric(frame[g], errors="coerce").to_numpy(dtype=float)
            if g in frame.columns
            else np.full(len(frame), np.nan)
        )
        for g in PRIORITY_GROUPS
    }
    out[PRIORITY_SOURCE] = (
        frame[PRIORITY_SOURCE].to_numpy(dtype=object).copy()
        if PRIORITY_SOURCE in frame.columns
        else np.full(len(frame), None, dtype=object)
    )
    return out


def _apply_priority(v: VillageRows, upd: LayerUpdate, i: int, k: int) -> None:
    """Put row ``i``'s priority-group counts into village ``k``."""
    arrays = v.priority_layer
    given = {g: vals[i] for g, vals in v.priority.items() if np.isfinite(vals[i])}
    for g, value in given.items():
        arrays[g][k] = value
    if given:
        arrays[PRIORITY_SOURCE][k] = v.priority_src[i]
        children = float(upd.pops["pop_0_14"][k])
        if sum(given.values()) > max(children, 0) * 1.2 + 5:
            v.log.warn(int(v.log.rows[i]), "implausible_value",
                       "priority-group counts add up to more than the village's children "
                       "aged 0–14 (groups may overlap or count children up to 16)",
                       "重点群体儿童数之和多于该村 0–14 岁儿童数（各群体可能重叠或统计至 16 岁）")  # fmt: skip


def _apply_villages(v: VillageRows, upd: LayerUpdate) -> None:
    """Apply each accepted row to its village: point, population, priority counts, provenance."""
    towns = upd.frame["township_code"].astype(str).to_numpy()
    township_polygons = _township_polygons(v.dataset)
    for i in np.flatnonzero(v.log.ok).tolist():
        k = upd.position[str(v.code[i])]
        if v.has_place[i]:
            upd.geoms[k] = shapely.Point(v.wlon[i], v.wlat[i])
            upd.place_src[k] = f"{v.source_text()} ({v.crs})"
            poly = township_polygons.get(str(towns[k]))
            if poly is not None and not poly.contains(upd.geoms[k]):
                name = upd.frame["name"].iloc[k]
                v.log.warn(int(v.log.rows[i]), "outside_township",
                           f"point lies outside its township's (estimated) boundary: {name}",
                           f"位置不在所属镇（街道）的估算边界内：{name}")  # fmt: skip
        apply_row_population(v, upd, i, k)
        _apply_priority(v, upd, i, k)
        settle_provenance(v, upd, i, k)


def _build_result(v: VillageRows) -> ImportResult:
    """The whole updated village layer and the report."""
    upd = start_update(v)
    v.priority_layer = _priority_arrays(upd.frame)
    _apply_villages(v, upd)
    sources = {
        "location_source": upd.place_src,
        "population_source": np.where(upd.pop_src == "", "estimated", upd.pop_src),
    }
    if v.priority or PRIORITY_SOURCE in upd.frame.columns:
        sources.update(v.priority_layer)
    features = updated_layer(upd, sources)
    how = v.placed.located_by.to_numpy(dtype=object)
    ok = v.log.ok
    report = v.log.report(
        v.raw, "village", v.crs, v.mapping, proposed_matches=v.proposals,
        located_by={
            "village_code": int((ok & (how == "village_code")).sum()),
            "village_name": int((ok & (how == "village_name")).sum()),
        },
    )  # fmt: skip
    return ImportResult(
        layer_id="village",
        features=features,
        report=report,
        source_name=v.raw.filename,
        updated_keys=updated_keys(v),
    )
