"""The one-page township brief: A4, one page, the township's own figures."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from qjgeo.export.brief import township_brief_pdf, township_gap_rows
from qjgeo.export.staticmap import ExportError
from qjgeo.gaps import compute_gaps
from qjgeo.indicators import evaluate

HAS_POPPLER = shutil.which("pdfinfo") is not None and shutil.which("pdftotext") is not None


def test_gap_rows_are_the_townships_own(dataset) -> None:
    g = compute_gaps(dataset, "childcare")
    rows = township_gap_rows("440205109", {"childcare": g}, dataset)
    assert len(rows) == 1
    row = g.townships.set_index("code9").loc["440205109"]
    assert rows["children"].iloc[0] == pytest.approx(row["children"])
    assert rows["children_uncovered"].iloc[0] == pytest.approx(row["children_uncovered"])
    villages = g.villages[g.villages["township_code"] == "440205109"]
    assert rows["villages"].iloc[0] == len(villages)
    assert rows["villages_uncovered"].iloc[0] == int((~villages["covered"]).sum())


def test_brief_is_one_a4_page(dataset, tmp_path) -> None:
    indicators = evaluate(dataset)
    pdf = township_brief_pdf(
        dataset, "440205100", "childcare", facility_types=("childcare", "park"),
        indicators=indicators,
    )  # fmt: skip
    assert pdf.startswith(b"%PDF-")
    if not HAS_POPPLER:
        pytest.skip("poppler-utils not installed: pages and text not checked")
    path = tmp_path / "brief.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert "Pages:           1" in info.stdout
    assert "(A4)" in info.stdout
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "马坝镇 儿童友好设施简报" in text
    assert "数据状态" in text and "托育机构" in text and "公园" in text
    mine = indicators[indicators["scope"] == "440205100"]
    assert str(mine["title_zh"].iloc[0])[:10] in text


def test_unknown_township(dataset) -> None:
    with pytest.raises(ExportError, match="no township with code '999'"):
        township_brief_pdf(dataset, "999")
