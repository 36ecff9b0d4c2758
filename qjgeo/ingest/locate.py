"""Put ledger rows on the map: parse coordinates, convert them to WGS84, or place by village.

* Coordinates are parsed leniently (full-width digits, ``113.6°``, a combined ``经纬度`` cell)
  and converted from the system the planner states (WGS84 / CGCS2000 / GCJ-02 / BD-09) with
  :func:`qjgeo.crs.convert`.
* :func:`guess_coordinate_system` checks the statement: it counts how many points fall inside
  the district (buffered by :data:`DISTRICT_BUFFER_M`) under every reading -- as stated, as
  each other system, and with longitude and latitude swapped -- and names a reading that puts
  clearly more points inside (at least :data:`GUESS_MIN_GAIN` of the points and 2 points more).
  GCJ-02 and BD-09 shift points in Qujiang by about 0.5--1 km, so the check can only tell
  these systems apart through points near the district edge; it reliably catches swapped
  columns and wholly wrong systems (projected metres, another province).
* Rows without coordinates are placed at their village or community point: by 12-digit code,
  then by name normalised with :func:`normalise_village_name` (``群星村村民委员会`` →
  ``群星村``), restricted to the row's township when one is given. A near-miss name is only
  *proposed* (the row is rejected with "did you mean …?"); nothing is placed by a guess.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qjgeo.catalog import Dataset
from qjgeo.crs import METRIC_CRS, WGS84_CRS, convert

#: Buffer around the district outline within which points count as "in the district".
DISTRICT_BUFFER_M: Final[float] = 1000.0
#: Share of points another reading must add to be named by :func:`guess_coordinate_system`.
GUESS_MIN_GAIN: Final[float] = 0.2
#: Lowest rapidfuzz score (0--100) at which a village name is proposed.
FUZZY_MIN_SCORE: Final[float] = 60.0

_VILLAGE_SUFFIXES: Final[tuple[str, ...]] = (
    "社区居民委员会",
    "村民委员会",
    "居民委员会",
    "村委会",
    "居委会",
    "村委",
    "居委",
)
_TOWNSHIP_SUFFIXES: Final[tuple[str, ...]] = (
    "街道办事处",
    "人民政府",
    "街道办",
    "街道",
    "镇",
    "乡",
)
_NUMBER: Final = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[-+]?\.\d+")
_CODE: Final = re.compile(r"\d{9}(\d{3})?")
_LEADING_NUMBER: Final = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[-+]?\.\d+)")
_SYSTEM_NAMES: Final[dict[str, str]] = {
    "wgs84": "WGS84",
    "cgcs2000": "CGCS2000",
    "gcj02": "GCJ-02 (Amap/Tencent)",
    "bd09": "BD-09 (Baidu)",
}
_SYSTEM_NAMES_ZH: Final[dict[str, str]] = {
    "wgs84": "WGS84",
    "cgcs2000": "CGCS2000",
    "gcj02": "GCJ-02（高德、腾讯）",
    "bd09": "BD-09（百度）",
}


def _clean(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def _nfkc(values: pd.Series) -> pd.Series:
    return pd.Series([_clean(v) for v in values.tolist()], index=values.index, dtype=object)


def _to_number(text: str) -> float:
    """One cell as a number (NaN when blank or junk); see :func:`parse_numbers`."""
    if not text:
        return np.nan
    try:
        value = float(text)
    except ValueError:
        match = _LEADING_NUMBER.match(text)
        if match is None:
            return np.nan
        try:
            value = float(match.group(1))
        except ValueError:
            return np.nan
    return value if math.isfinite(value) else np.nan


def normalise_village_name(name: str) -> str:
    """Normalise a village or community name for matching.

    Strips white space and the committee suffixes (村民委员会, 社区居民委员会, 居民委员会,
    村委会, 居委会 …), so ``"群星村村民委员会"``, ``"群星村委会"`` and ``" 群星村 "`` all give
    ``"群星村"``; ``"小坑社区居民委员会"`` gives ``"小坑社区"``.

    Parameters
    ----------
    name
        A village or community name as written in a ledger.

    Returns
    -------
    str
        The normalised name.
    """
    text = "".join(unicodedata.normalize("NFKC", str(name)).split())
    for suffix in _VILLAGE_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            if suffix == "社区居民委员会":
                text += "社区"
            elif suffix in {"村委会", "村委"} and not text.endswith("村"):
                text += "村"
            break
    return text


def village_core(name: str) -> str:
    """The village name without its 村 / 社区 ending (``群星村`` → ``群星``), for a second match."""
    text = normalise_village_name(name)
    for suffix in ("社区", "村"):
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def normalise_township_name(name: str) -> str:
    """Township name without 镇 / 街道 / 乡 (``马坝镇`` → ``马坝``), for matching."""
    text = "".join(unicodedata.normalize("NFKC", str(name)).split())
    for suffix in _TOWNSHIP_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def parse_numbers(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parse text cells as numbers, leniently.

    Full-width digits and separators are normalised; thousands separators and a trailing unit
    (``"80个"``, ``"113.6°"``) are tolerated; the first number in the cell is taken.

    Parameters
    ----------
    values
        Text cells.

    Returns
    -------
    tuple of numpy.ndarray
        The numbers (NaN where blank or unreadable) and a mask of cells that were not blank
        but held no number (junk).
    """
    text = [_clean(v).replace(",", "") for v in values.tolist()]
    blank = np.array([not t for t in text], dtype=bool)
    out = np.array([_to_number(t) for t in text], dtype=np.float64)
    return out, np.isnan(out) & ~blank


