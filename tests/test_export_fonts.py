"""The CJK font: found, registered with matplotlib, really drawing Chinese (no tofu boxes)."""

from __future__ import annotations

import io
import shutil
import subprocess

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from qjgeo.export import fonts
from qjgeo.export.fonts import (
    FONT_PACKAGE,
    FontMissingError,
    cjk_font_family,
    find_cjk_font_file,
    font_file_of,
    missing_glyphs,
    pdf_rc,
)


def _render(text: str, family: str) -> np.ndarray:
    fig = Figure(figsize=(1.2, 0.5), dpi=100)
    FigureCanvasAgg(fig)
    fig.text(0.05, 0.25, text, fontfamily=family, fontsize=20)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., 0].copy()  # type: ignore[attr-defined]


def test_family_is_cjk_and_resolves_without_fallback() -> None:
    family = cjk_font_family()
    assert "CJK" in family or "SC" in family
    path = font_file_of(family)
    assert "cjk" in path.name.lower()
    assert "dejavu" not in path.name.lower()


def test_every_township_and_village_name_has_glyphs(dataset) -> None:
    family = cjk_font_family()
    names = "".join(dataset.layer("township")["name"]) + "".join(dataset.layer("village")["name"])
    assert missing_glyphs(names, family) == []
    # a character no CJK font holds (Egyptian hieroglyph) is reported, so the check can fail
    assert missing_glyphs("曲\U00013000", family) == ["\U00013000"]


def test_chinese_renders_as_distinct_glyphs_not_boxes() -> None:
    family = cjk_font_family()
    qu, jiang = _render("曲", family), _render("江", family)
    with pytest.warns(UserWarning, match="missing from font"):
        missing = _render("\U00013000", family)
    blank = _render(" ", family)
    ink = lambda img: int((img < 128).sum())  # noqa: E731
    assert ink(qu) > 20 and ink(jiang) > 20  # something is drawn
    assert not np.array_equal(qu, jiang)  # tofu boxes would be identical
    assert not np.array_equal(qu, missing)  # and equal to the missing-glyph box
    assert ink(blank) == 0


def test_missing_font_raises_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(fonts, "KNOWN_FONT_PATHS", (str(tmp_path / "none.ttc"),))
    monkeypatch.setattr(fonts, "_fc_match", lambda family: None)
    with pytest.raises(FontMissingError, match=FONT_PACKAGE):
        find_cjk_font_file()


def test_extra_path_is_tried_first(tmp_path) -> None:
    real = find_cjk_font_file()
    assert find_cjk_font_file([real]) == real
    assert find_cjk_font_file([tmp_path / "absent.ttc"]) == real


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils not installed")
def test_pdf_embeds_the_cjk_font(tmp_path) -> None:
    family = cjk_font_family()
    with matplotlib.rc_context(pdf_rc()):
        fig = Figure(figsize=(2, 1))
        fig.text(0.1, 0.5, "曲江区 马坝镇", fontfamily=family)
        buf = io.BytesIO()
        fig.savefig(buf, format="pdf")
    path = tmp_path / "f.pdf"
    path.write_bytes(buf.getvalue())
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    rows = [line for line in out.stdout.splitlines() if "NotoSansCJK" in line]
    assert rows, out.stdout
    assert all(" yes " in row for row in rows)  # embedded
