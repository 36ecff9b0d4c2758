"""Mid-term and final evaluations: a recorded baseline and two later years (#16)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from qjgeo import Dataset, load_dataset
from qjgeo.catalog import DEFAULT_DATA_DIR
from qjgeo.cli import app
from qjgeo.evaluation import evaluate_stage, stage_counts
from qjgeo.monitoring import COLUMNS, dataset_monitoring_dir, load_series, record_year

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from monitoring_history import record_history

SOFFICE = shutil.which("soffice")
HAS_POPPLER = shutil.which("pdfinfo") is not None and shutil.which("pdftotext") is not None


@pytest.fixture(scope="module")
def history(dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2020 (baseline), 2023 and 2025 recorded for the bundled data."""
    return record_history(dataset, tmp_path_factory.mktemp("monitoring"))


def _write(directory: Path, year: int, value: float) -> None:
    row = dict.fromkeys(COLUMNS, "")
    row.update(year=year, id="x", scope="district", value=value, op=">=", target=100)
    pd.DataFrame([row]).to_csv(directory / f"indicators-{year}.csv", index=False)


@pytest.mark.parametrize(
    ("values", "status"),
    [
        ({2020: 40, 2025: 100}, "met"),
        ({2020: 40, 2023: 60, 2025: 75}, "on track"),  # path at 2025: 70
        ({2020: 40, 2023: 62, 2025: 69}, "behind"),  # path 70; the trend reaches 100.4 by 2030
        ({2020: 40, 2023: 41, 2025: 42}, "at risk"),
        ({2025: 42}, "baseline only"),
    ],
)
def test_status_by_hand(tmp_path: Path, values: dict[int, float], status: str) -> None:
    for year, value in values.items():
        _write(tmp_path, year, value)
    row = evaluate_stage(load_series(tmp_path), "midterm").iloc[0]
    assert row["status"] == status
    first = min(values)
    assert row["baseline_year"] == first and row["baseline"] == values[first]
    # the straight line from the baseline to 100 in 2030, read at 2025
    expected = values[first] + (100 - values[first]) * (2025 - first) / (2030 - first)
    assert row["stage_target"] == pytest.approx(expected)


def test_baseline_and_path_of_the_recorded_history(history: Path) -> None:
    ev = evaluate_stage(load_series(history), "midterm").set_index("id")
    assert set(ev["baseline_year"]) == {2020} and set(ev["latest_year"]) == {2025}
    assert ev.at["childcare_places_per_1000", "status"] == "on track"
    assert (
        ev.at["childcare_places_per_1000", "latest"]
        > ev.at["childcare_places_per_1000", "baseline"]
    )
    # a district-scope indicator names the townships of its failing units
    assert "罗坑镇" in ev.at["health_centre_child_doctors", "held_back_by"]
    assert "罗坑镇卫生院" in ev.at["health_centre_child_doctors", "failing_units"]
    assert set(ev["data_status"]) == {"sample"} and ev["weak_data"].all()
    final = evaluate_stage(load_series(history), "final").set_index("id")
    assert (final["stage_target"] == final["target"]).all()  # 2030: the target itself
    counts = stage_counts(ev)
    assert sum(counts.values()) == len(ev)


def test_township_evaluation(history: Path) -> None:
    ev = evaluate_stage(load_series(history), "midterm", scope="440205109")
    assert len(ev) and ev["held_back_by"].map(len).eq(0).all()
    row = ev.set_index("id").loc["parent_school_rural"]
    assert "新洞村" in row["failing_units"]


