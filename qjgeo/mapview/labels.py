"""What a planner reads in a map popup: each attribute's name in Chinese or English, with its unit.

Internal columns (a township seat's coordinates, sort keys, the sources of estimates already
summed up in ``provenance``) are not shown. A column this table does not know is shown under
its own name rather than dropped, so nothing a dataset carries is hidden by accident.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["FIELD_LABELS", "HIDDEN_FIELDS", "field_label", "value_label"]

#: Column → (Chinese label, English label); units in brackets.
FIELD_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    "id": ("编号", "ID"),
    "name": ("名称", "Name"),
    "name_en": ("英文名", "Name (English)"),
    "code": ("代码", "Code"),
    "code9": ("镇街代码", "Township code"),
    "code12": ("村（社区）代码", "Village code"),
    "township_code": ("所属镇街代码", "Township code"),
    "township_name": ("所属镇（街道）", "Township"),
    "village_code": ("所属村（社区）代码", "Village code"),
    "type": ("类型", "Type"),
    "kind": ("类别", "Kind"),
    "level": ("级别", "Level"),
    "unit_type": ("单位类型", "Unit type"),
    "ur_code": ("城乡分类代码", "Urban–rural class code"),
    "urban": ("城镇", "Urban"),
    "urban_share": ("城镇人口比例", "Urban share"),
    "remote_mountain": ("边远山区", "Remote mountain area"),
    "tap_water": ("通自来水", "Tap water"),
    "child_friendly_demo": ("儿童友好示范", "Child-friendly demonstration"),
    "population": ("常住人口（人）", "Residents"),
    "pop_0_2": ("0–2 岁儿童（人）", "Children 0–2"),
    "pop_3_5": ("3–5 岁儿童（人）", "Children 3–5"),
    "pop_6_11": ("6–11 岁儿童（人）", "Children 6–11"),
    "pop_12_14": ("12–14 岁儿童（人）", "Children 12–14"),
    "pop_0_14": ("0–14 岁儿童（人）", "Children 0–14"),
    "girls_0_14": ("0–14 岁女童（人）", "Girls 0–14"),
    "boys_0_14": ("0–14 岁男童（人）", "Boys 0–14"),
    "places": ("托位 / 学位（个）", "Places"),
    "nursery_places": ("托班托位（个）", "Nursery places"),
    "puhui": ("普惠", "Public-benefit (puhui)"),
    "area_ha": ("面积（公顷）", "Area (ha)"),
    "has_play_area": ("有儿童游戏场地", "Play area"),
    "child_friendly_base": ("儿童友好基地", "Child-friendly base"),
    "youth_science_base": ("青少年科普基地", "Youth science base"),
    "gp_or_paediatrician": ("全科或儿科医生（名）", "GPs or paediatricians"),
    "child_health_doctors": ("儿童保健医生（名）", "Child-health doctors"),
    "paediatric_doctors": ("儿科医生（名）", "Paediatric doctors"),
    "paediatric_beds": ("儿科床位（张）", "Paediatric beds"),
    "fenced": ("有防护栏", "Fenced"),
    "warning_signs": ("有警示牌", "Warning signs"),
    "rescue_equipment": ("有救生设备", "Rescue equipment"),
    "note": ("备注", "Note"),
    # fields a ledger can give (the Import page's column mapping)
    "address": ("地址", "Address"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "lonlat": ("经纬度", "Longitude, latitude (one column)"),
    "township": ("所属镇", "Township (name)"),
    "village": ("所属村", "Village (name)"),
    "left_behind_children": ("留守儿童", "Left-behind children"),
    "children_in_difficulty": ("困境儿童", "Children in difficulty"),
    "migrant_children": ("流动儿童", "Migrant children"),
    "disabled_children": ("残疾儿童", "Children with disabilities"),
    "priority_source": ("重点群体数据来源", "Source of the priority-group counts"),
    "provenance": ("数据来源类型", "Provenance"),
    "source": ("来源", "Source"),
    "location_source": ("位置来源", "Location from"),
    "population_source": ("人口来源", "Population from"),
    "boundary_source": ("边界来源", "Boundary from"),
    "located_by": ("定位方式", "Located by"),
    "children": ("儿童数（人）", "Children"),
    "threshold_m": ("服务距离标准（米）", "Service distance (m)"),
    "distance_m": ("到最近设施距离（米）", "Distance to nearest (m)"),
    "route_m": ("到最近设施路线长度（米）", "Route to nearest (m)"),
    "distance_km": ("到最近设施距离（公里）", "Distance to nearest (km)"),
    "coverage_status": ("覆盖情况", "Coverage"),
    "facility_id": ("最近设施编号", "Nearest facility"),
    "covered": ("已覆盖", "Covered"),
    "children_uncovered": ("未覆盖儿童（人）", "Children not covered"),
    "distance_band": ("距离分段", "Distance band"),
    "method": ("距离算法", "Distance method"),
    "place": ("地点", "Place"),
    "catchment": ("等时圈", "Catchment"),
    "minutes": ("时间（分钟）", "Time (min)"),
    "mode": ("出行方式", "Travel mode"),
    "speed_kmh": ("速度（公里/小时）", "Speed (km/h)"),
    "area_km2": ("面积（平方公里）", "Area (km²)"),
    "value": ("数值", "Value"),
}

#: Columns no planner needs to read (internal keys, sort orders, build-time coordinates).
HIDDEN_FIELDS: Final[frozenset[str]] = frozenset(
    {"band_order", "seat_lat", "seat_lon", "seat_source", "short_name", "ur_code_source"}
)

#: Coded values shown in words.
_VALUES: Final[Mapping[str, tuple[str, str]]] = {
    "official": ("官方", "official"),
    "estimated": ("估算", "estimated"),
    "sample": ("样例", "sample"),
    "user": ("用户导入", "user import"),
    "osm": ("OpenStreetMap", "OpenStreetMap"),
    "straight_line_x_detour": ("直线距离 × 绕行系数", "straight line × detour factor"),
    "network": ("路网", "road network"),
    "walk": ("步行", "walk"),
    "bike": ("骑行（电动自行车）", "bike (e-bike)"),
    "drive": ("驾车", "drive"),
    "coordinates": ("坐标", "coordinates"),
    "village_code": ("村代码", "village code"),
    "village_name": ("村名称", "village name"),
}
_CODED: Final[frozenset[str]] = frozenset({"provenance", "method", "located_by", "mode"})


def field_label(column: str, lang: str) -> str | None:
    """A column's label in ``lang`` (``None``: not shown); an unknown column keeps its name."""
    if column in HIDDEN_FIELDS:
        return None
    zh, en = FIELD_LABELS.get(column, (column, column))
    return zh if lang == "zh" else en


def value_label(column: str, value: str, lang: str) -> str:
    """A coded value of ``column`` in words (``estimated`` → 估算); other values unchanged."""
    if column not in _CODED or value not in _VALUES:
        return value
    zh, en = _VALUES[value]
    return zh if lang == "zh" else en
