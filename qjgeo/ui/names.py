"""Chinese place names on English pages: the name, then its English name or its pinyin.

``罗坑镇`` → ``罗坑镇 Luokeng`` (the township layer's English name when given), a village
``枫湾社区居民委员会`` → ``枫湾社区居民委员会 Fengwan Community`` (pinyin of the proper name,
the generic part in English, as GB/T 17693 romanises place names). Chinese pages keep names as
they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Final

#: Generic parts of Qujiang's unit names, longest first, and their English words.
_GENERIC: Final[tuple[tuple[str, str], ...]] = (
    ("社区居民委员会", "Community"),
    ("居民委员会", "Community"),
    ("村民委员会", "Village"),
    ("街道办事处", "Subdistrict"),
    ("街道", "Subdistrict"),
    ("社区", "Community"),
    ("居委会", "Community"),
    ("村委会", "Village"),
    ("镇", "Town"),
    ("乡", "Township"),
    ("村", "Village"),
    ("区", "District"),
)
_CJK_RUN: Final = re.compile(r"[\u3400-\u9fff]+")


@lru_cache(maxsize=4096)
def pinyin(name: str) -> str:
    """A Chinese place name in pinyin: the proper name joined, the generic part in English.

    ``枫湾社区居民委员会`` → ``Fengwan Community``; ``曲江区`` → ``Qujiang District``.
    Without :mod:`pypinyin` installed the name is returned as it is.
    """
    try:
        from pypinyin import lazy_pinyin
    except ImportError:  # pragma: no cover - a pinned runtime dependency
        return name
    proper, generic = name, ""
    for suffix, english in _GENERIC:
        if name.endswith(suffix) and len(name) > len(suffix):
            proper, generic = name[: -len(suffix)], english
            break
    spelled = "".join(lazy_pinyin(proper)).capitalize()
    return f"{spelled} {generic}".strip()


def place_name(name: object, lang: str, english: Mapping[str, str] | None = None) -> str:
    """A place name for a page in ``lang``: on English pages with its English name or pinyin."""
    text = "" if name is None else str(name)
    if lang != "en" or not _CJK_RUN.search(text):
        return text
    known = (english or {}).get(text)
    return f"{text} {known or pinyin(text)}"


def gloss_names(text: str, lang: str, english: Mapping[str, str] | None = None) -> str:
    """English text naming Chinese places: each Chinese name followed by its English name or
    pinyin (``…: 罗坑镇, 大塘镇`` → ``…: 罗坑镇 Luokeng, 大塘镇 Datang``); other text unchanged."""
    if lang != "en" or not text:
        return text
    return _CJK_RUN.sub(lambda m: place_name(m.group(0), lang, english), text)