_DMS: Final = re.compile(
    r"^(?P<deg>\d+(?:\.\d+)?)\s*[°度]\s*(?:(?P<min>\d+(?:\.\d+)?)\s*['′’分]\s*)?"
    r"(?:(?P<sec>\d+(?:\.\d+)?)\s*(?:[\"″”秒]|''|′′)?\s*)?$"
)
_HEMISPHERE: Final = re.compile(r"^(东经|北纬|[EeNn])\s*|\s*([EeNn])$")


def _to_degrees(text: str) -> float:
    """One coordinate cell as decimal degrees (NaN when blank or junk); see parse_coordinates."""
    if not text:
        return np.nan
    core = _HEMISPHERE.sub("", text).strip().rstrip("°度").strip()
    try:
        value = float(core)
    except ValueError:
        match = _DMS.match(core) or _DMS.match(core + "°")
        if match is None or ("°" not in core and "度" not in core):
            return np.nan
        value = (
            float(match["deg"]) + float(match["min"] or 0) / 60 + float(match["sec"] or 0) / 3600
        )
    return value if math.isfinite(value) else np.nan


def parse_coordinates(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parse longitude or latitude cells as decimal degrees, strictly.

    Accepts decimal degrees (``113.61``, ``113.61°``, ``E113.61``, ``东经113.61``) and
    degrees-minutes-seconds (``113°36'36"``, ``24°40′48″N``, ``113度36分36秒``). Anything else
    is junk: unlike counts, a coordinate is never read from the start of a longer text, since
    ``113°36'`` read as ``113`` would silently move a point by kilometres.

    Parameters
    ----------
    values
        Text cells.

    Returns
    -------
    tuple of numpy.ndarray
        Degrees (NaN where blank or unreadable) and a mask of junk cells.
    """
    text = [_clean(v) for v in values.tolist()]
    blank = np.array([not t for t in text], dtype=bool)
    out = np.array([_to_degrees(t) for t in text], dtype=np.float64)
    return out, np.isnan(out) & ~blank


def split_lonlat(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Split combined ``"113.6,24.7"`` cells into longitude and latitude text."""
    text = _nfkc(values)
    parts = text.str.extractall(f"({_NUMBER.pattern})")[0].unstack()
    lon = parts[0].reindex(text.index) if 0 in parts.columns else pd.Series("", index=text.index)
    lat = parts[1].reindex(text.index) if 1 in parts.columns else pd.Series("", index=text.index)
    return lon.fillna("").astype(object), lat.fillna("").astype(object)


def to_wgs84(lon: np.ndarray, lat: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert lon/lat stated in ``crs`` (wgs84, cgcs2000, gcj02, bd09) to WGS84; NaN kept."""
    out_lon = np.full(lon.shape, np.nan)
    out_lat = np.full(lat.shape, np.nan)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if ok.any():
        out_lon[ok], out_lat[ok] = convert(lon[ok], lat[ok], crs, "wgs84")
    return out_lon, out_lat


def district_area(dataset: Dataset, buffer_m: float = DISTRICT_BUFFER_M) -> shapely.Geometry | None:
    """The district outline (WGS84) grown by ``buffer_m``, or ``None`` without one.

    Falls back to the union of the township polygons when there is no district layer.
    """
    for layer_id in ("district", "township"):
        if dataset.has(layer_id) and len(dataset.layer(layer_id)):
            metric = dataset.metric(layer_id)
            area = shapely.union_all(np.asarray(metric.geometry.array)).buffer(buffer_m)
            return gpd.GeoSeries([area], crs=METRIC_CRS).to_crs(WGS84_CRS).iloc[0]
    return None


def inside_share(area: shapely.Geometry, lon: np.ndarray, lat: np.ndarray) -> float:
    """Share of the finite points lying inside ``area`` (0 when there are none)."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return 0.0
    return float(shapely.contains_xy(area, lon[ok], lat[ok]).mean())


@dataclass(frozen=True)
class SystemGuess:
    """What :func:`guess_coordinate_system` found.

    Attributes
    ----------
    stated
        The system the planner stated.
    likely
        The reading putting most points in the district (``"swapped"`` for lon/lat swapped),
        or ``None`` when the statement looks right or there is nothing to judge.
    shares
        Share of points inside the district under each reading.
    message, message_zh
        A planner-readable warning in English and in Chinese, ``""`` when none.
    """

    stated: str
    likely: str | None
    shares: dict[str, float]
    message: str
    message_zh: str = ""


def guess_coordinate_system(
    area: shapely.Geometry | None, lon: np.ndarray, lat: np.ndarray, stated: str
) -> SystemGuess:
    """Check whether points stated in one system look like another, or have lon/lat swapped.

    Parameters
    ----------
    area
        The district (buffered), in WGS84; ``None`` skips the check.
    lon, lat
        The coordinates as written in the ledger (before conversion); NaN for missing.
    stated
        The system the planner stated (``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09``).

    Returns
    -------
    SystemGuess
        The shares per reading and, when one reading beats the stated one by at least
        :data:`GUESS_MIN_GAIN` of the points (and two points), a warning naming it.
    """
    stated_n = "wgs84" if stated == "cgcs2000" else stated
    ok = np.isfinite(lon) & np.isfinite(lat)
    if area is None or ok.sum() == 0:
        return SystemGuess(stated, None, {}, "", "")
    x, y = lon[ok], lat[ok]
    shares: dict[str, float] = {}
    for system in ("wgs84", "gcj02", "bd09"):
        shares[system] = inside_share(area, *to_wgs84(x, y, system))
    shares["swapped"] = max(
        inside_share(area, *to_wgs84(y, x, s)) for s in ("wgs84", "gcj02", "bd09")
    )
    base = shares[stated_n]
    best = max(shares, key=lambda k: (shares[k], k == stated_n))
    gain = shares[best] - base
    if best == stated_n or gain < GUESS_MIN_GAIN or gain * len(x) < 2:
        if base == 0 and len(x) >= 1 and (np.abs(x) > 180).any():
            return SystemGuess(
                stated,
                None,
                shares,
                "the coordinates are not degrees (values above 180): they may be projected "
                "metres; convert them to longitude/latitude first",
                "坐标不是经纬度（数值超过 180），可能是投影坐标（米）；请先转换为经纬度",
            )
        return SystemGuess(stated, None, shares, "", "")
    if best == "swapped":
        message = (
            f"longitude and latitude look swapped: {shares['swapped']:.0%} of the points fall "
            f"in the district when swapped, {base:.0%} as given; check the column mapping"
        )
        message_zh = (
            f"经度和纬度似乎填反了：互换后 {shares['swapped']:.0%} 的点落在区内，按原样只有 "
            f"{base:.0%}；请检查列对应关系"
        )
    else:
        message = (
            f"the points look like {_SYSTEM_NAMES[best]}, not {_SYSTEM_NAMES[stated]}: "
            f"{shares[best]:.0%} fall in the district read as {_SYSTEM_NAMES[best]}, "
            f"{base:.0%} as stated"
        )
        message_zh = (
            f"这些点看起来是{_SYSTEM_NAMES_ZH[best]}坐标，而不是{_SYSTEM_NAMES_ZH[stated]}："
            f"按{_SYSTEM_NAMES_ZH[best]}读取有 {shares[best]:.0%} 落在区内，按所选坐标系只有 "
            f"{base:.0%}"
        )
    return SystemGuess(stated, best, shares, message, message_zh)


@dataclass(frozen=True)
class VillagePlacement:
    """Where :func:`place_by_village` put each row (index aligned with the input).

    Attributes
    ----------
    lon, lat
        WGS84 position of the village point; NaN when not placed.
    village_code
        12-digit code of the matched village ("" when none).
    township_code
        9-digit code of its township ("" when none).
    located_by
        ``"village_code"``, ``"village_name"`` or ``""``.
    problem, problem_zh
        Why a row with a village given could not be placed ("" otherwise), in English and in
        Chinese.
    proposal
        A proposed village name for near misses ("" otherwise); never applied.
    proposal_code
        The proposed village's code.
    score
        The proposal's similarity score (0--100).
    """

    lon: np.ndarray
    lat: np.ndarray
    village_code: pd.Series
    township_code: pd.Series
    located_by: pd.Series
    problem: pd.Series
    problem_zh: pd.Series
    proposal: pd.Series
    proposal_code: pd.Series
    score: np.ndarray


def resolve_township(dataset: Dataset, values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Turn township cells (a 9/12-digit code, ``马坝镇`` or ``马坝``) into 9-digit codes.

    Parameters
    ----------
    dataset
        Supplies the township layer (names and codes).
    values
        Text cells naming townships.

    Returns
    -------
    tuple of pandas.Series
        The 9-digit codes (``""`` when blank or unknown) and a mask of cells that were given
        but not recognised.
    """
    text = [_clean(v) for v in values.tolist()]
    by_name: dict[str, str] = {}
    known: set[str] | None = None
    if dataset.has("township"):
        towns = dataset.layer("township")
        pairs = list(zip(towns["name"].astype(str), towns["code9"].astype(str), strict=True))
        by_name = {normalise_township_name(n): c for n, c in pairs}
        by_name.update({n: c for n, c in pairs})
        known = {c for _, c in pairs}
    out: list[str] = []
    for cell in text:
        if _CODE.fullmatch(cell):
            code = cell[:9]
            out.append(code if known is None or code in known else "")
        elif cell:
            out.append(by_name.get(cell) or by_name.get(normalise_township_name(cell)) or "")
        else:
            out.append("")
    codes = pd.Series(out, index=values.index, dtype=object)
    unknown = pd.Series(
        [bool(t) and not c for t, c in zip(text, out, strict=True)], index=values.index, dtype=bool
    )
    return codes, unknown


def _blank(n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    out[:] = ""
    return out


@dataclass(frozen=True)
class _Villages:
    """The village layer as arrays for matching: codes, townships, points, names and keys."""

    code: np.ndarray
    town: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    name: np.ndarray
    norm: np.ndarray  # names normalised by normalise_village_name
    core: np.ndarray  # names without 村 / 社区 (village_core)
    position: pd.Series  # code → position of its first village

    @classmethod
    def of(cls, villages: gpd.GeoDataFrame) -> _Villages:
        """Index a village layer for matching."""
        code = villages["code12"].astype(str).to_numpy()
        name = villages["name"].astype(str).to_numpy()
        points = np.asarray(villages.geometry.array)
        position = pd.Series(np.arange(len(code)), index=code)
        return cls(
            code=code,
            town=villages["township_code"].astype(str).to_numpy(),
            lon=shapely.get_x(points),
            lat=shapely.get_y(points),
            name=name,
            norm=np.array([normalise_village_name(v) for v in name], dtype=object),
            core=np.array([village_core(v) for v in name], dtype=object),
            position=position[~position.index.duplicated()],
        )


@dataclass
class _Placing:
    """Rows being placed by :func:`place_by_village`: their cells and what the steps found.

    Arrays have one entry per row; ``rows`` and ``towns`` are the rows left to match by name
    and their township codes.
    """

    index: pd.Index
    code_text: pd.Series
    name_text: pd.Series
    township_codes: pd.Series
    lon: np.ndarray = field(init=False)
    lat: np.ndarray = field(init=False)
    vcode: np.ndarray = field(init=False)
    tcode: np.ndarray = field(init=False)
    how: np.ndarray = field(init=False)
    problem: np.ndarray = field(init=False)
    problem_zh: np.ndarray = field(init=False)
    proposal: np.ndarray = field(init=False)
    proposal_code: np.ndarray = field(init=False)
    score: np.ndarray = field(init=False)
    by_code: np.ndarray = field(init=False)
    rows: np.ndarray = field(init=False)
    towns: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = len(self.index)
        self.lon, self.lat = np.full(n, np.nan), np.full(n, np.nan)
        self.vcode, self.tcode, self.how = _blank(n), _blank(n), _blank(n)
        self.problem, self.problem_zh = _blank(n), _blank(n)
        self.proposal, self.proposal_code = _blank(n), _blank(n)
        self.score = np.zeros(n)
        self.by_code = np.zeros(n, dtype=bool)
        self.rows = np.zeros(0, dtype=np.int64)
        self.towns = _blank(0)

    def place(self, row: int | np.ndarray, vil: _Villages, hit: int | np.ndarray, how: str) -> None:
        """Put row(s) at village(s) ``hit``, found by ``how``."""
        self.lon[row], self.lat[row] = vil.lon[hit], vil.lat[hit]
        self.vcode[row] = vil.code[hit]
        self.tcode[row] = vil.town[hit]
        self.how[row] = how

    def placement(self) -> VillagePlacement:
        """The result, as Series on the input's index."""

        def series(values: np.ndarray) -> pd.Series:
            return pd.Series(values, index=self.index, dtype=object)

        return VillagePlacement(
            lon=self.lon,
            lat=self.lat,
            village_code=series(self.vcode),
            township_code=series(self.tcode),
            located_by=series(self.how),
            problem=series(self.problem),
            problem_zh=series(self.problem_zh),
            proposal=series(self.proposal),
            proposal_code=series(self.proposal_code),
            score=self.score,
        )


def place_by_village(
    dataset: Dataset,
    codes: pd.Series,
    names: pd.Series,
    township_codes: pd.Series,
) -> VillagePlacement:
    """Place rows at their village or community point, by code, then by normalised name.

    Parameters
    ----------
    dataset
        Supplies the village layer (codes, names, points).
    codes
        12-digit village codes as text ("" when absent).
    names
        Village or community names as text ("" when absent).
    township_codes
        The rows' 9-digit township codes ("" when unknown); a name is matched within its
        township when given, else across the district (and refused when ambiguous).

    Returns
    -------
    VillagePlacement
        Positions for the rows that could be placed, reasons for those that could not, and
        proposals (not applied) for near-miss names.
    """
    placing = _Placing(codes.index, _nfkc(codes), _nfkc(names), township_codes)
    if not dataset.has("village") or len(dataset.layer("village")) == 0:
        _refuse_without_villages(placing)
        return placing.placement()
    villages = _Villages.of(dataset.layer("village"))
    _place_by_code(placing, villages)
    _place_by_name(placing, villages)
    _refuse_unknown_codes(placing)
    return placing.placement()


def _refuse_without_villages(placing: _Placing) -> None:
    """Without a village layer, every row naming a village is refused."""
    asked = ((placing.code_text != "") | (placing.name_text != "")).to_numpy()
    placing.problem[asked] = "no village layer in the dataset to place the row by village"
    placing.problem_zh[asked] = "数据中没有村（社区）图层，无法按村定位"


def _place_by_code(placing: _Placing, vil: _Villages) -> None:
    """Step 1: place the rows whose code is a village's."""
    pos = placing.code_text.map(vil.position)
    placing.by_code = pos.notna().to_numpy()
    if placing.by_code.any():
        hits = pos[placing.by_code].astype(int).to_numpy()
        placing.place(placing.by_code, vil, hits, "village_code")


def _place_by_name(placing: _Placing, vil: _Villages) -> None:
    """Step 2: by normalised name, then by core name, within the township when known."""
    todo = ~placing.by_code & (placing.name_text != "").to_numpy()
    if not todo.any():
        return
    placing.rows = np.flatnonzero(todo)
    given = placing.name_text.to_numpy()[placing.rows]
    norm = np.array([normalise_village_name(v) for v in given], dtype=object)
    core = np.array([village_core(v) for v in given], dtype=object)
    placing.towns = _nfkc(placing.township_codes).to_numpy()[placing.rows]
    _match_names(placing, vil, norm, vil.norm)
    _match_names(placing, vil, core, vil.core)
    _propose(placing, vil)


def _match_names(
    placing: _Placing, vil: _Villages, key_rows: np.ndarray, key_villages: np.ndarray
) -> None:
    """Place the rows left whose key names one village (in their township when given).

    A key naming several villages makes the row ambiguous, unless a later key places it.
    """
    lookup: dict[str, list[int]] = {}
    for vpos, key in enumerate(key_villages.tolist()):
        lookup.setdefault(key, []).append(vpos)
    for j, row in enumerate(placing.rows.tolist()):
        if placing.how[row]:
            continue
        hits = lookup.get(key_rows[j], [])
        if placing.towns[j]:
            hits = [h for h in hits if vil.town[h] == placing.towns[j]]
        if len(hits) == 1:
            placing.place(row, vil, hits[0], "village_name")
            placing.problem[row] = placing.problem_zh[row] = ""
        elif len(hits) > 1 and not placing.problem[row]:
            name = placing.name_text.iat[row]
            placing.problem[row] = (
                f"village name {name!r} is ambiguous (in "
                f"{len(hits)} townships); add the township column"
            )
            placing.problem_zh[row] = (
                f"村名“{name}”在 {len(hits)} 个镇（街道）都有，无法确定；请补充镇（街道）列"
            )


def _refuse_unknown_codes(placing: _Placing) -> None:
    """Step 3: a code matching no village, and nothing else placing the row, is named."""
    bad_code = (placing.code_text != "").to_numpy() & ~placing.by_code
    for row in np.flatnonzero(bad_code & (placing.how == "")).tolist():
        if not placing.problem[row]:
            placing.problem[row] = f"village code {placing.code_text.iat[row]!r} not found"
            placing.problem_zh[row] = f"村代码“{placing.code_text.iat[row]}”未找到"


#: A match found by rapidfuzz: (name, score, position in the village layer), or None.
_Match = tuple[str, float, int] | None


def _propose(placing: _Placing, vil: _Villages) -> None:
    """Fill proposals (never applied) for names that matched nothing."""
    from rapidfuzz import fuzz, process

    extract_one = partial(process.extractOne, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN_SCORE)
    cache: dict[tuple[str, str], tuple[_Match, bool]] = {}
    for j, row in enumerate(placing.rows.tolist()):
        if placing.how[row] or placing.problem[row]:
            continue
        given = str(placing.name_text.iat[row])
        key, town = normalise_village_name(given), str(placing.towns[j])
        if (key, town) not in cache:
            cache[(key, town)] = _closest_village(vil, key, town, extract_one)
        found, in_town = cache[(key, town)]
        if found is None:
            placing.problem[row] = f"village name {given!r} not found"
            placing.problem_zh[row] = f"村名“{given}”未找到"
            continue
        elsewhere = not in_town and bool(placing.towns[j])
        _propose_village(placing, vil, row, given, found, elsewhere)


def _closest_village(
    vil: _Villages, key: str, town: str, extract_one: Callable[..., Any]
) -> tuple[_Match, bool]:
    """The closest village name to ``key``: in ``town`` first, else anywhere.

    Returns the match (or None) and whether it lies in ``town``.
    """
    found: _Match = None
    in_town = bool(town)
    pools = [np.flatnonzero(vil.town == town)] if in_town else []
    pools.append(np.arange(len(vil.name)))
    for pool in pools:
        hit = extract_one(key, list(vil.norm[pool]))
        if hit is not None:
            found = (hit[0], hit[1], int(pool[hit[2]]))
            break
        in_town = False
    return found, in_town


def _propose_village(
    placing: _Placing,
    vil: _Villages,
    row: int,
    given: str,
    found: tuple[str, float, int],
    elsewhere: bool,
) -> None:
    """Propose the village ``found`` for a row and refuse the row with "did you mean …?"."""
    p = found[2]
    where, where_zh = (" in the township given", "在所填镇（街道）内") if elsewhere else ("", "")
    placing.proposal[row] = str(vil.name[p])
    placing.proposal_code[row] = str(vil.code[p])
    placing.score[row] = float(found[1])
    placing.problem[row] = (
        f"village name {given!r} not found{where}; did you mean {vil.name[p]} "
        f"(township {vil.town[p]})?"
    )
    placing.problem_zh[row] = (
        f"村名“{given}”{where_zh}未找到；是否为“{vil.name[p]}”（镇街代码 {vil.town[p]}）？"
        "（未自动采用）"
    )