def test_record_goes_into_the_dataset_folder(tmp_path: Path) -> None:
    folder = tmp_path / "qj"
    shutil.copytree(DEFAULT_DATA_DIR, folder, ignore=shutil.ignore_patterns("monitoring"))
    ds = load_dataset(folder)
    path = record_year(ds, 2020)
    assert path.parent == dataset_monitoring_dir(ds) == folder / "monitoring"
    res = CliRunner().invoke(app, ["monitor", "record", "--year", "2021", "--data", str(folder)])
    assert res.exit_code == 0, res.output
    assert (folder / "monitoring" / "indicators-2021.csv").is_file()
    res = CliRunner().invoke(app, ["monitor", "show", "--data", str(folder), "--format", "json"])
    assert res.exit_code == 0 and json.loads(res.stdout)


@pytest.mark.parametrize("fmt", ["table", "json", "xlsx"])
def test_cli_evaluate_formats(history: Path, tmp_path: Path, fmt: str) -> None:
    args = ["monitor", "evaluate", "--stage", "midterm", "--dir", str(history), "--format", fmt]
    out = tmp_path / f"ev.{fmt}"
    if fmt == "xlsx":
        args += ["--out", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "示例或估算" in res.stderr
    if fmt == "table":
        assert "已达标" in res.stdout and "预计难以达标" in res.stdout
    elif fmt == "json":
        rows = json.loads(res.stdout)
        assert {r["baseline_year"] for r in rows} == {2020} and len(rows) == 28
    else:
        ws = load_workbook(out).active
        assert ws is not None and ws.cell(1, 3).value == "指标" and ws.max_row == 29


def test_cli_evaluate_refuses_missing_out_and_bad_stage(history: Path) -> None:
    res = CliRunner().invoke(
        app, ["monitor", "evaluate", "--dir", str(history), "--format", "docx"]
    )
    assert res.exit_code == 2 and "--out" in res.output
    res = CliRunner().invoke(app, ["monitor", "evaluate", "--dir", str(history), "--stage", "x"])
    assert res.exit_code == 2


@pytest.fixture(scope="module")
def report(history: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "midterm.docx"
    res = CliRunner().invoke(
        app,
        ["monitor", "evaluate", "--stage", "midterm", "--dir", str(history), "--format", "docx",
         "--out", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return out


def test_docx_report_holds_the_sections(report: Path) -> None:
    from docx import Document

    doc = Document(str(report))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:2] == ["一、总体情况", "二、分领域评估"]
    assert [h for h in headings if h.startswith("（")] == [
        "（一）儿童与健康", "（二）儿童与安全", "（三）儿童与教育", "（四）儿童与福利",
        "（五）儿童与家庭", "（六）儿童与环境", "（七）儿童与法律保护",
    ]  # fmt: skip
    assert headings[-2:] == ["三、分性别统计", "附件：数据来源与数据状态"]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "中期评估报告（空间指标部分）" in text and "不是正式统计结果" in text
    assert "其中已达标" in text and "罗坑镇卫生院" in text
    with zipfile.ZipFile(report) as z:
        assert sum(n.startswith("word/media/") for n in z.namelist()) >= 3  # gap maps
    assert report.stat().st_size < 4_000_000


@pytest.mark.skipif(SOFFICE is None or not HAS_POPPLER, reason="LibreOffice / poppler missing")
def test_docx_report_opens_in_libreoffice(report: Path, tmp_path: Path) -> None:
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(
        [str(SOFFICE), f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(report)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = tmp_path / "midterm.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(next(ln.split()[-1] for ln in info.stdout.splitlines() if ln.startswith("Pages")))
    assert 8 <= pages <= 30
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for heading in (
        "一、总体情况",
        "（一）儿童与健康",
        "（七）儿童与法律保护",
        "附件：数据来源与数据状态",
    ):
        assert heading in text


def test_english_report(history: Path, dataset: Dataset) -> None:
    from docx import Document

    from qjgeo.export.evaluation_report import evaluation_docx_bytes

    series = load_series(history)
    ev = evaluate_stage(series, "final")
    import io

    data = evaluation_docx_bytes(dataset, ev, series, stage="final", lang="en", map_dpi=40)
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert "final evaluation report" in text and "1. Children and health" in text
    assert "not official statistics" in text
