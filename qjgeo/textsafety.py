"""Text that came from outside, made safe where it is shown or handed on.

Names are stored as the planner typed them (``<script>`` included). Every renderer escapes
them with :func:`escape_html`; every CSV and Excel export passes its cells through
:func:`neutralise_formula`, so a name such as ``=HYPERLINK(…)`` or `` =1+1`` opens in Excel as
text, never as a formula. The importer (:mod:`qjgeo.ingest`) and the exports
(:mod:`qjgeo.export`) both use this module.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["escape_html", "neutralise_formula", "neutralise_frame"]

#: A cell whose first non-blank character is one of these is a formula to a spreadsheet.
_FORMULA_START: Final[tuple[str, ...]] = ("=", "+", "-", "@")
#: Control characters that start a formula-injection payload on their own.
_CONTROL_START: Final[tuple[str, ...]] = ("\t", "\r", "\n")
#: Blanks a spreadsheet skips before it looks for a formula.
_BLANKS: Final[str] = " \u00a0\u3000\u2002\u2003\u2009\ufeff"


def neutralise_formula(value: object) -> object:
    """Make a cell value safe to open in Excel: formula-like text gets a leading ``'``.

    Text is formula-like when it starts with a tab, CR or LF, or when its first non-blank
    character is ``= + - @`` (`` =1+1`` too). Numbers are returned unchanged (so ``-3`` stays
    a number); only text is touched.

    Parameters
    ----------
    value
        A cell value about to be written to CSV or Excel.

    Returns
    -------
    object
        ``"'" + value`` for formula-like text, else ``value`` itself.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(_CONTROL_START) or value.lstrip(_BLANKS).startswith(_FORMULA_START):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a table whose text cells pass :func:`neutralise_formula` (for a CSV file)."""
    from pandas.api.types import is_string_dtype

    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise_formula, na_action="ignore")
    return out


def escape_html(text: object) -> str:
    """Escape text for HTML (popups, tooltips, HTML export): ``<script>`` shows as text.

    Parameters
    ----------
    text
        Any value; ``None`` becomes ``""``.

    Returns
    -------
    str
        The text with ``& < > " '`` escaped.
    """
    if text is None:
        return ""
    return html.escape(str(text), quote=True)
