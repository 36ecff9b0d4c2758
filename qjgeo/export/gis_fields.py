"""Field names, labels and rounding of the GIS export layers.

Values are rounded to what they mean (:func:`round_values`): metres to 0.1 m, shares (0–1)
to 0.1 % (three decimals), children to 0.1. Shapefiles get readable field names of at most
10 characters (:func:`shapefile_names`), booleans as integers 0/1 (:func:`shapefile_frame`)
and, beside them, a ``fields.csv`` and a QGIS style whose aliases give the full names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

#: Shapefile field names (≤ 10 characters) of the longer column names; other names are cut
#: to 10 characters (made unique with a digit). The zip's ``fields.csv`` lists every mapping.
SHAPEFILE_FIELDS: Final[dict[str, str]] = {
    "township_code": "town_code",
    "township_name": "town_name",
    "children_uncovered": "child_unc",
    "children_covered": "child_cov",
    "share_covered": "share_cov",
    "distance_m": "dist_m",
    "route_m": "route_m",
    "threshold_m": "thresh_m",
    "facility_id": "fac_id",
    "facility_type": "fac_type",
    "distance_band": "dist_band",
    "villages_covered": "vill_cov",
    "data_status": "status",
    "candidate_id": "cand_id",
    "marginal_gain": "marg_gain",
    "marginal_children": "marg_child",
    "marginal_townships": "marg_town",
    "cumulative_covered": "cum_cov",
    "share_after_site": "share_aft",
    "provenance": "provenance",
    "band_order": "band_order",
    "scenario_change": "scen_chg",
    "attribute_status": "attr_stat",
    "population": "pop",
    "child_friendly_base": "cf_base",
    "child_friendly_demo": "cf_demo",
    "youth_science_base": "youth_sci",
    "has_play_area": "play_area",
    "village_code": "vill_code",
    "gp_or_paediatrician": "gp_paed",
    "child_health_doctors": "ch_doctors",
    "paediatric_doctors": "paed_doc",
    "paediatric_beds": "paed_beds",
    "rescue_equipment": "rescue_eq",
    "warning_signs": "warn_signs",
    "nodes_reached": "nodes",
}

#: Short stems (≤ 7 characters) of the plan indicators: ``<stem>`` holds the value and
#: ``<stem>_ok`` whether the target is met, instead of cut names like ``science_v1``.
INDICATOR_FIELDS: Final[dict[str, str]] = {
    "science_venue_community_coverage": "sci_com",
    "parent_school_urban": "psch_u",
    "parent_school_rural": "psch_r",
    "childcare_places_per_1000": "cc_p1k",
    "preschool_puhui_share": "puhui",
    "preschool_capacity": "pre_cap",
    "rural_tap_water": "tap_wtr",
    "park_play_area_share": "play_sh",
    "children_home_coverage": "chome",
    "water_hazard_control": "wtr_ctl",
    "school_perimeter": "sch_per",
    "safe_route_to_school": "safe_rt",
    "outdoor_activity_access": "outdoor",
    "child_friendly_community": "cf_comm",
    "science_venue_access": "sci_acc",
    "childcare_access": "cc_acc",
    "childcare_supply_demand": "cc_sd",
    "family_edu_access": "fam_acc",
}

#: Chinese / English labels of common columns (QGIS aliases of the GeoPackage layers).
LABELS: Final[dict[str, str]] = {
    "name": "名称 name",
    "code9": "乡镇代码 township code",
    "code12": "村（社区）代码 village code",
    "township_code": "乡镇代码 township code",
    "township_name": "乡镇 township",
    "children": "儿童数 children",
    "children_covered": "已覆盖儿童 children covered",
    "children_uncovered": "未覆盖儿童 children not covered",
    "share_covered": "覆盖率 share covered (0–1)",
    "covered": "已覆盖 covered",
    "distance_m": "出行代价（米，时间×参考速度）travel cost (m at reference speed)",
    "route_m": "路线长度（米）route length (m)",
    "threshold_m": "服务半径（米）service distance (m)",
    "distance_band": "距离分段 distance band",
    "facility_id": "最近设施 nearest facility",
    "facility_type": "设施类型 facility type",
    "data_status": "数据状态 data status",
    "provenance": "数据来源类别 provenance",
    "scenario_change": "情景变化 scenario change",
    "attribute_status": "虚构/估算字段 invented or estimated attributes",
    "villages": "村（社区）数 villages",
    "villages_covered": "已覆盖村（社区） villages covered",
    "place": "地点 place",
    "minutes": "时间（分钟）time (min)",
    "mode": "出行方式 travel mode",
    "speed_kmh": "速度（公里/小时）speed (km/h)",
    "method": "算法 method",
    "nodes_reached": "可达路网节点 network nodes reached",
    "radius_m": "半径（米）radius (m)",
    "area_km2": "面积（平方公里）area (km²)",
}

_PRECISION_M: Final = 1  # decimals of metres (0.1 m)
_PRECISION_SHARE: Final = 3  # decimals of a 0–1 share (0.1 %)
_PRECISION_COUNT: Final = 1  # decimals of estimated children


def _decimals(column: str) -> int | None:
    """The decimals a float column is rounded to, from what its name says it holds."""
    if column.endswith("_m") or column in ("lon", "lat"):
        return _PRECISION_M if column not in ("lon", "lat") else 6
    if column.startswith("children") or column.startswith("pop") or column == "places":
        return _PRECISION_COUNT
    return _PRECISION_SHARE  # shares, ratios and indicator values


def round_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Float columns rounded to their meaning (metres 0.1, shares 0.1 %, children 0.1).

    Parameters
    ----------
    frame
        A flattened layer (no infinite values).

    Returns
    -------
    pandas.DataFrame
        A copy; non-float columns unchanged.
    """
    out = frame.copy()
    for col in out.columns:
        if isinstance(col, str) and pd.api.types.is_float_dtype(out[col]):
            decimals = _decimals(col)
            if decimals is not None:
                out[col] = out[col].round(decimals)
    return out


