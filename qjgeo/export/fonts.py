"""Find the CJK font the exported maps and briefs need, and register it with matplotlib.

Township and village names are Chinese. matplotlib's default font (DejaVu Sans) has no CJK
glyphs and silently draws empty boxes ("tofu") instead, so every exporter calls
:func:`cjk_font_family` first: it finds Noto Sans CJK (Debian/Ubuntu package
``fonts-noto-cjk``), registers it with matplotlib and returns the family name to draw with,
or raises :class:`FontMissingError` naming the package to install.

PDFs embed the font as TrueType/CID (``pdf.fonttype = 42``), so they read the same on a
machine without the font.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

#: The apt package that provides the font on Debian / Ubuntu.
FONT_PACKAGE: Final = "fonts-noto-cjk"
#: Family names tried, Simplified Chinese first.
CJK_FAMILIES: Final[tuple[str, ...]] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Noto Sans CJK JP",
)
#: Where Debian, Ubuntu, Fedora and macOS Homebrew put the font files.
KNOWN_FONT_PATHS: Final[tuple[str, ...]] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/opt/homebrew/share/fonts/NotoSansCJK-Regular.ttc",
)
#: Characters every exported map needs (district and township names, title words).
PROBE_TEXT: Final = "曲江区松山街道马坝镇大塘枫湾小坑沙溪乌石樟市白土罗坑托育缺口数据状态"


class FontMissingError(RuntimeError):
    """No CJK font is installed: Chinese labels would render as empty boxes."""


def _fc_match(family: str) -> Path | None:
    """Ask fontconfig for a font file of ``family`` (``None`` when fc-match is absent)."""
    exe = shutil.which("fc-match")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "--format=%{file}", f"{family}:style=Regular"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(out) if out else None
    if path is None or not path.is_file():
        return None
    # fc-match always answers with *some* font; keep it only if it is a CJK one.
    return path if "cjk" in path.name.lower() or "sanssc" in path.name.lower() else None


def find_cjk_font_file(extra_paths: Iterable[str | Path] = ()) -> Path:
    """Locate a Noto Sans CJK font file on this machine.

    Parameters
    ----------
    extra_paths
        Font files to try first (e.g. a font shipped with a deployment).

    Returns
    -------
    Path
        The font file (``.ttc`` or ``.otf``).

    Raises
    ------
    FontMissingError
        If no CJK font is found; the message names the package to install.
    """
    for candidate in (*extra_paths, *KNOWN_FONT_PATHS):
        path = Path(candidate)
        if path.is_file():
            return path
    for family in CJK_FAMILIES:
        found = _fc_match(family)
        if found is not None:
            return found
    raise FontMissingError(
        "no CJK font found for Chinese labels (looked for Noto Sans CJK in "
        f"{', '.join(KNOWN_FONT_PATHS[:2])} and via fontconfig); install it with "
        f"`apt-get install {FONT_PACKAGE}` (Debian/Ubuntu)"
    )


@lru_cache(maxsize=4)
def _register(path: str) -> str:
    """Add a font file to matplotlib's font manager; return the family to use."""
    before = {f.name for f in font_manager.fontManager.ttflist}
    font_manager.fontManager.addfont(path)
    names = {f.name for f in font_manager.fontManager.ttflist if f.fname == path} | (
        {f.name for f in font_manager.fontManager.ttflist} - before
    )
    for family in CJK_FAMILIES:
        if family in names:
            return family
    cjk = sorted(n for n in names if "CJK" in n or " SC" in n)
    if cjk:
        return cjk[0]
    raise FontMissingError(f"font file {path} holds no CJK family matplotlib can use")


def cjk_font_family(extra_paths: Iterable[str | Path] = ()) -> str:
    """Register the CJK font with matplotlib and return its family name.

    Parameters
    ----------
    extra_paths
        Font files to try before the known system locations.

    Returns
    -------
    str
        E.g. ``"Noto Sans CJK SC"``; pass it as ``fontfamily`` to matplotlib text.

    Raises
    ------
    FontMissingError
        If the font is not installed or does not cover :data:`PROBE_TEXT`.
    """
    path = find_cjk_font_file(extra_paths)
    family = _register(str(path))
    bold = path.with_name(path.name.replace("Regular", "Bold"))
    if bold != path and bold.is_file():  # titles are bold; matplotlib's cache may predate it
        _register(str(bold))
    missing = missing_glyphs(PROBE_TEXT, family)
    if missing:
        raise FontMissingError(f"font {family!r} lacks the characters {''.join(missing)!r}")
    return family


def font_file_of(family: str) -> Path:
    """The file matplotlib resolves ``family`` to, refusing any silent fallback.

    Returns
    -------
    Path
        The font file (a collection such as ``.ttc`` holds several faces).

    Raises
    ------
    FontMissingError
        If matplotlib would fall back to another family.
    """
    prop = font_manager.FontProperties(family=family)
    try:
        path = font_manager.findfont(prop, fallback_to_default=False)
    except ValueError as exc:
        raise FontMissingError(f"matplotlib cannot resolve font family {family!r}") from exc
    return Path(path)


def _resolved_font(family: str) -> FT2Font:
    prop = font_manager.FontProperties(family=family)
    try:
        path = font_manager.findfont(prop, fallback_to_default=False)
    except ValueError as exc:
        raise FontMissingError(f"matplotlib cannot resolve font family {family!r}") from exc
    return font_manager.get_font(path)


def missing_glyphs(text: str, family: str) -> list[str]:
    """Characters of ``text`` that the resolved font file of ``family`` cannot draw.

    Parameters
    ----------
    text
        The text to check (whitespace is ignored).
    family
        A family registered with matplotlib.

    Returns
    -------
    list of str
        The characters without a glyph (empty when all render).
    """
    charmap = _resolved_font(family).get_charmap()
    return [ch for ch in dict.fromkeys(text) if not ch.isspace() and ord(ch) not in charmap]


def pdf_rc() -> dict[Any, Any]:
    """matplotlib settings for exports: fonts embedded as Type 42, Simplified Chinese shaping.

    ``text.language = "zh-Hans"`` makes the text shaper pick the Simplified Chinese glyph
    forms and one consistent set of digits; without it the same digit may come out as two
    different glyphs, and the PDF then embeds the font twice (slower, larger).
    """
    return {
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "axes.unicode_minus": False,
        "text.language": "zh-Hans",
    }
