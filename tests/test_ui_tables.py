"""How the app writes values in tables: counts whole, shares as %, missing as —, plain text."""

from __future__ import annotations

import math

import pytest

from qjgeo.ui.names import gloss_names, pinyin, place_name
from qjgeo.ui.tables import (
    MISSING,
    escape_markdown,
    format_count,
    format_delta,
    format_value,
    indicator_label,
    readable,
)


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (2.0, "个", "2"),  # not "2.00 个": the unit is in the header
        (60.0, "%", "60%"),
        (67.142857, "%", "67.1%"),
        (5.491384, "托位/千人", "5.49"),
        (15451.0, "人", "15,451"),
        (None, "%", MISSING),
        (math.nan, "个", MISSING),
        (math.inf, "", MISSING),
        ("达标", "", "达标"),
    ],
)
def test_values_as_a_planner_reads_them(value, unit: str, shown: str) -> None:
    assert format_value(value, unit) == shown


def test_changes_counts_and_labels() -> None:
    assert format_delta(0.523, "托位/千人") == "+0.52"
    assert format_delta(-7.3, "%", points=" 个百分点") == "−7.3 个百分点"
    assert format_delta(0.0, "%") == "0" and format_delta(None) == MISSING
    assert format_count(442.6) == "443" and format_count(None) == MISSING
    assert indicator_label("青少年科技教育基地数量", "个", "zh") == "青少年科技教育基地数量（个）"
    assert indicator_label("Share", "%", "en") == "Share"
    assert indicator_label("Youth bases", "个", "en") == "Youth bases (count)"


def test_no_none_in_a_readable_frame() -> None:
    import pandas as pd

    frame = readable(pd.DataFrame({"a": [None, 1.0], "b": ["None", "x"]}))
    assert list(frame["a"]) == [MISSING, 1.0] and list(frame["b"]) == [MISSING, "x"]


def test_table_cells_stay_plain_text() -> None:
    assert escape_markdown("> 3 km") == "\\> 3 km"  # not a quotation
    assert escape_markdown("1. 第一") == "1\\. 第一" and escape_markdown("a*b") == "a\\*b"
    assert escape_markdown("+2.95") == "+2.95" and escape_markdown(3) == 3


def test_chinese_place_names_on_english_pages() -> None:
    assert pinyin("枫湾社区居民委员会") == "Fengwan Community"
    assert pinyin("罗坑村") == "Luokeng Village"
    assert place_name("罗坑镇", "en", {"罗坑镇": "Luokeng"}) == "罗坑镇 Luokeng"
    assert place_name("罗坑镇", "zh", {"罗坑镇": "Luokeng"}) == "罗坑镇"
    text = "1 more township needs a centre: 罗坑镇, 大塘镇"
    assert gloss_names(text, "en", {"罗坑镇": "Luokeng"}) == (
        "1 more township needs a centre: 罗坑镇 Luokeng, 大塘镇 Datang Town"
    )