def shapefile_names(columns: Sequence[str], geometry: str | None) -> dict[str, str]:
    """Map column names to unique readable Shapefile field names of at most 10 characters.

    Parameters
    ----------
    columns
        The layer's columns.
    geometry
        The geometry column (left out), or ``None``.

    Returns
    -------
    dict
        Column → field name (unique ignoring case).
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        if col == geometry:
            continue
        short = SHAPEFILE_FIELDS.get(col, col)
        if col in INDICATOR_FIELDS:
            short = INDICATOR_FIELDS[col]
        elif col.endswith("_met") and col[:-4] in INDICATOR_FIELDS:
            short = INDICATOR_FIELDS[col[:-4]] + "_ok"
        short = short[:10]
        base, i = short, 1
        while short.lower() in used:
            suffix = str(i)
            short = base[: 10 - len(suffix)] + suffix
            i += 1
        used.add(short.lower())
        out[col] = short
    return out


def _as_flag(series: pd.Series) -> pd.Series | None:
    """A boolean-like column (bools, or the texts ``"True"`` / ``"False"``) as Int 0/1."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("Int64")
    values = series.dropna()
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        if len(values) and values.astype(str).isin(["True", "False"]).all():
            return series.map(
                lambda v: pd.NA if v is None or v is pd.NA or v != v else int(str(v) == "True"),
            ).astype("Int64")
    return None


def shapefile_frame(frame: pd.DataFrame, geometry: str | None) -> pd.DataFrame:
    """A layer ready for a Shapefile: booleans as integers 0/1 (empty when unknown).

    Parameters
    ----------
    frame
        A flattened, rounded layer.
    geometry
        The geometry column, left as it is.

    Returns
    -------
    pandas.DataFrame
        A copy, same column names.
    """
    out = frame.copy()
    for col in out.columns:
        if col == geometry:
            continue
        flag = _as_flag(out[col])
        if flag is not None:
            out[col] = flag
        elif pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].astype(np.float64)
    return out
