"""The fields a ledger can give, their names in Chinese and English, and their ranges.

One module that the readers (finding the header row), the column mapping, the facility
ledger checks and the village and township updates all read:

* :data:`ALIASES` -- canonical field → column names accepted (Chinese and English);
* :func:`layer_fields` -- which fields each layer takes (:data:`VILLAGE_FIELDS`,
  :data:`TOWNSHIP_FIELDS` for the unit-by-unit updates);
* :data:`COUNT_FIELDS`, :data:`BOOL_FIELDS`, :data:`FLOAT_FIELDS` -- how a cell is parsed;
* :data:`FIELD_RANGES` -- the plausible range of every numeric field; a value outside it
  rejects the row, naming the field, the value and the range.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

from qjgeo.priority import PRIORITY_GROUPS, PRIORITY_SOURCE
from qjgeo.schema import AGE_BANDS, REQUIRED_COLUMNS

#: Children aged 0–14 by sex (plan 五(二): 分性别分年龄指标), given by a village ledger.
SEX_FIELDS: Final[tuple[str, ...]] = ("girls_0_14", "boys_0_14")
#: Fields a village ledger may give.
VILLAGE_FIELDS: Final[tuple[str, ...]] = (
    "village", "name", "village_code", "township", "lon", "lat", "lonlat",
    "population", *AGE_BANDS, *SEX_FIELDS, *PRIORITY_GROUPS, PRIORITY_SOURCE, "note",
)  # fmt: skip
#: Fields a township file may give (its polygons come from the file's geometry).
TOWNSHIP_FIELDS: Final[tuple[str, ...]] = (
    "township", "township_code", "name", "population", *AGE_BANDS, "note",
)  # fmt: skip

COUNT_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "places",
        "nursery_places",
        "gp_or_paediatrician",
        "child_health_doctors",
        "paediatric_doctors",
        "paediatric_beds",
    }
)
BOOL_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "puhui",
        "has_play_area",
        "child_friendly_base",
        "youth_science_base",
        "fenced",
        "warning_signs",
        "rescue_equipment",
    }
)
FLOAT_FIELDS: Final[frozenset[str]] = frozenset({"area_ha"})
#: Words in a ledger's file name that say which layer it is for (its columns say the rest).
LAYER_KEYWORDS: Final[dict[str, tuple[str, ...]]] = {
    "childcare": ("托育", "托位", "托儿", "childcare", "nursery"),
    "kindergarten": ("幼儿园", "学前", "kindergarten"),
    "primary_school": ("小学", "primary"),
    "middle_school": ("初中", "中学", "middle_school", "secondary"),
    "park": ("公园", "广场", "park"),
    "family_edu_station": ("家长学校", "家庭教育", "家教"),
    "science_venue": ("科普", "科技馆", "science"),
    "children_home": ("儿童之家", "children_home"),
    "minors_protection_station": ("未成年人保护", "未保"),
    "health_centre": ("卫生院", "医院", "卫生室", "医疗", "health"),
    "internet_cafe": ("网吧", "游戏厅", "网咖"),
    "water_hazard": ("水域", "溺水", "河", "水库", "山塘", "water"),
    "village": ("村", "社区", "village"),
    "township": ("镇界", "乡镇", "街道", "township"),
}

#: Plausible range (inclusive) of every numeric field a ledger may give. The world bounds
#: them: no childcare centre or kindergarten in China holds more than a few thousand places
#: (the largest public kindergartens enrol about 1,500), a township health centre has tens
#: of doctors and beds, a park a few hundred hectares; a village or community has at most a
#: few tens of thousands of residents and a township (街道) a few hundred thousand -- the
#: bound below is generous (every Chinese county but a few has fewer residents).
FIELD_RANGES: Final[dict[str, tuple[float, float]]] = {
    "places": (0, 5_000),
    "nursery_places": (0, 5_000),
    "gp_or_paediatrician": (0, 1_000),
    "child_health_doctors": (0, 1_000),
    "paediatric_doctors": (0, 1_000),
    "paediatric_beds": (0, 5_000),
    "area_ha": (0, 100_000),
    "population": (0, 2_000_000),
    **{band: (0, 2_000_000) for band in AGE_BANDS},
    **{sex: (0, 2_000_000) for sex in SEX_FIELDS},
    **{group: (0, 100_000) for group in PRIORITY_GROUPS},
}

_CJK: Final = re.compile(r"[\u4e00-\u9fff]")

#: Canonical field → accepted column names (compared after :func:`normalise_header`).
ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "id": ("id", "编号", "序号编码", "机构编号", "编码", "代码", "机构代码", "fid", "osm_id"),
    "name": (
        "name",
        "名称",
        "机构名称",
        "单位名称",
        "设施名称",
        "场所名称",
        "学校名称",
        "幼儿园名称",
        "托育机构名称",
        "园所名称",
        "站点名称",
        "医院名称",
        "公园名称",
        "名字",
        "title",
    ),
    "lon": ("lon", "lng", "long", "longitude", "x", "经度", "东经", "x坐标", "坐标x", "经度x"),
    "lat": ("lat", "latitude", "y", "纬度", "北纬", "y坐标", "坐标y", "纬度y"),
    "lonlat": ("经纬度", "坐标", "lonlat", "lnglat", "coordinates", "location", "位置坐标"),
    "township": (
        "township",
        "town",
        "所属镇",
        "所属镇街",
        "镇街",
        "镇",
        "镇街道",
        "所属街道",
        "街道",
        "乡镇",
        "所属乡镇",
        "镇（街道）",
        "township_name",
    ),
    "township_code": ("township_code", "镇代码", "乡镇代码", "街道代码", "code9"),
    "left_behind_children": (
        "left_behind_children",
        "留守儿童",
        "留守儿童数",
        "留守儿童人数",
        "农村留守儿童",
    ),
    "children_in_difficulty": ("children_in_difficulty", "困境儿童", "困境儿童数", "困境儿童人数"),
    "migrant_children": ("migrant_children", "流动儿童", "流动儿童数", "流动儿童人数"),
    "disabled_children": ("disabled_children", "残疾儿童", "残疾儿童数", "残疾儿童人数"),
    PRIORITY_SOURCE: (PRIORITY_SOURCE, "重点儿童数据来源", "儿童数据来源", "重点群体数据来源"),
    "village": (
        "village",
        "community",
        "所属村",
        "所属社区",
        "所属村社区",
        "所属村居",
        "村社区",
        "村居",
        "村",
        "社区",
        "村委会",
        "居委会",
        "村居委会",
        "行政村",
        "village_name",
    ),
    "village_code": ("village_code", "村代码", "社区代码", "村居代码", "code12", "村社区代码"),
    "address": ("address", "addr", "地址", "详细地址", "所在地址"),
    "places": (
        "places",
        "capacity",
        "托位",
        "托位数",
        "学位",
        "学位数",
        "核定托位",
        "核定学位",
        "床位",
        "容量",
        "规模",
        "seats",
    ),
    "nursery_places": ("nursery_places", "托班学位", "托班托位", "托班"),
    "puhui": ("puhui", "普惠", "是否普惠", "普惠性", "普惠园", "inclusive"),
    "type": ("type", "类型", "机构类型", "性质", "办学性质"),
    "kind": ("kind", "类别", "种类", "分类", "category"),
    "level": ("level", "级别", "层级"),
    "has_play_area": ("has_play_area", "儿童游乐区", "游乐区", "有无儿童游乐设施", "儿童设施"),
    "child_friendly_base": ("child_friendly_base", "儿童友好基地", "儿童友好"),
    "youth_science_base": ("youth_science_base", "青少年科普基地", "科普基地"),
    "area_ha": ("area_ha", "面积公顷", "面积", "占地面积"),
    "gp_or_paediatrician": ("gp_or_paediatrician", "全科或儿科医生", "全科医生"),
    "child_health_doctors": ("child_health_doctors", "儿童保健医生", "儿保医生"),
    "paediatric_doctors": ("paediatric_doctors", "儿科医生", "儿科医生数"),
    "paediatric_beds": ("paediatric_beds", "儿科床位", "儿科床位数"),
    "fenced": ("fenced", "围栏", "是否有围栏", "防护栏"),
    "warning_signs": ("warning_signs", "警示牌", "警示标志", "是否有警示牌"),
    "rescue_equipment": ("rescue_equipment", "救生设备", "救生器材", "救援设备"),
    "note": ("note", "notes", "备注", "说明", "remark", "remarks"),
    "population": ("population", "人口", "常住人口", "总人口", "人口数", "户籍人口", "pop"),
    "pop_0_2": ("pop_0_2", "0-2岁", "0~2岁", "0至2岁", "0-2岁儿童", "婴幼儿", "0-3岁"),
    "pop_3_5": ("pop_3_5", "3-5岁", "3~5岁", "3至5岁", "3-5岁儿童", "学龄前儿童"),
    "pop_6_11": ("pop_6_11", "6-11岁", "6~11岁", "6至11岁", "6-11岁儿童"),
    "pop_12_14": ("pop_12_14", "12-14岁", "12~14岁", "12至14岁", "12-14岁儿童"),
    "pop_0_14": ("pop_0_14", "0-14岁", "0~14岁", "0至14岁", "儿童数", "儿童人数", "0-14岁儿童"),
    "girls_0_14": (
        "girls_0_14",
        "女童（0-14岁）",
        "女童",
        "女童0-14岁",
        "0-14岁女童",
        "女童数",
        "0-14岁女童数",
        "女童人数",
        "girls",
    ),
    "boys_0_14": (
        "boys_0_14",
        "男童（0-14岁）",
        "男童",
        "男童0-14岁",
        "0-14岁男童",
        "男童数",
        "0-14岁男童数",
        "男童人数",
        "boys",
    ),
}

#: Fields every layer may take from a ledger (beside its own required attributes).
_COMMON: Final[tuple[str, ...]] = (
    "id", "name", "lon", "lat", "lonlat", "township", "township_code", "village",
    "village_code", "address", "note",
)  # fmt: skip
_LAYER_EXTRAS: Final[dict[str, tuple[str, ...]]] = {
    "childcare": ("type",),
    "kindergarten": ("nursery_places", "type"),
    "park": ("area_ha",),
    "science_venue": ("level",),
}
_BRACKETED: Final = re.compile(r"\(.*?\)|\[.*?\]|【.*?】")
_STRIP: Final = re.compile(r"[\s\(\)\[\]【】{}<>《》:,.。、/\\\-_°'\"“”‘’#*]")


def normalise_header(name: str) -> str:
    """Normalise a column name for matching: NFKC, lower case, no spaces, units or brackets.

    Parameters
    ----------
    name
        A column name from the file.

    Returns
    -------
    str
        The comparison key, e.g. ``"经度(°)"`` → ``"经度"``, ``"Longitude "`` → ``"longitude"``.
    """
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    stripped = _STRIP.sub("", _BRACKETED.sub("", text))
    if not stripped:
        return text.replace(" ", "")
    return stripped


def _key_variants(alias: str) -> set[str]:
    return {normalise_header(alias), alias.lower().replace(" ", "")}


#: Normalised column name → canonical field.
ALIAS_KEYS: Final[dict[str, str]] = {}
for _canonical, _aliases in ALIASES.items():
    for _alias in (_canonical, *_aliases):
        for _key in _key_variants(_alias):
            ALIAS_KEYS.setdefault(_key, _canonical)


def header_matches(cells: Iterable[str]) -> int:
    """How many cells are known column names (aliases of two or more characters).

    Used to find the header row below a title block (``填报单位：…  日期：…``).
    """
    return sum(1 for cell in cells if len(key := normalise_header(cell)) >= 2 and key in ALIAS_KEYS)


def field_name_zh(field_name: str) -> str:
    """A ledger field's Chinese name: its first Chinese alias (``places`` → ``托位``).

    Parameters
    ----------
    field_name
        A canonical field (e.g. ``"places"``).

    Returns
    -------
    str
        The Chinese name, or ``field_name`` itself when the field has no Chinese alias.
    """
    return next((a for a in ALIASES.get(field_name, ()) if _CJK.search(a)), field_name)


def layer_fields(layer_id: str) -> tuple[str, ...]:
    """The canonical fields a layer can take from a ledger, in display order.

    Parameters
    ----------
    layer_id
        A qjgeo layer id (e.g. ``"childcare"``).

    Returns
    -------
    tuple of str
        Common fields (name, coordinates, township, village…) plus the layer's own attributes.
    """
    if layer_id == "village":  # a village ledger updates points and populations
        return VILLAGE_FIELDS
    if layer_id == "township":  # a boundary file updates polygons and populations
        return TOWNSHIP_FIELDS
    own = tuple(
        c
        for c in REQUIRED_COLUMNS.get(layer_id, ())
        if c not in {"id", "name", "provenance", "township_code", "village_code"}
    )
    return tuple(dict.fromkeys((*_COMMON, *own, *_LAYER_EXTRAS.get(layer_id, ()))))
