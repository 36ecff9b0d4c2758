"""Readable tables: numbers as a planner reads them, no "None", no inner scroll for short tables.

Values are formatted once, here: counts as whole numbers (``2``, not ``2.00 个``), shares as
percentages (``60%``), other measures to two decimals; a missing value is ``—``. A table of
up to :data:`FULL_ROWS` rows is drawn in full (``st.table``: long text wraps, every column
shows at 1440 px); a longer one scrolls inside a frame of its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from qjgeo.ui.i18n import unit_label

#: Shown for a value that is missing (not computable, not applicable).
MISSING: Final = "—"
#: Tables of at most this many rows are shown in full, without an inner scroll.
FULL_ROWS: Final = 30
#: Units of shares, shown as percentages.
_PERCENT_UNITS: Final = frozenset({"%", "percent"})


def _number(value: Any) -> float | None:
    """``value`` as a finite float; ``None`` when missing or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def format_value(value: Any, unit: str = "") -> str:
    """One value for a table cell: ``60%``, ``2``, ``5.49``, ``1,234``; ``—`` when missing."""
    number = _number(value)
    if number is None:
        return value if isinstance(value, str) and value.strip() else MISSING
    if unit in _PERCENT_UNITS:
        return f"{number:.0f}%" if abs(number - round(number)) < 0.05 else f"{number:.1f}%"
    if abs(number - round(number)) < 1e-9:
        return f"{round(number):,}"
    return f"{number:,.2f}"


def format_delta(value: Any, unit: str = "", *, points: str = "") -> str:
    """A change with its sign: ``+0.52``, ``-3``, ``+10`` (``points`` after a share's change)."""
    number = _number(value)
    if number is None:
        return MISSING
    if abs(number) < 1e-9:
        return "0"
    sign = "+" if number > 0 else "−"
    if unit in _PERCENT_UNITS:
        return f"{sign}{format_value(abs(number), '%').removesuffix('%')}{points}"
    return f"{sign}{format_value(abs(number))}"


def indicator_label(title: str, unit: str, lang: str) -> str:
    """An indicator's title with its unit once (``青少年科技教育基地数量（个）``); none for %."""
    if not unit or unit in _PERCENT_UNITS:
        return title
    return f"{title}（{unit}）" if lang == "zh" else f"{title} ({unit_label(unit, lang)})"


def format_count(value: Any) -> str:
    """A count of people or places: a whole number with thousands separators; ``—`` missing."""
    number = _number(value)
    return MISSING if number is None else f"{round(number):,}"


def yes_no(value: Any, yes: str, no: str) -> str:
    """A yes/no cell in words (``是`` / ``否``); ``—`` when missing."""
    if value is None or _is_na(value):
        return MISSING
    return yes if bool(value) else no


def _is_na(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every missing cell shown as ``—`` (and never the text ``None``)."""
    out = frame.astype(object).where(frame.notna(), MISSING)
    return out.map(lambda v: MISSING if v is None or v == "None" else v)


def show_table(
    frame: pd.DataFrame | Styler,
    *,
    n_rows: int | None = None,
    wrap: Sequence[str] | None = None,
    column_config: Mapping[str, Any] | None = None,
) -> None:
    """Draw a table: in full when short (no inner scroll, long text wraps), else scrolling.

    ``frame`` may be a ``pandas`` ``Styler`` (colours); ``n_rows`` is then its row count.
    Only the columns in ``wrap`` (default: the text columns of more than 20 characters)
    wrap; numbers, statuses and badges stay on one line.
    """
    data: pd.DataFrame = frame.data if isinstance(frame, Styler) else frame  # type: ignore[attr-defined]
    rows = n_rows if n_rows is not None else len(data)
    if rows > FULL_ROWS:
        st.dataframe(
            frame,
            hide_index=True,
            width="stretch",
            height=fit_height(rows),
            column_config=dict(column_config or {}),
        )
        return
    wrapping = set(_long_text_columns(data) if wrap is None else wrap)
    if isinstance(frame, Styler):
        frame = frame.format(escape_markdown)
    else:
        frame = frame.map(escape_markdown)
    styled = frame if isinstance(frame, Styler) else frame.style
    # st.table draws each cell's text in a markdown block that wraps on its own: the rule
    # has to reach that block (scoped to this table by the Styler's id)
    styled = styled.set_table_styles(
        [
            {"selector": f"td.col{i} *, th.col_heading.col{i}", "props": "white-space: nowrap"}
            for i, c in enumerate(data.columns)
            if c not in wrapping
        ],
        overwrite=False,
    )
    st.table(styled, hide_index=True)


_MD_START = re.compile(r"^(\s*)([>#]|[-+*](?=\s))")
_MD_NUMBERED = re.compile(r"^(\s*\d+)([.)])(?=\s)")
_MD_INLINE = re.compile(r"([*_`~<\[\]|\\])")


def escape_markdown(value: Any) -> Any:
    """A text cell as plain text: ``st.table`` reads cells as Markdown (``> 3 km`` would
    become a quotation, ``*`` emphasis); other values unchanged."""
    if not isinstance(value, str):
        return value
    text = _MD_INLINE.sub(r"\\\1", value)
    text = _MD_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", text)
    return _MD_NUMBERED.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", text)


def _long_text_columns(frame: pd.DataFrame) -> list[str]:
    """Columns holding some text longer than 20 characters (they wrap)."""
    return [
        c for c in frame.columns if frame[c].map(lambda v: isinstance(v, str) and len(v) > 20).any()
    ]


def fit_height(n_rows: int, *, max_rows: int = FULL_ROWS) -> int:
    """Pixels of a ``st.dataframe`` showing ``n_rows`` rows (at most ``max_rows``) and a header."""
    return 35 * (min(n_rows, max_rows) + 1) + 3
